//! Who may change a federated object. A hub owns what it produced: an update or a revocation
//! of an object another hub delivered first (or that this hub produced) is accepted only from
//! that hub, so a peer cannot rewrite, revoke or re-mark a third party's intelligence on the
//! way through (MISP's sync lets the last writer win).

use crate::domain::principal::PrincipalId;

/// Where a stored version of an object came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    /// Produced here (any local collection).
    Local,
    /// Delivered by this peer.
    Peer(PrincipalId),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProvenanceRefused {
    #[error("{id} was produced by this hub; a peer may not update or revoke it")]
    Local { id: String },
    #[error("{id} came from another hub; only that hub may update or revoke it")]
    OtherPeer { id: String },
    #[error("created_by_ref {identity} is another hub's identity; only that hub may deliver it")]
    ClaimsAnotherHub { identity: String },
}

/// May `deliverer` bring a version of object `id`, created by `created_by`, given where the
/// versions already held came from and which identities the other configured peers declared
/// as theirs (`declared_by`)?
pub fn may_deliver<'a>(
    deliverer: &PrincipalId,
    id: &str,
    created_by: Option<&str>,
    held: impl IntoIterator<Item = &'a Holder>,
    declared_by: impl Fn(&str) -> Option<&'a PrincipalId>,
) -> Result<(), ProvenanceRefused> {
    if let Some(identity) = created_by
        && let Some(owner) = declared_by(identity)
        && owner != deliverer
    {
        return Err(ProvenanceRefused::ClaimsAnotherHub {
            identity: identity.to_owned(),
        });
    }
    for holder in held {
        match holder {
            Holder::Local => return Err(ProvenanceRefused::Local { id: id.to_owned() }),
            Holder::Peer(p) if p != deliverer => {
                return Err(ProvenanceRefused::OtherPeer { id: id.to_owned() });
            }
            Holder::Peer(_) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(n: u8) -> PrincipalId {
        PrincipalId::from_stored(format!(
            "principal--00000000-0000-4000-8000-0000000000{n:02}"
        ))
    }

    #[test]
    fn the_first_deliverer_owns_the_object() {
        let (a, b) = (p(1), p(2));
        assert_eq!(may_deliver(&a, "x", None, &[], |_: &str| None), Ok(()));
        assert_eq!(
            may_deliver(&a, "x", None, &[Holder::Peer(a.clone())], |_: &str| None),
            Ok(())
        );
        assert_eq!(
            may_deliver(&b, "x", None, &[Holder::Peer(a.clone())], |_: &str| None),
            Err(ProvenanceRefused::OtherPeer { id: "x".into() })
        );
        assert_eq!(
            may_deliver(&a, "x", None, &[Holder::Local], |_: &str| None),
            Err(ProvenanceRefused::Local { id: "x".into() })
        );
    }

    #[test]
    fn a_declared_identity_is_delivered_by_its_hub_only() {
        let (a, b) = (p(1), p(2));
        let declared = |identity: &str| (identity == "identity--a").then_some(&a);
        assert_eq!(
            may_deliver(&a, "x", Some("identity--a"), &[], declared),
            Ok(())
        );
        assert_eq!(
            may_deliver(&b, "x", Some("identity--a"), &[], declared),
            Err(ProvenanceRefused::ClaimsAnotherHub {
                identity: "identity--a".into()
            })
        );
        assert_eq!(
            may_deliver(&b, "x", Some("identity--b"), &[], declared),
            Ok(())
        );
    }
}
