//! The deadlines of the lifecycle, applied on the hub's clock: renewals, expiries, notices
//! taking effect, convention versions to sign.

use time::OffsetDateTime;

use super::{Reason, Registry, RegistryError, Who};
use crate::domain::principal::OrganisationId;
use crate::domain::registry::lifecycle::{Event, RESIGN_WITHIN};
use crate::store::registry::{Convention, ProviderRecord};

impl Registry<'_> {
    /// Applies every deadline passed by `now`, asks providers in force for the latest
    /// convention version if they have not signed it, and opens the de-referencing procedure
    /// where surveys call for it. Each change is written against the state it was computed
    /// from (a change made meanwhile by someone else wins, and this round stops there for that
    /// provider); one provider's failure does not stop the others. Returns how many changes
    /// were written.
    pub async fn run_deadlines(&self, now: OffsetDateTime) -> Result<usize, RegistryError> {
        let latest = self.store.conventions().await?.pop();
        let mut written = 0;
        for record in self.store.providers().await? {
            let org = record.organisation.id.clone();
            match self.settle_one(&org, latest.as_ref(), now).await {
                Ok(n) => written += n,
                Err(e) => {
                    tracing::warn!(organisation = %org.as_str(), error = %e, "registry deadlines of a provider failed");
                }
            }
        }
        Ok(written)
    }

    /// The deadline round of one provider.
    pub(super) async fn settle_one(
        &self,
        org: &OrganisationId,
        latest: Option<&Convention>,
        now: OffsetDateTime,
    ) -> Result<usize, RegistryError> {
        let mut written = 0;
        if let Some(latest) = latest {
            let record = self.record(org).await?;
            let behind = record
                .referencing
                .convention
                .is_some_and(|c| c.version < latest.version);
            let asked = record
                .referencing
                .pending_version
                .is_some_and(|p| p.version == latest.version);
            let event = Event::NewVersion {
                version: latest.version,
            };
            if behind
                && !asked
                && let Ok(next) = record.referencing.apply(&event, latest.published_at)
            {
                self.write(
                    Who::Hub,
                    &record,
                    &record.file,
                    &next,
                    None,
                    event.action(),
                    Reason::Generated(format!(
                        "convention version {} published; to be signed within {} days",
                        latest.version,
                        RESIGN_WITHIN.whole_days()
                    )),
                    now.max(latest.published_at),
                )
                .await?;
                written += 1;
            }
        }
        loop {
            let record = self.record(org).await?;
            let mut next = record.referencing.clone();
            let Some(change) = next.due_next(now) else {
                break;
            };
            let (action, reason, at) = match &change {
                Some(c) => (c.action, c.reason.clone(), c.at),
                None => (
                    "registry.renewed",
                    format!("tacit renewal {} while {}", next.renewals, next.status),
                    now,
                ),
            };
            self.write(
                Who::Hub,
                &record,
                &record.file,
                &next,
                None,
                action,
                Reason::Generated(reason),
                at,
            )
            .await?;
            written += 1;
        }
        if self.consider_dereferencing(org, now).await? {
            written += 1;
        }
        Ok(written)
    }

    /// Brings a provider's entry up to date with the deadlines passed by `now` before an
    /// event is applied on top of it (a signature after its deadline, a cancellation after
    /// the notice took effect, a badge for an expired provider).
    pub(super) async fn settled(
        &self,
        who: Who<'_>,
        org: &OrganisationId,
        now: OffsetDateTime,
    ) -> Result<ProviderRecord, RegistryError> {
        self.get(who, org).await?;
        let latest = self.store.conventions().await?.pop();
        self.settle_one(org, latest.as_ref(), now).await?;
        self.record(org).await
    }
}
