//! The federation egress policy (`policies/federation.toml`): how far each partner hub may
//! read. The marking policy decides who reads a level; this file caps what a peer may get.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::domain::access::RegistryRecord;
use crate::domain::markings::Tlp;
use crate::domain::markings::release::Reader;
use crate::domain::principal::PrincipalKind;

/// The policy shipped in `policies/federation.toml`, compiled in so the hub always has one.
pub const SHIPPED: &str = include_str!("../../policies/federation.toml");

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FederationPolicyError {
    #[error("{0}")]
    Parse(String),
    #[error("peer {0}: TLP:RED is never federated; max_tlp may be at most amber_strict")]
    RedForPeer(String),
    #[error(
        "peer {0:?}: name a peer by its principal id (principal--…) or as \"organisation/principal\""
    )]
    NotAPeerName(String),
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

/// Egress limits by peer principal id.
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
            let is_id = name
                .strip_prefix("principal--")
                .is_some_and(|u| uuid::Uuid::parse_str(u).is_ok());
            let is_qualified = name.split_once('/').is_some_and(|(org, principal)| {
                !org.trim().is_empty() && !principal.trim().is_empty()
            });
            if !is_id && !is_qualified {
                return Err(FederationPolicyError::NotAPeerName(name.clone()));
            }
            if egress.max_tlp == Tlp::Red {
                return Err(FederationPolicyError::RedForPeer(name.clone()));
            }
        }
        Ok(Self { peers: file.peers })
    }

    /// The highest TLP a peer may read, found by its principal id or by "organisation
    /// name/principal name": CLEAR unless the policy says more.
    pub fn max_tlp(&self, id: &str, organisation: &str, name: &str) -> Tlp {
        self.peers
            .get(id)
            .or_else(|| self.peers.get(&format!("{organisation}/{name}")))
            .map_or(Tlp::Clear, |p| p.max_tlp)
    }

    /// The reader the marking rules see for an authenticated caller; a partner hub is capped
    /// by its entry in this policy.
    pub fn reader(&self, caller: &RegistryRecord) -> Reader {
        Reader {
            principal: caller.principal.id.clone(),
            kind: caller.principal.kind,
            organisation: caller.organisation.id.clone(),
            peer_max_tlp: (caller.principal.kind == PrincipalKind::Peer).then(|| {
                self.max_tlp(
                    caller.principal.id.as_str(),
                    &caller.organisation.name,
                    &caller.principal.name,
                )
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEER: &str = "principal--0b6f1c9e-8d2a-4c3b-9e7f-5a4d3c2b1a09";

    #[test]
    fn shipped_policy_lets_unlisted_peers_read_clear_only() {
        let policy = FederationPolicy::parse(SHIPPED).unwrap();
        assert_eq!(policy.max_tlp(PEER, "Partner", "p"), Tlp::Clear);
    }

    #[test]
    fn listed_peers_get_their_level() {
        let policy =
            FederationPolicy::parse(&format!("[peers.\"{PEER}\"]\nmax_tlp = \"green\"\n")).unwrap();
        assert_eq!(policy.max_tlp(PEER, "Partner", "p"), Tlp::Green);
        assert_eq!(
            policy.max_tlp(
                "principal--00000000-0000-4000-8000-000000000000",
                "Partner",
                "p"
            ),
            Tlp::Clear
        );
        let by_name =
            FederationPolicy::parse("[peers.\"CERT-XX/taxii\"]\nmax_tlp = \"green\"\n").unwrap();
        assert_eq!(by_name.max_tlp(PEER, "CERT-XX", "taxii"), Tlp::Green);
        assert_eq!(by_name.max_tlp(PEER, "CERT-YY", "taxii"), Tlp::Clear);
    }

    #[test]
    fn red_names_unknown_keys_and_bad_levels_are_refused() {
        assert_eq!(
            FederationPolicy::parse(&format!("[peers.\"{PEER}\"]\nmax_tlp = \"red\"\n")),
            Err(FederationPolicyError::RedForPeer(PEER.into()))
        );
        assert!(
            FederationPolicy::parse(&format!(
                "[peers.\"{PEER}\"]\nmax_tlp = \"green\"\nextra = 1\n"
            ))
            .is_err()
        );
        assert!(
            FederationPolicy::parse(&format!("[peers.\"{PEER}\"]\nmax_tlp = \"purple\"\n"))
                .is_err()
        );
        assert_eq!(
            FederationPolicy::parse("[peers.partner-csirt]\nmax_tlp = \"clear\"\n"),
            Err(FederationPolicyError::NotAPeerName("partner-csirt".into()))
        );
    }
}
