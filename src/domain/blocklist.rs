//! What a blocking tool (firewall, DNS filter, EDR) can take from an indicator's pattern:
//! every non-negated equality (or `IN` set) on an IP address, a domain name, a URL or a file
//! hash. Each value is checked against its kind's syntax, so that nothing a provider wrote
//! can break a firewall's list format (no spaces, no line breaks, no separators).

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::stix::pattern::{Comparison, Literal, Operator, PathStep, Pattern};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EntryKind {
    Ipv4,
    Ipv6,
    Domain,
    Url,
    Md5,
    Sha1,
    Sha256,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Ipv4 => "ipv4",
            EntryKind::Ipv6 => "ipv6",
            EntryKind::Domain => "domain",
            EntryKind::Url => "url",
            EntryKind::Md5 => "md5",
            EntryKind::Sha1 => "sha1",
            EntryKind::Sha256 => "sha256",
        }
    }
}

impl fmt::Display for EntryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One value to block.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Entry {
    pub kind: EntryKind,
    /// Normalised: lower-case domains and hashes.
    pub value: String,
}

fn kind_of(c: &Comparison) -> Option<EntryKind> {
    let keys: Vec<&str> = c
        .path
        .iter()
        .map(|s| match s {
            PathStep::Key(k) => Some(k.as_str()),
            _ => None,
        })
        .collect::<Option<_>>()?;
    match (c.object_type.as_str(), keys.as_slice()) {
        ("ipv4-addr", ["value"]) => Some(EntryKind::Ipv4),
        ("ipv6-addr", ["value"]) => Some(EntryKind::Ipv6),
        ("domain-name", ["value"]) => Some(EntryKind::Domain),
        ("url", ["value"]) => Some(EntryKind::Url),
        ("file", ["hashes", algorithm]) => {
            match algorithm.to_ascii_uppercase().replace('-', "").as_str() {
                "MD5" => Some(EntryKind::Md5),
                "SHA1" => Some(EntryKind::Sha1),
                "SHA256" => Some(EntryKind::Sha256),
                _ => None,
            }
        }
        _ => None,
    }
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn ip_or_network<A: std::str::FromStr>(s: &str, max_prefix: u8) -> bool {
    match s.split_once('/') {
        Some((addr, prefix)) => {
            addr.parse::<A>().is_ok() && prefix.parse::<u8>().is_ok_and(|p| p <= max_prefix)
        }
        None => s.parse::<A>().is_ok(),
    }
}

/// The value in its blocklist form, or `None` if it is not a well-formed value of its kind.
pub fn normalise(kind: EntryKind, value: &str) -> Option<String> {
    let ok = match kind {
        EntryKind::Ipv4 => ip_or_network::<Ipv4Addr>(value, 32),
        EntryKind::Ipv6 => ip_or_network::<Ipv6Addr>(value, 128),
        EntryKind::Domain => {
            value.len() <= 253
                && value.split('.').count() >= 2
                && value.split('.').all(|label| {
                    (1..=63).contains(&label.len())
                        && label
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                        && !label.starts_with('-')
                        && !label.ends_with('-')
                })
        }
        EntryKind::Url => {
            value.len() <= 2048
                && ["http://", "https://", "ftp://"]
                    .iter()
                    .any(|p| value.len() > p.len() && value[..p.len()].eq_ignore_ascii_case(p))
                && value.bytes().all(|b| b.is_ascii_graphic())
        }
        EntryKind::Md5 => is_hex(value, 32),
        EntryKind::Sha1 => is_hex(value, 40),
        EntryKind::Sha256 => is_hex(value, 64),
    };
    if !ok {
        return None;
    }
    Some(match kind {
        EntryKind::Url | EntryKind::Ipv4 | EntryKind::Ipv6 => value.to_owned(),
        _ => value.to_ascii_lowercase(),
    })
}

/// The blockable values of a pattern.
pub fn entries(pattern: &Pattern) -> Vec<Entry> {
    let mut out = Vec::new();
    for c in pattern.comparisons() {
        if c.negated {
            continue;
        }
        let Some(kind) = kind_of(c) else { continue };
        let values: Vec<&str> = match (c.operator, &c.value) {
            (Operator::Eq, Some(Literal::String(s))) => vec![s.as_str()],
            (Operator::In, Some(Literal::Set(items))) => {
                items.iter().filter_map(Literal::as_str).collect()
            }
            _ => continue,
        };
        for v in values {
            if let Some(value) = normalise(kind, v) {
                out.push(Entry { kind, value });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::stix::pattern::{PatternLimits, parse};

    fn of(p: &str) -> Vec<(EntryKind, String)> {
        entries(&parse(p, &PatternLimits::default()).unwrap())
            .into_iter()
            .map(|e| (e.kind, e.value))
            .collect()
    }

    #[test]
    fn equalities_on_addresses_domains_urls_and_hashes() {
        assert_eq!(
            of("[ipv4-addr:value = '198.51.100.7']"),
            [(EntryKind::Ipv4, "198.51.100.7".into())]
        );
        assert_eq!(
            of("[ipv4-addr:value = '198.51.100.0/24']")[0].1,
            "198.51.100.0/24"
        );
        assert_eq!(
            of("[domain-name:value = 'EVIL.example.com']")[0].1,
            "evil.example.com"
        );
        assert_eq!(
            of(
                "[file:hashes.'SHA-256' = 'AABBCCDDEEFF00112233445566778899AABBCCDDEEFF00112233445566778899']"
            )[0],
            (
                EntryKind::Sha256,
                "aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899".into()
            )
        );
        assert_eq!(
            of("[url:value = 'http://a.example/x'] OR [ipv6-addr:value IN ('2001:db8::1', '2001:db8::2')]").len(),
            3
        );
    }

    #[test]
    fn negations_other_operators_and_malformed_values_are_left_out() {
        assert!(of("[ipv4-addr:value != '198.51.100.7']").is_empty());
        assert!(of("[ipv4-addr:value NOT = '198.51.100.7']").is_empty());
        assert!(of("[domain-name:value LIKE '%.example.com']").is_empty());
        assert!(of("[network-traffic:dst_ref.value = '198.51.100.7']").is_empty());
        assert!(of("[ipv4-addr:value = '198.51.100.7\nDROP ALL']").is_empty());
        assert!(of("[url:value = 'http://a.example/x y']").is_empty());
        assert!(of("[url:value = 'javascript:alert(1)']").is_empty());
        assert!(of("[domain-name:value = 'a,b.example']").is_empty());
        // Hash syntax is the parser's job: a bad hash never makes it into a stored pattern.
        assert_eq!(normalise(EntryKind::Md5, "zz"), None);
    }
}
