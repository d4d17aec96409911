//! Who may publish what: a new version of an object never lowers its markings unless its
//! producer does, and an object names as its creator only the organisation that produces it.

use super::markings::release::ObjectAccess;
use super::markings::{Pap, Tlp};
use super::principal::OrganisationId;

/// Who posts.
#[derive(Debug, Clone, Copy)]
pub struct Poster<'a> {
    pub organisation: &'a OrganisationId,
    /// A CSIRT analyst: may raise others' markings.
    pub csirt: bool,
    /// May name a third party as creator: the CSIRT relays outside sources, a partner hub
    /// delivers what other hubs produced. Never one of this hub's members.
    pub relays: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishRefusal {
    /// One message for every marking refusal, which names no marking: it tells the poster no
    /// more than it can read of the stored object.
    #[error("only the producer may publish this version (the CSIRT may raise its markings)")]
    NotProducer,
    #[error(
        "created_by_ref must be the identity of the organisation that produces the object \
         ({expected}) or absent"
    )]
    ForeignAttribution { expected: String },
}

/// Whether a PAP goes down: to a lower level, or to none at all (absent, the object would no
/// longer restrict what its recipients do with it).
fn pap_lowered(previous: Option<Pap>, new: Option<Pap>) -> bool {
    match (previous, new) {
        (Some(p), Some(n)) => n < p,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// Checks a new version of an object the poster may read, whose latest version has
/// `previous` markings. The producing organisation changes anything; the CSIRT raises TLP and
/// PAP but never lowers either (OpenCTI CVE-2026-35210); anyone else keeps them as they are.
pub fn check_new_version(
    poster: Poster<'_>,
    previous: &ObjectAccess,
    tlp: Tlp,
    pap: Option<Pap>,
) -> Result<(), PublishRefusal> {
    if previous.producer == *poster.organisation {
        return Ok(());
    }
    let changed = tlp != previous.tlp || pap != previous.pap;
    let lowered = tlp < previous.tlp || pap_lowered(previous.pap, pap);
    if lowered || (changed && !poster.csirt) {
        return Err(PublishRefusal::NotProducer);
    }
    Ok(())
}

/// Checks an object's `created_by_ref` (melicertes/csp #27): it names the producing
/// organisation's identity, or nothing. The CSIRT may also relay what a third party created
/// (ATT&CK names MITRE), as long as that party is no organisation of this hub: nobody speaks
/// for another member. `member_identity` says whether an identity is some member's.
pub fn check_attribution(
    created_by_ref: Option<&str>,
    producer: &OrganisationId,
    poster: Poster<'_>,
    member_identity: impl Fn(&str) -> bool,
) -> Result<(), PublishRefusal> {
    let Some(named) = created_by_ref else {
        return Ok(());
    };
    let expected = producer.stix_identity();
    if named == expected || (poster.relays && !member_identity(named)) {
        return Ok(());
    }
    Err(PublishRefusal::ForeignAttribution { expected })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(n: u8) -> OrganisationId {
        OrganisationId::from_stored(format!("org--{n}"))
    }

    fn previous(tlp: Tlp, pap: Option<Pap>, producer: u8) -> ObjectAccess {
        ObjectAccess {
            tlp,
            pap,
            producer: org(producer),
            shared_with: vec![],
            recipients: vec![],
            granular: vec![],
            confined: false,
            submission: false,
            origin_peer: None,
        }
    }

    #[test]
    fn the_csirt_raises_markings_but_never_lowers_tlp_or_pap() {
        let csirt = org(0);
        let analyst = Poster {
            organisation: &csirt,
            csirt: true,
            relays: true,
        };
        let p = previous(Tlp::Green, Some(Pap::Red), 1);
        assert_eq!(
            check_new_version(analyst, &p, Tlp::Green, Some(Pap::Red)),
            Ok(())
        );
        assert_eq!(
            check_new_version(analyst, &p, Tlp::Amber, Some(Pap::Red)),
            Ok(())
        );
        for (tlp, pap) in [
            (Tlp::Green, Some(Pap::Clear)),
            (Tlp::Green, None),
            (Tlp::Clear, Some(Pap::Red)),
        ] {
            assert_eq!(
                check_new_version(analyst, &p, tlp, pap),
                Err(PublishRefusal::NotProducer),
                "{tlp} {pap:?}"
            );
        }
        // The producer lowers its own.
        let one = org(1);
        let producer = Poster {
            organisation: &one,
            csirt: false,
            relays: false,
        };
        assert_eq!(check_new_version(producer, &p, Tlp::Clear, None), Ok(()));
        // Anyone else changes nothing, not even upwards.
        let two = org(2);
        let other = Poster {
            organisation: &two,
            csirt: false,
            relays: false,
        };
        assert!(check_new_version(other, &p, Tlp::Red, Some(Pap::Red)).is_err());
        assert!(check_new_version(other, &p, Tlp::Green, Some(Pap::Red)).is_ok());
    }

    #[test]
    fn attribution_names_the_producer_or_a_third_party_relayed_by_the_csirt() {
        let (csirt, a, b) = (org(0), org(1), org(2));
        let members = [csirt.stix_identity(), a.stix_identity(), b.stix_identity()];
        let member = |id: &str| members.iter().any(|m| m == id);
        let provider_a = Poster {
            organisation: &a,
            csirt: false,
            relays: false,
        };
        let analyst = Poster {
            organisation: &csirt,
            csirt: true,
            relays: true,
        };
        let mitre = "identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5";
        assert!(check_attribution(None, &a, provider_a, member).is_ok());
        assert!(check_attribution(Some(&a.stix_identity()), &a, provider_a, member).is_ok());
        for spoofed in [csirt.stix_identity(), b.stix_identity(), mitre.to_owned()] {
            assert!(check_attribution(Some(&spoofed), &a, provider_a, member).is_err());
        }
        assert!(check_attribution(Some(mitre), &csirt, analyst, member).is_ok());
        assert!(check_attribution(Some(&b.stix_identity()), &csirt, analyst, member).is_err());
        // A new version of provider A's object keeps A's attribution, even from the CSIRT.
        assert!(check_attribution(Some(&a.stix_identity()), &a, analyst, member).is_ok());
    }

    #[test]
    fn identities_are_stable_and_distinct() {
        assert_eq!(org(1).stix_identity(), org(1).stix_identity());
        assert_ne!(org(1).stix_identity(), org(2).stix_identity());
    }

    #[test]
    fn a_partner_hub_relays_third_parties_but_never_speaks_for_a_member() {
        let peer_org = org(8);
        let member = org(9);
        let peer = Poster {
            organisation: &peer_org,
            csirt: false,
            relays: true,
        };
        let third_party = "identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5";
        let is_member = |named: &str| named == member.stix_identity();
        assert_eq!(
            check_attribution(Some(third_party), &peer_org, peer, is_member),
            Ok(())
        );
        assert!(
            check_attribution(Some(&member.stix_identity()), &peer_org, peer, is_member).is_err()
        );
    }
}
