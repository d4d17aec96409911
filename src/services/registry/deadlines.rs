//! The deadlines of the lifecycle, applied on the hub's clock: renewals, expiries, notices
//! taking effect, convention versions to sign, the de-referencing procedure that surveys call
//! for.
//!
//! One round is one [`Deadlines::tick`]: the hub's job loop (`app.rs`) runs it every
//! `registry.deadline_check_secs`, `relais registry deadlines` runs it once, and tests call it
//! and await it, so that what they assert after it is the round's doing and a stalled round
//! fails them instead of passing unseen.

use time::OffsetDateTime;
use tracing::Instrument;

use super::{Reason, Registry, RegistryError, Who, record, write};
use crate::domain::principal::OrganisationId;
use crate::domain::registry::lifecycle::{Event, RESIGN_WITHIN, Referencing};
use crate::store::Store;
use crate::store::registry::{Convention, ProviderRecord};

/// The deadline job's rounds. Needs the store only: the job writes as the hub and signs
/// nothing.
#[derive(Clone, Copy)]
pub struct Deadlines<'a> {
    pub(super) store: &'a dyn Store,
}

/// What one round did.
#[derive(Debug, Default)]
pub struct Round {
    /// Changes written: status changes, renewals, signature requests, procedures opened.
    pub changes: usize,
    /// Providers whose round stopped on an error (each logged), with it. A conflict is a
    /// change someone else wrote first, another instance's round or a request: the next round
    /// takes it from there.
    pub failures: Vec<(OrganisationId, RegistryError)>,
}

impl<'a> Deadlines<'a> {
    pub fn new(store: &'a dyn Store) -> Self {
        Self { store }
    }

    /// Applies every deadline passed by `now`, asks providers in force for the latest
    /// convention version if they have not signed it, and opens the de-referencing procedure
    /// where surveys call for it. Each change is written against the state it was computed
    /// from (a change made meanwhile by someone else wins, and this round stops there for that
    /// provider); one provider's failure does not stop the others. Fails only when the
    /// providers or the conventions cannot be read at all.
    pub async fn tick(&self, now: OffsetDateTime) -> Result<Round, RegistryError> {
        let span = tracing::info_span!("registry_deadlines_round", now = %now);
        async {
            let latest = self.store.conventions().await?.pop();
            let mut round = Round::default();
            for record in self.store.providers().await? {
                let org = record.organisation.id;
                match self.settle_one(&org, latest.as_ref(), now).await {
                    Ok(n) => round.changes += n,
                    Err(e) => {
                        tracing::warn!(organisation = %org.as_str(), error = %e, "registry deadlines of a provider failed");
                        round.failures.push((org, e));
                    }
                }
            }
            Ok(round)
        }
        .instrument(span)
        .await
    }

    /// The deadline round of one provider: how many changes it wrote.
    pub(super) async fn settle_one(
        &self,
        org: &OrganisationId,
        latest: Option<&Convention>,
        now: OffsetDateTime,
    ) -> Result<usize, RegistryError> {
        let mut written = 0;
        if let Some(latest) = latest {
            let record = record(self.store, org).await?;
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
                let reason = format!(
                    "convention version {} published; to be signed within {} days",
                    latest.version,
                    RESIGN_WITHIN.whole_days()
                );
                self.hub_change(
                    &record,
                    &next,
                    event.action(),
                    reason,
                    now.max(latest.published_at),
                )
                .await?;
                written += 1;
            }
        }
        loop {
            let record = record(self.store, org).await?;
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
            self.hub_change(&record, &next, action, reason, at).await?;
            written += 1;
        }
        if self.consider_dereferencing(org, now).await? {
            written += 1;
        }
        Ok(written)
    }

    /// A change the hub makes to `record`'s lifecycle on its own: the file and the signature
    /// stay, the reason is the hub's words.
    pub(super) async fn hub_change(
        &self,
        record: &ProviderRecord,
        next: &Referencing,
        action: &str,
        reason: String,
        at: OffsetDateTime,
    ) -> Result<(), RegistryError> {
        write(
            self.store,
            Who::Hub,
            record,
            &record.file,
            next,
            None,
            action,
            Reason::Generated(reason),
            at,
        )
        .await
    }
}

impl Registry<'_> {
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
        self.deadlines()
            .settle_one(org, latest.as_ref(), now)
            .await?;
        self.record(org).await
    }
}
