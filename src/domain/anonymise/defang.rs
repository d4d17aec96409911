//! Refanging: threat-intelligence text writes `victim[.]re`, `jdoe[@]victim.re` and
//! `hxxps://` so that no one clicks, and regular expressions write `victim\.re`. A victim's
//! value written that way is still the victim's value, so the detectors also read a refanged
//! copy, whose offsets map back to the original.

/// Replacements, compared case-insensitively (all ASCII). Longest first where one is the
/// prefix of another.
const REFANG: &[(&str, &str)] = &[
    ("[://]", "://"),
    ("[.]", "."),
    ("(.)", "."),
    ("{.}", "."),
    ("[dot]", "."),
    ("(dot)", "."),
    ("{dot}", "."),
    ("[@]", "@"),
    ("(@)", "@"),
    ("{@}", "@"),
    ("[at]", "@"),
    ("(at)", "@"),
    ("{at}", "@"),
    ("[:]", ":"),
    ("\\.", "."),
    ("hxxp", "http"),
    ("fxp", "ftp"),
];

/// A refanged copy of a text.
#[derive(Debug)]
pub(super) struct Refanged {
    pub(super) text: String,
    /// `map[i]` is the offset in the original of the byte `i` of `text` (for `i` on a
    /// character boundary), and `map[text.len()]` is the original's length.
    map: Vec<usize>,
}

impl Refanged {
    /// The original byte range of the range `start..end` of the refanged text.
    pub(super) fn original(&self, start: usize, end: usize) -> (usize, usize) {
        let at = |i: usize| self.map.get(i).copied().unwrap_or(0);
        (at(start), at(end))
    }
}

/// The refanged copy of `text`, or `None` when nothing in it is defanged.
pub(super) fn refang(text: &str) -> Option<Refanged> {
    let bytes = text.as_bytes();
    let found = |i: usize| {
        // Every pattern begins with one of these: most bytes are ruled out at once.
        if !bytes.get(i).is_some_and(|b| b"[({\\hHfF".contains(b)) {
            return None;
        }
        REFANG.iter().find(|(from, _)| {
            bytes
                .get(i..i + from.len())
                .is_some_and(|b| b.eq_ignore_ascii_case(from.as_bytes()))
        })
    };
    if !(0..bytes.len()).any(|i| found(i).is_some()) {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut map = Vec::with_capacity(text.len() + 1);
    let mut i = 0;
    while i < bytes.len() {
        if let Some((from, to)) = found(i) {
            // hxxp → http maps byte for byte; a shorter replacement maps to where it began.
            let same_length = from.len() == to.len();
            for j in 0..to.len() {
                map.push(if same_length { i + j } else { i });
            }
            out.push_str(to);
            i += from.len();
            continue;
        }
        // Copy one whole character (the patterns are ASCII, so they never match inside one).
        let Some(c) = text.get(i..).and_then(|t| t.chars().next()) else {
            break;
        };
        for _ in 0..c.len_utf8() {
            map.push(i);
        }
        out.push(c);
        i += c.len_utf8();
    }
    map.push(text.len());
    Some(Refanged { text: out, map })
}

/// A regular expression with its escapes of punctuation removed (`\\` → `\`, `\.` → `.`),
/// so that `^C:\\Users\\j\.doe\\` reads as the path it matches; `None` when there is no
/// such escape. Letter escapes (`\d`, `\w`) stay as they are.
pub(super) fn unescape_regex(text: &str) -> Option<Refanged> {
    let escaped = |i: usize| {
        text.as_bytes().get(i) == Some(&b'\\')
            && text
                .as_bytes()
                .get(i + 1)
                .is_some_and(|b| b.is_ascii_punctuation())
    };
    if !(0..text.len()).any(escaped) {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut map = Vec::with_capacity(text.len() + 1);
    let mut i = 0;
    while let Some(c) = text.get(i..).and_then(|t| t.chars().next()) {
        if escaped(i) {
            // The escape and the character it escapes map to the backslash.
            map.push(i);
            out.push(char::from(
                text.as_bytes().get(i + 1).copied().unwrap_or(b'\\'),
            ));
            i += 2;
            continue;
        }
        for _ in 0..c.len_utf8() {
            map.push(i);
        }
        out.push(c);
        i += c.len_utf8();
    }
    map.push(text.len());
    Some(Refanged { text: out, map })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refangs_and_maps_back() {
        let text = "mail from jdoe[@]victim[.]re via hXXps://évil(.)example";
        let r = refang(text).unwrap();
        assert_eq!(r.text, "mail from jdoe@victim.re via https://évil.example");
        let s = r.text.find("victim.re").unwrap();
        let (a, b) = r.original(s, s + "victim.re".len());
        assert_eq!(&text[a..b], "victim[.]re");
        let s = r.text.find("jdoe@victim").unwrap();
        let (a, b) = r.original(s, s + "jdoe@victim".len());
        assert_eq!(&text[a..b], "jdoe[@]victim");
        let s = r.text.find("évil.example").unwrap();
        let (a, b) = r.original(s, r.text.len());
        assert_eq!(&text[a..b], "évil(.)example");
        assert!(refang("nothing to see at victim.re").is_none());
        let text = "hxxps://x";
        let r = refang(text).unwrap();
        assert_eq!(r.original(1, 5), (1, 5));
        let r = refang("^.*\\.victim\\.re$").unwrap();
        assert_eq!(r.text, "^.*.victim.re$");
    }

    #[test]
    fn regex_escapes_of_punctuation_are_removed() {
        let text = "^C:\\\\Users\\\\j\\.doe\\\\\\d+\\.é$";
        let r = unescape_regex(text).unwrap();
        assert_eq!(r.text, "^C:\\Users\\j.doe\\\\d+.é$");
        let s = r.text.find("j.doe").unwrap();
        let (a, b) = r.original(s, s + "j.doe".len());
        assert_eq!(&text[a..b], "j\\.doe");
        assert!(unescape_regex("^\\d+$").is_none());
        assert!(unescape_regex("trailing\\").is_none());
    }
}
