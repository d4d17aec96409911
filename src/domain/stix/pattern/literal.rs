//! Literal bodies to values: the escapes of `'…'`, the base64 of `b'…'` and the hex of `h'…'`,
//! and the base64 written back. The lexer asks the same decoders whether a body is valid, so
//! a literal the lexer lets through always decodes.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use super::error::PatternError;

/// The grammar's `BinaryLiteral`: the standard alphabet, padded groups of four. It says nothing
/// of the unused low bits of a last, padded group, so `b'AB=='` is valid and those bits are
/// dropped (the crate's default would refuse it).
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical)
        .with_decode_allow_trailing_bits(true),
);

pub(super) fn unescape(quoted: &str) -> String {
    let inner = quoted
        .strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .unwrap_or(quoted);
    unescape_content(inner)
}

/// The text of a string literal's content, between its quotes (`\'` → `'`, `\\` → `\`: the
/// grammar's only two escapes).
pub fn unescape_content(inner: &str) -> String {
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

/// The bytes of the body of `b'…'`, whose first character is at `at`. The grammar wants at
/// least one group; the decoder takes an empty body.
pub(super) fn decode_binary(body: &str, at: usize) -> Result<Vec<u8>, PatternError> {
    match BASE64.decode(body) {
        Ok(bytes) if !body.is_empty() => Ok(bytes),
        _ => Err(PatternError::new(
            at,
            "invalid binary literal: b'…' must hold padded base64, in groups of four \
             characters (at least one)",
        )),
    }
}

/// The body of `b'…'` for `bytes`.
pub(super) fn encode_binary(bytes: &[u8]) -> String {
    BASE64.encode(bytes)
}

/// The bytes of the body of `h'…'`, whose first character is at `at`. The lexer has already
/// refused any character that is not a hex digit, so an error here is an odd count.
pub(super) fn decode_hex(body: &str, at: usize) -> Result<Vec<u8>, PatternError> {
    hex::decode(body).map_err(|_| {
        PatternError::new(
            at,
            "invalid hex literal: h'…' must hold an even number of hex digits",
        )
    })
}
