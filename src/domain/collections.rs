//! The TAXII collections relais ships. Collection access (who may read or write a collection
//! at all) comes first; inside a collection, the marking decision decides object by object.

use crate::domain::principal::PrincipalKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Collection {
    pub id: &'static str,
    pub alias: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    readers: &'static [PrincipalKind],
    writers: &'static [PrincipalKind],
}

use PrincipalKind::{Analyst, Peer, Provider};

/// The shipped collections. Ids are fixed so that clients can be configured once.
pub const COLLECTIONS: [Collection; 3] = [
    Collection {
        id: "9cfa669c-ee94-4ece-afd2-f8edac37d8fd",
        alias: "community",
        title: "Community",
        description: "Anonymised indicators and techniques shared with the community of \
                      referenced providers and partner CSIRTs.",
        readers: &[Analyst, Provider, Peer],
        writers: &[Analyst],
    },
    Collection {
        id: "2f1b3c38-5a4e-4d1f-9a53-6f1e2c7d8b90",
        alias: "submissions",
        title: "Provider submissions",
        description: "Indicators and techniques submitted by providers from their \
                      investigations, for the CSIRT's triage.",
        readers: &[Analyst, Provider],
        writers: &[Analyst, Provider],
    },
    Collection {
        id: "c6d0a8e4-71b2-4f43-8e0c-3a5d9b1f2e47",
        alias: "csirt-internal",
        title: "CSIRT internal",
        description: "Working material of the CSIRT's analysts.",
        readers: &[Analyst],
        writers: &[Analyst],
    },
];

/// Where the CSIRT shares with the community.
pub const COMMUNITY: &Collection = &COLLECTIONS[0];
/// Where providers submit, for the CSIRT's triage.
pub const SUBMISSIONS: &Collection = &COLLECTIONS[1];

impl Collection {
    pub fn by_id(id: &str) -> Option<&'static Collection> {
        COLLECTIONS.iter().find(|c| c.id == id)
    }

    /// A shipped collection by its alias (as policy files name them) or its id.
    pub fn by_alias_or_id(name: &str) -> Option<&'static Collection> {
        COLLECTIONS.iter().find(|c| c.alias == name || c.id == name)
    }

    pub fn can_read(&self, kind: PrincipalKind) -> bool {
        self.readers.contains(&kind)
    }

    pub fn can_write(&self, kind: PrincipalKind) -> bool {
        self.writers.contains(&kind)
    }

    /// A collection the caller may neither read nor write does not exist for it.
    pub fn visible_to(&self, kind: PrincipalKind) -> bool {
        self.can_read(kind) || self.can_write(kind)
    }
}

/// The collection a peer's material lands in (`domain::federation::collection`): read by the
/// CSIRT, by providers as far as the marking rules for federated material allow, and by other
/// peers only where the federation policy lets that peer's material be re-shared. Only the
/// federation worker writes to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerCollection {
    pub id: String,
    pub alias: String,
    pub title: String,
    pub peer: crate::domain::principal::PrincipalId,
}

/// A collection as one caller reaches it: shipped, or a peer's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CollectionRef {
    Shipped(&'static Collection),
    Peer(PeerCollection),
}

impl CollectionRef {
    pub fn id(&self) -> &str {
        match self {
            CollectionRef::Shipped(c) => c.id,
            CollectionRef::Peer(p) => &p.id,
        }
    }

    pub fn alias(&self) -> &str {
        match self {
            CollectionRef::Shipped(c) => c.alias,
            CollectionRef::Peer(p) => &p.alias,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_uuids() {
        for c in &COLLECTIONS {
            assert!(uuid::Uuid::parse_str(c.id).is_ok(), "{}", c.id);
            assert_eq!(COLLECTIONS.iter().filter(|o| o.id == c.id).count(), 1);
        }
    }

    #[test]
    fn peers_never_see_internal_or_submissions() {
        let internal = Collection::by_id(COLLECTIONS[2].id).unwrap();
        assert!(!internal.visible_to(PrincipalKind::Peer));
        assert!(!internal.visible_to(PrincipalKind::Provider));
        assert!(!COLLECTIONS[1].visible_to(PrincipalKind::Peer));
        assert!(COLLECTIONS[0].can_read(PrincipalKind::Peer));
        assert!(!COLLECTIONS[0].can_write(PrincipalKind::Provider));
    }
}
