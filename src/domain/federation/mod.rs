//! Federation with partner CSIRT hubs: what each peer may read here (egress), what this hub
//! pulls from it (ingress), where an outbound request may go, and who may change a federated
//! object. Pure rules; the workers and the TAXII client live in `services::federation`.

pub mod address;
pub mod backoff;
pub mod collection;
pub mod policy;
pub mod provenance;

pub use policy::{
    FederationPolicy, FederationPolicyError, Ingress, PeerEgress, PeerEntry, SHIPPED,
};
