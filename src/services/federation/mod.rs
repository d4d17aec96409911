//! Federation with partner hubs, inbound: the policy loaded and resolved against the
//! registry, a worker per peer that pulls its collections over mutual TLS, what a peer would
//! read here, and the status of each peer. Outbound reads are the TAXII endpoints themselves,
//! under the one release decision.

pub mod client;
pub mod preview;
pub mod pull;
pub mod status;
pub mod witness;
pub mod worker;

use std::path::Path;

use crate::domain::access::RegistryRecord;
use crate::domain::federation::{FederationPolicy, FederationPolicyError};
use crate::domain::principal::{PrincipalId, PrincipalKind};
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum FederationError {
    #[error("{path}: {source}")]
    Policy {
        path: String,
        source: FederationPolicyError,
    },
    #[error("{path}: {problem}")]
    Read { path: String, problem: String },
    #[error("peer {peer}: {source}")]
    Client {
        peer: String,
        source: client::ClientError,
    },
    #[error("peer {0} has no principal of kind peer in the registry")]
    UnknownPeer(String),
    #[error("peer {0}: no ingress, or ingress.enabled = false")]
    NotPulled(String),
    #[error(transparent)]
    Pull(#[from] pull::PullError),
    #[error("peer {peer}: witnessing: {source}")]
    Witness {
        peer: String,
        source: witness::WitnessError,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reads and checks the policy file.
pub fn read_policy(path: &Path) -> Result<FederationPolicy, FederationError> {
    let text = std::fs::read_to_string(path).map_err(|e| FederationError::Read {
        path: path.display().to_string(),
        problem: e.to_string(),
    })?;
    FederationPolicy::parse(&text).map_err(|source| FederationError::Policy {
        path: path.display().to_string(),
        source,
    })
}

/// Names each entry's principal: an id, or "organisation/principal", of kind peer.
pub async fn resolve(
    store: &dyn Store,
    policy: FederationPolicy,
) -> Result<FederationPolicy, StoreError> {
    let organisations = store.organisations().await?;
    let principals: Vec<_> = store
        .principals()
        .await?
        .into_iter()
        .filter(|p| p.kind == PrincipalKind::Peer)
        .collect();
    Ok(policy.resolve(|name| {
        if let Some(p) = principals.iter().find(|p| p.id.as_str() == name) {
            return Some(p.id.clone());
        }
        let (org, principal) = name.split_once('/')?;
        let org = organisations.iter().find(|o| o.name == org)?;
        principals
            .iter()
            .find(|p| p.organisation_id == org.id && p.name == principal)
            .map(|p| p.id.clone())
    }))
}

/// The registry record the hub acts as when it stores what `peer` delivered: its principal,
/// organisation and newest unrevoked certificate binding.
pub async fn peer_record(
    store: &dyn Store,
    peer: &PrincipalId,
) -> Result<Option<RegistryRecord>, StoreError> {
    let Some(binding) = store
        .bindings()
        .await?
        .into_iter()
        .filter(|b| b.principal_id == *peer && b.revoked_at.is_none())
        .max_by_key(|b| b.created_at)
    else {
        return Ok(None);
    };
    store.registry_record(&binding.fingerprint).await
}
