//! The lexer: where each token ends and what kind it is, maximal-munch like ANTLR's, with
//! blanks and comments skipped. It also checks each literal's form (strings, `t'…'`, `b'…'`,
//! `h'…'`), so that a malformed literal is refused where it stands, whatever the parser would
//! have expected there.

use super::error::PatternError;
use super::literal::{decode_binary, decode_hex};

/// The grammar's `WS` rule, beyond ASCII.
fn is_grammar_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\x0b' | '\x0c' | '\r' | ' ' | '\u{85}' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kw {
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

pub(super) fn keyword(word: &str) -> Option<Kw> {
    KEYWORDS.iter().find(|(w, _)| *w == word).map(|(_, k)| *k)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tk {
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
pub(super) struct Token {
    pub(super) kind: Tk,
    pub(super) start: usize,
    pub(super) end: usize,
}

pub(super) struct Lexer<'a> {
    pub(super) src: &'a str,
    pub(super) bytes: &'a [u8],
    pub(super) pos: usize,
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
    pub(super) fn new(src: &'a str) -> Self {
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

    pub(super) fn next_token(&mut self) -> Result<Token, PatternError> {
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
        // The characters are base64's: whether they are arranged as padded groups of four is
        // the decoder's to say, so that what is accepted here is exactly what decodes.
        decode_binary(self.src.get(body..i).unwrap_or(""), body)?;
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
            Some(b'\'') => {
                decode_hex(self.src.get(body..i).unwrap_or(""), body)?;
                Ok(i + 1)
            }
            None => Err(PatternError::new(start, "unterminated hex literal")),
            Some(_) => Err(PatternError::new(
                i,
                "invalid hex literal: only hex digits may appear in h'…'",
            )),
        }
    }
}
