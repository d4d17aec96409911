//! The collection each peer's material lands in here. Its id is derived from the peer's
//! principal id, so that every instance of a deployment (and every restart) names it alike
//! without storing it, and TAXII clients can be configured once.

use crate::domain::principal::PrincipalId;

/// The namespace of per-peer collection ids (a fixed random UUID).
const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x5d1c_2a8e_9b7f_4e31_a6c4_0f2e_8d9b_7a13);

/// The id of the collection `peer`'s material lands in.
pub fn peer_collection_id(peer: &PrincipalId) -> String {
    uuid::Uuid::new_v5(&NAMESPACE, peer.as_str().as_bytes()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_stable_collection_per_peer() {
        let a = PrincipalId::from_stored("principal--0b6f1c9e-8d2a-4c3b-9e7f-5a4d3c2b1a09".into());
        let b = PrincipalId::from_stored("principal--1b6f1c9e-8d2a-4c3b-9e7f-5a4d3c2b1a09".into());
        assert_eq!(peer_collection_id(&a), peer_collection_id(&a));
        assert_ne!(peer_collection_id(&a), peer_collection_id(&b));
        assert!(uuid::Uuid::parse_str(&peer_collection_id(&a)).is_ok());
        for shipped in &crate::domain::collections::COLLECTIONS {
            assert_ne!(shipped.id, peer_collection_id(&a));
        }
    }
}
