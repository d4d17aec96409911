//! IP addresses that are not on the Internet: private, loopback, link-local, CGNAT,
//! documentation, unique-local and unspecified, IPv4 and IPv6, alone or as a CIDR block.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::Finding;
use crate::domain::anonymise::policy::FindingKind;

/// The kind of finding an IPv4 address is, `None` for an address on the Internet.
pub(crate) fn classify_v4(a: Ipv4Addr) -> Option<FindingKind> {
    use FindingKind::*;
    let [x, y, z, _] = a.octets();
    match (x, y, z) {
        (0, _, _) => Some(UnspecifiedIp),
        (10, _, _) | (172, 16..=31, _) | (192, 168, _) => Some(PrivateIp),
        (127, _, _) => Some(LoopbackIp),
        (169, 254, _) => Some(LinkLocalIp),
        (100, 64..=127, _) => Some(CgnatIp),
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => Some(DocumentationIp),
        _ => None,
    }
}

/// The kind of finding an IPv6 address is, `None` for an address on the Internet. An address
/// that carries an IPv4 address (IPv4-mapped, or NAT64's well-known prefix) is that address.
pub(crate) fn classify_v6(a: Ipv6Addr) -> Option<FindingKind> {
    use FindingKind::*;
    if let Some(v4) = a.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    let s = a.segments();
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [.., hi, lo] = s;
        return classify_v4(Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo)));
    }
    if a.is_unspecified() {
        Some(UnspecifiedIp)
    } else if a.is_loopback() {
        Some(LoopbackIp)
    } else if s[0] & 0xffc0 == 0xfe80 {
        Some(LinkLocalIp)
    } else if s[0] & 0xfe00 == 0xfc00 || s[0] & 0xffc0 == 0xfec0 {
        // fc00::/7, and fec0::/10: the site-local addresses RFC 3879 deprecated, still
        // private wherever they are used.
        Some(UniqueLocalIpv6)
    } else if (s[0] == 0x2001 && s[1] == 0x0db8) || (s[0] == 0x3fff && s[1] & 0xf000 == 0) {
        Some(DocumentationIp)
    } else {
        None
    }
}

/// Dotted-quad IPv4 accepting leading zeros as decimal (`010.001.002.003`), as many tools
/// print them; `std` refuses them, which would let such an address through.
fn parse_v4(s: &str) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = s.split('.');
    for octet in &mut octets {
        let part = parts.next()?;
        if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *octet = part.parse().ok()?;
    }
    parts.next().is_none().then_some(Ipv4Addr::from(octets))
}

/// An address, optionally `/prefix`.
fn parse(value: &str) -> Option<(std::net::IpAddr, Option<u8>)> {
    let (addr, prefix) = match value.split_once('/') {
        Some((a, p)) => (a, Some(p.parse::<u8>().ok()?)),
        None => (value, None),
    };
    let addr = addr.trim_start_matches('[').trim_end_matches(']');
    if let Some(v4) = parse_v4(addr) {
        return Some((v4.into(), prefix));
    }
    let v6: Ipv6Addr = addr.parse().ok()?;
    Some(match v6.to_ipv4_mapped() {
        Some(v4) => (v4.into(), prefix.map(|p| p.saturating_sub(96))),
        None => (v6.into(), prefix),
    })
}

/// The finding an IP host (`10.1.2.3`, `[fd00::1]`) is, if it is one.
pub(crate) fn classify_host(host: &str) -> Option<FindingKind> {
    match parse(host)?.0 {
        std::net::IpAddr::V4(a) => classify_v4(a),
        std::net::IpAddr::V6(a) => classify_v6(a),
    }
}

/// One spelling for every way of writing an address: leading zeros dropped, IPv6
/// compressed and lower-case, IPv4-mapped IPv6 as IPv4.
pub(crate) fn canonical(value: &str) -> Option<String> {
    let (addr, prefix) = parse(value)?;
    Some(match prefix {
        Some(p) => format!("{addr}/{p}"),
        None => addr.to_string(),
    })
}

/// A `/prefix` right after an address ending at `end`: the end of the prefix.
fn prefix_end(bytes: &[u8], end: usize, max: u32) -> usize {
    if bytes.get(end) != Some(&b'/') {
        return end;
    }
    let digits = bytes
        .get(end + 1..)
        .map_or(0, |r| r.iter().take_while(|b| b.is_ascii_digit()).count());
    let value = std::str::from_utf8(bytes.get(end + 1..end + 1 + digits).unwrap_or(&[]))
        .ok()
        .and_then(|d| d.parse::<u32>().ok());
    match value {
        Some(v) if (1..=3).contains(&digits) && v <= max => end + 1 + digits,
        _ => end,
    }
}

fn push(text: &str, start: usize, end: usize, kind: FindingKind, out: &mut Vec<Finding>) {
    let span = text.get(start..end).unwrap_or("");
    out.push(Finding {
        start,
        end,
        kind,
        value: canonical(span).unwrap_or_else(|| span.to_owned()),
    });
}

/// Every non-public IPv4 and IPv6 address (and CIDR block) in `text`.
pub(super) fn find(text: &str, out: &mut Vec<Finding>) {
    let mut v6 = Vec::new();
    find_v6(text, &mut v6);
    let mut v4 = Vec::new();
    find_v4(text, &mut v4);
    // The IPv4 address inside ::ffff:10.1.2.3 is the same finding.
    v4.retain(|f| !v6.iter().any(|g| g.start <= f.start && f.end <= g.end));
    out.extend(v6);
    out.extend(v4);
}

fn find_v4(text: &str, out: &mut Vec<Finding>) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes
            .get(i)
            .is_some_and(|b| b.is_ascii_digit() || *b == b'.')
        {
            i += 1;
            continue;
        }
        // A maximal run of digits and dots: a longer dotted number (an OID, a version
        // a.b.c.d.e) is not an address.
        let run_end = i + bytes.get(i..).map_or(0, |r| {
            r.iter()
                .take_while(|b| b.is_ascii_digit() || **b == b'.')
                .count()
        });
        let mut start = i;
        while bytes.get(start) == Some(&b'.') && start < run_end {
            start += 1;
        }
        let mut end = run_end;
        while end > start && bytes.get(end - 1) == Some(&b'.') {
            end -= 1;
        }
        if let Some(addr) = text.get(start..end).and_then(parse_v4)
            && let Some(kind) = classify_v4(addr)
        {
            let end = if end == run_end {
                prefix_end(bytes, end, 32)
            } else {
                end
            };
            push(text, start, end, kind, out);
        }
        i = run_end.max(i + 1);
    }
}

fn is_v6_char(b: u8) -> bool {
    b.is_ascii_hexdigit() || b == b':' || b == b'.'
}

fn find_v6(text: &str, out: &mut Vec<Finding>) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes.get(i).copied().is_some_and(is_v6_char) {
            i += 1;
            continue;
        }
        let run_end = i + bytes
            .get(i..)
            .map_or(0, |r| r.iter().take_while(|b| is_v6_char(**b)).count());
        let next_i = run_end.max(i + 1);
        let mut start = i;
        let mut end = run_end;
        // "addr:fe80::1": a single leading colon belongs to the text before.
        if bytes.get(start) == Some(&b':') && bytes.get(start + 1) != Some(&b':') {
            start += 1;
        }
        while end > start && bytes.get(end - 1) == Some(&b'.') {
            end -= 1;
        }
        if end >= start + 2
            && bytes.get(end - 1) == Some(&b':')
            && bytes.get(end - 2) != Some(&b':')
        {
            end -= 1;
        }
        // Inside a word ("std::", "0xdead::") it is not an address.
        let in_word = start
            .checked_sub(1)
            .and_then(|j| bytes.get(j))
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_');
        let before_ok = !in_word;
        let after_ok = !(end == run_end
            && bytes
                .get(end)
                .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_'));
        let colons = bytes
            .get(start..end)
            .map_or(0, |r| r.iter().filter(|b| **b == b':').count());
        if before_ok
            && after_ok
            && colons >= 2
            && let Some(addr) = text
                .get(start..end)
                .and_then(|s| s.parse::<Ipv6Addr>().ok())
            && let Some(kind) = classify_v6(addr)
        {
            let end = if end == run_end {
                prefix_end(bytes, end, 128)
            } else {
                end
            };
            push(text, start, end, kind, out);
        }
        i = next_i;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use FindingKind::*;

    fn found(text: &str) -> Vec<(String, FindingKind, String)> {
        let mut out = Vec::new();
        find(text, &mut out);
        out.sort_by_key(|f| f.start);
        out.into_iter()
            .map(|f| (text[f.start..f.end].to_owned(), f.kind, f.value))
            .collect()
    }

    fn kinds(text: &str) -> Vec<(String, FindingKind)> {
        found(text).into_iter().map(|(s, k, _)| (s, k)).collect()
    }

    fn one(s: &str, k: FindingKind) -> Vec<(String, FindingKind)> {
        vec![(s.to_owned(), k)]
    }

    #[test]
    fn ipv4_ranges() {
        for (ip, kind) in [
            ("10.1.2.3", PrivateIp),
            ("172.16.0.1", PrivateIp),
            ("172.31.255.254", PrivateIp),
            ("192.168.1.1", PrivateIp),
            ("127.0.0.1", LoopbackIp),
            ("127.255.0.9", LoopbackIp),
            ("169.254.169.254", LinkLocalIp),
            ("100.64.0.1", CgnatIp),
            ("100.127.255.255", CgnatIp),
            ("192.0.2.10", DocumentationIp),
            ("198.51.100.7", DocumentationIp),
            ("203.0.113.200", DocumentationIp),
            ("0.0.0.0", UnspecifiedIp),
        ] {
            assert_eq!(kinds(&format!("seen {ip}, twice")), one(ip, kind), "{ip}");
        }
        for public in [
            "185.220.101.4",
            "8.8.8.8",
            "172.32.0.1",
            "172.15.255.255",
            "100.128.0.1",
            "100.63.255.255",
            "192.0.3.1",
            "169.253.1.1",
            "1.1.1.1",
        ] {
            assert!(kinds(&format!("C2 {public}:443")).is_empty(), "{public}");
        }
    }

    #[test]
    fn ipv4_in_context() {
        assert_eq!(kinds("[10.1.2.3]:445"), one("10.1.2.3", PrivateIp));
        assert_eq!(kinds("from 10.1.2.3."), one("10.1.2.3", PrivateIp));
        assert_eq!(kinds("net 10.0.0.0/8 and"), one("10.0.0.0/8", PrivateIp));
        assert_eq!(kinds("10.20.30.0/24"), one("10.20.30.0/24", PrivateIp));
        // Not a prefix: the slash starts a path.
        assert_eq!(kinds("10.1.2.3/admin"), one("10.1.2.3", PrivateIp));
        assert_eq!(kinds("host_10.1.2.3.pcap"), one("10.1.2.3", PrivateIp));
        assert_eq!(kinds("v10.0.0.1"), one("10.0.0.1", PrivateIp));
        // Leading zeros read as decimal, and the value is canonical.
        assert_eq!(
            found("010.001.002.003"),
            [(
                "010.001.002.003".to_owned(),
                PrivateIp,
                "10.1.2.3".to_owned()
            )]
        );
        // Longer dotted numbers and out-of-range octets are not addresses.
        assert!(kinds("OID 1.3.6.1.4.1.311 and 10.1.2.3.4").is_empty());
        assert!(kinds("10.1.2.256 and 10.1.2").is_empty());
    }

    #[test]
    fn ipv6_ranges_and_forms() {
        for (ip, kind) in [
            ("::1", LoopbackIp),
            ("::", UnspecifiedIp),
            ("fe80::1ff:fe23:4567:890a", LinkLocalIp),
            ("FEBF::1", LinkLocalIp),
            ("fd12:3456:789a:1::1", UniqueLocalIpv6),
            ("fc00::5", UniqueLocalIpv6),
            ("fec0::1", UniqueLocalIpv6),
            ("2001:db8::8a2e:370:7334", DocumentationIp),
            ("3fff::1", DocumentationIp),
            ("::ffff:10.1.2.3", PrivateIp),
            ("::ffff:192.168.0.1", PrivateIp),
            ("64:ff9b::a01:203", PrivateIp),
        ] {
            assert_eq!(kinds(&format!("at {ip} now")), one(ip, kind), "{ip}");
        }
        for public in [
            "2a00:1450:4007:80c::200e",
            "2001:4860:4860::8888",
            "::ffff:8.8.8.8",
        ] {
            assert!(kinds(&format!("C2 {public} now")).is_empty(), "{public}");
        }
        assert_eq!(
            kinds("http://[fd00::1]:8080/"),
            one("fd00::1", UniqueLocalIpv6)
        );
        assert_eq!(kinds("addr:fe80::1%eth0"), one("fe80::1", LinkLocalIp));
        assert_eq!(
            kinds("prefix fd00:1::/48."),
            one("fd00:1::/48", UniqueLocalIpv6)
        );
        assert_eq!(kinds("seen fe80::1: then"), one("fe80::1", LinkLocalIp));
        assert_eq!(
            found("FD00:0:0::0001"),
            [(
                "FD00:0:0::0001".to_owned(),
                UniqueLocalIpv6,
                "fd00::1".to_owned()
            )]
        );
        // Not addresses: times, MAC addresses, C++ scopes, words.
        assert!(kinds("12:30:45 00:1a:2b:3c:4d:5e std::fe80 beef::1x dead:beef").is_empty());
    }

    #[test]
    fn hosts_and_canonical_forms() {
        assert_eq!(classify_host("10.1.2.3"), Some(PrivateIp));
        assert_eq!(classify_host("[::1]"), Some(LoopbackIp));
        assert_eq!(classify_host("185.220.101.4"), None);
        assert_eq!(classify_host("evil.example"), None);
        assert_eq!(
            canonical("::ffff:10.0.0.0/104").as_deref(),
            Some("10.0.0.0/8")
        );
        assert_eq!(canonical("nonsense"), None);
    }
}
