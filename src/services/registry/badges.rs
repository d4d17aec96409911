//! Badges: a clear-signed statement of referencing, and its check.

use time::OffsetDateTime;

use super::{Registry, RegistryError, Who};
use crate::crypto::openpgp::verify_cleartext;
use crate::domain::principal::{OrganisationId, OrganisationStatus};
use crate::store::registry::{Badge, ProviderRecord};

impl Registry<'_> {
    /// A badge: a statement of referencing clear-signed by the hub, for the provider to show.
    pub async fn issue_badge(
        &self,
        who: Who<'_>,
        org: &OrganisationId,
        verify_url: &str,
        now: OffsetDateTime,
    ) -> Result<Badge, RegistryError> {
        let record = self.settled(who, org, now).await?;
        if !record.referencing.is_referenced() {
            return Err(RegistryError::Conflict(
                "only a referenced provider gets a badge".into(),
            ));
        }
        let id = format!("badge--{}", uuid::Uuid::new_v4());
        let text = badge_text(&id, &record, self.csirt, verify_url, now);
        let signed = self
            .signing_key
            .sign_cleartext(&text, now)
            .map_err(RegistryError::Signing)?;
        let badge = Badge {
            id: id.clone(),
            organisation: org.clone(),
            issued_at: now,
            text: signed,
        };
        let audit = who
            .acting(now)
            .record("registry.badge")
            .objects([id, org.as_str().to_owned()]);
        self.store.insert_badge(&badge, &audit).await?;
        Ok(badge)
    }

    /// Checks a badge: the hub's signature, a badge it issued, and a provider still
    /// referenced today.
    pub async fn verify_badge(
        &self,
        signed: &str,
        now: OffsetDateTime,
    ) -> Result<BadgeCheck, RegistryError> {
        let key = self.signing_key.public_key();
        let (text, _) =
            verify_cleartext(&key, signed.as_bytes(), now).map_err(RegistryError::BadSignature)?;
        let mut ids = text.lines().filter_map(|l| l.strip_prefix("Badge: "));
        let (Some(id), None) = (ids.next(), ids.next()) else {
            return Err(RegistryError::BadRequest("not a relais badge".into()));
        };
        let badge = self
            .store
            .badge(id.trim())
            .await?
            .ok_or(RegistryError::NotFound)?;
        // The statement must be the one issued under that id, word for word: a signed text
        // cannot borrow another provider's badge id.
        let (issued, _) = verify_cleartext(&key, badge.text.as_bytes(), badge.issued_at)
            .map_err(RegistryError::BadSignature)?;
        if issued != text {
            return Err(RegistryError::BadRequest("not a relais badge".into()));
        }
        self.badge_status(&badge.id).await
    }

    /// The standing of a badge by its id.
    pub async fn badge_status(&self, id: &str) -> Result<BadgeCheck, RegistryError> {
        let badge = self.store.badge(id).await?.ok_or(RegistryError::NotFound)?;
        let record = self.record(&badge.organisation).await?;
        Ok(BadgeCheck {
            badge: badge.id,
            provider: record.organisation.name,
            status: record.referencing.status,
            valid: record.referencing.is_referenced(),
        })
    }
}

/// The outcome of a badge check.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BadgeCheck {
    pub badge: String,
    pub provider: String,
    /// For the CSIRT's own use: the public pages say valid or not, never why.
    #[serde(skip)]
    pub status: OrganisationStatus,
    /// The provider is referenced today.
    pub valid: bool,
}

fn badge_text(
    id: &str,
    record: &ProviderRecord,
    csirt: &str,
    verify_url: &str,
    now: OffsetDateTime,
) -> String {
    let since = record
        .referencing
        .convention
        .map(|c| format!("version {}, signed {}", c.version, c.signed_at.date()))
        .unwrap_or_default();
    format!(
        "relais referencing badge\n\
         Provider: {}\n\
         Referenced by: {csirt}\n\
         Convention: {since}\n\
         Issued: {}\n\
         Badge: {id}\n\
         Verify: {verify_url}\n",
        record.organisation.name,
        now.date(),
    )
}
