//! The pieces of a STIX pattern that hold data: string literals and comments.
//!
//! The rest of a pattern is syntax (object types, property paths, keywords, numbers,
//! timestamps), so only these pieces are scanned and rewritten, in place: everything else
//! stays byte for byte. The scanner follows the lexer of [`crate::domain::stix::pattern`] and
//! is only used on patterns that parser accepted.
//!
//! A string literal is either a quoted step of a property path (`hashes.'SHA-256'`), which is
//! left alone, or a value; a value compared with a `hashes` path is a hash, also left alone.

/// A data-holding piece of a pattern: its content's byte range (inside the quotes or the
/// comment markers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Piece {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) kind: PieceKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PieceKind {
    /// A string literal compared with a property; `regex` for the operand of MATCHES. Its
    /// content is escaped (`\'`, `\\`).
    Value { regex: bool },
    /// `/* … */` or `// …`.
    Comment,
}

const OPERATOR_WORDS: &[&str] = &[
    "NOT",
    "IN",
    "LIKE",
    "MATCHES",
    "ISSUBSET",
    "ISSUPERSET",
    "AND",
    "OR",
];

/// The data pieces of `pattern`, in order; `None` if the text is not lexed as expected (it
/// should have been parsed first).
pub(super) fn pieces(pattern: &str) -> Option<Vec<Piece>> {
    let bytes = pattern.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    // Between a comparison's `:` and its operator.
    let mut in_path = false;
    // Open `[` of index steps in the current path.
    let mut index_depth = 0usize;
    // The current comparison's path has a `hashes` step.
    let mut hash_path = false;
    // The current comparison's operator is MATCHES.
    let mut regex = false;
    while let Some(&b) = bytes.get(i) {
        let next = bytes.get(i + 1).copied();
        match b {
            b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => i += 1,
            b'/' if next == Some(b'*') => {
                let body = pattern.get(i + 2..)?;
                let len = body.find("*/")?;
                out.push(Piece {
                    start: i + 2,
                    end: i + 2 + len,
                    kind: PieceKind::Comment,
                });
                i += 2 + len + 2;
            }
            b'/' if next == Some(b'/') => {
                let rest = bytes.get(i..)?;
                let len = rest
                    .iter()
                    .position(|&c| c == b'\n' || c == b'\r')
                    .unwrap_or(rest.len());
                out.push(Piece {
                    start: i + 2,
                    end: i + len,
                    kind: PieceKind::Comment,
                });
                i += len;
            }
            0x80.. => {
                // Outside literals and comments, only the grammar's Unicode blanks.
                let c = pattern.get(i..)?.chars().next()?;
                if !c.is_whitespace() {
                    return None;
                }
                i += c.len_utf8();
            }
            b'\'' => {
                let close = string_close(bytes, i)?;
                if in_path {
                    hash_path |= unescape(pattern.get(i + 1..close)?) == "hashes";
                } else if !hash_path {
                    out.push(Piece {
                        start: i + 1,
                        end: close,
                        kind: PieceKind::Value { regex },
                    });
                }
                i = close + 1;
            }
            b't' | b'b' | b'h' if next == Some(b'\'') => {
                // Timestamps, base64 and hex: no quote and no escape inside.
                let body = bytes.get(i + 2..)?;
                i += 2 + body.iter().position(|&c| c == b'\'')? + 1;
            }
            b':' => {
                in_path = true;
                index_depth = 0;
                hash_path = false;
                regex = false;
                i += 1;
            }
            b'[' => {
                if in_path {
                    index_depth += 1;
                }
                i += 1;
            }
            b']' => {
                if in_path {
                    if index_depth > 0 {
                        index_depth -= 1;
                    } else {
                        // The end of an EXISTS observation.
                        in_path = false;
                    }
                }
                i += 1;
            }
            b')' | b'=' | b'!' | b'<' | b'>' => {
                in_path = false;
                i += 1;
            }
            b'(' | b',' | b'*' | b'.' | b'+' | b'-' | b'0'..=b'9' => i += 1,
            _ if b.is_ascii_alphabetic() || b == b'_' => {
                let len = bytes
                    .get(i..)?
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_' || **c == b'-')
                    .count();
                let word = pattern.get(i..i + len)?;
                if in_path {
                    if OPERATOR_WORDS.contains(&word) {
                        in_path = false;
                    } else if word == "hashes" {
                        hash_path = true;
                    }
                }
                if word == "MATCHES" {
                    regex = true;
                }
                i += len;
            }
            _ => return None,
        }
    }
    Some(out)
}

/// The index of the quote closing the string literal opened at `open`.
fn string_close(bytes: &[u8], open: usize) -> Option<usize> {
    let mut i = open + 1;
    loop {
        match bytes.get(i)? {
            b'\\' => i += 2,
            b'\'' => return Some(i),
            _ => i += 1,
        }
    }
}

pub(super) use crate::domain::stix::pattern::unescape_content as unescape;

/// A literal's content for a text: `'` and `\` escaped, so that `escape(unescape(x)) == x`
/// for every valid literal.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if c == '\'' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(p: &str) -> Vec<(String, PieceKind)> {
        pieces(p)
            .unwrap()
            .into_iter()
            .map(|x| (p[x.start..x.end].to_owned(), x.kind))
            .collect()
    }

    fn v(s: &str) -> (String, PieceKind) {
        (s.to_owned(), PieceKind::Value { regex: false })
    }

    #[test]
    fn values_and_comments_but_not_path_steps_or_hashes() {
        let md5 = "cead3f77f6cda6ec00f57d76c9a6879f";
        let p = format!(
            "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f' \
             OR file:hashes.MD5 = '{md5}' OR file:name = 'it\\'s' \
             OR file:extensions.'windows-pebinary-ext'.sections[*].name = '.text'] \
             /* victim */ FOLLOWEDBY [x-a:b[0] IN ('one', 'two')] // end"
        );
        assert_eq!(
            values(&p),
            [
                v("it\\'s"),
                v(".text"),
                (" victim ".into(), PieceKind::Comment),
                v("one"),
                v("two"),
                (" end".into(), PieceKind::Comment),
            ]
        );
    }

    #[test]
    fn matches_operands_are_regexes_and_typed_literals_are_skipped() {
        let p = "[file:name MATCHES '^a\\\\b$' AND file:name NOT MATCHES 'x' AND file:x = 'y'] \
                 START t'2016-01-01T00:00:00Z' STOP t'2016-01-02T00:00:00Z' \
                 AND [EXISTS artifact:payload_bin] AND [artifact:payload_bin = b'AAAA'] \
                 AND [network-traffic:src_ref.value ISSUBSET '10.0.0.0/8']";
        let re = |s: &str| (s.to_owned(), PieceKind::Value { regex: true });
        assert_eq!(
            values(p),
            [re("^a\\\\b$"), re("x"), v("y"), v("10.0.0.0/8")]
        );
    }

    #[test]
    fn escaping_round_trips() {
        for content in ["it\\'s", "C:\\\\Users", "plain", "\\\\\\'"] {
            assert_eq!(escape(&unescape(content)), content);
        }
        assert_eq!(unescape("C:\\\\Users\\\\x"), "C:\\Users\\x");
    }
}
