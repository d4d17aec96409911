//! The lifecycle events people ask for: review, suspension, notices, evaluation.

use time::OffsetDateTime;

use super::{Reason, Registry, RegistryError, Who};
use crate::domain::principal::OrganisationId;
use crate::domain::registry::lifecycle::{Event, NoticeKind, Party};
use crate::store::registry::ProviderRecord;

impl Registry<'_> {
    /// A lifecycle event asked by someone (not a signature: see [`Registry::reference`] and
    /// [`Registry::sign_convention`]).
    pub async fn transition(
        &self,
        who: Who<'_>,
        org: &OrganisationId,
        event: Event,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<ProviderRecord, RegistryError> {
        let record = self.settled(who, org, now).await?;
        let allowed = match &event {
            // A provider may end its own convention; everything else is the CSIRT's.
            Event::GiveNotice(NoticeKind::Termination {
                by: Party::Provider,
            }) => who.is_provider(org) || who.is_csirt(),
            Event::Reference { .. } | Event::SignVersion { .. } | Event::NewVersion { .. } => {
                return Err(RegistryError::BadRequest(
                    "referencing and convention signatures go through their own endpoints".into(),
                ));
            }
            _ => who.is_csirt(),
        };
        if !allowed {
            return Err(RegistryError::NotAnalyst);
        }
        if matches!(
            event,
            Event::CancelNotice | Event::Suspend | Event::GiveNotice(_)
        ) && reason.trim().is_empty()
        {
            return Err(RegistryError::BadRequest("a reason is required".into()));
        }
        let referencing = record.referencing.apply(&event, now)?;
        self.write(
            who,
            &record,
            &record.file,
            &referencing,
            None,
            event.action(),
            Reason::Supplied(reason.to_owned()),
            now,
        )
        .await?;
        self.record(org).await
    }
}
