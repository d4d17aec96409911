//! The demo registry of a new data directory (`pki.demo`): a first convention version and the
//! four demo providers referenced under it (so that a case's shortlist of three has a choice
//! to make), each with its own OpenPGP key (written next to its certificate, to try signing
//! and to decrypt handoff packages) and a real signature of the convention, so that a new user
//! sees a filled directory and can walk the whole lifecycle.

use std::path::Path;

use time::OffsetDateTime;

use crate::crypto::openpgp::{AuditKey, OpenPgpError};
use crate::domain::audit::record::Acting;
use crate::domain::registry::file::{
    Contact, ProviderFile, Qualification, QualificationKind, Service, ServiceOffer,
};
use crate::pki::PkiError;
use crate::services::registry::{Csirt, RegistryError, adopt};
use crate::store::registry::Convention;
use crate::store::{Store, StoreError};

/// The text of the demo convention (version 1 of a demo hub).
pub const DEMO_CONVENTION: &str = include_str!("convention-demo.txt");

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("demo provider key: {0}")]
    Key(#[from] OpenPgpError),
    #[error(transparent)]
    Files(#[from] PkiError),
}

struct DemoProvider {
    principal: &'static str,
    organisation: &'static str,
    siren: &'static str,
    qualification: Option<(QualificationKind, &'static str)>,
    fields: &'static [&'static str],
    jhno: &'static [Service],
}

const PROVIDERS: [DemoProvider; 4] = [
    DemoProvider {
        principal: "provider-a",
        organisation: "Provider A (demo)",
        siren: "732829320",
        qualification: Some((QualificationKind::Pris, "pris-demo.txt")),
        fields: &["Windows", "Active Directory", "rançongiciels"],
        jhno: &[Service::Qualification, Service::Containment],
    },
    DemoProvider {
        principal: "provider-b",
        organisation: "Provider B (demo)",
        siren: "404833048",
        qualification: Some((QualificationKind::ExpertCyber, "expertcyber-demo.txt")),
        fields: &["messagerie", "sites web", "TPE/PME"],
        jhno: &[],
    },
    DemoProvider {
        principal: "provider-c",
        organisation: "Provider C (demo)",
        siren: "812345676",
        qualification: None,
        fields: &["collectivités", "Linux", "forensique"],
        jhno: &Service::ALL,
    },
    DemoProvider {
        principal: "provider-d",
        organisation: "Provider D (demo)",
        siren: "812345684",
        qualification: Some((QualificationKind::Acyma, "acyma-demo.txt")),
        fields: &["cloud", "Microsoft 365", "associations"],
        jhno: &[],
    },
];

/// Seeds what is missing; idempotent.
pub async fn seed(
    store: &dyn Store,
    demo_dir: &Path,
    now: OffsetDateTime,
) -> Result<(), DemoError> {
    let acting = Acting::hub(now);
    if store.conventions().await?.is_empty() {
        let audit = acting.record("registry.convention_publish").objects([
            "convention:1".to_owned(),
            format!(
                "sha256:{}",
                crate::crypto::sha256_hex(DEMO_CONVENTION.as_bytes())
            ),
        ]);
        match store
            .insert_convention(
                &Convention {
                    version: 1,
                    text: DEMO_CONVENTION.to_owned(),
                    published_at: now,
                },
                &audit,
            )
            .await
        {
            Ok(()) | Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    for demo in &PROVIDERS {
        let Some(org) = store.organisation_by_name(demo.organisation).await? else {
            continue;
        };
        if store.provider(&org.id).await?.is_some() {
            continue;
        }
        let key = AuditKey::generate_with_encryption(
            &format!(
                "{} <{}@provider.example>",
                demo.organisation, demo.principal
            ),
            now,
        )?;
        crate::pki::files::write_private(
            &demo_dir.join(format!("{}-openpgp.asc", demo.principal)),
            key.to_armored_secret()?.as_bytes(),
        )?;
        let mut qualifications = Vec::new();
        if let Some((kind, evidence_name)) = &demo.qualification {
            let content = format!(
                "Attestation de démonstration ({}) pour {}.\n",
                kind.label(),
                demo.organisation
            );
            let sha = crate::crypto::sha256_hex(content.as_bytes());
            let audit = acting
                .record("registry.evidence")
                .objects([format!("sha256:{sha}"), org.id.as_str().to_owned()]);
            store
                .insert_evidence(
                    &crate::store::registry::StoredEvidence {
                        sha256: sha.clone(),
                        organisation: Some(org.id.clone()),
                        name: (*evidence_name).to_owned(),
                        content: content.into_bytes(),
                        created_at: now,
                    },
                    &audit,
                )
                .await?;
            qualifications.push(Qualification {
                kind: kind.clone(),
                evidence_sha256: sha,
                evidence_name: (*evidence_name).to_owned(),
                expires: (now + time::Duration::days(730)).date(),
            });
        }
        let file = ProviderFile {
            legal_name: demo.organisation.to_owned(),
            siren: demo.siren.to_owned(),
            siret: None,
            contacts: vec![Contact {
                name: "Astreinte".into(),
                role: "réponse à incident".into(),
                email: format!("{}@provider.example", demo.principal),
                phone: String::new(),
            }],
            website: format!("https://{}.provider.example/", demo.principal),
            catalogue_url: format!(
                "https://{}.provider.example/services/reponse-incident",
                demo.principal
            ),
            catalogue_lists_incident_response: true,
            services: Service::ALL
                .into_iter()
                .map(|service| ServiceOffer {
                    service,
                    jho: true,
                    jhno: demo.jhno.contains(&service),
                })
                .collect(),
            fields_of_competence: demo.fields.iter().map(|f| (*f).to_owned()).collect(),
            qualifications,
            staff_training: "démonstration".into(),
            staff_experience: "démonstration".into(),
            client_references: Vec::new(),
            openpgp_key: key.public_armored()?,
        };
        let convention = store
            .conventions()
            .await?
            .pop()
            .ok_or(RegistryError::NoConvention)?;
        let signature = key.sign_detached(convention.text.as_bytes(), now)?;
        adopt(store, Csirt::Hub, &org, file, &signature, now).await?;
    }
    Ok(())
}
