//! The STIX 2.1 pattern language (specification §9, grammar `STIXPattern.g4`), parsed safely
//! from untrusted input.
//!
//! The parser is hand-written and follows the v2.1 grammar used by the OASIS `stix2-patterns`
//! validator, token for token:
//!
//! - The lexer is maximal-munch like ANTLR's: `007` is three tokens (and so invalid), `.5` is a
//!   float, `foo-bar` is one identifier that only an object type may be, keywords are
//!   upper-case and case-sensitive (`within` is an identifier), `true`/`false` are lower-case,
//!   `/* … */` and `// …` comments are skipped.
//! - Literal forms are checked as the grammar checks them: strings allow only the `\'` and `\\`
//!   escapes; `t'…'` must be `YYYY-MM-DDThh:mm:ss[.fff]Z` with month 01-12, day 01-31, hour
//!   00-23, minute 00-59 and second 00-60 (the day is not checked against the month, as in the
//!   grammar: `t'2023-02-30T00:00:00Z'` is accepted); `b'…'` must be padded base64 with at
//!   least one 4-character group; `h'…'` an even number of hex digits.
//! - Operand types are those of the grammar: `=`/`!=` take any single literal, `<`, `<=`, `>`,
//!   `>=` anything but a boolean, `IN` a set literal `( … )`, `LIKE`, `MATCHES`, `ISSUBSET`
//!   and `ISSUPERSET` a string.
//!
//! On top of the grammar, three checks of the reference validator are reproduced, so that the
//! verdicts agree:
//!
//! - a qualifier type (`WITHIN`, `REPEATS`, `START … STOP`) may appear only once directly on a
//!   `[ … ]` observation (on a parenthesised group, qualifiers may repeat);
//! - a comparison whose object path contains a `hashes` step and ends in a known hash
//!   algorithm (`MD5`, `SHA-256`, `SSDEEP`, …; compared upper-cased, without `-`) must compare
//!   with a value of that algorithm's form (e.g. 64 hex digits for SHA-256);
//! - the first non-blank character, after any `(`, must be `[` (a comment may not come first).
//!
//! Beyond the reference validator, what would hurt the consumers a pattern is shared with is
//! refused: a `MATCHES` operand must be a regular expression that is safe to compile and run
//! (see [`super::matches`]: `regex-syntax`'s syntax, no ambiguous repetition, a bounded
//! compiled size), `REPEATS n TIMES` takes at most [`PatternLimits::max_repeats`] and
//! `WITHIN n SECONDS` at most [`PatternLimits::max_within_secs`] (both within `u32`, and
//! compared on the digits, so that no consumer overflows reading them). `START`/`STOP` need no
//! bound: their timestamps have a fixed form with a four-digit year.
//!
//! Safety: the input length is checked before anything else. The parser does not recurse: open
//! `[` and `(` are kept on an explicit stack (refused beyond [`PatternLimits::max_depth`],
//! itself capped at [`MAX_DEPTH_CEILING`]), and `AND`/`OR`/`FOLLOWEDBY` chains, object paths,
//! set literals and qualifier lists are collected in loops into flat vectors, so the native
//! stack use is the same for any input. The number of comparisons is bounded by
//! [`PatternLimits::max_comparisons`]. The parser never slices inside a UTF-8 character and
//! never panics. Only the syntax tree's own `Drop`, `Clone`, `Debug`, `Display` and `==`
//! recurse, as deep as the nesting the limits let through.

mod ast;
mod error;
mod lexer;
mod limits;
mod literal;
mod parser;
mod print;
mod validator;

pub use ast::{
    Comparison, ComparisonExpr, Literal, Number, ObservationExpr, ObservationKind, Operator,
    PathStep, Pattern, Qualifier,
};
pub use error::PatternError;
pub use limits::{MAX_DEPTH_CEILING, PatternLimits, YEAR_SECS};
pub use literal::unescape_content;
pub use parser::parse;
pub use print::push_quoted;

#[cfg(test)]
mod tests;
