//! The federation egress policy (`policies/federation.toml`): how far each partner hub may
//! read. The marking policy decides who reads a level; this file caps what a peer may get.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::domain::markings::Tlp;

/// The policy shipped in `policies/federation.toml`, compiled in so the hub always has one.
pub const SHIPPED: &str = include_str!("../../policies/federation.toml");

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FederationPolicyError {
    #[error("{0}")]
    Parse(String),
    #[error("peer {0}: TLP:RED is never federated; max_tlp may be at most amber_strict")]
    RedForPeer(String),
    #[error("a peer name may not be empty")]
    EmptyName,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    peers: BTreeMap<String, PeerEgress>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerEgress {
    pub max_tlp: Tlp,
}

/// Egress limits by peer principal name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FederationPolicy {
    peers: BTreeMap<String, PeerEgress>,
}

impl FederationPolicy {
    pub fn parse(text: &str) -> Result<Self, FederationPolicyError> {
        let file: PolicyFile = toml::from_str(text).map_err(|e| {
            FederationPolicyError::Parse(
                e.to_string()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
            )
        })?;
        for (name, egress) in &file.peers {
            if name.trim().is_empty() {
                return Err(FederationPolicyError::EmptyName);
            }
            if egress.max_tlp == Tlp::Red {
                return Err(FederationPolicyError::RedForPeer(name.clone()));
            }
        }
        Ok(Self { peers: file.peers })
    }

    /// The highest TLP the peer named `name` may read: CLEAR unless the policy says more.
    pub fn max_tlp(&self, name: &str) -> Tlp {
        self.peers.get(name).map_or(Tlp::Clear, |p| p.max_tlp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_policy_lets_unlisted_peers_read_clear_only() {
        let policy = FederationPolicy::parse(SHIPPED).unwrap();
        assert_eq!(policy.max_tlp("partner-csirt"), Tlp::Clear);
    }

    #[test]
    fn listed_peers_get_their_level() {
        let policy =
            FederationPolicy::parse("[peers.partner-csirt]\nmax_tlp = \"green\"\n").unwrap();
        assert_eq!(policy.max_tlp("partner-csirt"), Tlp::Green);
        assert_eq!(policy.max_tlp("other"), Tlp::Clear);
    }

    #[test]
    fn red_unknown_keys_and_bad_levels_are_refused() {
        assert_eq!(
            FederationPolicy::parse("[peers.p]\nmax_tlp = \"red\"\n"),
            Err(FederationPolicyError::RedForPeer("p".into()))
        );
        assert!(FederationPolicy::parse("[peers.p]\nmax_tlp = \"green\"\nextra = 1\n").is_err());
        assert!(FederationPolicy::parse("[peers.p]\nmax_tlp = \"purple\"\n").is_err());
        assert!(FederationPolicy::parse("[peers.\" \"]\nmax_tlp = \"clear\"\n").is_err());
    }
}
