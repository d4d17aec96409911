//! Whether a verified client certificate gives its holder access to the main listener.
//!
//! TLS has already checked the chain, the validity period, the CRL and the EKU by the time this
//! runs. This is the registry's half of the decision: the public key must be bound to a
//! principal, the binding must not be revoked, and both the principal and its organisation must
//! be in a state that grants access. There is no anonymous fallback.

use std::fmt;

use time::OffsetDateTime;

use super::principal::{
    CertificateBinding, Organisation, OrganisationStatus, Principal, PrincipalKind, PrincipalStatus,
};

/// Why a client that completed the TLS handshake is refused. Kept apart from the response so
/// the log says exactly why while the client learns only that it was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The public key is bound to no principal.
    UnboundCertificate,
    /// The binding was revoked in the registry (the CRL may not have caught up yet).
    RevokedCertificate,
    /// Outside the validity period recorded at binding.
    CertificateNotValidNow,
    PrincipalNotActive(PrincipalStatus),
    OrganisationWithoutAccess(OrganisationStatus),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::UnboundCertificate => f.write_str("certificate bound to no principal"),
            Refusal::RevokedCertificate => f.write_str("certificate revoked"),
            Refusal::CertificateNotValidNow => f.write_str("certificate outside its validity"),
            Refusal::PrincipalNotActive(s) => write!(f, "principal is {s}"),
            Refusal::OrganisationWithoutAccess(s) => write!(f, "organisation is {s}"),
        }
    }
}

/// The registry records that stand behind one client certificate.
#[derive(Debug, Clone)]
pub struct RegistryRecord {
    pub binding: CertificateBinding,
    pub principal: Principal,
    pub organisation: Organisation,
}

/// A caller of one kind, checked once: a use-case that only that kind may run takes one of
/// these, so that the check is the type's and cannot be forgotten or copied.
macro_rules! role {
    ($(#[$doc:meta])* $name:ident, $kind:path) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(RegistryRecord);

        impl $name {
            /// The caller as this kind, if it is this kind.
            pub fn new(record: RegistryRecord) -> Option<Self> {
                (record.principal.kind == $kind).then_some(Self(record))
            }

            pub fn record(&self) -> &RegistryRecord {
                &self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = RegistryRecord;

            fn deref(&self) -> &RegistryRecord {
                &self.0
            }
        }
    };
}

role!(
    /// A CSIRT analyst.
    Analyst,
    PrincipalKind::Analyst
);
role!(
    /// A referenced provider's principal.
    Provider,
    PrincipalKind::Provider
);
role!(
    /// A partner CSIRT's hub.
    PeerHub,
    PrincipalKind::Peer
);

/// Decides access for the holder of a certificate whose binding lookup gave `record`.
pub fn authorise(record: Option<&RegistryRecord>, now: OffsetDateTime) -> Result<(), Refusal> {
    let record = record.ok_or(Refusal::UnboundCertificate)?;
    if record.binding.is_revoked() {
        return Err(Refusal::RevokedCertificate);
    }
    if now < record.binding.not_before || now > record.binding.not_after {
        return Err(Refusal::CertificateNotValidNow);
    }
    if record.principal.status != PrincipalStatus::Active {
        return Err(Refusal::PrincipalNotActive(record.principal.status));
    }
    if !record.organisation.status.grants_access() {
        return Err(Refusal::OrganisationWithoutAccess(
            record.organisation.status,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::principal::*;
    use time::macros::datetime;

    fn record() -> RegistryRecord {
        let created = datetime!(2026-01-01 0:00 UTC);
        let organisation = Organisation {
            id: OrganisationId::generate(),
            name: "Provider A".into(),
            kind: OrganisationKind::Provider,
            status: OrganisationStatus::Referenced,
            created_at: created,
        };
        let principal = Principal {
            id: PrincipalId::generate(),
            organisation_id: organisation.id.clone(),
            kind: PrincipalKind::Provider,
            name: "soc-tool".into(),
            status: PrincipalStatus::Active,
            created_at: created,
        };
        let binding = CertificateBinding {
            fingerprint: SpkiFingerprint::from_bytes([7; 32]),
            principal_id: principal.id.clone(),
            serial: "01".into(),
            subject: "CN=soc-tool".into(),
            issuer: "CN=ca".into(),
            not_before: created,
            not_after: datetime!(2027-01-01 0:00 UTC),
            issued_by_hub: true,
            revoked_at: None,
            revocation_reason: None,
            created_at: created,
        };
        RegistryRecord {
            binding,
            principal,
            organisation,
        }
    }

    const NOW: OffsetDateTime = datetime!(2026-06-01 0:00 UTC);

    #[test]
    fn active_binding_is_authorised() {
        assert_eq!(authorise(Some(&record()), NOW), Ok(()));
    }

    #[test]
    fn no_binding_no_entry() {
        assert_eq!(authorise(None, NOW), Err(Refusal::UnboundCertificate));
    }

    #[test]
    fn revoked_binding_refused() {
        let mut r = record();
        r.binding.revoked_at = Some(NOW);
        assert_eq!(authorise(Some(&r), NOW), Err(Refusal::RevokedCertificate));
    }

    #[test]
    fn validity_is_checked_against_the_given_clock() {
        let r = record();
        assert_eq!(
            authorise(Some(&r), datetime!(2027-01-02 0:00 UTC)),
            Err(Refusal::CertificateNotValidNow)
        );
        assert_eq!(
            authorise(Some(&r), datetime!(2025-12-31 0:00 UTC)),
            Err(Refusal::CertificateNotValidNow)
        );
    }

    #[test]
    fn suspended_principal_or_organisation_refused() {
        let mut r = record();
        r.principal.status = PrincipalStatus::Suspended;
        assert_eq!(
            authorise(Some(&r), NOW),
            Err(Refusal::PrincipalNotActive(PrincipalStatus::Suspended))
        );
        let mut r = record();
        r.organisation.status = OrganisationStatus::Dereferenced;
        assert_eq!(
            authorise(Some(&r), NOW),
            Err(Refusal::OrganisationWithoutAccess(
                OrganisationStatus::Dereferenced
            ))
        );
    }
}
