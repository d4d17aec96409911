//! User names in file paths, and Windows security identifiers.

use super::Finding;
use crate::domain::anonymise::fold::{char_before, fold};
use crate::domain::anonymise::policy::{AnonymisationPolicy, FindingKind};

fn is_sep(b: u8) -> bool {
    b == b'\\' || b == b'/'
}

/// The folders whose child is a user's home: (name, Windows-style, only after `/`).
const HOMES: &[(&str, bool, bool)] = &[
    ("users", true, false),
    ("documents and settings", true, false),
    ("home", false, true),
];

/// Characters Windows forbids in user names (and `'`, which ends a quoted path).
fn ends_windows_name(c: char) -> bool {
    c.is_control() || "\\/\"[]:;|=,+*?<>'".contains(c)
}

fn ends_unix_name(c: char) -> bool {
    !(c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@' | '$'))
}

/// A name that stands for any user rather than one: `%USERNAME%`, `$USER`, `<user>`,
/// `{user}`, `*`, or a regular expression (`[^\\]+`, `.*`).
fn is_placeholder(name: &str) -> bool {
    name.starts_with(['%', '$', '<', '{', '~', '*', '.'])
        || name.contains([
            '%', '<', '>', '{', '}', '*', '?', '[', ']', '^', '(', ')', '|', '+',
        ])
}

fn ends_token(c: char) -> bool {
    c.is_whitespace() || c == '"' || c == '\''
}

/// The byte ranges of the blank-delimited tokens that are web URLs (`https://host/users/NAME`
/// is a web account, not a home folder; a `file:` URL is a path), sorted and disjoint.
fn web_url_tokens(text: &str) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (sep, _) in text.match_indices("://") {
        if out.last().is_some_and(|&(_, end)| sep < end) {
            continue;
        }
        let head = text.get(..sep).unwrap_or("");
        let start = head.rfind(ends_token).map_or(0, |i| i + 1);
        let tail = text.get(sep..).unwrap_or("");
        let end = sep + tail.find(ends_token).unwrap_or(tail.len());
        let scheme = head.get(start..).unwrap_or("").to_ascii_lowercase();
        if !scheme.ends_with("file") {
            out.push((start, end));
        }
    }
    out
}

fn in_ranges(ranges: &[(usize, usize)], at: usize) -> bool {
    let i = ranges.partition_point(|&(_, end)| end <= at);
    ranges.get(i).is_some_and(|&(start, _)| start <= at)
}

/// User names in `C:\Users\NAME\…`, `C:\Documents and Settings\NAME\…`, `/home/NAME/…`,
/// `/Users/NAME/…` (separators `\` or `/`, single or doubled as in regular expressions).
pub(super) fn find_user_names(text: &str, policy: &AnonymisationPolicy, out: &mut Vec<Finding>) {
    let bytes = text.as_bytes();
    let mut web: Option<Vec<(usize, usize)>> = None;
    for &(home, windows, slash_only) in HOMES {
        let len = home.len();
        let mut from = 0;
        while let Some(found) = bytes.get(from..).and_then(|r| {
            r.windows(len)
                .position(|w| w.eq_ignore_ascii_case(home.as_bytes()))
        }) {
            let m = from + found;
            from = m + 1;
            let sep_before = m.checked_sub(1).and_then(|j| bytes.get(j)).copied();
            let sep_ok = match sep_before {
                Some(b'/') => true,
                Some(b'\\') => !slash_only,
                _ => false,
            };
            let mut n = m + len;
            let seps = bytes
                .get(n..)
                .map_or(0, |r| r.iter().take_while(|b| is_sep(**b)).count());
            if !sep_ok || seps == 0 || (slash_only && bytes.get(n) != Some(&b'/')) {
                continue;
            }
            n += seps;
            let rest = text.get(n..).unwrap_or("");
            let name_len = if windows {
                windows_name_len(rest)
            } else {
                rest.find(ends_unix_name).unwrap_or(rest.len())
            };
            let name = rest.get(..name_len).unwrap_or("");
            let name = name.trim_end_matches('.');
            if name.is_empty()
                || is_placeholder(name)
                || policy.is_generic_user_name(&fold(name))
                || in_ranges(web.get_or_insert_with(|| web_url_tokens(text)), m)
            {
                continue;
            }
            out.push(Finding {
                start: n,
                end: n + name.len(),
                kind: FindingKind::PathUserName,
                value: fold(name),
            });
        }
    }
}

/// The length of a Windows user name at the start of `rest`. Windows names may hold spaces
/// (`C:\Users\Jean Dupont\Desktop`): a name with a space is taken whole only when a
/// separator follows it directly; otherwise it ends at the first blank, so that the words
/// after a path ("C:\Users\jdoe or /tmp") are not taken for a name.
fn windows_name_len(rest: &str) -> usize {
    let stop = rest.find(ends_windows_name).unwrap_or(rest.len());
    let segment = rest.get(..stop).unwrap_or("");
    let first_blank = segment.find(char::is_whitespace);
    let followed_by_sep = rest.get(stop..).is_some_and(|r| r.starts_with(['\\', '/']));
    let whole = followed_by_sep && !segment.ends_with(char::is_whitespace);
    match first_blank {
        Some(b) if !whole => b,
        _ => stop,
    }
}

/// SIDs that name an account or a domain of one organisation: domain and machine accounts
/// (`S-1-5-21-a-b-c[-rid]`) and Azure AD accounts (`S-1-12-1-a-b-c-d`). Well-known SIDs
/// (`S-1-5-18`, `S-1-5-32-544`) are the same everywhere and left alone.
pub(super) fn find_sids(text: &str, out: &mut Vec<Finding>) {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(found) = bytes
        .get(from..)
        .and_then(|r| r.windows(4).position(|w| w.eq_ignore_ascii_case(b"s-1-")))
    {
        let s = from + found;
        from = s + 1;
        if char_before(text, s).is_some_and(|c| c.is_alphanumeric() || c == '-') {
            continue;
        }
        let mut numbers = Vec::new();
        let mut i = s + 4;
        let mut end = s + 2;
        loop {
            let digits = bytes
                .get(i..)
                .map_or(0, |r| r.iter().take_while(|b| b.is_ascii_digit()).count());
            if digits == 0 || digits > 10 {
                break;
            }
            numbers.push(text.get(i..i + digits).and_then(|d| d.parse::<u64>().ok()));
            end = i + digits;
            if bytes.get(end) != Some(&b'-') {
                break;
            }
            i = end + 1;
        }
        if bytes.get(end).is_some_and(|b| b.is_ascii_alphanumeric()) {
            continue;
        }
        let identifying = match numbers.as_slice() {
            [Some(5), Some(21), rest @ ..] => rest.len() >= 3,
            [Some(12), Some(1), rest @ ..] => rest.len() >= 4,
            _ => false,
        };
        if identifying && let Some(sid) = text.get(s..end) {
            out.push(Finding {
                start: s,
                end,
                kind: FindingKind::WindowsSid,
                value: sid.to_ascii_uppercase(),
            });
            from = end;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users(text: &str) -> Vec<String> {
        let policy = AnonymisationPolicy::shipped().unwrap();
        let mut out = Vec::new();
        find_user_names(text, &policy, &mut out);
        out.sort_by_key(|f| f.start);
        out.iter()
            .map(|f| text[f.start..f.end].to_owned())
            .collect()
    }

    fn sids(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        find_sids(text, &mut out);
        out.iter()
            .map(|f| text[f.start..f.end].to_owned())
            .collect()
    }

    #[test]
    fn windows_user_names() {
        assert_eq!(users(r"C:\Users\jdoe\AppData\Roaming\evil.exe"), ["jdoe"]);
        assert_eq!(users(r"c:\users\J.Doe"), ["J.Doe"]);
        assert_eq!(users(r"dropped in C:\Users\jdoe."), ["jdoe"]);
        assert_eq!(users(r"C:/Users/jdoe/Desktop"), ["jdoe"]);
        assert_eq!(users(r"\\DC01\C$\Users\svc_backup\x"), ["svc_backup"]);
        assert_eq!(
            users(r"C:\Users\Jean Dupont\Desktop\a.lnk"),
            ["Jean Dupont"]
        );
        assert_eq!(users(r"C:\Users\jdoe or C:\temp"), ["jdoe"]);
        assert_eq!(users(r"C:\Users\jdoe and /tmp/x"), ["jdoe"]);
        assert_eq!(
            users(r"C:\Documents and Settings\jdoe\Local Settings"),
            ["jdoe"]
        );
        assert_eq!(users(r"'C:\Users\jdoe'"), ["jdoe"]);
        // Doubled separators, as a regular expression writes them.
        assert_eq!(users(r"^C:\\Users\\jdoe\\AppData\\.*$"), ["jdoe"]);
        // Nobody's folders and placeholders.
        for generic in [
            r"C:\Users\Public\Documents",
            r"C:\Users\Default\NTUSER.DAT",
            r"C:\Users\All Users\x",
            r"C:\Users\%USERNAME%\AppData",
            r"C:\Users\*\AppData",
            r"C:\Users\<user>\AppData",
            r"^C:\\Users\\[^\\]+\\AppData",
            r"C:\Users\.*",
            r"C:\Users\",
            r"HKEY_USERS\S-1-5-18",
            r"C:\ProgramUsers\x",
        ] {
            assert!(users(generic).is_empty(), "{generic}");
        }
    }

    #[test]
    fn unix_and_mac_user_names() {
        assert_eq!(users("/home/jdoe/.ssh/id_rsa"), ["jdoe"]);
        assert_eq!(users("cat /home/jdoe"), ["jdoe"]);
        assert_eq!(
            users("/var/home/j.doe/x and /home/jdoe@victim.re/"),
            ["j.doe", "jdoe@victim.re"]
        );
        assert_eq!(users("/Users/jdoe/Library/LaunchAgents/x.plist"), ["jdoe"]);
        for generic in [
            "/home/user/x",
            "/home/$USER/x",
            "/Users/Shared/x",
            "/homes/x",
            "C:\\home\\x",
        ] {
            assert!(users(generic).is_empty(), "{generic}");
        }
        // A web account is not a home folder…
        assert!(users("https://github.com/users/attacker and http://x/home/y").is_empty());
        // …but a file URL is.
        assert_eq!(users("file:///home/jdoe/x"), ["jdoe"]);
    }

    #[test]
    fn web_url_tokens_are_found_once() {
        let text = "a https://x/users/y\thttp://a://b file:///home/c 'ftp://d'";
        let tokens: Vec<_> = web_url_tokens(text)
            .into_iter()
            .map(|(s, e)| &text[s..e])
            .collect();
        assert_eq!(tokens, ["https://x/users/y", "http://a://b", "ftp://d"]);
        let ranges = web_url_tokens(text);
        assert!(in_ranges(&ranges, 2) && in_ranges(&ranges, 18));
        assert!(!in_ranges(&ranges, 0) && !in_ranges(&ranges, 19) && !in_ranges(&ranges, 40));
    }

    #[test]
    fn identifying_sids_only() {
        let dom = "S-1-5-21-3623811015-3361044348-30300820";
        assert_eq!(
            sids(&format!("user {dom}-1013 logged")),
            [format!("{dom}-1013")]
        );
        assert_eq!(sids(&format!("domain {dom}.")), [dom]);
        assert_eq!(
            sids(&format!(r"HKU\{dom}-500\Software")),
            [format!("{dom}-500")]
        );
        assert_eq!(sids("s-1-5-21-1-2-3-4"), ["s-1-5-21-1-2-3-4"]);
        assert_eq!(
            sids("S-1-12-1-1234567890-1234567890-1234567890-1234567890"),
            ["S-1-12-1-1234567890-1234567890-1234567890-1234567890"]
        );
        for well_known in [
            "S-1-5-18",
            "S-1-5-32-544",
            "S-1-1-0",
            "S-1-5-21-1-2",
            "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464",
            "XS-1-5-21-1-2-3-4",
            "S-1-5-21-1-2-3-4abc",
        ] {
            assert!(sids(well_known).is_empty(), "{well_known}");
        }
    }
}
