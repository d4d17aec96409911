//! The export policy (`policies/exports.toml`): how broad a network an indicator may name.
//!
//! Blocking tools take what the hub exports at its word, so one indicator naming `0.0.0.0/0`
//! would cut every recipient off the Internet. [`NetworkBounds`] is the one definition of
//! "too broad" for networks: the IOC API, TAXII ingest and the blocklist export all ask it
//! (see [`super::blocklist`] for the values of patterns, [`super::ioc::value`] for the IOC
//! API).

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

use serde::Deserialize;

/// The policy shipped in `policies/exports.toml`, compiled in so the hub always has one.
pub const SHIPPED: &str = include_str!("../../policies/exports.toml");

/// The widest bounds a policy may set: it may relax the shipped bound, never switch it off
/// (a /8 is a whole regional allocation block; an IPv6 /16 is 2^112 addresses).
pub const IPV4_FLOOR: u8 = 8;
/// See [`IPV4_FLOOR`].
pub const IPV6_FLOOR: u8 = 16;

/// The IPv6 networks whose low 32 bits are an IPv4 address: IPv4-mapped (`::ffff:0:0/96`,
/// RFC 4291) and the NAT64 well-known prefix (`64:ff9b::/96`, RFC 6052). Blocking
/// `::ffff:0:0/96` blocks every IPv4 client of a dual-stack socket, so a network inside them
/// is held to the IPv4 bound.
const IPV4_IN_IPV6: [Ipv6Addr; 2] = [
    Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0, 0),
    Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0),
];

/// The widest networks an indicator may name, as prefix lengths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetworkBounds {
    pub ipv4_min_prefix: u8,
    pub ipv6_min_prefix: u8,
}

impl NetworkBounds {
    /// The shipped bounds: IPv4 /16, IPv6 /32.
    pub const DEFAULT: NetworkBounds = NetworkBounds {
        ipv4_min_prefix: 16,
        ipv6_min_prefix: 32,
    };
}

impl Default for NetworkBounds {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A network wider than [`NetworkBounds`] allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetworkTooWide {
    /// The prefix length as written.
    pub prefix: u8,
    /// The prefix length of the IPv4 network an IPv6 one holds, when it holds one.
    pub ipv4_prefix: Option<u8>,
    /// The narrowest prefix allowed, for the family the network is held to.
    pub min: u8,
}

impl fmt::Display for NetworkTooWide {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ipv4_prefix {
            None => write!(f, "/{} is wider than /{}", self.prefix, self.min),
            Some(v4) => write!(
                f,
                "/{} holds the IPv4 network /{v4}, wider than /{}",
                self.prefix, self.min
            ),
        }
    }
}

impl std::error::Error for NetworkTooWide {}

impl NetworkBounds {
    /// An IPv4 network `a.b.c.d/prefix`.
    pub fn check_ipv4(&self, prefix: u8) -> Result<(), NetworkTooWide> {
        if prefix < self.ipv4_min_prefix {
            return Err(NetworkTooWide {
                prefix,
                ipv4_prefix: None,
                min: self.ipv4_min_prefix,
            });
        }
        Ok(())
    }

    /// An IPv6 network `addr/prefix`; without its address (unreadable), only the IPv6 bound
    /// applies.
    pub fn check_ipv6(&self, addr: Option<Ipv6Addr>, prefix: u8) -> Result<(), NetworkTooWide> {
        if prefix < self.ipv6_min_prefix {
            return Err(NetworkTooWide {
                prefix,
                ipv4_prefix: None,
                min: self.ipv6_min_prefix,
            });
        }
        let Some(addr) = addr else { return Ok(()) };
        let bits = u128::from(addr);
        for embedding in IPV4_IN_IPV6 {
            // The network and the /96 overlap when they agree on the shorter prefix; then
            // the network either holds all of the /96 (every IPv4 address) or lies inside it.
            let shared = u32::from(prefix.min(96));
            let mask = u128::MAX.checked_shl(128 - shared).unwrap_or(0);
            if bits & mask != u128::from(embedding) & mask {
                continue;
            }
            let v4 = prefix.saturating_sub(96);
            if v4 < self.ipv4_min_prefix {
                return Err(NetworkTooWide {
                    prefix,
                    ipv4_prefix: Some(v4),
                    min: self.ipv4_min_prefix,
                });
            }
        }
        Ok(())
    }

    /// `addr/prefix`, held to its family's bound.
    pub fn check(&self, addr: IpAddr, prefix: u8) -> Result<(), NetworkTooWide> {
        match addr {
            IpAddr::V4(_) => self.check_ipv4(prefix),
            IpAddr::V6(a) => self.check_ipv6(Some(a), prefix),
        }
    }
}

/// The export policy: today, the network bounds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportPolicy {
    pub networks: NetworkBounds,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportPolicyError {
    #[error("{0}")]
    Parse(String),
    #[error("networks.ipv4_min_prefix = {0}: must be from {IPV4_FLOOR} to 32")]
    Ipv4Bound(u8),
    #[error("networks.ipv6_min_prefix = {0}: must be from {IPV6_FLOOR} to 128")]
    Ipv6Bound(u8),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    networks: NetworksFile,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NetworksFile {
    ipv4_min_prefix: u8,
    ipv6_min_prefix: u8,
}

impl ExportPolicy {
    pub fn parse(text: &str) -> Result<Self, ExportPolicyError> {
        let file: PolicyFile = toml::from_str(text).map_err(|e| {
            ExportPolicyError::Parse(
                e.to_string()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
            )
        })?;
        let NetworksFile {
            ipv4_min_prefix,
            ipv6_min_prefix,
        } = file.networks;
        if !(IPV4_FLOOR..=32).contains(&ipv4_min_prefix) {
            return Err(ExportPolicyError::Ipv4Bound(ipv4_min_prefix));
        }
        if !(IPV6_FLOOR..=128).contains(&ipv6_min_prefix) {
            return Err(ExportPolicyError::Ipv6Bound(ipv6_min_prefix));
        }
        Ok(Self {
            networks: NetworkBounds {
                ipv4_min_prefix,
                ipv6_min_prefix,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v6(s: &str) -> Option<Ipv6Addr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn shipped_policy_is_the_default() {
        assert_eq!(ExportPolicy::parse(SHIPPED), Ok(ExportPolicy::default()));
        assert_eq!(
            ExportPolicy::default().networks,
            NetworkBounds {
                ipv4_min_prefix: 16,
                ipv6_min_prefix: 32
            }
        );
    }

    #[test]
    fn policy_bounds_are_checked() {
        let file = |v4: u32, v6: u32| {
            ExportPolicy::parse(&format!(
                "[networks]\nipv4_min_prefix = {v4}\nipv6_min_prefix = {v6}\n"
            ))
        };
        assert_eq!(
            file(24, 48).map(|p| p.networks),
            Ok(NetworkBounds {
                ipv4_min_prefix: 24,
                ipv6_min_prefix: 48
            })
        );
        assert!(file(8, 16).is_ok());
        assert!(file(32, 128).is_ok());
        assert_eq!(file(0, 32), Err(ExportPolicyError::Ipv4Bound(0)));
        assert_eq!(file(7, 32), Err(ExportPolicyError::Ipv4Bound(7)));
        assert_eq!(file(33, 32), Err(ExportPolicyError::Ipv4Bound(33)));
        assert_eq!(file(16, 15), Err(ExportPolicyError::Ipv6Bound(15)));
        assert_eq!(file(16, 129), Err(ExportPolicyError::Ipv6Bound(129)));
        assert!(matches!(file(300, 32), Err(ExportPolicyError::Parse(_))));
        assert!(matches!(
            ExportPolicy::parse("[networks]\nipv4_min_prefix = 16\n"),
            Err(ExportPolicyError::Parse(_))
        ));
        assert!(matches!(
            ExportPolicy::parse(&format!("{SHIPPED}\nextra = 1\n")),
            Err(ExportPolicyError::Parse(_))
        ));
    }

    #[test]
    fn networks_wider_than_the_bound_are_too_wide() {
        let b = NetworkBounds::default();
        assert_eq!(b.check_ipv4(16), Ok(()));
        assert_eq!(b.check_ipv4(32), Ok(()));
        let e = b.check_ipv4(0).unwrap_err();
        assert_eq!(e.to_string(), "/0 is wider than /16");
        assert!(b.check_ipv4(8).is_err());
        assert!(b.check_ipv4(15).is_err());
        assert_eq!(b.check_ipv6(v6("2001:db8::"), 32), Ok(()));
        assert_eq!(
            b.check_ipv6(v6("::"), 0).unwrap_err().to_string(),
            "/0 is wider than /32"
        );
        assert!(b.check_ipv6(None, 31).is_err());
        assert_eq!(b.check_ipv6(None, 64), Ok(()));
    }

    #[test]
    fn ipv6_networks_holding_ipv4_addresses_are_held_to_the_ipv4_bound() {
        let b = NetworkBounds::default();
        // Inside ::ffff:0:0/96: the IPv4 prefix is what counts.
        assert_eq!(b.check_ipv6(v6("::ffff:198.51.0.0"), 112), Ok(()));
        assert_eq!(b.check_ipv6(v6("::ffff:198.51.100.7"), 128), Ok(()));
        let e = b.check_ipv6(v6("::ffff:0.0.0.0"), 96).unwrap_err();
        assert_eq!(e.ipv4_prefix, Some(0));
        assert_eq!(
            e.to_string(),
            "/96 holds the IPv4 network /0, wider than /16"
        );
        assert!(b.check_ipv6(v6("::ffff:185.0.0.0"), 104).is_err());
        assert!(b.check_ipv6(v6("64:ff9b::185.0.0.0"), 104).is_err());
        assert_eq!(b.check_ipv6(v6("64:ff9b::198.51.100.0"), 120), Ok(()));
        // A network that holds the whole of ::ffff:0:0/96.
        assert!(b.check_ipv6(v6("::"), 64).is_err());
        assert!(b.check_ipv6(v6("::ffff:0:0"), 80).is_err());
        // Beside it, only the IPv6 bound.
        assert_eq!(b.check_ipv6(v6("2001:db8::"), 96), Ok(()));
        assert_eq!(b.check_ipv6(v6("::1"), 128), Ok(()));
        assert_eq!(b.check_ipv6(v6("1::"), 64), Ok(()));
        assert_eq!(
            b.check("::ffff:10.0.0.0".parse().unwrap(), 104)
                .map_err(|e| e.min),
            Err(16)
        );
        assert_eq!(b.check("10.0.0.0".parse().unwrap(), 24), Ok(()));
    }
}
