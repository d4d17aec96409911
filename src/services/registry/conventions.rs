//! Convention versions: publication, the provider's signature, and the referencing it
//! completes.

use time::OffsetDateTime;

use super::{Csirt, Reason, Registry, RegistryError, Who, write};
use crate::crypto::openpgp::{PublicKey, verify_detached};
use crate::crypto::sha256_hex;
use crate::domain::principal::OrganisationId;
use crate::domain::registry::file::ProviderFile;
use crate::domain::registry::lifecycle::Event;
use crate::store::StoreError;
use crate::store::registry::{Convention, ProviderRecord};

impl Registry<'_> {
    pub(super) async fn latest_convention(&self) -> Result<Convention, RegistryError> {
        self.store
            .conventions()
            .await?
            .pop()
            .ok_or(RegistryError::NoConvention)
    }

    pub(super) fn check_signature(
        file: &ProviderFile,
        text: &str,
        signature: &str,
        now: OffsetDateTime,
    ) -> Result<(), RegistryError> {
        let key =
            PublicKey::from_bytes(file.openpgp_key.as_bytes()).map_err(RegistryError::BadKey)?;
        verify_detached(&key, text.as_bytes(), signature.as_bytes(), now)
            .map_err(RegistryError::BadSignature)?;
        Ok(())
    }

    /// References a provider under review: its signature over the latest convention text,
    /// by the key in its file, is verified and kept.
    pub async fn reference(
        &self,
        by: impl Into<Csirt<'_>>,
        org: &OrganisationId,
        signature: &str,
        now: OffsetDateTime,
    ) -> Result<ProviderRecord, RegistryError> {
        let who = Who::from(by.into());
        let record = self.record(org).await?;
        let conditions = record.file.conditions();
        if !conditions.met() {
            return Err(RegistryError::Conditions(conditions));
        }
        let convention = self.latest_convention().await?;
        Self::check_signature(&record.file, &convention.text, signature, now)?;
        let event = Event::Reference {
            version: convention.version,
        };
        let referencing = record.referencing.apply(&event, now)?;
        write(
            self.store,
            who,
            &record,
            &record.file,
            &referencing,
            Some(signature),
            event.action(),
            Reason::Generated(format!(
                "convention version {} signed by key {}",
                convention.version,
                PublicKey::from_bytes(record.file.openpgp_key.as_bytes())
                    .map(|k| k.fingerprint())
                    .unwrap_or_default()
            )),
            now,
        )
        .await?;
        self.record(org).await
    }

    /// The provider's signature of the convention version awaiting it.
    pub async fn sign_convention(
        &self,
        who: Who<'_>,
        org: &OrganisationId,
        version: u32,
        signature: &str,
        now: OffsetDateTime,
    ) -> Result<ProviderRecord, RegistryError> {
        let record = self.settled(who, org, now).await?;
        let convention = self
            .store
            .conventions()
            .await?
            .into_iter()
            .find(|c| c.version == version)
            .ok_or(RegistryError::NoSuchVersion(version))?;
        Self::check_signature(&record.file, &convention.text, signature, now)?;
        let event = Event::SignVersion { version };
        let referencing = record.referencing.apply(&event, now)?;
        write(
            self.store,
            who,
            &record,
            &record.file,
            &referencing,
            Some(signature),
            event.action(),
            Reason::Generated(format!("convention version {version} signed")),
            now,
        )
        .await?;
        self.record(org).await
    }

    /// Publishes a new convention text: the next version. Every provider in force must sign
    /// it within [`RESIGN_WITHIN`](crate::domain::registry::lifecycle::RESIGN_WITHIN) of its
    /// publication (the deadline job records it on each provider).
    pub async fn publish_convention(
        &self,
        by: impl Into<Csirt<'_>>,
        text: &str,
        now: OffsetDateTime,
    ) -> Result<Convention, RegistryError> {
        let who = Who::from(by.into());
        if text.trim().is_empty() || text.len() > 1_000_000 {
            return Err(RegistryError::BadRequest(
                "the convention text must hold 1 byte to 1 MB".into(),
            ));
        }
        let version = self
            .store
            .conventions()
            .await?
            .last()
            .map_or(1, |c| c.version + 1);
        let convention = Convention {
            version,
            text: text.to_owned(),
            published_at: now,
        };
        let audit = who
            .acting(now)
            .record("registry.convention_publish")
            .objects([
                format!("convention:{version}"),
                format!("sha256:{}", sha256_hex(text.as_bytes())),
            ]);
        self.store
            .insert_convention(&convention, &audit)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => {
                    RegistryError::Conflict("another version was published meanwhile".into())
                }
                other => other.into(),
            })?;
        // Each provider's signature deadline is recorded by the deadline job (from the
        // publication time, so a late round loses no day), as its own audited change.
        Ok(convention)
    }

    pub async fn conventions(&self) -> Result<Vec<Convention>, RegistryError> {
        Ok(self.store.conventions().await?)
    }
}
