//! Which reads go on the audit record. One rule for every way out (TAXII pages, exports, the
//! triage queue and item, cases), so that what an auditor can reconstruct does not depend on
//! the door the material left by.

use crate::domain::markings::Tlp;
use crate::domain::markings::release::ObjectAccess;

/// What was read, as far as the record is concerned.
#[derive(Debug, Clone, Copy)]
pub enum Material<'a> {
    /// A stored object, with its markings.
    Object(&'a ObjectAccess),
    /// A provider's submission in the triage queue, at its producer's TLP.
    Submission { tlp: Tlp },
    /// A victim case: who it is, whom it was handed to.
    Case,
}

/// Whether handing `material` to a reader is logged before it is sent: anything marked
/// TLP:AMBER+STRICT or RED (anywhere in it), and what the CSIRT holds for one organisation
/// only: a provider's submission, case material kept back for want of consent, a case.
pub fn on_record(material: Material<'_>) -> bool {
    match material {
        Material::Object(access) => {
            access.confined
                || access.submission
                || restricted(access.tlp)
                || access.granular_max().is_some_and(restricted)
        }
        Material::Submission { .. } | Material::Case => true,
    }
}

fn restricted(tlp: Tlp) -> bool {
    tlp >= Tlp::AmberStrict
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::markings::release::GranularTlp;
    use crate::domain::principal::OrganisationId;

    fn access(tlp: Tlp) -> ObjectAccess {
        ObjectAccess {
            tlp,
            pap: None,
            producer: OrganisationId::from_stored("org--1".into()),
            shared_with: vec![],
            recipients: vec![],
            granular: vec![],
            confined: false,
            submission: false,
            origin_peer: None,
        }
    }

    #[test]
    fn restricted_and_held_material_is_on_record() {
        assert!(!on_record(Material::Object(&access(Tlp::Clear))));
        assert!(!on_record(Material::Object(&access(Tlp::Amber))));
        assert!(on_record(Material::Object(&access(Tlp::AmberStrict))));
        assert!(on_record(Material::Object(&access(Tlp::Red))));
        let mut granular = access(Tlp::Green);
        granular.granular.push(GranularTlp {
            tlp: Tlp::Red,
            selectors: vec!["description".into()],
        });
        assert!(on_record(Material::Object(&granular)));
        let mut confined = access(Tlp::Clear);
        confined.confined = true;
        assert!(on_record(Material::Object(&confined)));
        let mut submission = access(Tlp::Clear);
        submission.submission = true;
        assert!(on_record(Material::Object(&submission)));
        assert!(on_record(Material::Submission { tlp: Tlp::Clear }));
        assert!(on_record(Material::Case));
    }
}
