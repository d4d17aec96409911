//! URLs and UNC paths to hosts that are not on the Internet.

use super::Finding;
use super::ip::classify_host;
use super::names::{is_internal_domain, is_label_char};
use crate::domain::anonymise::fold::{char_before, fold};
use crate::domain::anonymise::policy::{AnonymisationPolicy, FindingKind};

/// Whether a URL's host (or a UNC server) is reachable only from inside an organisation.
fn is_internal_host(host: &str, policy: &AnonymisationPolicy) -> bool {
    let host = fold(host.trim_end_matches('.'));
    if host.is_empty() {
        return false;
    }
    if host.starts_with('[') || host.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return match classify_host(&host) {
            // Public addresses are the Internet; examples, the host itself and "any address"
            // are nobody's network.
            Some(
                FindingKind::DocumentationIp | FindingKind::LoopbackIp | FindingKind::UnspecifiedIp,
            )
            | None => false,
            Some(_) => true,
        };
    }
    if host == "localhost" || host.ends_with(".localhost") {
        return false;
    }
    // A name without a dot resolves only on the local network (intranet, fileserver).
    !host.contains('.') || is_internal_domain(&host, policy)
}

/// Where a URL or path ends in running text.
fn ends_url(c: char) -> bool {
    c.is_whitespace() || c.is_control() || "\"'<>`".contains(c)
}

/// The end of a URL-like token starting at `start`: up to a blank or a quote, without the
/// punctuation of the sentence around it.
fn token_end(text: &str, start: usize) -> usize {
    let rest = text.get(start..).unwrap_or("");
    let len = rest.find(ends_url).unwrap_or(rest.len());
    let token = rest.get(..len).unwrap_or("");
    start
        + token
            .trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '}'])
            .len()
}

fn push(text: &str, start: usize, end: usize, out: &mut Vec<Finding>) {
    if let Some(span) = text.get(start..end)
        && end > start
    {
        out.push(Finding {
            start,
            end,
            kind: FindingKind::InternalUrl,
            value: fold(span),
        });
    }
}

pub(super) fn find(text: &str, policy: &AnonymisationPolicy, out: &mut Vec<Finding>) {
    find_urls(text, policy, out);
    find_unc(text, policy, out);
}

/// `scheme://[user@]host[:port]/…` whose host is internal.
fn find_urls(text: &str, policy: &AnonymisationPolicy, out: &mut Vec<Finding>) {
    // The end of the token the last URL was in: every `://` of one token ends where it ends,
    // and computing it once keeps "a://a://a://…" linear.
    let mut token: Option<(usize, usize)> = None;
    // A URL inside an internal URL already found is part of its finding.
    let mut covered = 0;
    for (sep, _) in text.match_indices("://") {
        if sep < covered {
            continue;
        }
        let head = text.get(..sep).unwrap_or("");
        let scheme_len = head
            .bytes()
            .rev()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'.' | b'-'))
            .count();
        let scheme = head.get(sep - scheme_len..).unwrap_or("");
        // The scheme begins with a letter: skip whatever came before it.
        let Some(first_letter) = scheme.find(|c: char| c.is_ascii_alphabetic()) else {
            continue;
        };
        let start = sep - scheme_len + first_letter;
        let authority_start = sep + 3;
        let end = match token {
            Some((from, end)) if from <= authority_start && authority_start <= end => end,
            _ => {
                let end = token_end(text, authority_start);
                token = Some((authority_start, end));
                end
            }
        };
        let rest = text.get(authority_start..end).unwrap_or("");
        let authority = rest.split(['/', '?', '#', '\\']).next().unwrap_or("");
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let host = if host_port.starts_with('[') {
            host_port.split_inclusive(']').next().unwrap_or(host_port)
        } else {
            host_port.split(':').next().unwrap_or(host_port)
        };
        // file://C:/… names a drive, not a host.
        let drive = scheme.eq_ignore_ascii_case("file")
            && host.len() == 1
            && host_port.starts_with(|c: char| c.is_ascii_alphabetic())
            && host_port.get(1..2) == Some(":");
        if !drive && is_internal_host(host, policy) {
            push(text, start, end, out);
            covered = end;
        }
    }
}

/// `\\server\share\…` (separators single or doubled) whose server is internal. A UNC path to
/// a public server (`\\185.220.101.4\share`, a credential-stealing lure) is an indicator and
/// stays.
fn find_unc(text: &str, policy: &AnonymisationPolicy, out: &mut Vec<Finding>) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes.get(i) != Some(&b'\\') {
            i += 1;
            continue;
        }
        let run = bytes
            .get(i..)
            .map_or(0, |r| r.iter().take_while(|b| **b == b'\\').count());
        let start = i;
        i += run;
        // Only at the start of a path: `C:\\Users` in a regular expression is not a server.
        let opens = match char_before(text, start) {
            None => true,
            Some(c) => c.is_whitespace() || "\"'([{=,;>^".contains(c),
        };
        if run < 2 || !opens {
            continue;
        }
        let rest = text.get(i..).unwrap_or("");
        let host_len = rest
            .find(|c: char| !(is_label_char(c) || c == '.'))
            .unwrap_or(rest.len());
        let host = rest.get(..host_len).unwrap_or("");
        let then = rest.get(host_len..).unwrap_or("");
        let delimited = then.is_empty() || then.starts_with('\\') || then.starts_with(ends_url);
        if !host.starts_with(char::is_alphanumeric) || !delimited {
            continue;
        }
        if is_internal_host(host, policy) {
            let end = token_end(text, i);
            push(text, start, end, out);
            i = end.max(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(text: &str) -> Vec<String> {
        let policy = AnonymisationPolicy::shipped().unwrap();
        let mut out = Vec::new();
        find(text, &policy, &mut out);
        out.sort_by_key(|f| f.start);
        out.iter()
            .map(|f| text[f.start..f.end].to_owned())
            .collect()
    }

    #[test]
    fn internal_urls() {
        assert_eq!(
            urls("see http://intranet/hr/paie.xlsx, and https://sharepoint.corp.local/sites/x)."),
            [
                "http://intranet/hr/paie.xlsx",
                "https://sharepoint.corp.local/sites/x"
            ]
        );
        assert_eq!(
            urls("(http://10.1.2.3:8080/a.ps1)"),
            ["http://10.1.2.3:8080/a.ps1"]
        );
        assert_eq!(urls("http://[fd00::5]/x"), ["http://[fd00::5]/x"]);
        assert_eq!(
            urls("ldap://admin:pw@DC01:389"),
            ["ldap://admin:pw@DC01:389"]
        );
        assert_eq!(
            urls("smb://nas.home.arpa/backup"),
            ["smb://nas.home.arpa/backup"]
        );
        assert_eq!(urls("1http://intranet/"), ["http://intranet/"]);
    }

    #[test]
    fn internet_urls_stay() {
        for url in [
            "https://evil.example/payload.exe",
            "http://185.220.101.4/gate.php",
            "http://192.0.2.1/example",
            "file:///C:/Users/jdoe/x",
            "file://C:/temp",
            "https://victim.re/login",
            "://nothing",
            "http://localhost:4444/api",
            "http://127.0.0.1:8080/",
            "http://[::1]/",
            "tcp://0.0.0.0:4444",
        ] {
            assert!(urls(url).is_empty(), "{url}");
        }
    }

    #[test]
    fn unc_paths() {
        assert_eq!(
            urls(r"copied to \\DC01\C$\Windows\Temp\p.exe then"),
            [r"\\DC01\C$\Windows\Temp\p.exe"]
        );
        assert_eq!(
            urls(r"'\\fs01.corp.local\share'"),
            [r"\\fs01.corp.local\share"]
        );
        assert_eq!(urls(r"^\\\\srv\\share$"), [r"\\\\srv\\share$"]);
        for not_internal in [
            r"\\185.220.101.4\webdav\x",
            r"\\evil.example@SSL\x",
            r"C:\\Users\\jdoe",
            r"\\?\C:\x",
            r"\\.\pipe\x",
            r"a\b",
        ] {
            assert!(urls(not_internal).is_empty(), "{not_internal}");
        }
    }
}
