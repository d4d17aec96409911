//! Matching victim values in text regardless of case, accents and separators, with offsets in
//! the original text.
//!
//! Lower-casing a whole string changes byte lengths (`İ` lower-cases to two characters), so
//! offsets found in a folded copy would not point into the original: instead each character is
//! folded as it is compared.

/// Folds one character: lower case, and the accents of the Latin letters French and its
/// neighbours use removed (a provider may write "Communaute" for "Communauté"); typographic
/// apostrophes become `'`.
pub(super) fn fold_char(c: char, out: &mut Vec<char>) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
        return;
    }
    for l in c.to_lowercase() {
        let base = match l {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => 'a',
            'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => 'c',
            'ď' | 'đ' => 'd',
            'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => 'e',
            'ĝ' | 'ğ' | 'ġ' | 'ģ' => 'g',
            'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => 'i',
            'ñ' | 'ń' | 'ņ' | 'ň' => 'n',
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => 'o',
            'ŕ' | 'ř' => 'r',
            'ś' | 'ŝ' | 'ş' | 'š' => 's',
            'ţ' | 'ť' => 't',
            'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => 'u',
            'ý' | 'ÿ' => 'y',
            'ź' | 'ż' | 'ž' => 'z',
            '\u{2018}' | '\u{2019}' | '\u{02bc}' | '\u{00b4}' => '\'',
            'œ' => {
                out.extend(['o', 'e']);
                continue;
            }
            'æ' => {
                out.extend(['a', 'e']);
                continue;
            }
            'ß' => {
                out.extend(['s', 's']);
                continue;
            }
            // A combining accent left by a decomposed letter (e + U+0301) is dropped.
            '\u{0300}'..='\u{036f}' => continue,
            other => other,
        };
        out.push(base);
    }
}

/// The folded form of a whole string.
pub(super) fn fold(s: &str) -> String {
    let mut buf = Vec::new();
    for c in s.chars() {
        fold_char(c, &mut buf);
    }
    buf.into_iter().collect()
}

/// Characters a `Sep` unit of a needle matches: an organisation written "Bois-Rouge",
/// "Bois Rouge" or "Bois_Rouge" is the same organisation.
fn is_sep(c: char) -> bool {
    c.is_whitespace() || c == '-' || c == '_'
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Char(char),
    /// One or more separator characters.
    Sep,
}

/// A value prepared for matching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Needle {
    units: Vec<Unit>,
}

impl Needle {
    /// Matches the folded characters of `value` exactly.
    pub(super) fn exact(value: &str) -> Self {
        let mut buf = Vec::new();
        for c in value.chars() {
            fold_char(c, &mut buf);
        }
        Self {
            units: buf.into_iter().map(Unit::Char).collect(),
        }
    }

    /// Like [`Needle::exact`], but a run of separators matches any run of separators.
    pub(super) fn flexible(value: &str) -> Self {
        let mut units = Vec::new();
        let mut buf = Vec::new();
        for c in value.trim_matches(is_sep).chars() {
            if is_sep(c) {
                if units.last() != Some(&Unit::Sep) {
                    units.push(Unit::Sep);
                }
                continue;
            }
            buf.clear();
            fold_char(c, &mut buf);
            units.extend(buf.iter().copied().map(Unit::Char));
        }
        Self { units }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.units.is_empty()
    }

    /// Where the needle matches `hay` starting at byte `start` (a character boundary): the
    /// end of the match, on a character boundary.
    fn match_at(&self, hay: &str, start: usize) -> Option<usize> {
        let rest = hay.get(start..)?;
        let mut chars = rest.char_indices().peekable();
        let mut units = self.units.iter().peekable();
        let mut buf = Vec::new();
        while let Some(unit) = units.next() {
            match unit {
                Unit::Sep => {
                    let mut seen = false;
                    while let Some(&(_, c)) = chars.peek() {
                        if !is_sep(c) {
                            break;
                        }
                        seen = true;
                        chars.next();
                    }
                    if !seen {
                        return None;
                    }
                }
                Unit::Char(want) => {
                    // Characters that fold to nothing (combining accents) are skipped.
                    buf.clear();
                    while buf.is_empty() {
                        let (_, c) = chars.next()?;
                        fold_char(c, &mut buf);
                    }
                    // A folded character may stand for several needle units (œ, İ); all of
                    // them must match, and the needle may not end inside it.
                    let mut folded = buf.iter();
                    if folded.next() != Some(want) {
                        return None;
                    }
                    for f in folded {
                        match units.next() {
                            Some(Unit::Char(w)) if w == f => {}
                            _ => return None,
                        }
                    }
                }
            }
        }
        // An accent combining with the last matched letter belongs to the match.
        while let Some(&(_, c)) = chars.peek() {
            buf.clear();
            fold_char(c, &mut buf);
            if !buf.is_empty() {
                break;
            }
            chars.next();
        }
        Some(match chars.peek() {
            Some(&(i, _)) => start + i,
            None => hay.len(),
        })
    }

    /// Every non-overlapping match in `hay` that `accept` agrees to, as byte ranges. `accept`
    /// sees the text and the match, and may move its ends (to take in a sub-domain).
    pub(super) fn find_all(
        &self,
        hay: &str,
        mut accept: impl FnMut(&str, usize, usize) -> Option<(usize, usize)>,
    ) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        if self.units.is_empty() {
            return out;
        }
        let first = match self.units.first() {
            Some(Unit::Char(c)) => Some(*c),
            _ => None,
        };
        let mut from = 0;
        for (i, c) in hay.char_indices() {
            // Most positions fail on their first character: check it without folding.
            let cannot_start = c.is_ascii() && first.is_some_and(|f| c.to_ascii_lowercase() != f);
            if i < from || cannot_start {
                continue;
            }
            if let Some(end) = self.match_at(hay, i)
                && let Some((s, e)) = accept(hay, i, end)
            {
                out.push((s, e));
                from = e.max(i + 1);
            }
        }
        out
    }
}

/// The character before byte `i` of `s`.
pub(super) fn char_before(s: &str, i: usize) -> Option<char> {
    s.get(..i).and_then(|h| h.chars().next_back())
}

/// The character at byte `i` of `s`.
pub(super) fn char_at(s: &str, i: usize) -> Option<char> {
    s.get(i..).and_then(|t| t.chars().next())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(n: &Needle, hay: &str) -> Vec<String> {
        n.find_all(hay, |_, s, e| Some((s, e)))
            .into_iter()
            .map(|(s, e)| hay[s..e].to_owned())
            .collect()
    }

    #[test]
    fn case_and_accents_are_ignored_with_offsets_in_the_original() {
        let n = Needle::exact("Communauté");
        assert_eq!(
            all(&n, "la COMMUNAUTE et la communauté, la CommunautÉ"),
            ["COMMUNAUTE", "communauté", "CommunautÉ"]
        );
        // Decomposed é (e + U+0301).
        assert_eq!(all(&n, "communaute\u{301} x"), ["communaute\u{301}"]);
        // A character that lower-cases to two.
        let n = Needle::exact("i\u{307}stanbul");
        assert_eq!(all(&n, "İSTANBUL"), ["İSTANBUL"]);
        // The needle may not end inside a character's expansion.
        let n = Needle::exact("o");
        assert!(all(&n, "œ").is_empty());
        let n = Needle::exact("oeuvre");
        assert_eq!(all(&n, "Œuvre"), ["Œuvre"]);
        let n = Needle::exact("d'agglo");
        assert_eq!(all(&n, "d\u{2019}Agglo"), ["d\u{2019}Agglo"]);
    }

    #[test]
    fn flexible_separators() {
        let n = Needle::flexible("Sucrerie de  Bois-Rouge");
        assert_eq!(
            all(
                &n,
                "SUCRERIE DE BOIS ROUGE; sucrerie\nde bois_rouge; Sucrerie de BoisRouge"
            ),
            ["SUCRERIE DE BOIS ROUGE", "sucrerie\nde bois_rouge"]
        );
        assert!(Needle::flexible(" - ").is_empty());
        assert!(all(&Needle::flexible(""), "abc").is_empty());
    }

    #[test]
    fn accept_can_refuse_and_widen() {
        let n = Needle::exact("ab");
        let got = n.find_all("abab xab", |h, s, e| {
            (char_before(h, s) != Some('x')).then_some((s.saturating_sub(1), e))
        });
        assert_eq!(got, [(0, 2), (1, 4)]);
    }
}
