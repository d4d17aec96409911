//! What the OASIS reference validator (`stix2-patterns`) refuses beyond the grammar, reproduced
//! so that relais and the validator agree on every pattern: a value compared with a known hash
//! algorithm must have that algorithm's form, and the pattern must begin with `[` (after any
//! `(`). The third such check, one qualifier of each type on an observation, is the parser's.

use super::ast::PathStep;
use super::error::{PatternError, shown};

/// The reference validator's "missing square brackets" check: skipping blanks and any number
/// of `(`, the first character must be `[`. Returns the offending offset.
pub(super) fn bracket_check(pattern: &str) -> Option<usize> {
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

/// The reference validator's hash check: when the path has a `hashes` step and ends in a
/// known algorithm, the value's text (quotes removed) must have that algorithm's form.
pub(super) fn check_hash_value(
    path: &[PathStep],
    raw: &str,
    offset: usize,
) -> Result<(), PatternError> {
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
