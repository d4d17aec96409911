//! Certificate administration: issue, bind, revoke, publish the CRL, list.

use std::path::PathBuf;

use time::{Duration, OffsetDateTime};

use crate::domain::audit::record::{Acting, AuditRecord};
use crate::domain::principal::{
    self, CertificateBinding, InvalidName, Organisation, OrganisationId, OrganisationKind,
    OrganisationStatus, Principal, PrincipalId, PrincipalKind, PrincipalStatus, SpkiFingerprint,
};
use crate::pki::ca::{ClientUsage, pem_encode};
use crate::pki::{
    CertificateAuthority, CertificateInfo, ClientSubject, IssuedCertificate, PkiError,
};
use crate::store::{Store, StoreError, StoredCrl};

#[derive(Debug, thiserror::Error)]
pub enum PkiServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error(transparent)]
    InvalidName(#[from] InvalidName),
    #[error("organisation {name:?} is a {actual} organisation, not a {wanted} one")]
    KindMismatch {
        name: String,
        actual: OrganisationKind,
        wanted: OrganisationKind,
    },
    #[error("no certificate with {0}")]
    NoSuchCertificate(String),
    #[error("certificate is a CA certificate; bind an end-entity certificate")]
    CaCertificate,
    #[error("certificate does not chain to a trusted client CA: {0}")]
    Untrusted(String),
    #[error("validity must be between 1 and 3650 days")]
    BadValidity,
    #[error("the CRL number was taken by another writer five times in a row; try again")]
    CrlContention,
}

/// How an operation's result is recorded on disk next to the database.
#[derive(Debug, Clone)]
pub struct PkiPaths {
    pub crl: PathBuf,
}

/// Finds an organisation by name or creates it. A new provider organisation starts as
/// `applied`: its certificates work once the registry references it.
pub async fn ensure_organisation(
    store: &dyn Store,
    name: &str,
    kind: OrganisationKind,
    acting: &Acting,
) -> Result<Organisation, PkiServiceError> {
    let now = acting.at;
    principal::validate_name("organisation", name)?;
    if let Some(org) = store.organisation_by_name(name).await? {
        return check_kind(org, kind);
    }
    let org = Organisation {
        id: OrganisationId::generate(),
        name: name.to_owned(),
        kind,
        // A provider is referenced through the registry only: until then its certificates
        // open nothing.
        status: match kind {
            OrganisationKind::Provider => OrganisationStatus::Applied,
            OrganisationKind::Csirt | OrganisationKind::Peer => OrganisationStatus::Active,
        },
        created_at: now,
    };
    let audit = acting
        .record("organisation.create")
        .objects([org.id.as_str()])
        .reason(format!("kind {}", org.kind.as_str()));
    match store.insert_organisation(&org, &audit).await {
        Ok(()) => Ok(org),
        // Another process created it between our read and our write.
        Err(StoreError::Conflict(_)) => {
            let org = store
                .organisation_by_name(name)
                .await?
                .ok_or(StoreError::NotFound("organisation"))?;
            check_kind(org, kind)
        }
        Err(e) => Err(e.into()),
    }
}

fn check_kind(
    org: Organisation,
    wanted: OrganisationKind,
) -> Result<Organisation, PkiServiceError> {
    if org.kind == wanted {
        Ok(org)
    } else {
        Err(PkiServiceError::KindMismatch {
            name: org.name,
            actual: org.kind,
            wanted,
        })
    }
}

pub async fn ensure_principal(
    store: &dyn Store,
    subject: &ClientSubject,
    acting: &Acting,
) -> Result<Principal, PkiServiceError> {
    let now = acting.at;
    principal::validate_name("principal", &subject.name)?;
    let org = ensure_organisation(
        store,
        &subject.organisation,
        subject.kind.organisation_kind(),
        acting,
    )
    .await?;
    if let Some(p) = store.principal_by_name(&org.id, &subject.name).await? {
        return Ok(p);
    }
    let p = Principal {
        id: PrincipalId::generate(),
        organisation_id: org.id.clone(),
        kind: subject.kind,
        name: subject.name.clone(),
        status: PrincipalStatus::Active,
        created_at: now,
    };
    let audit = acting
        .record("principal.create")
        .objects([p.id.as_str(), org.id.as_str()])
        .reason(format!("kind {}", p.kind.as_str()));
    match store.insert_principal(&p, &audit).await {
        Ok(()) => Ok(p),
        Err(StoreError::Conflict(_)) => Ok(store
            .principal_by_name(&org.id, &subject.name)
            .await?
            .ok_or(StoreError::NotFound("principal"))?),
        Err(e) => Err(e.into()),
    }
}

/// The record of a change to a certificate binding: the key's fingerprint and its principal.
fn binding_record(acting: &Acting, action: &str, binding: &CertificateBinding) -> AuditRecord {
    acting.record(action).objects([
        format!("spki:{}", binding.fingerprint.to_hex()),
        binding.principal_id.as_str().to_owned(),
    ])
}

fn binding_for(
    principal: &Principal,
    info: &CertificateInfo,
    issued_by_hub: bool,
    now: OffsetDateTime,
) -> CertificateBinding {
    CertificateBinding {
        fingerprint: info.fingerprint,
        principal_id: principal.id.clone(),
        serial: info.serial.clone(),
        subject: info.subject.clone(),
        issuer: info.issuer.clone(),
        not_before: info.not_before,
        not_after: info.not_after,
        issued_by_hub,
        revoked_at: None,
        revocation_reason: None,
        created_at: now,
    }
}

/// Issues a client certificate from the hub's CA and binds it to the principal (created if
/// needed).
pub async fn issue(
    store: &dyn Store,
    ca: &CertificateAuthority,
    subject: &ClientSubject,
    usage: ClientUsage,
    validity_days: u32,
    acting: &Acting,
) -> Result<(Principal, IssuedCertificate), PkiServiceError> {
    let now = acting.at;
    if !(1..=3650).contains(&validity_days) {
        return Err(PkiServiceError::BadValidity);
    }
    let principal = ensure_principal(store, subject, acting).await?;
    let issued = ca.issue_client(subject, usage, now, Duration::days(validity_days.into()))?;
    let binding = binding_for(&principal, &issued.info, true, now);
    store
        .insert_binding(
            &binding,
            &binding_record(acting, "certificate.issue", &binding),
        )
        .await?;
    Ok((principal, issued))
}

/// Binds a certificate issued elsewhere (from a CSR signed offline, or by a partner's CA listed
/// in `tls.extra_client_cas`) to a principal, by its public key. The certificate must pass the
/// same verification the main listener applies, so that a binding never exists for a
/// certificate the hub would refuse anyway.
pub async fn bind_external(
    store: &dyn Store,
    cert_der: &[u8],
    verify: impl FnOnce(&[u8]) -> Result<bool, String>,
    subject: &ClientSubject,
    acting: &Acting,
) -> Result<(Principal, CertificateBinding), PkiServiceError> {
    let now = acting.at;
    let info = CertificateInfo::from_der(cert_der)?;
    if info.is_ca {
        return Err(PkiServiceError::CaCertificate);
    }
    let issued_by_hub = verify(cert_der).map_err(PkiServiceError::Untrusted)?;
    let principal = ensure_principal(store, subject, acting).await?;
    let binding = binding_for(&principal, &info, issued_by_hub, now);
    store
        .insert_binding(
            &binding,
            &binding_record(acting, "certificate.bind", &binding),
        )
        .await?;
    Ok((principal, binding))
}

/// What `revoke` is given to find the certificate.
#[derive(Debug, Clone)]
pub enum CertificateSelector {
    Serial(String),
    Fingerprint(SpkiFingerprint),
}

/// Revokes a binding and, for a certificate of the hub's CA, publishes a new CRL. The binding
/// is revoked first: every hub refuses the key at its next request whatever happens to the CRL.
pub async fn revoke(
    store: &dyn Store,
    ca: Option<&CertificateAuthority>,
    paths: &PkiPaths,
    selector: &CertificateSelector,
    reason: &str,
    acting: &Acting,
) -> Result<(CertificateBinding, Option<StoredCrl>), PkiServiceError> {
    let now = acting.at;
    let binding = find(store, selector).await?;
    store
        .revoke_binding(
            &binding.fingerprint,
            now,
            reason,
            &binding_record(acting, "certificate.revoke", &binding).reason(reason),
        )
        .await?;
    let crl = match (binding.issued_by_hub, ca) {
        (true, Some(ca)) => Some(publish_crl(store, ca, paths, acting).await?),
        _ => None,
    };
    let binding = store
        .binding(&binding.fingerprint)
        .await?
        .ok_or(StoreError::NotFound("certificate binding"))?;
    Ok((binding, crl))
}

async fn find(
    store: &dyn Store,
    selector: &CertificateSelector,
) -> Result<CertificateBinding, PkiServiceError> {
    match selector {
        CertificateSelector::Fingerprint(fp) => store
            .binding(fp)
            .await?
            .ok_or_else(|| PkiServiceError::NoSuchCertificate(format!("fingerprint {fp}"))),
        CertificateSelector::Serial(serial) => {
            let wanted = serial
                .trim_start_matches('0')
                .to_ascii_lowercase()
                .replace(':', "");
            let matches: Vec<_> = store
                .bindings()
                .await?
                .into_iter()
                .filter(|b| b.issued_by_hub && b.serial.trim_start_matches('0') == wanted)
                .collect();
            match <[CertificateBinding; 1]>::try_from(matches) {
                Ok([b]) => Ok(b),
                Err(_) => Err(PkiServiceError::NoSuchCertificate(format!(
                    "serial {serial}"
                ))),
            }
        }
    }
}

/// Signs a CRL of every revoked hub certificate under the next number, stores it (running hubs
/// pick it up from the database) and writes it as PEM.
pub async fn publish_crl(
    store: &dyn Store,
    ca: &CertificateAuthority,
    paths: &PkiPaths,
    acting: &Acting,
) -> Result<StoredCrl, PkiServiceError> {
    let now = acting.at;
    let revoked: Vec<(String, OffsetDateTime)> = store
        .bindings()
        .await?
        .into_iter()
        .filter(|b| b.issued_by_hub)
        .filter_map(|b| b.revoked_at.map(|at| (b.serial, at)))
        .collect();
    for _ in 0..5 {
        let number = store.latest_crl_number().await?.unwrap_or(0) + 1;
        let der = ca.sign_crl(number, &revoked, now, Duration::days(7))?;
        let crl = StoredCrl {
            number,
            der,
            this_update: now,
        };
        let audit = acting
            .record("crl.publish")
            .objects([format!("crl:{number}")])
            .reason(format!("{} revoked certificates", revoked.len()));
        match store.insert_crl(&crl, &audit).await {
            Ok(()) => {
                crate::pki::files::write_public(
                    &paths.crl,
                    pem_encode("X509 CRL", &crl.der).as_bytes(),
                )?;
                return Ok(crl);
            }
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(PkiServiceError::CrlContention)
}

/// One line of `relais pki list`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CertificateListing {
    pub binding: CertificateBinding,
    pub principal: Option<Principal>,
    pub organisation: Option<Organisation>,
}

pub async fn list(store: &dyn Store) -> Result<Vec<CertificateListing>, PkiServiceError> {
    let principals = store.principals().await?;
    let organisations = store.organisations().await?;
    Ok(store
        .bindings()
        .await?
        .into_iter()
        .map(|binding| {
            let principal = principals
                .iter()
                .find(|p| p.id == binding.principal_id)
                .cloned();
            let organisation = principal.as_ref().and_then(|p| {
                organisations
                    .iter()
                    .find(|o| o.id == p.organisation_id)
                    .cloned()
            });
            CertificateListing {
                binding,
                principal,
                organisation,
            }
        })
        .collect())
}

/// The organisation kind analysts belong to is the hub's own CSIRT.
pub fn analyst_organisation(
    kind: PrincipalKind,
    hub_organisation: &str,
    given: Option<&str>,
) -> Option<String> {
    match (kind, given) {
        (_, Some(org)) => Some(org.to_owned()),
        (PrincipalKind::Analyst, None) => Some(hub_organisation.to_owned()),
        _ => None,
    }
}
