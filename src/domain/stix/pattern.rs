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

use std::fmt;

/// The deepest nesting the parser ever accepts, whatever [`PatternLimits::max_depth`] says: it
/// keeps the recursive `Drop`, `Clone`, `Debug` and `Display` of the syntax tree far from any
/// thread's stack size (a tree this deep is written out within a 256 KiB stack, even in a
/// debug build).
pub const MAX_DEPTH_CEILING: usize = 128;

/// One year, in seconds: the default bound on `WITHIN`.
pub const YEAR_SECS: u32 = 365 * 24 * 60 * 60;

/// Bounds on what the parser accepts, so no input can exhaust memory or the stack, and no
/// pattern it accepts can hurt the consumers it is shared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PatternLimits {
    /// Longest pattern, in bytes.
    pub max_len: usize,
    /// Deepest nesting of brackets and parentheses (capped at [`MAX_DEPTH_CEILING`]).
    pub max_depth: usize,
    /// Most comparison expressions in one pattern.
    pub max_comparisons: usize,
    /// Largest `n` in `REPEATS n TIMES`. The grammar puts no bound on it, and consumers read
    /// it into a machine integer (a 64-bit overflow stops some imports) or keep `n` events
    /// in memory.
    pub max_repeats: u32,
    /// Largest `n` in `WITHIN n SECONDS` (decimals compared exactly): a window a consumer
    /// must keep its events for.
    pub max_within_secs: u32,
    /// Bytes of compiled NFA that the `MATCHES` regexes of one pattern may take together
    /// (see [`super::matches`]).
    pub max_regex_bytes: usize,
}

impl Default for PatternLimits {
    fn default() -> Self {
        Self {
            max_len: 16 * 1024,
            max_depth: 32,
            max_comparisons: 512,
            max_repeats: 10_000,
            max_within_secs: YEAR_SECS,
            max_regex_bytes: 1 << 20,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid pattern at byte {offset}: {message}")]
pub struct PatternError {
    /// Byte offset in the pattern where the problem was found.
    pub offset: usize,
    pub message: String,
}

impl PatternError {
    fn new(offset: usize, message: impl Into<String>) -> Self {
        Self {
            offset,
            message: message.into(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The syntax tree

/// A parsed pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    root: ObservationExpr,
    observations: usize,
    comparisons: usize,
}

/// An observation expression, with the qualifiers applied directly to it.
///
/// Qualifiers are only ever found on [`ObservationKind::Observation`] and
/// [`ObservationKind::Group`]; the `And`, `Or` and `FollowedBy` nodes of a parsed pattern have
/// none (a parenthesised combination that is qualified becomes a `Group`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservationExpr {
    pub kind: ObservationKind,
    pub qualifiers: Vec<Qualifier>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObservationKind {
    /// `[ comparison-expression ]`
    Observation(ComparisonExpr),
    /// `( observation-expressions )` followed by qualifiers. Parentheses without qualifiers
    /// leave no node: they only group.
    Group(Box<ObservationExpr>),
    /// Two or more operands joined by `AND` (left to right).
    And(Vec<ObservationExpr>),
    /// Two or more operands joined by `OR`.
    Or(Vec<ObservationExpr>),
    /// Two or more operands joined by `FOLLOWEDBY`.
    FollowedBy(Vec<ObservationExpr>),
}

/// A qualifier on an observation expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Qualifier {
    /// `WITHIN n SECONDS` (an integer or a decimal, never negative).
    Within(Number),
    /// `REPEATS n TIMES` (a non-negative integer).
    Repeats(Number),
    /// `START t'…' STOP t'…'`: the two timestamps, without the `t'` `'`.
    StartStop { start: String, stop: String },
}

/// The boolean expression inside `[ … ]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComparisonExpr {
    Comparison(Comparison),
    /// Two or more operands joined by `AND`.
    And(Vec<ComparisonExpr>),
    /// Two or more operands joined by `OR`.
    Or(Vec<ComparisonExpr>),
}

/// One comparison: `type:path [NOT] operator value`, or `EXISTS type:path`.
///
/// Two comparisons are `==` when they say the same thing, wherever they were found (the
/// `offset` is not compared).
#[derive(Debug, Clone)]
pub struct Comparison {
    /// The object type before the `:` (`ipv4-addr`, `x-custom-type`).
    pub object_type: String,
    /// The property path after the `:`; never empty, and its first step is always a
    /// [`PathStep::Key`].
    pub path: Vec<PathStep>,
    pub operator: Operator,
    /// `NOT` before the operator.
    pub negated: bool,
    /// The right-hand side; `None` only for [`Operator::Exists`].
    pub value: Option<Literal>,
    /// Byte offset of the comparison in the pattern.
    pub offset: usize,
}

impl PartialEq for Comparison {
    fn eq(&self, other: &Self) -> bool {
        self.object_type == other.object_type
            && self.path == other.path
            && self.operator == other.operator
            && self.negated == other.negated
            && self.value == other.value
    }
}

impl Eq for Comparison {}

/// One step of an object path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathStep {
    /// A property name, unquoted and unescaped (`hashes`, `SHA-256`).
    Key(String),
    /// `[n]`: a list index (may be negative).
    Index(Number),
    /// `[*]`: any list element.
    AnyIndex,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    Like,
    Matches,
    IsSubset,
    IsSuperset,
    Exists,
}

impl Operator {
    /// The operator as written in a pattern (`==` reads as `=`, `<>` as `!=`).
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Eq => "=",
            Operator::Ne => "!=",
            Operator::Lt => "<",
            Operator::Le => "<=",
            Operator::Gt => ">",
            Operator::Ge => ">=",
            Operator::In => "IN",
            Operator::Like => "LIKE",
            Operator::Matches => "MATCHES",
            Operator::IsSubset => "ISSUBSET",
            Operator::IsSuperset => "ISSUPERSET",
            Operator::Exists => "EXISTS",
        }
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A number exactly as written (`42`, `-1`, `+7`, `.5`, `-0.25`). The grammar puts no bound
/// on integers, so the text is kept and converted on request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Number(String);

impl Number {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The value as an `i64`, when it is an integer in range.
    pub fn as_i64(&self) -> Option<i64> {
        self.0.parse().ok()
    }

    /// The value as an `f64` (large integers lose precision).
    pub fn as_f64(&self) -> Option<f64> {
        self.0.parse().ok()
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A literal value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    /// `'…'`, unescaped.
    String(String),
    Integer(Number),
    Float(Number),
    Bool(bool),
    /// `t'…'`: the timestamp text between the quotes.
    Timestamp(String),
    /// `b'…'`: the decoded bytes.
    Binary(Vec<u8>),
    /// `h'…'`: the decoded bytes.
    Hex(Vec<u8>),
    /// `( … )` after `IN`: its elements, never themselves sets.
    Set(Vec<Literal>),
}

impl Literal {
    /// The text of a string literal.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Literal::String(s) => Some(s),
            _ => None,
        }
    }
}

impl Pattern {
    /// The top of the syntax tree.
    pub fn root(&self) -> &ObservationExpr {
        &self.root
    }

    /// How many `[ … ]` observation expressions the pattern has.
    pub fn observation_count(&self) -> usize {
        self.observations
    }

    /// How many comparisons the pattern has (the length of [`Pattern::comparisons`]).
    pub fn comparison_count(&self) -> usize {
        self.comparisons
    }

    /// Every comparison, in the order they appear in the pattern.
    pub fn comparisons(&self) -> impl Iterator<Item = &Comparison> + '_ {
        let mut out = Vec::with_capacity(self.comparisons);
        let mut observations = vec![&self.root];
        let mut tests: Vec<&ComparisonExpr> = Vec::new();
        while let Some(obs) = observations.pop() {
            match &obs.kind {
                ObservationKind::Observation(expr) => {
                    tests.push(expr);
                    while let Some(test) = tests.pop() {
                        match test {
                            ComparisonExpr::Comparison(c) => out.push(c),
                            ComparisonExpr::And(v) | ComparisonExpr::Or(v) => {
                                tests.extend(v.iter().rev());
                            }
                        }
                    }
                }
                ObservationKind::Group(inner) => observations.push(inner),
                ObservationKind::And(v)
                | ObservationKind::Or(v)
                | ObservationKind::FollowedBy(v) => {
                    observations.extend(v.iter().rev());
                }
            }
        }
        out.into_iter()
    }
}

impl Comparison {
    /// The property path as written in a pattern, without the object type: `value`,
    /// `hashes.'SHA-256'`, `extensions.'windows-pebinary-ext'.sections[*].entropy`.
    pub fn property_path(&self) -> String {
        let mut out = String::new();
        for (i, step) in self.path.iter().enumerate() {
            match step {
                PathStep::Key(k) => {
                    if i > 0 {
                        out.push('.');
                    }
                    if is_plain_identifier(k) {
                        out.push_str(k);
                    } else {
                        push_quoted(&mut out, k);
                    }
                }
                PathStep::Index(n) => {
                    out.push('[');
                    out.push_str(n.as_str());
                    out.push(']');
                }
                PathStep::AnyIndex => out.push_str("[*]"),
            }
        }
        out
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing

/// Parses `pattern` under `limits`.
pub fn parse(pattern: &str, limits: &PatternLimits) -> Result<Pattern, PatternError> {
    if pattern.len() > limits.max_len {
        return Err(PatternError::new(
            limits.max_len,
            format!(
                "the pattern is {} bytes, over the limit of {} bytes",
                pattern.len(),
                limits.max_len
            ),
        ));
    }
    let mut parser = Parser {
        lexer: Lexer::new(pattern),
        peeked: None,
        max_depth: limits.max_depth.min(MAX_DEPTH_CEILING),
        max_comparisons: limits.max_comparisons,
        max_repeats: limits.max_repeats,
        max_within_secs: limits.max_within_secs,
        regex_budget: limits.max_regex_bytes,
        observations: 0,
        comparisons: 0,
    };
    let root = parser.parse_pattern()?;
    let end = parser.peek()?;
    if end.kind != Tk::Eof {
        return Err(parser.expected(
            "AND, OR, FOLLOWEDBY, a qualifier (WITHIN, REPEATS, START) or the end of the pattern",
            end,
        ));
    }
    if let Some(offset) = bracket_check(pattern) {
        return Err(PatternError::new(
            offset,
            "the pattern must begin with '[' (after any '('); nothing else, not even a comment, \
             may come first",
        ));
    }
    Ok(Pattern {
        root,
        observations: parser.observations,
        comparisons: parser.comparisons,
    })
}

/// The reference validator's "missing square brackets" check: skipping blanks and any number
/// of `(`, the first character must be `[`. Returns the offending offset.
fn bracket_check(pattern: &str) -> Option<usize> {
    for (i, c) in pattern.char_indices() {
        if c == '(' || is_python_space(c) {
            continue;
        }
        return if c == '[' { None } else { Some(i) };
    }
    Some(pattern.len())
}

/// Python's `str.isspace` (which the validator's bracket check uses).
fn is_python_space(c: char) -> bool {
    matches!(
        c,
        '\t'..='\r'
            | '\x1c'..='\x1f'
            | ' '
            | '\u{85}'
            | '\u{a0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200a}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202f}'
            | '\u{205f}'
            | '\u{3000}'
    )
}

/// The grammar's `WS` rule, beyond ASCII.
fn is_grammar_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\x0b' | '\x0c' | '\r' | ' ' | '\u{85}' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kw {
    And,
    Or,
    Not,
    FollowedBy,
    Like,
    Matches,
    IsSuperset,
    IsSubset,
    Exists,
    Last,
    In,
    Start,
    Stop,
    Seconds,
    Within,
    Repeats,
    Times,
}

const KEYWORDS: [(&str, Kw); 17] = [
    ("AND", Kw::And),
    ("OR", Kw::Or),
    ("NOT", Kw::Not),
    ("FOLLOWEDBY", Kw::FollowedBy),
    ("LIKE", Kw::Like),
    ("MATCHES", Kw::Matches),
    ("ISSUPERSET", Kw::IsSuperset),
    ("ISSUBSET", Kw::IsSubset),
    ("EXISTS", Kw::Exists),
    ("LAST", Kw::Last),
    ("IN", Kw::In),
    ("START", Kw::Start),
    ("STOP", Kw::Stop),
    ("SECONDS", Kw::Seconds),
    ("WITHIN", Kw::Within),
    ("REPEATS", Kw::Repeats),
    ("TIMES", Kw::Times),
];

fn keyword(word: &str) -> Option<Kw> {
    KEYWORDS.iter().find(|(w, _)| *w == word).map(|(_, k)| *k)
}

/// A property name that can be written without quotes.
fn is_plain_identifier(s: &str) -> bool {
    let mut bytes = s.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
    first_ok
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && keyword(s).is_none()
        && s != "true"
        && s != "false"
}

fn push_quoted(out: &mut String, s: &str) {
    out.push('\'');
    for c in s.chars() {
        if c == '\'' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('\'');
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tk {
    Eof,
    IntPos,
    IntNeg,
    FloatPos,
    FloatNeg,
    Hex,
    Binary,
    Str,
    Bool,
    Timestamp,
    Kw(Kw),
    Ident,
    IdentHyphen,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Colon,
    Dot,
    Comma,
    LParen,
    RParen,
    LBrack,
    RBrack,
    Star,
}

#[derive(Debug, Clone, Copy)]
struct Token {
    kind: Tk,
    start: usize,
    end: usize,
}

struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn is_base64_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

impl<'a> Lexer<'a> {
    fn new(src: &'a str) -> Self {
        Self {
            src,
            bytes: src.as_bytes(),
            pos: 0,
        }
    }

    fn byte(&self, i: usize) -> Option<u8> {
        self.bytes.get(i).copied()
    }

    fn char_at(&self, i: usize) -> Option<char> {
        self.src.get(i..).and_then(|s| s.chars().next())
    }

    fn unexpected_char(&self, i: usize) -> PatternError {
        match self.char_at(i) {
            Some(c) => PatternError::new(i, format!("unexpected character {c:?}")),
            None => PatternError::new(i, "unexpected byte"),
        }
    }

    fn token(&mut self, kind: Tk, start: usize, end: usize) -> Result<Token, PatternError> {
        self.pos = end;
        Ok(Token { kind, start, end })
    }

    fn next_token(&mut self) -> Result<Token, PatternError> {
        // Blanks and comments.
        loop {
            let Some(b) = self.byte(self.pos) else {
                let end = self.bytes.len();
                return self.token(Tk::Eof, end, end);
            };
            match b {
                b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => self.pos += 1,
                b'/' => match self.byte(self.pos + 1) {
                    Some(b'*') => {
                        let body = self.src.get(self.pos + 2..).unwrap_or("");
                        match body.find("*/") {
                            Some(i) => self.pos += 2 + i + 2,
                            None => {
                                return Err(PatternError::new(self.pos, "unterminated comment"));
                            }
                        }
                    }
                    Some(b'/') => {
                        let rest = self.bytes.get(self.pos..).unwrap_or(&[]);
                        let len = rest
                            .iter()
                            .position(|&c| c == b'\n' || c == b'\r')
                            .unwrap_or(rest.len());
                        self.pos += len;
                    }
                    _ => return Err(self.unexpected_char(self.pos)),
                },
                0x80.. => match self.char_at(self.pos) {
                    Some(c) if is_grammar_space(c) => self.pos += c.len_utf8(),
                    _ => return Err(self.unexpected_char(self.pos)),
                },
                _ => break,
            }
        }

        let start = self.pos;
        let Some(b) = self.byte(start) else {
            return self.token(Tk::Eof, start, start);
        };
        let next = self.byte(start + 1);
        match b {
            b'[' => self.token(Tk::LBrack, start, start + 1),
            b']' => self.token(Tk::RBrack, start, start + 1),
            b'(' => self.token(Tk::LParen, start, start + 1),
            b')' => self.token(Tk::RParen, start, start + 1),
            b':' => self.token(Tk::Colon, start, start + 1),
            b',' => self.token(Tk::Comma, start, start + 1),
            b'*' => self.token(Tk::Star, start, start + 1),
            b'=' if next == Some(b'=') => self.token(Tk::Eq, start, start + 2),
            b'=' => self.token(Tk::Eq, start, start + 1),
            b'!' if next == Some(b'=') => self.token(Tk::Ne, start, start + 2),
            b'<' if next == Some(b'=') => self.token(Tk::Le, start, start + 2),
            b'<' if next == Some(b'>') => self.token(Tk::Ne, start, start + 2),
            b'<' => self.token(Tk::Lt, start, start + 1),
            b'>' if next == Some(b'=') => self.token(Tk::Ge, start, start + 2),
            b'>' => self.token(Tk::Gt, start, start + 1),
            b'.' if !next.is_some_and(|c| c.is_ascii_digit()) => {
                self.token(Tk::Dot, start, start + 1)
            }
            b'0'..=b'9' | b'+' | b'-' | b'.' => self.number(start),
            b'\'' => {
                let end = self.string_end(start)?;
                self.token(Tk::Str, start, end)
            }
            b't' | b'b' | b'h' if next == Some(b'\'') => {
                let end = match b {
                    b't' => self.timestamp_end(start)?,
                    b'b' => self.binary_end(start)?,
                    _ => self.hex_end(start)?,
                };
                let kind = match b {
                    b't' => Tk::Timestamp,
                    b'b' => Tk::Binary,
                    _ => Tk::Hex,
                };
                self.token(kind, start, end)
            }
            _ if is_ident_start(b) => self.word(start),
            _ => Err(self.unexpected_char(start)),
        }
    }

    /// `IntPosLiteral`, `IntNegLiteral`, `FloatPosLiteral`, `FloatNegLiteral`, longest first.
    fn number(&mut self, start: usize) -> Result<Token, PatternError> {
        let mut i = start;
        let negative = self.byte(i) == Some(b'-');
        if matches!(self.byte(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let digits = i;
        while self.byte(i).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
        }
        if self.byte(i) == Some(b'.') && self.byte(i + 1).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
            while self.byte(i).is_some_and(|c| c.is_ascii_digit()) {
                i += 1;
            }
            let kind = if negative { Tk::FloatNeg } else { Tk::FloatPos };
            return self.token(kind, start, i);
        }
        if i > digits {
            // '0' | [1-9][0-9]*: a leading zero is a number on its own.
            let end = if self.byte(digits) == Some(b'0') {
                digits + 1
            } else {
                i
            };
            let kind = if negative { Tk::IntNeg } else { Tk::IntPos };
            return self.token(kind, start, end);
        }
        Err(self.unexpected_char(start))
    }

    /// An identifier, a keyword or a boolean.
    fn word(&mut self, start: usize) -> Result<Token, PatternError> {
        let mut i = start + 1;
        while self.byte(i).is_some_and(is_ident_char) {
            i += 1;
        }
        let plain_end = i;
        while self.byte(i).is_some_and(|c| is_ident_char(c) || c == b'-') {
            i += 1;
        }
        if i > plain_end {
            return self.token(Tk::IdentHyphen, start, i);
        }
        let word = self.src.get(start..i).unwrap_or("");
        let kind = match word {
            "true" | "false" => Tk::Bool,
            _ => keyword(word).map_or(Tk::Ident, Tk::Kw),
        };
        self.token(kind, start, i)
    }

    /// The end of the string literal whose opening quote is at `quote`.
    fn string_end(&self, quote: usize) -> Result<usize, PatternError> {
        let mut i = quote + 1;
        loop {
            match self.byte(i) {
                None => {
                    return Err(PatternError::new(quote, "unterminated string literal"));
                }
                Some(b'\'') => return Ok(i + 1),
                Some(b'\\') => match self.byte(i + 1) {
                    Some(b'\'' | b'\\') => i += 2,
                    None => {
                        return Err(PatternError::new(quote, "unterminated string literal"));
                    }
                    Some(_) => {
                        let shown = self.char_at(i + 1).map_or(String::new(), String::from);
                        return Err(PatternError::new(
                            i,
                            format!(
                                "invalid escape \\{shown} in a string literal: only \\' and \\\\ \
                                 are allowed"
                            ),
                        ));
                    }
                },
                Some(_) => i += 1,
            }
        }
    }

    /// The end of `t'YYYY-MM-DDThh:mm:ss[.f+]Z'` starting at `start`.
    fn timestamp_end(&self, start: usize) -> Result<usize, PatternError> {
        let bad = |at: usize, what: &str| {
            PatternError::new(
                at,
                format!(
                    "invalid timestamp literal: {what} (the form is t'YYYY-MM-DDThh:mm:ss[.s]Z')"
                ),
            )
        };
        let digit = |i: usize| self.byte(i).filter(u8::is_ascii_digit);
        let two = |i: usize| -> Option<u8> {
            let (a, b) = (digit(i)?, digit(i + 1)?);
            Some((a - b'0') * 10 + (b - b'0'))
        };
        let expect = |i: usize, c: u8, what: &str| {
            if self.byte(i) == Some(c) {
                Ok(())
            } else {
                Err(bad(i, what))
            }
        };
        let mut i = start + 2;
        for k in 0..4 {
            if digit(i + k).is_none() {
                return Err(bad(i + k, "the year must be four digits"));
            }
        }
        i += 4;
        expect(i, b'-', "expected '-' after the year")?;
        i += 1;
        if !matches!(two(i), Some(1..=12)) {
            return Err(bad(i, "the month must be 01 to 12"));
        }
        i += 2;
        expect(i, b'-', "expected '-' after the month")?;
        i += 1;
        if !matches!(two(i), Some(1..=31)) {
            return Err(bad(i, "the day must be 01 to 31"));
        }
        i += 2;
        expect(i, b'T', "expected 'T' between the date and the time")?;
        i += 1;
        if !matches!(two(i), Some(0..=23)) {
            return Err(bad(i, "the hour must be 00 to 23"));
        }
        i += 2;
        expect(i, b':', "expected ':' after the hour")?;
        i += 1;
        if !matches!(two(i), Some(0..=59)) {
            return Err(bad(i, "the minute must be 00 to 59"));
        }
        i += 2;
        expect(i, b':', "expected ':' after the minute")?;
        i += 1;
        if !matches!(two(i), Some(0..=60)) {
            return Err(bad(i, "the second must be 00 to 60"));
        }
        i += 2;
        if self.byte(i) == Some(b'.') {
            i += 1;
            if digit(i).is_none() {
                return Err(bad(i, "expected digits after '.'"));
            }
            while digit(i).is_some() {
                i += 1;
            }
        }
        expect(i, b'Z', "the time must end in 'Z' (UTC)")?;
        i += 1;
        expect(i, b'\'', "expected the closing quote after 'Z'")?;
        Ok(i + 1)
    }

    /// The end of `b'…'` (padded base64, at least one group of four) starting at `start`.
    fn binary_end(&self, start: usize) -> Result<usize, PatternError> {
        let body = start + 2;
        let mut i = body;
        while self.byte(i).is_some_and(|c| is_base64_char(c) || c == b'=') {
            i += 1;
        }
        match self.byte(i) {
            Some(b'\'') => {}
            None => return Err(PatternError::new(start, "unterminated binary literal")),
            Some(_) => {
                return Err(PatternError::new(
                    i,
                    "invalid binary literal: only base64 characters (A-Z a-z 0-9 + / =) may \
                     appear in b'…'",
                ));
            }
        }
        let content = self.bytes.get(body..i).unwrap_or(&[]);
        let n = content.len();
        let padding = content.iter().rev().take_while(|&&c| c == b'=').count();
        let misplaced_pad = content
            .get(..n - padding)
            .is_some_and(|head| head.contains(&b'='));
        if n == 0 || !n.is_multiple_of(4) || padding > 2 || misplaced_pad {
            return Err(PatternError::new(
                body,
                "invalid binary literal: b'…' must hold padded base64, in groups of four \
                 characters (at least one)",
            ));
        }
        Ok(i + 1)
    }

    /// The end of `h'…'` (pairs of hex digits) starting at `start`.
    fn hex_end(&self, start: usize) -> Result<usize, PatternError> {
        let body = start + 2;
        let mut i = body;
        while self.byte(i).is_some_and(|c| c.is_ascii_hexdigit()) {
            i += 1;
        }
        match self.byte(i) {
            Some(b'\'') if (i - body).is_multiple_of(2) => Ok(i + 1),
            Some(b'\'') => Err(PatternError::new(
                body,
                "invalid hex literal: h'…' must hold an even number of hex digits",
            )),
            None => Err(PatternError::new(start, "unterminated hex literal")),
            Some(_) => Err(PatternError::new(
                i,
                "invalid hex literal: only hex digits may appear in h'…'",
            )),
        }
    }
}

fn unescape(quoted: &str) -> String {
    let inner = quoted
        .strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .unwrap_or(quoted);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(escaped) = chars.next() {
                out.push(escaped);
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn base64_value(b: u8) -> u32 {
    match b {
        b'A'..=b'Z' => u32::from(b - b'A'),
        b'a'..=b'z' => u32::from(b - b'a') + 26,
        b'0'..=b'9' => u32::from(b - b'0') + 52,
        b'+' => 62,
        _ => 63,
    }
}

/// Decodes base64 the lexer has already checked.
fn decode_base64(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    for group in text.chunks(4) {
        let data: Vec<u8> = group.iter().copied().filter(|&c| c != b'=').collect();
        let mut acc: u32 = 0;
        for &c in &data {
            acc = (acc << 6) | base64_value(c);
        }
        acc <<= 6 * (4 - data.len() as u32);
        let bytes = acc.to_be_bytes();
        let take = data.len().saturating_sub(1);
        out.extend(bytes.iter().skip(1).take(take));
    }
    out
}

fn encode_base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let mut acc: u32 = 0;
        for (i, &b) in chunk.iter().enumerate() {
            acc |= u32::from(b) << (16 - 8 * i);
        }
        for i in 0..4 {
            if i <= chunk.len() {
                let index = ((acc >> (18 - 6 * i)) & 0x3f) as usize;
                out.push(char::from(ALPHABET.get(index).copied().unwrap_or(b'A')));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn decode_hex(text: &[u8]) -> Vec<u8> {
    let nibble = |c: u8| char::from(c).to_digit(16).map_or(0, |d| d as u8);
    text.chunks(2)
        .map(|pair| match pair {
            [hi, lo] => (nibble(*hi) << 4) | nibble(*lo),
            _ => 0,
        })
        .collect()
}

struct Parser<'a> {
    lexer: Lexer<'a>,
    peeked: Option<Token>,
    max_depth: usize,
    max_comparisons: usize,
    max_repeats: u32,
    max_within_secs: u32,
    /// Compiled-regex bytes the pattern's `MATCHES` may still take.
    regex_budget: usize,
    observations: usize,
    comparisons: usize,
}

/// Whether a non-negative number as the lexer read it (`5`, `+5`, `2.5`, `.5`, `007.5`) is
/// above `max`, compared exactly on its digits: no float rounding, no integer overflow.
fn number_above(text: &str, max: u32) -> bool {
    let digits = text.strip_prefix('+').unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let whole = whole.trim_start_matches('0');
    // More than ten digits is beyond any u32.
    if whole.len() > 10 {
        return true;
    }
    let value: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().unwrap_or(u64::MAX)
    };
    let max = u64::from(max);
    value > max || (value == max && fraction.bytes().any(|b| b != b'0'))
}

/// Joins the operands of one operator level: a single operand stands for itself.
fn join<T>(mut operands: Vec<T>, make: impl FnOnce(Vec<T>) -> T) -> T {
    if operands.len() == 1
        && let Some(only) = operands.pop()
    {
        return only;
    }
    make(operands)
}

fn join_observations(
    operands: Vec<ObservationExpr>,
    make: fn(Vec<ObservationExpr>) -> ObservationKind,
) -> ObservationExpr {
    join(operands, |v| ObservationExpr {
        kind: make(v),
        qualifiers: Vec::new(),
    })
}

/// An operand that has just been parsed completely.
enum Operand {
    Observation(ObservationExpr),
    Comparison(ComparisonExpr),
}

/// An open `[` or `(`, or the whole pattern, while its contents are parsed.
enum Frame {
    /// The pattern itself (`open` is `None`) or a `(` around observation expressions:
    /// FOLLOWEDBY over OR over AND.
    Observations(ObservationFrame),
    /// A `[` (`bracket`) or a `(` inside one: OR over AND.
    Comparisons(ComparisonFrame),
}

struct ObservationFrame {
    /// The `(` that opened the frame; `None` for the whole pattern.
    open: Option<Token>,
    followed: Vec<ObservationExpr>,
    ors: Vec<ObservationExpr>,
    ands: Vec<ObservationExpr>,
}

impl ObservationFrame {
    fn new(open: Option<Token>) -> Self {
        Self {
            open,
            followed: Vec::new(),
            ors: Vec::new(),
            ands: Vec::new(),
        }
    }

    fn or(&mut self) {
        let ands = std::mem::take(&mut self.ands);
        self.ors.push(join_observations(ands, ObservationKind::And));
    }

    fn followed_by(&mut self) {
        self.or();
        let ors = std::mem::take(&mut self.ors);
        self.followed
            .push(join_observations(ors, ObservationKind::Or));
    }

    fn finish(&mut self) -> ObservationExpr {
        self.followed_by();
        let followed = std::mem::take(&mut self.followed);
        join_observations(followed, ObservationKind::FollowedBy)
    }
}

struct ComparisonFrame {
    bracket: bool,
    ors: Vec<ComparisonExpr>,
    ands: Vec<ComparisonExpr>,
}

impl ComparisonFrame {
    fn new(bracket: bool) -> Self {
        Self {
            bracket,
            ors: Vec::new(),
            ands: Vec::new(),
        }
    }

    fn or(&mut self) {
        let ands = std::mem::take(&mut self.ands);
        self.ors.push(join(ands, ComparisonExpr::And));
    }

    fn finish(&mut self) -> ComparisonExpr {
        self.or();
        join(std::mem::take(&mut self.ors), ComparisonExpr::Or)
    }
}

/// What to show of a token in an error message.
fn shown(text: &str) -> String {
    const MAX_CHARS: usize = 40;
    let mut out: String = text.chars().take(MAX_CHARS).collect();
    if text.chars().nth(MAX_CHARS).is_some() {
        out.push('…');
    }
    out
}

impl<'a> Parser<'a> {
    fn peek(&mut self) -> Result<Token, PatternError> {
        if let Some(t) = self.peeked {
            return Ok(t);
        }
        let t = self.lexer.next_token()?;
        self.peeked = Some(t);
        Ok(t)
    }

    fn bump(&mut self) -> Result<Token, PatternError> {
        let t = self.peek()?;
        self.peeked = None;
        Ok(t)
    }

    fn text(&self, t: Token) -> &'a str {
        self.lexer.src.get(t.start..t.end).unwrap_or("")
    }

    fn describe(&self, t: Token) -> String {
        let text = self.text(t);
        match t.kind {
            Tk::Eof => "the end of the pattern".to_owned(),
            Tk::Ident
                if keyword(&text.to_ascii_uppercase()).is_some()
                    || text.eq_ignore_ascii_case("true")
                    || text.eq_ignore_ascii_case("false") =>
            {
                format!(
                    "'{}' (keywords are case-sensitive: upper-case, and true/false lower-case)",
                    shown(text)
                )
            }
            Tk::Str => format!("the string {}", shown(text)),
            _ => format!("'{}'", shown(text)),
        }
    }

    fn expected(&self, what: &str, found: Token) -> PatternError {
        PatternError::new(
            found.start,
            format!("expected {what}, found {}", self.describe(found)),
        )
    }

    fn expect(&mut self, kind: Tk, what: &str) -> Result<Token, PatternError> {
        let t = self.bump()?;
        if t.kind == kind {
            Ok(t)
        } else {
            Err(self.expected(what, t))
        }
    }

    /// Refuses to open one more bracket or parenthesis when `open` frames already are.
    fn check_depth(&self, open: usize, at: Token) -> Result<(), PatternError> {
        if open >= self.max_depth {
            return Err(PatternError::new(
                at.start,
                format!(
                    "brackets and parentheses are nested more than {} deep",
                    self.max_depth
                ),
            ));
        }
        Ok(())
    }

    /// The whole grammar above the comparison, parsed with an explicit stack of open
    /// brackets and parentheses instead of recursion, so that the native stack use does not
    /// depend on the input: each `[` or `(` pushes a [`Frame`], each operator a vector entry.
    fn parse_pattern(&mut self) -> Result<ObservationExpr, PatternError> {
        let mut frames = vec![Frame::Observations(ObservationFrame::new(None))];
        // An operand just completed, waiting to be added to the innermost frame.
        let mut done: Option<Operand> = None;
        loop {
            let Some(operand) = done.take() else {
                // The innermost frame needs an operand: open a frame or read a comparison.
                let t = self.bump()?;
                let in_observations = matches!(frames.last(), Some(Frame::Observations(_)));
                match t.kind {
                    Tk::LBrack if in_observations => {
                        self.check_depth(frames.len().saturating_sub(1), t)?;
                        frames.push(Frame::Comparisons(ComparisonFrame::new(true)));
                    }
                    Tk::LParen if in_observations => {
                        self.check_depth(frames.len().saturating_sub(1), t)?;
                        frames.push(Frame::Observations(ObservationFrame::new(Some(t))));
                    }
                    _ if in_observations => return Err(self.expected("'[' or '('", t)),
                    Tk::LParen => {
                        self.check_depth(frames.len().saturating_sub(1), t)?;
                        frames.push(Frame::Comparisons(ComparisonFrame::new(false)));
                    }
                    Tk::Kw(Kw::Exists) => {
                        self.count_comparison(t)?;
                        let (object_type, path) = self.parse_object_path()?;
                        done = Some(Operand::Comparison(ComparisonExpr::Comparison(
                            Comparison {
                                object_type,
                                path,
                                operator: Operator::Exists,
                                negated: false,
                                value: None,
                                offset: t.start,
                            },
                        )));
                    }
                    Tk::Ident | Tk::IdentHyphen => {
                        self.count_comparison(t)?;
                        self.peeked = Some(t);
                        let c = self.parse_comparison(t.start)?;
                        done = Some(Operand::Comparison(ComparisonExpr::Comparison(c)));
                    }
                    _ => {
                        return Err(
                            self.expected("a comparison (type:property …), EXISTS or '('", t)
                        );
                    }
                }
                continue;
            };
            match (operand, frames.last_mut()) {
                (Operand::Comparison(expr), Some(Frame::Comparisons(frame))) => {
                    frame.ands.push(expr);
                    match self.peek()?.kind {
                        Tk::Kw(Kw::And) => {}
                        Tk::Kw(Kw::Or) => frame.or(),
                        _ => {
                            let bracket = frame.bracket;
                            let expr = frame.finish();
                            frames.pop();
                            if bracket {
                                self.expect(Tk::RBrack, "AND, OR or ']'")?;
                                self.observations += 1;
                                let qualifiers = self.parse_qualifiers(true)?;
                                done = Some(Operand::Observation(ObservationExpr {
                                    kind: ObservationKind::Observation(expr),
                                    qualifiers,
                                }));
                            } else {
                                self.expect(Tk::RParen, "AND, OR or ')'")?;
                                done = Some(Operand::Comparison(expr));
                            }
                            continue;
                        }
                    }
                    self.bump()?;
                }
                (Operand::Observation(expr), Some(Frame::Observations(frame))) => {
                    frame.ands.push(expr);
                    match self.peek()?.kind {
                        Tk::Kw(Kw::And) => {}
                        Tk::Kw(Kw::Or) => frame.or(),
                        Tk::Kw(Kw::FollowedBy) => frame.followed_by(),
                        _ => {
                            let open = frame.open;
                            let expr = frame.finish();
                            frames.pop();
                            if open.is_none() {
                                return Ok(expr);
                            }
                            self.expect(Tk::RParen, "AND, OR, FOLLOWEDBY, a qualifier or ')'")?;
                            let qualifiers = self.parse_qualifiers(false)?;
                            done = Some(Operand::Observation(if qualifiers.is_empty() {
                                expr
                            } else {
                                ObservationExpr {
                                    kind: ObservationKind::Group(Box::new(expr)),
                                    qualifiers,
                                }
                            }));
                            continue;
                        }
                    }
                    self.bump()?;
                }
                // An operand only ever completes inside a frame of its own kind.
                _ => {
                    return Err(PatternError::new(
                        self.lexer.pos,
                        "internal error: parser state",
                    ));
                }
            }
        }
    }

    /// The qualifiers after an observation expression. On a `[ … ]` (`direct`), each type may
    /// appear once.
    fn parse_qualifiers(&mut self, direct: bool) -> Result<Vec<Qualifier>, PatternError> {
        let mut qualifiers = Vec::new();
        let mut seen = [false; 3];
        loop {
            let t = self.peek()?;
            let (slot, name, qualifier) = match t.kind {
                Tk::Kw(Kw::Within) => {
                    self.bump()?;
                    let n = self.bump()?;
                    if !matches!(n.kind, Tk::IntPos | Tk::FloatPos) {
                        return Err(self.expected("a non-negative number of seconds", n));
                    }
                    self.expect(Tk::Kw(Kw::Seconds), "SECONDS")?;
                    if number_above(self.text(n), self.max_within_secs) {
                        return Err(PatternError::new(
                            n.start,
                            format!(
                                "WITHIN {} SECONDS is over the limit of {} seconds",
                                shown(self.text(n)),
                                self.max_within_secs
                            ),
                        ));
                    }
                    (
                        0,
                        "WITHIN",
                        Qualifier::Within(Number(self.text(n).to_owned())),
                    )
                }
                Tk::Kw(Kw::Repeats) => {
                    self.bump()?;
                    let n = self.bump()?;
                    if n.kind != Tk::IntPos {
                        return Err(self.expected("a non-negative integer", n));
                    }
                    self.expect(Tk::Kw(Kw::Times), "TIMES")?;
                    if number_above(self.text(n), self.max_repeats) {
                        return Err(PatternError::new(
                            n.start,
                            format!(
                                "REPEATS {} TIMES is over the limit of {} repetitions",
                                shown(self.text(n)),
                                self.max_repeats
                            ),
                        ));
                    }
                    (
                        1,
                        "REPEATS",
                        Qualifier::Repeats(Number(self.text(n).to_owned())),
                    )
                }
                Tk::Kw(Kw::Start) => {
                    self.bump()?;
                    let start = self.expect(Tk::Timestamp, "a timestamp t'…' after START")?;
                    self.expect(Tk::Kw(Kw::Stop), "STOP")?;
                    let stop = self.expect(Tk::Timestamp, "a timestamp t'…' after STOP")?;
                    let qualifier = Qualifier::StartStop {
                        start: self.timestamp_text(start),
                        stop: self.timestamp_text(stop),
                    };
                    (2, "START/STOP", qualifier)
                }
                _ => break,
            };
            if direct && let Some(seen) = seen.get_mut(slot) {
                if *seen {
                    return Err(PatternError::new(
                        t.start,
                        format!(
                            "a second {name} qualifier on the same observation expression \
                             (group it in parentheses to qualify it again)"
                        ),
                    ));
                }
                *seen = true;
            }
            qualifiers.push(qualifier);
        }
        Ok(qualifiers)
    }

    fn timestamp_text(&self, t: Token) -> String {
        let text = self.text(t);
        text.get(2..text.len().saturating_sub(1))
            .unwrap_or("")
            .to_owned()
    }

    fn count_comparison(&mut self, at: Token) -> Result<(), PatternError> {
        self.comparisons += 1;
        if self.comparisons > self.max_comparisons {
            return Err(PatternError::new(
                at.start,
                format!("more than {} comparisons", self.max_comparisons),
            ));
        }
        Ok(())
    }

    fn parse_comparison(&mut self, offset: usize) -> Result<Comparison, PatternError> {
        let (object_type, path) = self.parse_object_path()?;
        let negated = self.peek()?.kind == Tk::Kw(Kw::Not);
        if negated {
            self.bump()?;
        }
        let op = self.bump()?;
        let operator = match op.kind {
            Tk::Eq => Operator::Eq,
            Tk::Ne => Operator::Ne,
            Tk::Lt => Operator::Lt,
            Tk::Le => Operator::Le,
            Tk::Gt => Operator::Gt,
            Tk::Ge => Operator::Ge,
            Tk::Kw(Kw::In) => Operator::In,
            Tk::Kw(Kw::Like) => Operator::Like,
            Tk::Kw(Kw::Matches) => Operator::Matches,
            Tk::Kw(Kw::IsSubset) => Operator::IsSubset,
            Tk::Kw(Kw::IsSuperset) => Operator::IsSuperset,
            _ => {
                let what = if negated {
                    "an operator after NOT (=, !=, <, <=, >, >=, IN, LIKE, MATCHES, ISSUBSET, \
                     ISSUPERSET)"
                } else {
                    "NOT or an operator (=, !=, <, <=, >, >=, IN, LIKE, MATCHES, ISSUBSET, \
                     ISSUPERSET)"
                };
                return Err(self.expected(what, op));
            }
        };
        let value_start = self.peek()?.start;
        let (value, raw) = match operator {
            Operator::Eq | Operator::Ne => self.parse_literal(operator)?,
            Operator::Lt | Operator::Le | Operator::Gt | Operator::Ge => {
                let t = self.peek()?;
                if t.kind == Tk::Bool {
                    return Err(PatternError::new(
                        t.start,
                        format!("'{operator}' cannot compare with a boolean (only = and != can)"),
                    ));
                }
                self.parse_literal(operator)?
            }
            Operator::In => self.parse_set()?,
            _ => {
                let t = self.bump()?;
                if t.kind != Tk::Str {
                    return Err(self.expected(&format!("a string literal '…' after {operator}"), t));
                }
                let raw = self.text(t);
                let text = unescape(raw);
                if operator == Operator::Matches {
                    self.check_regex(&text, t)?;
                }
                (Literal::String(text), raw.to_owned())
            }
        };
        check_hash_value(&path, &raw, value_start)?;
        Ok(Comparison {
            object_type,
            path,
            operator,
            negated,
            value: Some(value),
            offset,
        })
    }

    /// A `MATCHES` operand (unescaped) against [`super::matches`]; the error points into the
    /// string literal `at`.
    fn check_regex(&mut self, regex: &str, at: Token) -> Result<(), PatternError> {
        super::matches::check(regex, &mut self.regex_budget).map_err(|e| {
            // The regex offset is in the unescaped text; the literal's opening quote is the
            // best place to point at in the pattern.
            PatternError::new(at.start, format!("MATCHES {}: {e}", shown(self.text(at))))
        })
    }

    /// `objectPath`: `type:first(.key | [index] | [*])*`.
    fn parse_object_path(&mut self) -> Result<(String, Vec<PathStep>), PatternError> {
        let ty = self.bump()?;
        if !matches!(ty.kind, Tk::Ident | Tk::IdentHyphen) {
            return Err(self.expected("an object type", ty));
        }
        let object_type = self.text(ty).to_owned();
        self.expect(Tk::Colon, "':' after the object type")?;
        let mut path = vec![self.parse_key("a property name after ':'")?];
        loop {
            match self.peek()?.kind {
                Tk::Dot => {
                    self.bump()?;
                    path.push(self.parse_key("a property name after '.'")?);
                }
                Tk::LBrack => {
                    self.bump()?;
                    let index = self.bump()?;
                    let step = match index.kind {
                        Tk::IntPos | Tk::IntNeg => {
                            PathStep::Index(Number(self.text(index).to_owned()))
                        }
                        Tk::Star => PathStep::AnyIndex,
                        _ => return Err(self.expected("a list index or '*'", index)),
                    };
                    self.expect(Tk::RBrack, "']' after the list index")?;
                    path.push(step);
                }
                _ => break,
            }
        }
        Ok((object_type, path))
    }

    fn parse_key(&mut self, what: &str) -> Result<PathStep, PatternError> {
        let t = self.bump()?;
        match t.kind {
            Tk::Ident => Ok(PathStep::Key(self.text(t).to_owned())),
            Tk::Str => Ok(PathStep::Key(unescape(self.text(t)))),
            Tk::IdentHyphen => Err(PatternError::new(
                t.start,
                format!(
                    "property name '{}' contains '-': quote it ('…')",
                    shown(self.text(t))
                ),
            )),
            _ => Err(self.expected(what, t)),
        }
    }

    /// A single literal (`primitiveLiteral`), with its text as written.
    fn parse_literal(&mut self, after: Operator) -> Result<(Literal, String), PatternError> {
        let t = self.bump()?;
        let raw = self.text(t);
        let literal = match t.kind {
            Tk::Str => Literal::String(unescape(raw)),
            Tk::IntPos | Tk::IntNeg => Literal::Integer(Number(raw.to_owned())),
            Tk::FloatPos | Tk::FloatNeg => Literal::Float(Number(raw.to_owned())),
            Tk::Bool => Literal::Bool(raw == "true"),
            Tk::Timestamp => Literal::Timestamp(self.timestamp_text(t)),
            Tk::Binary => {
                let body = raw.get(2..raw.len().saturating_sub(1)).unwrap_or("");
                Literal::Binary(decode_base64(body.as_bytes()))
            }
            Tk::Hex => {
                let body = raw.get(2..raw.len().saturating_sub(1)).unwrap_or("");
                Literal::Hex(decode_hex(body.as_bytes()))
            }
            _ => {
                let what = match after {
                    Operator::In => "a literal value in the set".to_owned(),
                    _ => format!("a literal value after '{after}'"),
                };
                return Err(self.expected(&what, t));
            }
        };
        Ok((literal, raw.to_owned()))
    }

    /// `setLiteral`: `( )` or `( literal (, literal)* )`, with its text as the validator sees
    /// it (tokens joined without blanks).
    fn parse_set(&mut self) -> Result<(Literal, String), PatternError> {
        self.expect(Tk::LParen, "'(' to open the set after IN")?;
        let mut items = Vec::new();
        let mut raw = String::from("(");
        if self.peek()?.kind == Tk::RParen {
            self.bump()?;
        } else {
            loop {
                let (item, text) = self.parse_literal(Operator::In)?;
                items.push(item);
                raw.push_str(&text);
                let sep = self.bump()?;
                match sep.kind {
                    Tk::Comma => raw.push(','),
                    Tk::RParen => break,
                    _ => return Err(self.expected("',' or ')' in the set", sep)),
                }
            }
        }
        raw.push(')');
        Ok((Literal::Set(items), raw))
    }
}

/// The reference validator's hash check: when the path has a `hashes` step and ends in a
/// known algorithm, the value's text (quotes removed) must have that algorithm's form.
fn check_hash_value(path: &[PathStep], raw: &str, offset: usize) -> Result<(), PatternError> {
    if !path
        .iter()
        .any(|step| matches!(step, PathStep::Key(k) if k == "hashes"))
    {
        return Ok(());
    }
    // An index as the last step: not an algorithm name.
    let Some(PathStep::Key(selector)) = path.last() else {
        return Ok(());
    };
    let algorithm = selector.to_uppercase().replace(['-', '\''], "");
    let value = raw.replace('\'', "");
    let (ok, form) = match algorithm.as_str() {
        "MD5" => (hex_digits(&value, 32), "32 hex digits"),
        "MD6" => (md6_form(&value), "hex digits"),
        "RIPEMD160" | "SHA1" => (hex_digits(&value, 40), "40 hex digits"),
        "SHA224" | "SHA3224" => (hex_digits(&value, 56), "56 hex digits"),
        "SHA256" | "SHA3256" => (hex_digits(&value, 64), "64 hex digits"),
        "SHA384" | "SHA3384" => (hex_digits(&value, 96), "96 hex digits"),
        "SHA512" | "SHA3512" | "WHIRLPOOL" => (hex_digits(&value, 128), "128 hex digits"),
        "SSDEEP" => (ssdeep_form(&value), "1 to 128 of A-Z a-z 0-9 / + : ."),
        _ => return Ok(()),
    };
    if ok {
        return Ok(());
    }
    Err(PatternError::new(
        offset,
        format!(
            "'{}' is not a valid {} hash (expected {form})",
            shown(&value),
            shown(selector)
        ),
    ))
}

/// Python's `$` also matches before one final newline.
fn without_final_newline(s: &str) -> &str {
    s.strip_suffix('\n').unwrap_or(s)
}

fn hex_digits(value: &str, n: usize) -> bool {
    let body = without_final_newline(value);
    body.len() == n && body.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The validator's MD6 expression, as it behaves: it accepts any value that begins with 32
/// hex digits (or with a newline, four spaces and 64 hex digits).
fn md6_form(value: &str) -> bool {
    let hex_prefix =
        |s: &str, n: usize| s.len() >= n && s.bytes().take(n).all(|b| b.is_ascii_hexdigit());
    hex_prefix(value, 32)
        || value
            .strip_prefix("\n    ")
            .is_some_and(|rest| hex_prefix(rest, 64))
}

fn ssdeep_form(value: &str) -> bool {
    let body = without_final_newline(value);
    (1..=128).contains(&body.len())
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'+' | b':' | b'.'))
}

// ---------------------------------------------------------------------------------------------
// Writing patterns back

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.root.fmt(f)
    }
}

impl fmt::Display for ObservationExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (operands, joiner, wrap): (&[ObservationExpr], &str, fn(&ObservationKind) -> bool) =
            match &self.kind {
                ObservationKind::Observation(expr) => {
                    write!(f, "[{expr}]")?;
                    return write_qualifiers(f, &self.qualifiers);
                }
                ObservationKind::Group(inner) => {
                    write!(f, "({inner})")?;
                    return write_qualifiers(f, &self.qualifiers);
                }
                ObservationKind::And(v) => (v, " AND ", |k| {
                    matches!(
                        k,
                        ObservationKind::And(_)
                            | ObservationKind::Or(_)
                            | ObservationKind::FollowedBy(_)
                    )
                }),
                ObservationKind::Or(v) => (v, " OR ", |k| {
                    matches!(k, ObservationKind::Or(_) | ObservationKind::FollowedBy(_))
                }),
                ObservationKind::FollowedBy(v) => (v, " FOLLOWEDBY ", |k| {
                    matches!(k, ObservationKind::FollowedBy(_))
                }),
            };
        let qualified = !self.qualifiers.is_empty();
        if qualified {
            f.write_str("(")?;
        }
        for (i, operand) in operands.iter().enumerate() {
            if i > 0 {
                f.write_str(joiner)?;
            }
            if wrap(&operand.kind) && operand.qualifiers.is_empty() {
                write!(f, "({operand})")?;
            } else {
                write!(f, "{operand}")?;
            }
        }
        if qualified {
            f.write_str(")")?;
            write_qualifiers(f, &self.qualifiers)?;
        }
        Ok(())
    }
}

fn write_qualifiers(f: &mut fmt::Formatter<'_>, qualifiers: &[Qualifier]) -> fmt::Result {
    qualifiers.iter().try_for_each(|q| write!(f, " {q}"))
}

impl fmt::Display for Qualifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Qualifier::Within(n) => write!(f, "WITHIN {n} SECONDS"),
            Qualifier::Repeats(n) => write!(f, "REPEATS {n} TIMES"),
            Qualifier::StartStop { start, stop } => write!(f, "START t'{start}' STOP t'{stop}'"),
        }
    }
}

impl fmt::Display for ComparisonExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (operands, joiner, wrap_or) = match self {
            ComparisonExpr::Comparison(c) => return c.fmt(f),
            ComparisonExpr::And(v) => (v, " AND ", true),
            ComparisonExpr::Or(v) => (v, " OR ", false),
        };
        for (i, operand) in operands.iter().enumerate() {
            if i > 0 {
                f.write_str(joiner)?;
            }
            let wrap = match operand {
                ComparisonExpr::Comparison(_) => false,
                ComparisonExpr::And(_) => wrap_or,
                ComparisonExpr::Or(_) => true,
            };
            if wrap {
                write!(f, "({operand})")?;
            } else {
                write!(f, "{operand}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.property_path();
        match &self.value {
            None => write!(f, "EXISTS {}:{path}", self.object_type),
            Some(value) => {
                let not = if self.negated { "NOT " } else { "" };
                write!(
                    f,
                    "{}:{path} {not}{} {value}",
                    self.object_type, self.operator
                )
            }
        }
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::String(s) => {
                let mut out = String::with_capacity(s.len() + 2);
                push_quoted(&mut out, s);
                f.write_str(&out)
            }
            Literal::Integer(n) | Literal::Float(n) => n.fmt(f),
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Timestamp(t) => write!(f, "t'{t}'"),
            Literal::Binary(bytes) => write!(f, "b'{}'", encode_base64(bytes)),
            Literal::Hex(bytes) => {
                f.write_str("h'")?;
                bytes.iter().try_for_each(|b| write!(f, "{b:02x}"))?;
                f.write_str("'")
            }
            Literal::Set(items) => {
                f.write_str("(")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    item.fmt(f)?;
                }
                f.write_str(")")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Pattern {
        match parse(text, &PatternLimits::default()) {
            Ok(p) => p,
            Err(e) => panic!("{text:?} was refused: {e}"),
        }
    }

    fn err(text: &str) -> PatternError {
        match parse(text, &PatternLimits::default()) {
            Ok(p) => panic!("{text:?} was accepted as {p:?}"),
            Err(e) => e,
        }
    }

    fn only(p: &Pattern) -> &Comparison {
        let all: Vec<_> = p.comparisons().collect();
        assert_eq!(all.len(), 1, "{all:?}");
        all[0]
    }

    fn value(text: &str) -> Literal {
        only(&ok(text)).value.clone().unwrap()
    }

    fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(f)
            .unwrap()
            .join()
            .unwrap()
    }

    fn big(max_depth: usize, max_comparisons: usize) -> PatternLimits {
        PatternLimits {
            max_len: usize::MAX,
            max_depth,
            max_comparisons,
            ..PatternLimits::default()
        }
    }

    /// Writing a parsed pattern back gives a pattern that parses to the same tree.
    fn assert_round_trip(p: &Pattern, limits: &PatternLimits) {
        let text = p.to_string();
        let again = parse(&text, limits).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(&again, p, "{text}");
        assert_eq!(again.to_string(), text);
    }

    fn key(k: &str) -> PathStep {
        PathStep::Key(k.to_owned())
    }

    fn s(v: &str) -> Literal {
        Literal::String(v.to_owned())
    }

    fn n(v: &str) -> Number {
        Number(v.to_owned())
    }

    // --- the blocklist use -------------------------------------------------------------------

    #[test]
    fn comparisons_expose_type_path_operator_and_value() {
        let p = ok("[ipv4-addr:value = '198.51.100.7']");
        let c = only(&p);
        assert_eq!(c.object_type, "ipv4-addr");
        assert_eq!(c.path, vec![key("value")]);
        assert_eq!(c.property_path(), "value");
        assert_eq!(c.operator, Operator::Eq);
        assert_eq!(c.operator.to_string(), "=");
        assert!(!c.negated);
        assert_eq!(c.value, Some(s("198.51.100.7")));
        assert_eq!(
            c.value.as_ref().and_then(Literal::as_str),
            Some("198.51.100.7")
        );
        assert_eq!(c.offset, 1);
        assert_eq!(p.observation_count(), 1);
        assert_eq!(p.comparison_count(), 1);
    }

    #[test]
    fn comparisons_come_in_pattern_order_across_observations() {
        let p = ok(
            "([a:v = 1] OR [b:v = 2 AND (c:v = 3 OR d:v = 4)]) FOLLOWEDBY [e:v = 5] \
                    WITHIN 10 SECONDS AND [f:v = 6]",
        );
        let types: Vec<_> = p.comparisons().map(|c| c.object_type.as_str()).collect();
        assert_eq!(types, ["a", "b", "c", "d", "e", "f"]);
        assert_eq!(p.observation_count(), 4);
        assert_eq!(p.comparison_count(), 6);
    }

    // --- observation expressions -------------------------------------------------------------

    #[test]
    fn observation_operators_bind_and_over_or_over_followedby() {
        let p = ok("[a:v=1] AND [b:v=2] OR [c:v=3] FOLLOWEDBY [d:v=4] AND [e:v=5]");
        let ObservationKind::FollowedBy(steps) = &p.root().kind else {
            panic!("{p:?}")
        };
        assert_eq!(steps.len(), 2);
        let ObservationKind::Or(alternatives) = &steps[0].kind else {
            panic!("{p:?}")
        };
        assert!(matches!(&alternatives[0].kind, ObservationKind::And(v) if v.len() == 2));
        assert!(matches!(
            &alternatives[1].kind,
            ObservationKind::Observation(_)
        ));
        assert!(matches!(&steps[1].kind, ObservationKind::And(v) if v.len() == 2));
        assert_round_trip(&p, &PatternLimits::default());
    }

    #[test]
    fn chains_are_flat_and_parentheses_group() {
        let p = ok("[a:v=1] AND [b:v=2] AND [c:v=3]");
        assert!(matches!(&p.root().kind, ObservationKind::And(v) if v.len() == 3));

        let p = ok("([a:v=1] OR [b:v=2]) AND [c:v=3]");
        let ObservationKind::And(v) = &p.root().kind else {
            panic!("{p:?}")
        };
        assert!(matches!(&v[0].kind, ObservationKind::Or(o) if o.len() == 2));
        assert_eq!(p.to_string(), "([a:v = 1] OR [b:v = 2]) AND [c:v = 3]");
        assert_round_trip(&p, &PatternLimits::default());

        // Parentheses without qualifiers leave no node.
        assert_eq!(ok("(( [a:v=1] ))"), ok("[a:v=1]"));
        assert_ne!(ok("[a:v=1]"), ok("[a:v=2]"));
    }

    #[test]
    fn qualifiers() {
        let p = ok("[a:v=1] WITHIN 5 SECONDS");
        assert_eq!(p.root().qualifiers, vec![Qualifier::Within(n("5"))]);
        let p = ok("[a:v=1] WITHIN 2.5 SECONDS");
        assert_eq!(p.root().qualifiers, vec![Qualifier::Within(n("2.5"))]);
        let p = ok("[a:v=1] REPEATS 9 TIMES");
        assert_eq!(p.root().qualifiers, vec![Qualifier::Repeats(n("9"))]);
        let Qualifier::Repeats(times) = &p.root().qualifiers[0] else {
            panic!()
        };
        assert_eq!(times.as_i64(), Some(9));
        let p = ok("[a:v=1] START t'2016-06-01T01:30:00.123Z' STOP t'2016-06-01T02:20:00Z'");
        assert_eq!(
            p.root().qualifiers,
            vec![Qualifier::StartStop {
                start: "2016-06-01T01:30:00.123Z".to_owned(),
                stop: "2016-06-01T02:20:00Z".to_owned(),
            }]
        );
        // All three kinds on one observation, in any order.
        let p = ok("[a:v=1] REPEATS 5 TIMES WITHIN 1800 SECONDS \
                    START t'2016-06-01T01:30:00Z' STOP t'2016-06-01T02:20:00Z'");
        assert_eq!(p.root().qualifiers.len(), 3);
        assert_round_trip(&p, &PatternLimits::default());

        // A qualified group keeps its own qualifiers apart from its members'.
        let p = ok("([a:v=1] REPEATS 2 TIMES) REPEATS 3 TIMES");
        let ObservationKind::Group(inner) = &p.root().kind else {
            panic!("{p:?}")
        };
        assert_eq!(inner.qualifiers, vec![Qualifier::Repeats(n("2"))]);
        assert_eq!(p.root().qualifiers, vec![Qualifier::Repeats(n("3"))]);
        assert_round_trip(&p, &PatternLimits::default());

        // A qualifier binds to the observation before it, not to the whole chain.
        let p = ok("[a:v=1] AND [b:v=2] WITHIN 5 SECONDS");
        let ObservationKind::And(v) = &p.root().kind else {
            panic!("{p:?}")
        };
        assert!(v[0].qualifiers.is_empty());
        assert_eq!(v[1].qualifiers.len(), 1);
    }

    #[test]
    fn a_qualifier_type_appears_once_directly_on_an_observation() {
        let e = err("[a:v=1] WITHIN 5 SECONDS WITHIN 6 SECONDS");
        assert_eq!(e.offset, 25);
        assert!(e.message.contains("second WITHIN"), "{e}");
        err("[a:v=1] REPEATS 2 TIMES WITHIN 5 SECONDS REPEATS 3 TIMES");
        err(
            "[a:v=1] START t'2016-06-01T01:30:00Z' STOP t'2016-06-01T02:20:00Z' \
             START t'2016-06-01T01:30:00Z' STOP t'2016-06-01T02:20:00Z'",
        );
        ok("([a:v=1]) WITHIN 5 SECONDS WITHIN 6 SECONDS");
        ok("([a:v=1] WITHIN 5 SECONDS) WITHIN 6 SECONDS");
    }

    #[test]
    fn qualifier_operands_follow_the_grammar() {
        ok("[a:v=1] WITHIN .5 SECONDS");
        ok("[a:v=1] WITHIN +5 SECONDS");
        ok("[a:v=1] REPEATS 0 TIMES");
        assert!(
            err("[a:v=1] WITHIN -5 SECONDS")
                .message
                .contains("non-negative")
        );
        err("[a:v=1] WITHIN 5 MINUTES");
        err("[a:v=1] REPEATS 2.5 TIMES");
        err("[a:v=1] REPEATS -1 TIMES");
        err("[a:v=1] START '2016-06-01T01:30:00Z' STOP t'2016-06-01T02:20:00Z'");
        err("[a:v=1] START t'2016-06-01T01:30:00Z'");
        err("[a:v=1] WITHIN 5");
    }

    #[test]
    fn repeats_beyond_the_limit_is_refused() {
        ok("[a:v=1] REPEATS 10000 TIMES");
        ok("[a:v=1] REPEATS +10000 TIMES");
        let e = err("[a:v=1] REPEATS 99999999999999999999 TIMES");
        assert_eq!(e.offset, 16);
        assert_eq!(
            e.message,
            "REPEATS 99999999999999999999 TIMES is over the limit of 10000 repetitions"
        );
        err("[a:v=1] REPEATS 10001 TIMES");
        err("[a:v=1] REPEATS 4294967296 TIMES");
        // On a group too, and whatever the policy says within u32.
        err("([a:v=1]) REPEATS 10001 TIMES");
        let limits = PatternLimits {
            max_repeats: u32::MAX,
            ..PatternLimits::default()
        };
        assert!(parse("[a:v=1] REPEATS 4294967295 TIMES", &limits).is_ok());
        assert!(parse("[a:v=1] REPEATS 4294967296 TIMES", &limits).is_err());
    }

    #[test]
    fn within_beyond_the_limit_is_refused() {
        ok("[a:v=1] WITHIN 31536000 SECONDS");
        ok("[a:v=1] WITHIN 31536000.000 SECONDS");
        ok("[a:v=1] WITHIN 0.5 SECONDS");
        let e = err("[a:v=1] WITHIN 18446744073709551616 SECONDS");
        assert_eq!(e.offset, 15);
        assert_eq!(
            e.message,
            "WITHIN 18446744073709551616 SECONDS is over the limit of 31536000 seconds"
        );
        // Decimals are compared on their digits, not rounded through a float.
        err("[a:v=1] WITHIN 31536000.0000000000000001 SECONDS");
        err("[a:v=1] WITHIN 31536001 SECONDS");
        err(&format!("[a:v=1] WITHIN {}.5 SECONDS", "9".repeat(400)));
        err("([a:v=1] AND [b:v=2]) WITHIN 99999999 SECONDS");
        assert!(number_above("0000000000000000031536001", YEAR_SECS));
        assert!(!number_above("0000000000000000031536000", YEAR_SECS));
        assert!(number_above(".5", 0));
        assert!(!number_above("0", 0));
    }

    #[test]
    fn matches_operands_are_checked_as_regexes() {
        ok("[file:name MATCHES '^Final Report.+\\\\.exe$']");
        let e = err("[file:name MATCHES '(((']");
        assert_eq!(e.offset, 19);
        assert!(
            e.message
                .starts_with("MATCHES '(((': invalid regular expression at byte 2"),
            "{e}"
        );
        let e = err("[file:name MATCHES '^(a+)+$']");
        assert!(e.message.contains("exponential"), "{e}");
        err("[file:name NOT MATCHES '(a)\\\\1']");
        // Only MATCHES: LIKE and equality take any text.
        ok("[file:name LIKE '(((']");
        ok("[file:name = '(a+)+']");
        // The compiled-size budget is for the whole pattern.
        let one = "[file:name MATCHES '\\\\w{20}']";
        ok(one);
        let many = vec![one; 64].join(" OR ");
        assert!(err(&many).message.contains("compiles to more than"));
    }

    // --- comparison expressions --------------------------------------------------------------

    #[test]
    fn comparison_and_binds_tighter_than_or_and_parentheses_group() {
        let p = ok("[a:v=1 OR b:v=2 AND c:v=3]");
        let ObservationKind::Observation(ComparisonExpr::Or(v)) = &p.root().kind else {
            panic!("{p:?}")
        };
        assert!(matches!(&v[1], ComparisonExpr::And(a) if a.len() == 2));

        let p = ok("[(a:v=1 OR b:v=2) AND c:v=3]");
        let ObservationKind::Observation(ComparisonExpr::And(v)) = &p.root().kind else {
            panic!("{p:?}")
        };
        assert!(matches!(&v[0], ComparisonExpr::Or(o) if o.len() == 2));
        assert_eq!(p.to_string(), "[(a:v = 1 OR b:v = 2) AND c:v = 3]");
        assert_round_trip(&p, &PatternLimits::default());
    }

    #[test]
    fn object_paths() {
        let c = only(&ok("[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']")).clone();
        assert_eq!(c.path, vec![key("hashes"), key("SHA-256")]);
        assert_eq!(c.property_path(), "hashes.'SHA-256'");

        let c = only(&ok(
            "[email-message:body_multipart[*].body_raw_ref.name = 'x']",
        ))
        .clone();
        assert_eq!(
            c.path,
            vec![
                key("body_multipart"),
                PathStep::AnyIndex,
                key("body_raw_ref"),
                key("name")
            ]
        );
        assert_eq!(c.property_path(), "body_multipart[*].body_raw_ref.name");

        let c = only(&ok("[network-traffic:extensions[0] = 'x']")).clone();
        assert_eq!(c.path, vec![key("extensions"), PathStep::Index(n("0"))]);
        let c = only(&ok("[x:list[-1] = 'x']")).clone();
        assert_eq!(c.path, vec![key("list"), PathStep::Index(n("-1"))]);

        let c = only(&ok("[x-custom-type:x_prop = 1]")).clone();
        assert_eq!(c.object_type, "x-custom-type");
        assert_eq!(c.path, vec![key("x_prop")]);

        // Quoted first component, quotes and backslashes inside a quoted name.
        let c = only(&ok(r"[x:'first key'.'it\'s\\' = 1]")).clone();
        assert_eq!(c.path, vec![key("first key"), key(r"it's\")]);
        assert_eq!(c.property_path(), r"'first key'.'it\'s\\'");
        // A keyword as a property name must be quoted.
        let c = only(&ok("[x:'IN' = 1]")).clone();
        assert_eq!(c.property_path(), "'IN'");

        // Blanks between path tokens are allowed by the grammar.
        ok("[file : hashes . MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f']");
    }

    #[test]
    fn bad_object_paths() {
        let e = err("[file.size = 1280]");
        assert_eq!(
            (e.offset, e.message.as_str()),
            (5, "expected ':' after the object type, found '.'")
        );
        let e = err("[x:foo-bar = 1]");
        assert!(e.message.contains("quote it"), "{e}");
        err("[x:a.foo-bar = 1]");
        err("[x:a.1 = 1]");
        err("[x:a[] = 1]");
        err("[x:a[1.5] = 1]");
        err("[x:a[x] = 1]");
        err("[x: = 1]");
        err("[:a = 1]");
        err("['x':a = 1]");
        err("[x:AND = 1]");
        err("[IN:a = 1]");
        err("[x:LAST = 1]");
        err("[x:true = 1]");
        err("[x:a. = 1]");
    }

    #[test]
    fn every_operator_and_not() {
        let cases = [
            ("=", Operator::Eq, "1"),
            ("==", Operator::Eq, "1"),
            ("!=", Operator::Ne, "1"),
            ("<>", Operator::Ne, "1"),
            ("<", Operator::Lt, "1"),
            ("<=", Operator::Le, "1"),
            (">", Operator::Gt, "1"),
            (">=", Operator::Ge, "1"),
            ("IN", Operator::In, "(1, 2)"),
            ("LIKE", Operator::Like, "'a%'"),
            ("MATCHES", Operator::Matches, "'^a.*$'"),
            ("ISSUBSET", Operator::IsSubset, "'10.0.0.0/8'"),
            ("ISSUPERSET", Operator::IsSuperset, "'10.0.0.0/8'"),
        ];
        for (written, operator, operand) in cases {
            for not in [false, true] {
                let text = format!("[x:v {}{written} {operand}]", if not { "NOT " } else { "" });
                let p = ok(&text);
                let c = only(&p);
                assert_eq!((c.operator, c.negated), (operator, not), "{text}");
                assert_round_trip(&p, &PatternLimits::default());
            }
        }
        let p = ok("[EXISTS x:v.w]");
        let c = only(&p);
        assert_eq!((c.operator, c.value.clone()), (Operator::Exists, None));
        assert_eq!(c.path, vec![key("v"), key("w")]);
        assert_eq!(p.to_string(), "[EXISTS x:v.w]");
        err("[NOT EXISTS x:v]");
        err("[x:v NOT EXISTS]");
        err("[x:v NOT NOT = 1]");
        err("[x:v = = 1]");
        err("[x:v =? 1]");
        err("[x:v ~ 1]");
    }

    #[test]
    fn operand_types_follow_the_grammar() {
        ok("[x:v = true]");
        ok("[x:v != false]");
        ok("[x:v IN (true, 'a', 1, 2.5, t'2016-06-01T01:30:00Z', h'ff', b'AAAA')]");
        ok("[x:v < 'b']");
        ok("[x:v > t'2016-06-01T01:30:00Z']");
        ok("[x:v >= h'00ff']");
        assert!(err("[x:v < true]").message.contains("boolean"));
        err("[x:v >= false]");
        err("[x:v LIKE 1]");
        err("[x:v MATCHES t'2016-06-01T01:30:00Z']");
        err("[x:v ISSUBSET h'ff']");
        err("[x:v ISSUPERSET ('a')]");
        err("[x:v IN 'a']");
        err("[x:v IN ((1))]");
        err("[x:v = (1, 2)]");
        err("[x:v = y:w]");
    }

    // --- literals ----------------------------------------------------------------------------

    #[test]
    fn string_literals_allow_only_two_escapes() {
        assert_eq!(
            value(r"[x:v = 'it\'s a \\ backslash']"),
            s(r"it's a \ backslash")
        );
        assert_eq!(value("[x:v = '']"), s(""));
        assert_eq!(value("[x:v = 'héllo €𝄞 \"q\" \n']"), s("héllo €𝄞 \"q\" \n"));
        let e = err(r"[x:v = 'a\nb']");
        assert_eq!(e.offset, 9);
        assert!(e.message.contains("only \\' and \\\\"), "{e}");
        err(r"[x:v = 'a\x']");
        let e = err("[x:v = 'open]");
        assert_eq!(
            (e.offset, e.message.as_str()),
            (7, "unterminated string literal")
        );
        err(r"[x:v = 'a\']");
        err(r"[x:v = 'a\");
    }

    #[test]
    fn numbers() {
        assert_eq!(value("[x:v = 42]"), Literal::Integer(n("42")));
        assert_eq!(value("[x:v = -42]"), Literal::Integer(n("-42")));
        assert_eq!(value("[x:v = +7]"), Literal::Integer(n("+7")));
        assert_eq!(value("[x:v = 0]"), Literal::Integer(n("0")));
        assert_eq!(value("[x:v = 3.25]"), Literal::Float(n("3.25")));
        assert_eq!(value("[x:v = -.5]"), Literal::Float(n("-.5")));
        assert_eq!(value("[x:v = 007.5]"), Literal::Float(n("007.5")));
        // The grammar puts no bound on integers.
        let huge = value("[x:v = 123456789012345678901234567890]");
        assert_eq!(huge, Literal::Integer(n("123456789012345678901234567890")));
        let Literal::Integer(h) = huge else { panic!() };
        assert_eq!(h.as_i64(), None);
        assert!(h.as_f64().is_some_and(|f| f > 1e29));
        assert_eq!(n("-.5").as_f64(), Some(-0.5));
        // A leading zero is a number of its own: `007` is three numbers.
        err("[x:v = 007]");
        err("[x:v = 1.]");
        err("[x:v = 1e5]");
        err("[x:v = - 1]");
        err("[x:v = +]");
    }

    #[test]
    fn booleans_are_lower_case() {
        assert_eq!(value("[x:v = true]"), Literal::Bool(true));
        assert_eq!(value("[x:v = false]"), Literal::Bool(false));
        let e = err("[x:v = TRUE]");
        assert!(e.message.contains("case-sensitive"), "{e}");
        err("[x:v = True]");
    }

    #[test]
    fn timestamps_have_the_grammar_form() {
        assert_eq!(
            value("[x:v = t'2016-01-01T00:00:00Z']"),
            Literal::Timestamp("2016-01-01T00:00:00Z".to_owned())
        );
        for good in [
            "2024-12-31T23:59:59Z",
            "2024-01-15T12:30:45.123456Z",
            "2016-12-31T23:59:60Z",
            "2024-02-30T12:00:00Z",
            "0000-01-01T00:00:00.0Z",
        ] {
            ok(&format!("[x:v = t'{good}']"));
        }
        for bad in [
            "2024-13-01T12:00:00Z",
            "2024-00-01T12:00:00Z",
            "2024-01-32T12:00:00Z",
            "2024-01-00T12:00:00Z",
            "2024-01-15T24:00:00Z",
            "2024-01-15T12:60:00Z",
            "2024-01-15T12:30:61Z",
            "2024-01-15T12:30:45",
            "2024-01-15T12:30:45.Z",
            "2024-01-15t12:30:45Z",
            "2024-01-15T12:30:45z",
            "2024-01-15T12:30:45+00:00",
            "2024-01-15 12:30:45Z",
            "24-01-15T12:30:45Z",
            "2024-1-15T12:30:45Z",
            "",
        ] {
            let e = err(&format!("[x:v = t'{bad}']"));
            assert!(e.message.contains("timestamp"), "{bad}: {e}");
        }
        let e = err("[x:v = t'2024-01-15T12:30:61Z']");
        assert_eq!(e.offset, 26);
        assert!(e.message.contains("second"), "{e}");
        // Unterminated.
        err("[x:v = t'2024-01-15T12:30:45Z");
    }

    #[test]
    fn binary_and_hex_literals() {
        assert_eq!(
            value("[artifact:payload_bin = b'dGhpcyBpcyBhIHRlc3Q=']"),
            Literal::Binary(b"this is a test".to_vec())
        );
        assert_eq!(value("[x:v = b'AAAA']"), Literal::Binary(vec![0, 0, 0]));
        assert_eq!(value("[x:v = b'/w==']"), Literal::Binary(vec![0xff]));
        assert_eq!(
            value("[x:v = b'+/+/']"),
            Literal::Binary(vec![0xfb, 0xff, 0xbf])
        );
        for bad in [
            "", "====", "A===", "AAA", "AA=A", "AAAA=", "AA==AAAA", "AA A", "AAA-",
        ] {
            let e = err(&format!("[x:v = b'{bad}']"));
            assert!(e.message.contains("binary"), "{bad}: {e}");
        }
        assert_eq!(value("[x:v = h'ffd8']"), Literal::Hex(vec![0xff, 0xd8]));
        assert_eq!(
            value("[x:v = h'ABcd09']"),
            Literal::Hex(vec![0xab, 0xcd, 0x09])
        );
        assert_eq!(value("[x:v = h'']"), Literal::Hex(vec![]));
        for bad in ["f", "fff", "fg", "f f"] {
            let e = err(&format!("[x:v = h'{bad}']"));
            assert!(e.message.contains("hex"), "{bad}: {e}");
        }
        let p = ok("[x:v = b'dGhpcyBpcyBhIHRlc3Q=' AND x:w = h'00ff' AND x:u = b'QQ==']");
        assert_round_trip(&p, &PatternLimits::default());
    }

    #[test]
    fn set_literals() {
        assert_eq!(
            value("[file:name IN ('test.txt', 'test2.exe', 'README')]"),
            Literal::Set(vec![s("test.txt"), s("test2.exe"), s("README")])
        );
        assert_eq!(
            value("[network-traffic:dst_port IN(443,6443,8443)]"),
            Literal::Set(vec![
                Literal::Integer(n("443")),
                Literal::Integer(n("6443")),
                Literal::Integer(n("8443"))
            ])
        );
        assert_eq!(value("[x:v IN ()]"), Literal::Set(vec![]));
        assert_eq!(
            value("[x:v NOT IN (1, 'a', true)]"),
            Literal::Set(vec![Literal::Integer(n("1")), s("a"), Literal::Bool(true)])
        );
        err("[x:v IN (1,)]");
        err("[x:v IN (,1)]");
        err("[x:v IN (1 2)]");
        err("[x:v IN (1]");
        err("[x:v IN ]");
    }

    // --- the lexer ---------------------------------------------------------------------------

    #[test]
    fn keywords_are_case_sensitive() {
        let e = err("[foo:bar=1] within 2 seconds");
        assert_eq!(e.offset, 12);
        assert!(e.message.contains("'within'"), "{e}");
        err("[a:v=1] and [b:v=2]");
        err("[a:v=1 or b:v=2]");
        err("[a:v=1] followedby [b:v=2]");
        err("[a:v like 'x']");
        err("[exists a:v]");
        ok("[a:AND_x=1]");
        ok("[ANDx:v=1]");
    }

    #[test]
    fn blanks_and_comments() {
        ok("[a:v=1]AND[b:v=2]");
        ok("\t[ a:v\n=\r1 ]\u{3000}AND\u{a0}[b:v=2]\u{2028}");
        ok("[a:v = 1 /* a comment, with ] and ' inside */ AND b:v = 2] // trailing");
        ok("[a:v = 1] // one\n AND [b:v = 2]");
        assert!(err("[a:v = 1 /* open").message.contains("comment"));
        err("[a:v = 1] /");
        // The validator's bracket check: nothing but blanks and '(' before the first '['.
        ok("  ( ([a:v = 1]) )");
        let e = err("/* first */ [a:v = 1]");
        assert_eq!(e.offset, 0);
        err("// first\n[a:v = 1]");
        err("( /* c */ [a:v = 1])");
        // A blank the grammar skips but Python's isspace does not know is not an issue: the
        // grammar refuses it first.
        err("\u{1c}[a:v = 1]");
    }

    #[test]
    fn unexpected_characters_are_reported_where_they_are() {
        let e = err("[a:v = 1] é");
        assert_eq!(
            (e.offset, e.message.as_str()),
            (10, "unexpected character 'é'")
        );
        let e = err("[a:v = 'é' AND b:v = 1 € 2]");
        assert_eq!(e.offset, 24);
        let e = err("[a:v = 1]\0");
        assert_eq!(e.offset, 9);
        err("[a:v = 1] ^");
        err("[a:v = \"x\"]");
        err("[a:v = `x`]");
        err("[a:v = 1] ;");
    }

    // --- the validator's hash check ----------------------------------------------------------

    #[test]
    fn hash_values_must_match_their_algorithm() {
        let md5 = "cead3f77f6cda6ec00f57d76c9a6879f";
        let sha256 = "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f";
        ok(&format!("[file:hashes.MD5 = '{md5}']"));
        ok(&format!("[file:hashes.md5 = '{md5}']"));
        ok(&format!("[file:hashes.'SHA-256' = '{sha256}']"));
        ok(&format!(
            "[file:hashes.'sha-256' = '{}']",
            sha256.to_uppercase()
        ));
        ok(&format!("[file:hashes.SHA256 != '{sha256}']"));
        let e = err("[file:hashes.'SHA-256' = 'f00']");
        assert_eq!(e.offset, 25);
        assert!(
            e.message.contains("'f00' is not a valid SHA-256 hash"),
            "{e}"
        );
        err(&format!("[file:hashes.MD5 = '{sha256}']"));
        err(&format!("[file:hashes.MD5 = '{md5}0']"));
        err("[file:hashes.'SHA-1' = 'zz']");
        err("[file:hashes.MD5 LIKE 'cead%']");
        ok(&format!("[file:hashes.MD5 NOT = '{md5}' OR file:size = 1]"));
        err("[file:size = 1 OR file:hashes.MD5 NOT = 'cead3f77']");
        // Only known algorithms, only under `hashes`, only when the path ends in the name.
        ok("[file:hashes.'x-custom' = 'anything']");
        ok("[file:hashes[*] = 'anything']");
        ok("[file:checksums.MD5 = 'anything']");
        ok("[file:hashes.MD5.x = 'anything']");
        ok("[EXISTS file:hashes.MD5]");
        ok(&format!("[x:a[0].hashes.MD5 = '{md5}']"));
        err("[x:a[0].hashes.MD5 = 'f00']");
        // SSDEEP has its own alphabet.
        ok("[file:hashes.SSDEEP = '3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C']");
        err("[file:hashes.SSDEEP = 'has spaces']");
        err("[file:hashes.SSDEEP = '']");
        // The validator's MD6 expression accepts anything that begins with 32 hex digits.
        ok(&format!("[file:hashes.MD6 = '{md5}-and-more']"));
        err("[file:hashes.MD6 = 'f00']");
        // The check reads the literal's text: a set never has a hash's form.
        err(&format!("[file:hashes.MD5 IN ('{md5}')]"));
        // And a number is checked as its digits.
        ok("[file:hashes.MD5 = 12345678901234567890123456789012]");
    }

    // --- errors ------------------------------------------------------------------------------

    #[test]
    fn errors_carry_an_offset_and_a_precise_message() {
        let e = err("[file:size = ]");
        assert_eq!(e.offset, 13);
        assert_eq!(e.message, "expected a literal value after '=', found ']'");
        assert_eq!(
            e.to_string(),
            "invalid pattern at byte 13: expected a literal value after '=', found ']'"
        );
        let e = err("file:size = 1280");
        assert_eq!(
            (e.offset, e.message.as_str()),
            (0, "expected '[' or '(', found 'file'")
        );
        let e = err("");
        assert_eq!(
            e.message,
            "expected '[' or '(', found the end of the pattern"
        );
        let e = err("[a:v = 1");
        assert_eq!(
            (e.offset, e.message.as_str()),
            (8, "expected AND, OR or ']', found the end of the pattern")
        );
        let e = err("([a:v = 1]");
        assert_eq!(e.offset, 10);
        assert!(
            e.message
                .starts_with("expected AND, OR, FOLLOWEDBY, a qualifier or ')'")
        );
        let e = err("[a:v = 1]]");
        assert_eq!(e.offset, 9);
        let e = err("[a:v = 1] AND");
        assert_eq!(e.offset, 13);
        // Long tokens are shortened in messages.
        let e = err(&format!("[a:v = 1] {}", "x".repeat(1000)));
        assert!(e.message.len() < 200, "{e}");
    }

    // --- limits ------------------------------------------------------------------------------

    #[test]
    fn length_is_checked_first() {
        let text = "[a:v = 1]";
        let limits = PatternLimits {
            max_len: text.len(),
            ..PatternLimits::default()
        };
        assert!(parse(text, &limits).is_ok());
        let limits = PatternLimits {
            max_len: text.len() - 1,
            ..PatternLimits::default()
        };
        let e = parse(text, &limits).unwrap_err();
        assert_eq!(e.offset, text.len() - 1);
        assert!(e.message.contains("over the limit of 8 bytes"), "{e}");
        // Over-long garbage is refused for its length, not parsed.
        let e = parse(&"\u{1F600}".repeat(5000), &PatternLimits::default()).unwrap_err();
        assert!(e.message.contains("20000 bytes"), "{e}");
        // The limit may fall inside a multi-byte character.
        let e = parse(
            "[a:v = 'é']",
            &PatternLimits {
                max_len: 9,
                ..PatternLimits::default()
            },
        );
        assert!(e.is_err());
    }

    #[test]
    fn depth_is_limited() {
        let nest = |d: usize| format!("{}[a:v=1]{}", "(".repeat(d - 1), ")".repeat(d - 1));
        let limits = PatternLimits::default();
        assert!(parse(&nest(32), &limits).is_ok());
        let e = parse(&nest(33), &limits).unwrap_err();
        assert_eq!(e.offset, 32);
        assert_eq!(
            e.message,
            "brackets and parentheses are nested more than 32 deep"
        );

        // Parentheses inside brackets count as well.
        let inner = |d: usize| format!("[{}a:v=1{}]", "(".repeat(d - 1), ")".repeat(d - 1));
        assert!(parse(&inner(32), &limits).is_ok());
        assert!(parse(&inner(33), &limits).is_err());
        let mixed = format!(
            "{}[{}a:v=1{}]{}",
            "(".repeat(15),
            "(".repeat(16),
            ")".repeat(16),
            ")".repeat(15)
        );
        assert!(parse(&mixed, &limits).is_ok());

        // Index steps and set literals do not nest.
        assert!(
            parse(
                "[a:v[0][1][*] IN (1, 2)]",
                &PatternLimits {
                    max_depth: 1,
                    ..limits
                }
            )
            .is_ok()
        );
        let small = PatternLimits {
            max_depth: 2,
            ..limits
        };
        assert!(parse("([a:v=1])", &small).is_ok());
        assert!(parse("[(a:v=1)]", &small).is_ok());
        assert!(parse("(([a:v=1]))", &small).is_err());
        assert!(
            parse(
                "[a:v=1]",
                &PatternLimits {
                    max_depth: 0,
                    ..limits
                }
            )
            .is_err()
        );
    }

    #[test]
    fn depth_is_capped_at_the_ceiling() {
        let limits = big(usize::MAX, usize::MAX);
        let d = MAX_DEPTH_CEILING;
        let at = format!("{}[a:v=1]{}", "(".repeat(d - 1), ")".repeat(d - 1));
        assert!(parse(&at, &limits).is_ok());
        let over = format!("({at})");
        let e = parse(&over, &limits).unwrap_err();
        assert!(e.message.contains(&format!("more than {d} deep")), "{e}");
    }

    #[test]
    fn comparisons_are_limited() {
        let chain = |n: usize| {
            let parts: Vec<_> = (0..n).map(|i| format!("a:v = {i}")).collect();
            format!("[{}]", parts.join(" OR "))
        };
        let limits = PatternLimits::default();
        assert!(parse(&chain(512), &limits).is_ok());
        let e = parse(&chain(513), &limits).unwrap_err();
        assert_eq!(e.message, "more than 512 comparisons");
        // Across observations, and EXISTS counts.
        let limits = PatternLimits {
            max_comparisons: 3,
            ..limits
        };
        assert!(parse("[a:v=1] AND [EXISTS b:v] FOLLOWEDBY [c:v=1]", &limits).is_ok());
        let text = "[a:v=1] AND [EXISTS b:v] FOLLOWEDBY [c:v=1 AND EXISTS d:v]";
        let e = parse(text, &limits).unwrap_err();
        assert_eq!(e.offset, text.find("EXISTS d:v").unwrap());
    }

    #[test]
    fn a_hundred_thousand_openers_fail_fast_on_a_small_stack() {
        on_small_stack(|| {
            for opener in ["(", "[", "[(", "(["] {
                let text = opener.repeat(100_000);
                let started = std::time::Instant::now();
                let e = parse(&text, &big(32, 512)).unwrap_err();
                assert!(started.elapsed() < std::time::Duration::from_secs(2));
                assert!(e.offset < 100, "{opener}: {e}");
                // Even when the configured limit is absurd.
                let e = parse(&text, &big(usize::MAX, usize::MAX)).unwrap_err();
                assert!(e.offset <= 2 * MAX_DEPTH_CEILING, "{opener}: {e}");
            }
        });
    }

    #[test]
    fn the_deepest_accepted_patterns_fit_a_small_stack() {
        on_small_stack(|| {
            let limits = big(usize::MAX, usize::MAX);
            let d = MAX_DEPTH_CEILING;
            let texts = [
                format!("{}[a:v=1]{}", "(".repeat(d - 1), ")".repeat(d - 1)),
                format!("[{}a:v=1{}]", "(".repeat(d - 1), ")".repeat(d - 1)),
                format!(
                    "{}[{}a:v=1{}] WITHIN 1 SECONDS{}",
                    "(".repeat(d / 2),
                    "(".repeat(d / 2 - 1),
                    ")".repeat(d / 2 - 1),
                    ") REPEATS 2 TIMES".repeat(d / 2)
                ),
            ];
            for text in texts {
                let p = parse(&text, &limits).unwrap();
                assert_eq!(p.comparisons().count(), 1);
                let shown = p.to_string();
                assert!(parse(&shown, &limits).is_ok(), "{shown}");
                let copy = p.clone();
                assert_eq!(copy, p);
                drop(copy);
            }
        });
    }

    #[test]
    fn the_deepest_accepted_regexes_fit_a_small_stack() {
        on_small_stack(|| {
            let n = super::super::matches::NEST_LIMIT as usize;
            // Groups and classes as deep as the regex parser allows (each level counts once).
            let groups = format!("{}a{}", "(".repeat(n), ")".repeat(n));
            let classes = format!("{}a{}", "[".repeat(n), "]".repeat(n));
            for (re, accepted) in [(groups.as_str(), true), (classes.as_str(), true)] {
                let text = format!("[a:v MATCHES '{re}']");
                assert_eq!(
                    parse(&text, &PatternLimits::default()).is_ok(),
                    accepted,
                    "{re}"
                );
            }
            // And far deeper, refused before anything recurses.
            let deeper = format!("[a:v MATCHES '{}a{}']", "(".repeat(5000), ")".repeat(5000));
            assert!(parse(&deeper, &PatternLimits::default()).is_err());
        });
    }

    #[test]
    fn long_chains_are_parsed_without_recursion() {
        on_small_stack(|| {
            let n = 20_000;
            let limits = big(32, usize::MAX);
            for joiner in [" AND ", " OR ", " FOLLOWEDBY "] {
                let text = vec!["[a:v = 1]"; n].join(joiner);
                let p = parse(&text, &limits).unwrap();
                assert_eq!(p.observation_count(), n);
                assert_eq!(p.comparisons().count(), n);
                assert_round_trip(&p, &limits);
            }
            for joiner in [" AND ", " OR "] {
                let text = format!("[{}]", vec!["a:v = 1"; n].join(joiner));
                let p = parse(&text, &limits).unwrap();
                assert_eq!(p.comparison_count(), n);
            }
            let text = format!("([a:v = 1]){}", " WITHIN 1 SECONDS".repeat(n));
            let p = parse(&text, &limits).unwrap();
            assert_eq!(p.root().qualifiers.len(), n);
            let text = format!("[a:v{} = 1]", ".w[0]".repeat(n));
            let p = parse(&text, &limits).unwrap();
            assert_eq!(only(&p).path.len(), 2 * n + 1);
            let text = format!("[a:v IN ({})]", vec!["1"; n].join(", "));
            assert!(parse(&text, &limits).is_ok());
            // And the default comparison limit stops a long chain early.
            let text = vec!["[a:v = 1]"; n].join(" AND ");
            let e = parse(
                &text,
                &PatternLimits {
                    max_len: usize::MAX,
                    ..PatternLimits::default()
                },
            )
            .unwrap_err();
            assert_eq!(e.message, "more than 512 comparisons");
        });
    }

    // --- no panics ---------------------------------------------------------------------------

    /// xorshift64*: deterministic, no crate needed.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    const FRAGMENTS: &[&str] = &[
        "[",
        "]",
        "(",
        ")",
        " ",
        "\t",
        "\n",
        ":",
        ".",
        ",",
        "*",
        "'",
        "\\",
        "\\'",
        "\\\\",
        "=",
        "==",
        "!=",
        "<>",
        "<",
        "<=",
        ">",
        ">=",
        "!",
        "+",
        "-",
        "/",
        "//",
        "/*",
        "*/",
        "AND",
        "OR",
        "NOT",
        "FOLLOWEDBY",
        "IN",
        "LIKE",
        "MATCHES",
        "ISSUBSET",
        "ISSUPERSET",
        "EXISTS",
        "WITHIN",
        "SECONDS",
        "REPEATS",
        "TIMES",
        "START",
        "STOP",
        "LAST",
        "true",
        "false",
        "file",
        "ipv4-addr",
        "x-custom",
        "hashes",
        "MD5",
        "'SHA-256'",
        "value",
        "0",
        "7",
        "42",
        "-3",
        "1.5",
        ".5",
        "00",
        "'abc'",
        "'é€𝄞'",
        "t'2016-01-01T00:00:00Z'",
        "t'",
        "b'AAAA'",
        "b'",
        "h'ff'",
        "h'",
        "é",
        "€",
        "𝄞",
        "\u{3000}",
        "\u{2028}",
        "\u{a0}",
        "\u{85}",
        "\u{0}",
        "\u{7f}",
        "\u{feff}",
        "\u{fffd}",
    ];

    #[test]
    fn no_panic_on_pseudo_random_input() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let limits = PatternLimits::default();
        let mut accepted = 0;
        for round in 0..600 {
            let text = match round % 3 {
                // Raw bytes, made into text the lossy way (so with U+FFFD).
                0 => {
                    let len = rng.below(64);
                    let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
                    String::from_utf8_lossy(&bytes).into_owned()
                }
                // Token soup.
                1 => (0..rng.below(40))
                    .map(|_| FRAGMENTS[rng.below(FRAGMENTS.len())])
                    .collect(),
                // A valid pattern, cut or with one byte-range replaced.
                _ => {
                    let base = "([file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f' \
                                OR x-a:b[*].c NOT IN (1, 'é', t'2016-01-01T00:00:00Z')] AND [EXISTS y:z]) \
                                REPEATS 2 TIMES FOLLOWEDBY [u:v MATCHES '^\\\\d+$'] WITHIN 5.5 SECONDS";
                    let mut t = base.to_owned();
                    let at = rng.below(t.len());
                    let at = (0..=at).rev().find(|&i| t.is_char_boundary(i)).unwrap();
                    if rng.below(2) == 0 {
                        t.truncate(at);
                    } else {
                        t.insert_str(at, FRAGMENTS[rng.below(FRAGMENTS.len())]);
                    }
                    t
                }
            };
            match parse(&text, &limits) {
                Ok(p) => {
                    accepted += 1;
                    assert_round_trip(&p, &limits);
                }
                Err(e) => {
                    assert!(e.offset <= text.len(), "{text:?}: {e}");
                    assert!(!e.message.is_empty());
                }
            }
        }
        // The generator does reach valid patterns too.
        assert!(accepted > 10, "{accepted}");
    }
}
