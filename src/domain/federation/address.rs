//! Where an outbound request to a peer may connect. A peer's URL is configuration, but what
//! its name resolves to is not: a DNS answer (or a redirect) pointing at the hub's own
//! loopback, a cloud metadata service or the internal network would turn the puller into a
//! request forger (SSRF). The check runs on every resolved address, at connection time.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Forbidden {
    #[error("a loopback address")]
    Loopback,
    #[error("a link-local address (cloud metadata services live there)")]
    LinkLocal,
    #[error("a private or unique-local address")]
    Private,
    #[error("an unspecified, broadcast, multicast, documentation or reserved address")]
    Special,
}

/// The class of `ip` that a peer without `allow_private` may not reach, if any. An IPv4
/// address mapped into IPv6 is judged as the IPv4 address it is.
pub fn forbidden(ip: IpAddr) -> Option<Forbidden> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => forbidden_v4(v4),
            None => forbidden_v6(v6),
        },
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<Forbidden> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Some(Forbidden::Loopback)
    } else if ip.is_link_local() {
        // 169.254.0.0/16, with 169.254.169.254 (the metadata service of most clouds).
        Some(Forbidden::LinkLocal)
    } else if ip.is_private() || (a == 100 && (64..128).contains(&b)) {
        // RFC 1918 and the carrier-grade NAT range (RFC 6598).
        Some(Forbidden::Private)
    } else if ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || a >= 240
        || (a == 192 && b == 0 && ip.octets()[2] == 0)
        || (a == 198 && (18..20).contains(&b))
    {
        Some(Forbidden::Special)
    } else {
        None
    }
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<Forbidden> {
    let first = ip.segments()[0];
    if ip.is_loopback() {
        Some(Forbidden::Loopback)
    } else if first & 0xffc0 == 0xfe80 {
        Some(Forbidden::LinkLocal)
    } else if first & 0xfe00 == 0xfc00 {
        Some(Forbidden::Private)
    } else if ip.is_unspecified()
        || ip.is_multicast()
        || first == 0x2001 && ip.segments()[1] == 0x0db8
        // NAT64 and 6to4 embed IPv4 addresses that would escape the IPv4 rules.
        || first == 0x0064
        || first == 0x2002
        || ip.to_ipv4().is_some()
    {
        Some(Forbidden::Special)
    } else {
        None
    }
}

/// Why a connection to `ip` is refused for a peer entry, if it is. `allow_private` (a test
/// peer on loopback, a partner on the internal network) lifts the loopback and private
/// ranges only: link-local addresses, where cloud metadata services answer, and the special
/// ranges are never reached, whatever the entry says.
pub fn refused(ip: IpAddr, allow_private: bool) -> Option<Forbidden> {
    match forbidden(ip) {
        Some(Forbidden::Loopback | Forbidden::Private) if allow_private => None,
        other => other,
    }
}

/// The schemes a peer URL may use: `https`, and plain `http` only for a peer whose entry
/// says `allow_http` (a test server without TLS). Everything else (`file:`, `ftp:`, …) is
/// refused whatever the entry says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SchemeRefused {
    #[error("plain http is refused unless the peer entry says allow_http = true")]
    PlainHttp,
    #[error("only https (or http with allow_http) URLs are fetched")]
    Other,
}

pub fn check_scheme(scheme: &str, allow_http: bool) -> Result<(), SchemeRefused> {
    match scheme {
        "https" => Ok(()),
        "http" if allow_http => Ok(()),
        "http" => Err(SchemeRefused::PlainHttp),
        _ => Err(SchemeRefused::Other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn internal_addresses_are_refused() {
        for (a, why) in [
            ("127.0.0.1", Forbidden::Loopback),
            ("127.255.0.9", Forbidden::Loopback),
            ("::1", Forbidden::Loopback),
            ("169.254.169.254", Forbidden::LinkLocal),
            ("fe80::1", Forbidden::LinkLocal),
            ("10.1.2.3", Forbidden::Private),
            ("172.16.0.1", Forbidden::Private),
            ("192.168.1.1", Forbidden::Private),
            ("100.64.0.1", Forbidden::Private),
            ("fd00::1", Forbidden::Private),
            ("0.0.0.0", Forbidden::Special),
            ("::", Forbidden::Special),
            ("255.255.255.255", Forbidden::Special),
            ("224.0.0.1", Forbidden::Special),
            ("192.0.2.1", Forbidden::Special),
            ("2001:db8::1", Forbidden::Special),
            ("64:ff9b::7f00:1", Forbidden::Special),
            ("2002:7f00:1::", Forbidden::Special),
        ] {
            assert_eq!(forbidden(ip(a)), Some(why), "{a}");
        }
        // Mapped IPv4 is judged as IPv4: no way around the rules through ::ffff:.
        assert_eq!(forbidden(ip("::ffff:127.0.0.1")), Some(Forbidden::Loopback));
        assert_eq!(
            forbidden(ip("::ffff:169.254.169.254")),
            Some(Forbidden::LinkLocal)
        );
    }

    #[test]
    fn allow_private_never_opens_metadata_services() {
        assert_eq!(refused(ip("127.0.0.1"), true), None);
        assert_eq!(refused(ip("10.0.0.8"), true), None);
        assert_eq!(refused(ip("127.0.0.1"), false), Some(Forbidden::Loopback));
        assert_eq!(
            refused(ip("169.254.169.254"), true),
            Some(Forbidden::LinkLocal)
        );
        assert_eq!(
            refused(ip("::ffff:169.254.169.254"), true),
            Some(Forbidden::LinkLocal)
        );
        assert_eq!(refused(ip("0.0.0.0"), true), Some(Forbidden::Special));
    }

    #[test]
    fn public_addresses_pass() {
        for a in [
            "185.15.59.224",
            "8.8.8.8",
            "2a00:1450:4007:80e::200e",
            "100.128.0.1",
        ] {
            assert_eq!(forbidden(ip(a)), None, "{a}");
        }
    }

    #[test]
    fn only_https_unless_http_is_allowed() {
        assert_eq!(check_scheme("https", false), Ok(()));
        assert_eq!(check_scheme("http", false), Err(SchemeRefused::PlainHttp));
        assert_eq!(check_scheme("http", true), Ok(()));
        assert_eq!(check_scheme("file", true), Err(SchemeRefused::Other));
        assert_eq!(check_scheme("gopher", true), Err(SchemeRefused::Other));
    }
}
