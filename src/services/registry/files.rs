//! Applications, providers' files and their evidence, and who may read them.

use time::OffsetDateTime;

use super::{
    Csirt, MAX_EVIDENCE_BYTES, Reason, Registry, RegistryError, Who, audit_of, conflict_or_store,
    file_hash, write,
};
use crate::crypto::openpgp::PublicKey;
use crate::crypto::sha256_hex;
use crate::domain::access::Provider;
use crate::domain::principal::{
    Organisation, OrganisationId, OrganisationKind, OrganisationStatus,
};
use crate::domain::registry::file::{Conditions, ProviderFile};
use crate::domain::registry::lifecycle::{Event, Referencing};
use crate::store::Store;
use crate::store::registry::{
    Creation, HistoryEntry, ProviderRecord, ProviderWrite, StoredEvidence,
};

impl Registry<'_> {
    /// The provider's record, if `who` may see it: the CSIRT, or the provider itself.
    pub async fn get(
        &self,
        who: Who<'_>,
        org: &OrganisationId,
    ) -> Result<ProviderRecord, RegistryError> {
        if !(who.is_csirt() || who.is_provider(org)) {
            return Err(RegistryError::NotFound);
        }
        self.record(org).await
    }

    /// The CSIRT only: the caller's type is the check.
    pub async fn list(
        &self,
        _by: impl Into<Csirt<'_>>,
    ) -> Result<Vec<ProviderRecord>, RegistryError> {
        Ok(self.store.providers().await?)
    }

    /// The entry of the caller's own organisation.
    pub async fn own_entry(&self, provider: &Provider) -> Result<ProviderRecord, RegistryError> {
        self.get(Who::Principal(provider.record()), &provider.organisation.id)
            .await
    }

    /// Stores an evidence file for an application not recorded yet (the CSIRT's); its SHA-256
    /// names it in the file.
    pub async fn upload_evidence(
        &self,
        by: impl Into<Csirt<'_>>,
        name: &str,
        content: Vec<u8>,
        now: OffsetDateTime,
    ) -> Result<String, RegistryError> {
        self.store_evidence(Who::from(by.into()), None, name, content, now)
            .await
    }

    /// Stores an evidence file of a provider's, by the CSIRT or the provider itself.
    pub async fn upload_provider_evidence(
        &self,
        who: Who<'_>,
        org: &OrganisationId,
        name: &str,
        content: Vec<u8>,
        now: OffsetDateTime,
    ) -> Result<String, RegistryError> {
        if !(who.is_csirt() || who.is_provider(org)) {
            return Err(RegistryError::NotAnalyst);
        }
        self.store_evidence(who, Some(org), name, content, now)
            .await
    }

    async fn store_evidence(
        &self,
        who: Who<'_>,
        org: Option<&OrganisationId>,
        name: &str,
        content: Vec<u8>,
        now: OffsetDateTime,
    ) -> Result<String, RegistryError> {
        if content.is_empty() || content.len() > MAX_EVIDENCE_BYTES {
            return Err(RegistryError::BadRequest(format!(
                "evidence must hold 1 to {MAX_EVIDENCE_BYTES} bytes"
            )));
        }
        if name.is_empty() || name.len() > 200 || name.chars().any(char::is_control) {
            return Err(RegistryError::BadRequest(
                "the evidence name must be 1 to 200 characters without control characters".into(),
            ));
        }
        // Evidence is stored under an existing entry only: a missing one is the caller's
        // mistake (404), not a broken reference in the store.
        if let Some(org) = org {
            self.record(org).await?;
        }
        let sha256 = sha256_hex(&content);
        let audit = who.acting(now).record("registry.evidence").objects(
            std::iter::once(format!("sha256:{sha256}")).chain(org.map(|o| o.as_str().to_owned())),
        );
        self.store
            .insert_evidence(
                &StoredEvidence {
                    sha256: sha256.clone(),
                    organisation: org.cloned(),
                    name: name.to_owned(),
                    content,
                    created_at: now,
                },
                &audit,
            )
            .await?;
        Ok(sha256)
    }

    /// Records an application: a new provider organisation in `applied`, with its file.
    pub async fn apply(
        &self,
        by: impl Into<Csirt<'_>>,
        file: ProviderFile,
        now: OffsetDateTime,
    ) -> Result<ProviderRecord, RegistryError> {
        let who = Who::from(by.into());
        let conditions = check_file(self.store, &file, None).await?;
        if let Some(other) = self
            .store
            .providers()
            .await?
            .into_iter()
            .find(|p| p.file.siren == file.siren)
        {
            return Err(RegistryError::Conflict(format!(
                "SIREN {} is already in the registry ({})",
                file.siren, other.organisation.name
            )));
        }
        // A provider organisation `relais pki` created ahead of its application (status
        // `applied`, no entry yet) takes its file; any other name already in use is refused.
        let (organisation, create) = match self.store.organisation_by_name(&file.legal_name).await?
        {
            Some(org)
                if org.kind == OrganisationKind::Provider
                    && org.status == OrganisationStatus::Applied
                    && self.store.provider(&org.id).await?.is_none() =>
            {
                (org, Creation::Entry)
            }
            Some(_) => {
                return Err(RegistryError::Conflict(format!(
                    "an organisation named {:?} exists",
                    file.legal_name
                )));
            }
            None => (
                Organisation {
                    id: OrganisationId::generate(),
                    name: file.legal_name.clone(),
                    kind: OrganisationKind::Provider,
                    status: OrganisationStatus::Applied,
                    created_at: now,
                },
                Creation::OrganisationAndEntry,
            ),
        };
        let referencing = Referencing::applied(now);
        let history = HistoryEntry {
            at: now,
            actor: who.name(),
            action: "registry.apply".into(),
            from_status: None,
            to_status: OrganisationStatus::Applied,
            reason: format!(
                "application received; incident response offered: {}, listed in the public \
                 catalogue: {}",
                conditions.incident_response_offered, conditions.listed_in_public_catalogue
            ),
            file_sha256: file_hash(&file),
        };
        let audit = audit_of(who, &organisation.id, &history, &history.reason);
        self.store
            .write_provider(
                &ProviderWrite {
                    organisation: &organisation,
                    create,
                    file: &file,
                    referencing: &referencing,
                    conditions,
                    convention_signature: None,
                    expected: None,
                    history: &history,
                },
                &audit,
            )
            .await
            .map_err(conflict_or_store)?;
        self.record(&organisation.id).await
    }

    /// Replaces a provider's file (the provider itself or the CSIRT).
    pub async fn update_file(
        &self,
        who: Who<'_>,
        org: &OrganisationId,
        file: ProviderFile,
        now: OffsetDateTime,
    ) -> Result<ProviderRecord, RegistryError> {
        let record = self.get(who, org).await?;
        // What the CSIRT vouches for (identity, qualifications, the key that signs the
        // convention) changes only through the CSIRT; the provider keeps the rest current.
        if !who.is_csirt() {
            let old = &record.file;
            let vouched = file.legal_name == old.legal_name
                && file.siren == old.siren
                && file.siret == old.siret
                && file.qualifications == old.qualifications
                && file.openpgp_key == old.openpgp_key;
            if !vouched {
                return Err(RegistryError::BadRequest(
                    "legal name, SIREN/SIRET, qualifications and OpenPGP key change through the \
                     CSIRT"
                        .into(),
                ));
            }
        }
        check_file(self.store, &file, Some(org)).await?;
        if let Some(other) = self
            .store
            .providers()
            .await?
            .into_iter()
            .find(|p| p.file.siren == file.siren && &p.organisation.id != org)
        {
            return Err(RegistryError::Conflict(format!(
                "SIREN {} is already in the registry ({})",
                file.siren, other.organisation.name
            )));
        }
        let referencing = record.referencing.apply(&Event::FileUpdated, now)?;
        write(
            self.store,
            who,
            &record,
            &file,
            &referencing,
            None,
            Event::FileUpdated.action(),
            Reason::Generated("file updated".into()),
            now,
        )
        .await?;
        self.record(org).await
    }

    pub async fn history(
        &self,
        who: Who<'_>,
        org: &OrganisationId,
    ) -> Result<Vec<HistoryEntry>, RegistryError> {
        self.get(who, org).await?;
        Ok(self.store.provider_history(org).await?)
    }
}

/// Takes an existing provider organisation (created with `relais pki`) into the registry as
/// referenced: its file, and its signature of the latest convention version. Needs no key, so
/// that first start can seed the demo providers.
pub async fn adopt(
    store: &dyn Store,
    by: Csirt<'_>,
    organisation: &Organisation,
    file: ProviderFile,
    signature: &str,
    now: OffsetDateTime,
) -> Result<ProviderRecord, RegistryError> {
    let who = Who::from(by);
    if organisation.kind != OrganisationKind::Provider {
        return Err(RegistryError::BadRequest(format!(
            "{:?} is not a provider",
            organisation.name
        )));
    }
    let conditions = check_file(store, &file, Some(&organisation.id)).await?;
    if !conditions.met() {
        return Err(RegistryError::Conditions(conditions));
    }
    let convention = store
        .conventions()
        .await?
        .pop()
        .ok_or(RegistryError::NoConvention)?;
    Registry::check_signature(&file, &convention.text, signature, now)?;
    let referencing = Referencing::applied(now)
        .apply(&Event::StartReview, now)?
        .apply(
            &Event::Reference {
                version: convention.version,
            },
            now,
        )?;
    let history = HistoryEntry {
        at: now,
        actor: who.name(),
        action: "registry.reference".into(),
        from_status: Some(organisation.status),
        to_status: referencing.status,
        reason: format!(
            "taken into the registry; convention version {} signed",
            convention.version
        ),
        file_sha256: file_hash(&file),
    };
    let audit = who
        .acting(now)
        .record("registry.reference")
        .objects([
            organisation.id.as_str().to_owned(),
            format!("sha256:{}", history.file_sha256),
        ])
        .reason(history.reason.clone());
    store
        .write_provider(
            &ProviderWrite {
                organisation,
                create: Creation::Entry,
                file: &file,
                referencing: &referencing,
                conditions,
                convention_signature: Some(signature),
                expected: None,
                history: &history,
            },
            &audit,
        )
        .await
        .map_err(conflict_or_store)?;
    store
        .provider(&organisation.id)
        .await?
        .ok_or(RegistryError::NotFound)
}

/// Checks a file: its fields, its key, and that the hub holds every piece of evidence, uploaded
/// for this provider (`owner`) or before it had an entry.
pub(super) async fn check_file(
    store: &dyn Store,
    file: &ProviderFile,
    owner: Option<&OrganisationId>,
) -> Result<Conditions, RegistryError> {
    let problems = file.problems();
    if !problems.is_empty() {
        return Err(RegistryError::Invalid(problems));
    }
    PublicKey::from_bytes(file.openpgp_key.as_bytes()).map_err(RegistryError::BadKey)?;
    for q in &file.qualifications {
        let held = store.evidence(&q.evidence_sha256).await?;
        let theirs =
            held.is_some_and(|e| e.organisation.is_none() || e.organisation.as_ref() == owner);
        if !theirs {
            return Err(RegistryError::MissingEvidence(q.evidence_sha256.clone()));
        }
    }
    Ok(file.conditions())
}
