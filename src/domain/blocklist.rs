//! What a blocking tool (firewall, DNS filter, EDR) can take from an indicator's pattern:
//! every non-negated equality (or `IN` set) on an IP address, a domain name, a URL or a file
//! hash. Each value is checked against its kind's syntax, so that nothing a provider wrote
//! can break a firewall's list format (no spaces, no line breaks, no separators), and against
//! its breadth, so that nothing blocks everything:
//!
//! - a network may be no wider than the export policy allows ([`NetworkBounds`], read from
//!   `policies/exports.toml`: IPv4 /16, IPv6 /32 as shipped);
//! - a domain name needs two labels at least (never a top-level domain such as `com`, nor a
//!   bare name) and has no wildcard (`*.com`);
//! - a URL needs a host without wildcard (`http://`, `https:///x`, `http://*.com/` name every
//!   site to a tool that matches URL prefixes or wildcards).
//!
//! [`too_broad`] is that second check, and reads the value leniently (trimmed, the prefix
//! length as any tool would read it), because a consumer that reads the pattern itself may
//! be lenient: TAXII ingest refuses an indicator naming such a value ([`check_indicator`]),
//! and the export ([`entries`]) never emits one, whenever it was stored.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde_json::Value;

use super::exports::{NetworkBounds, NetworkTooWide};
use super::ioc::value;
use super::stix::pattern::{self, Comparison, Literal, Operator, PathStep, Pattern, PatternLimits};

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

/// `addr` or `addr/prefix` with the prefix in plain decimal (`u8::from_str` would take `+8`
/// and `008`, which firewall list formats do not all read alike).
fn ip_or_network<A: std::str::FromStr>(s: &str, max_prefix: u8) -> bool {
    match s.split_once('/') {
        Some((addr, prefix)) => {
            addr.parse::<A>().is_ok()
                && prefix
                    .parse::<u8>()
                    .is_ok_and(|p| p <= max_prefix && p.to_string() == prefix)
        }
        None => s.parse::<A>().is_ok(),
    }
}

/// The value in its blocklist form, or `None` if it is not a well-formed value of its kind.
/// Domain names and URLs follow the IOC API's rules (two labels at least, the last not all
/// digits; a URL with a valid host), exactly as written: nothing is trimmed.
pub fn normalise(kind: EntryKind, v: &str) -> Option<String> {
    let ok = match kind {
        EntryKind::Ipv4 => ip_or_network::<Ipv4Addr>(v, 32),
        EntryKind::Ipv6 => ip_or_network::<Ipv6Addr>(v, 128),
        EntryKind::Domain => value::domain(v, 2).is_ok(),
        EntryKind::Url => {
            v.len() <= 2048
                && ["http://", "https://", "ftp://"]
                    .iter()
                    .any(|p| v.len() > p.len() && v[..p.len()].eq_ignore_ascii_case(p))
                && v.bytes().all(|b| b.is_ascii_graphic())
                && value::url(v).is_ok()
        }
        EntryKind::Md5 => is_hex(v, 32),
        EntryKind::Sha1 => is_hex(v, 40),
        EntryKind::Sha256 => is_hex(v, 64),
    };
    if !ok {
        return None;
    }
    Some(match kind {
        EntryKind::Url | EntryKind::Ipv4 | EntryKind::Ipv6 => v.to_owned(),
        _ => v.to_ascii_lowercase(),
    })
}

/// Longest piece of a value quoted in a refusal.
const MAX_QUOTED_CHARS: usize = 64;

fn quoted(s: &str) -> String {
    let mut out: String = s.chars().take(MAX_QUOTED_CHARS).collect();
    if s.chars().nth(MAX_QUOTED_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// A value so broad that blocking it would block whole swathes of the Internet. The text is
/// what a TAXII client reads in the status resource's `failures[].message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TooBroad {
    #[error(
        "the pattern names the {kind} network {value:?}, too broad for an indicator: {width}, \
         the widest the hub's export policy allows"
    )]
    Network {
        kind: EntryKind,
        value: String,
        width: NetworkTooWide,
    },
    #[error("the pattern names the domain name {value:?}, too broad for an indicator: {reason}")]
    Domain { value: String, reason: &'static str },
    #[error("the pattern names the URL {value:?}, too broad for an indicator: {reason}")]
    Url { value: String, reason: &'static str },
}

/// A network as any tool might read it: surrounding blanks ignored, the prefix length as a
/// number (`/08`, `/+8`). `None` when there is no prefix a tool could take for a width.
fn lenient_prefix(value: &str) -> Option<(&str, u8)> {
    let (addr, prefix) = value.trim().split_once('/')?;
    let prefix = prefix.trim();
    let digits = prefix.strip_prefix('+').unwrap_or(prefix);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = digits.trim_start_matches('0');
    let n: u8 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    Some((addr.trim(), n))
}

fn network_too_wide(
    kind: EntryKind,
    value: &str,
    bounds: &NetworkBounds,
) -> Result<(), NetworkTooWide> {
    let Some((addr, prefix)) = lenient_prefix(value) else {
        return Ok(());
    };
    match (addr.parse::<IpAddr>(), kind) {
        (Ok(addr), _) => bounds.check(addr, prefix),
        // An address no parser here reads (`010.0.0.0`): its prefix still says how broad
        // a lenient tool would take it to be.
        (Err(_), EntryKind::Ipv6) => bounds.check_ipv6(None, prefix),
        (Err(_), _) => bounds.check_ipv4(prefix),
    }
}

fn domain_too_broad(value: &str) -> Option<&'static str> {
    let name = value.trim();
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.contains('*') {
        return Some("it holds a wildcard");
    }
    if name.split('.').filter(|l| !l.trim().is_empty()).count() < 2 {
        return Some("fewer than two labels (a top-level domain, or no name at all)");
    }
    None
}

fn is_scheme(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

fn url_too_broad(value: &str) -> Option<&'static str> {
    const NO_HOST: &str = "it names no host";
    let url = value.trim();
    let Some((_, rest)) = url.split_once("://") else {
        // Nothing, or a scheme alone (`http`, `https:`): a prefix of every URL.
        let bare = url.trim_end_matches(['/', ':']);
        return (bare.is_empty() || is_scheme(bare)).then_some(NO_HOST);
    };
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    let host = match host_port.strip_prefix('[') {
        Some(bracketed) => bracketed.split_once(']').map_or(bracketed, |(h, _)| h),
        None => host_port.rsplit_once(':').map_or(host_port, |(h, _)| h),
    };
    if host.trim().is_empty() {
        return Some(NO_HOST);
    }
    if host.contains('*') {
        return Some("its host holds a wildcard");
    }
    None
}

/// Whether blocking `value` (of `kind`, as a pattern wrote it) would block far more than an
/// indicator can mean. Hashes never are.
pub fn too_broad(kind: EntryKind, value: &str, bounds: &NetworkBounds) -> Result<(), TooBroad> {
    let value_owned = || quoted(value);
    match kind {
        EntryKind::Ipv4 | EntryKind::Ipv6 => {
            network_too_wide(kind, value, bounds).map_err(|width| TooBroad::Network {
                kind,
                value: value_owned(),
                width,
            })
        }
        EntryKind::Domain => match domain_too_broad(value) {
            Some(reason) => Err(TooBroad::Domain {
                value: value_owned(),
                reason,
            }),
            None => Ok(()),
        },
        EntryKind::Url => match url_too_broad(value) {
            Some(reason) => Err(TooBroad::Url {
                value: value_owned(),
                reason,
            }),
            None => Ok(()),
        },
        EntryKind::Md5 | EntryKind::Sha1 | EntryKind::Sha256 => Ok(()),
    }
}

/// The values of a pattern a blocking tool would take, as written: non-negated `=` and `IN`
/// on the kinds above.
fn candidates(pattern: &Pattern) -> impl Iterator<Item = (EntryKind, &str)> + '_ {
    pattern.comparisons().flat_map(|c| {
        let kind = if c.negated { None } else { kind_of(c) };
        let values: Vec<&str> = match (kind, c.operator, &c.value) {
            (None, _, _) => Vec::new(),
            (Some(_), Operator::Eq, Some(Literal::String(s))) => vec![s.as_str()],
            (Some(_), Operator::In, Some(Literal::Set(items))) => {
                items.iter().filter_map(Literal::as_str).collect()
            }
            _ => Vec::new(),
        };
        values.into_iter().filter_map(move |v| Some((kind?, v)))
    })
}

/// The blockable values of a pattern: well formed, and no broader than `bounds` allow.
pub fn entries(pattern: &Pattern, bounds: &NetworkBounds) -> Vec<Entry> {
    candidates(pattern)
        .filter(|(kind, v)| too_broad(*kind, v, bounds).is_ok())
        .filter_map(|(kind, v)| normalise(kind, v).map(|value| Entry { kind, value }))
        .collect()
}

/// The first value of the pattern that is too broad to block, if any.
pub fn check_pattern(pattern: &Pattern, bounds: &NetworkBounds) -> Result<(), TooBroad> {
    candidates(pattern).try_for_each(|(kind, v)| too_broad(kind, v, bounds))
}

/// For TAXII ingest: refuses an indicator (STIX pattern) that names a value too broad to
/// block. Anything else passes; a pattern that does not parse is the validator's to refuse.
pub fn check_indicator(object: &Value, bounds: &NetworkBounds) -> Result<(), TooBroad> {
    if object.get("type").and_then(Value::as_str) != Some("indicator")
        || object.get("pattern_type").and_then(Value::as_str) != Some("stix")
    {
        return Ok(());
    }
    let Some(text) = object.get("pattern").and_then(Value::as_str) else {
        return Ok(());
    };
    match pattern::parse(text, &PatternLimits::default()) {
        Ok(p) => check_pattern(&p, bounds),
        Err(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::stix::pattern::{PatternLimits, parse};

    fn of_with(p: &str, bounds: &NetworkBounds) -> Vec<(EntryKind, String)> {
        entries(&parse(p, &PatternLimits::default()).unwrap(), bounds)
            .into_iter()
            .map(|e| (e.kind, e.value))
            .collect()
    }

    fn of(p: &str) -> Vec<(EntryKind, String)> {
        of_with(p, &NetworkBounds::DEFAULT)
    }

    fn refusal(p: &str) -> Option<String> {
        check_pattern(
            &parse(p, &PatternLimits::default()).unwrap(),
            &NetworkBounds::DEFAULT,
        )
        .err()
        .map(|e| e.to_string())
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

    #[test]
    fn blocklist_never_exports_networks_wider_than_policy() {
        assert!(of("[ipv4-addr:value = '0.0.0.0/0']").is_empty());
        assert!(of("[ipv4-addr:value = '185.0.0.0/8']").is_empty());
        assert!(of("[ipv4-addr:value = '10.1.2.3/15']").is_empty());
        assert!(of("[ipv6-addr:value = '::/0']").is_empty());
        assert!(of("[ipv6-addr:value = '2001::/16']").is_empty());
        assert!(of("[ipv6-addr:value = '::ffff:0.0.0.0/96']").is_empty());
        assert_eq!(of("[ipv4-addr:value = '198.51.0.0/16']").len(), 1);
        assert_eq!(of("[ipv6-addr:value = '2001:db8::/32']").len(), 1);
        // Within one IN set, the broad value goes and the others stay.
        assert_eq!(
            of("[ipv4-addr:value IN ('0.0.0.0/0', '198.51.100.7')]"),
            [(EntryKind::Ipv4, "198.51.100.7".into())]
        );
        // A stricter policy, later, applies to what was stored before.
        let strict = NetworkBounds {
            ipv4_min_prefix: 24,
            ipv6_min_prefix: 48,
        };
        assert!(of_with("[ipv4-addr:value = '198.51.0.0/16']", &strict).is_empty());
        assert_eq!(
            of_with("[ipv4-addr:value = '198.51.100.0/24']", &strict).len(),
            1
        );
        assert!(of_with("[ipv6-addr:value = '2001:db8::/32']", &strict).is_empty());
    }

    #[test]
    fn prefixes_are_plain_digits() {
        assert!(of("[ipv4-addr:value = '198.51.100.0/+24']").is_empty());
        assert!(of("[ipv4-addr:value = '198.51.100.0/ 24']").is_empty());
        assert!(of("[ipv4-addr:value = '198.51.100.0/024']").is_empty());
        assert_eq!(of("[ipv4-addr:value = '198.51.100.0/24']").len(), 1);
    }

    #[test]
    fn top_level_domains_hostless_urls_and_wildcards_are_never_exported() {
        for p in [
            "[domain-name:value = 'com']",
            "[domain-name:value = 'com.']",
            "[domain-name:value = '.com']",
            "[domain-name:value = '*.com']",
            "[domain-name:value = '*']",
            "[domain-name:value = '']",
            "[domain-name:value = '198.51.100.7']",
            "[url:value = 'http://']",
            "[url:value = 'http:///x']",
            "[url:value = 'https://:443/']",
            "[url:value = 'http://user@/x']",
            "[url:value = 'http://*.example/']",
            "[url:value = 'http://*/']",
            "[url:value = 'http:']",
            "[url:value = 'http']",
            "[url:value = '']",
        ] {
            assert!(of(p).is_empty(), "{p}");
        }
        assert_eq!(of("[domain-name:value = 'example.com']").len(), 1);
        assert_eq!(of("[url:value = 'http://intranet/wpad.dat']").len(), 1);
        assert_eq!(of("[url:value = 'http://[2001:db8::1]:8080/x']").len(), 1);
        assert_eq!(of("[url:value = 'http://evil.example/*']").len(), 1);
    }

    #[test]
    fn indicators_naming_too_broad_values_are_refused() {
        assert_eq!(
            refusal("[ipv4-addr:value = '0.0.0.0/0']").as_deref(),
            Some(
                "the pattern names the ipv4 network \"0.0.0.0/0\", too broad for an indicator: \
                 /0 is wider than /16, the widest the hub's export policy allows"
            )
        );
        let m = refusal(
            "[ipv4-addr:value = '1.2.3.4'] OR [ipv4-addr:value IN ('5.6.7.8', '185.0.0.0/8')]",
        )
        .unwrap();
        assert!(m.contains("185.0.0.0/8") && m.contains("/16"), "{m}");
        // Read leniently: what a tolerant consumer would take for a wide network.
        for p in [
            "[ipv4-addr:value = ' 0.0.0.0/0 ']",
            "[ipv4-addr:value = '0.0.0.0/+0']",
            "[ipv4-addr:value = '0.0.0.0/00']",
            "[ipv4-addr:value = '010.0.0.0/8']",
            "[ipv6-addr:value = '::ffff:185.0.0.0/104']",
            "[ipv6-addr:value = '0.0.0.0/0']",
            "[domain-name:value = 'com']",
            "[url:value = 'https://']",
        ] {
            assert!(refusal(p).is_some(), "{p}");
        }
        assert!(
            refusal("[ipv6-addr:value = '::ffff:185.0.0.0/104']")
                .unwrap()
                .contains("holds the IPv4 network /8")
        );
        // Not a blocking value: negations, other operators, other properties.
        for p in [
            "[ipv4-addr:value != '0.0.0.0/0']",
            "[ipv4-addr:value NOT IN ('0.0.0.0/0')]",
            "[ipv4-addr:value ISSUBSET '10.0.0.0/8']",
            "[network-traffic:dst_ref.value = '0.0.0.0/0']",
            "[domain-name:value LIKE '%.com']",
            "[ipv4-addr:value = '198.51.0.0/16']",
            "[ipv4-addr:value = '1.2.3.4/99']",
        ] {
            assert_eq!(refusal(p), None, "{p}");
        }
    }

    #[test]
    fn only_stix_indicators_are_checked() {
        let indicator = |pattern: &str, pattern_type: &str| serde_json::json!({"type": "indicator", "pattern": pattern, "pattern_type": pattern_type});
        let b = NetworkBounds::DEFAULT;
        assert!(
            check_indicator(&indicator("[ipv4-addr:value = '0.0.0.0/0']", "stix"), &b).is_err()
        );
        assert!(check_indicator(&indicator("alert ip 0.0.0.0/0 any", "snort"), &b).is_ok());
        assert!(check_indicator(&indicator("[unparsable", "stix"), &b).is_ok());
        assert!(
            check_indicator(
                &serde_json::json!({"type": "malware", "name": "0.0.0.0/0"}),
                &b
            )
            .is_ok()
        );
    }
}
