//! The lifecycle events people ask for: review, suspension, notices, evaluation.

use time::OffsetDateTime;

use super::{Reason, Registry, RegistryError, Who, write};
use crate::domain::principal::OrganisationId;
use crate::domain::registry::lifecycle::{DereferencingCause, Event, NoticeKind, Party};
use crate::domain::reports::deadlines::hub_day;
use crate::domain::reports::summary::{SummaryStatus, evaluated_year};
use crate::store::registry::ProviderRecord;

/// The lifecycle events a principal may ask for by name (the API's `event`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Asked {
    StartReview,
    Suspend,
    Reinstate,
    /// Termination notice by the CSIRT (analysts) or by the provider (its own principals).
    Terminate,
    /// A recorded breach of the commitments: opens the de-referencing procedure.
    Breach,
    CancelNotice,
    Evaluate,
}

impl Asked {
    /// The event `who` asks for: a termination is the party's own, the CSIRT's or the
    /// provider's.
    fn event(self, who: Who<'_>) -> Event {
        match self {
            Asked::StartReview => Event::StartReview,
            Asked::Suspend => Event::Suspend,
            Asked::Reinstate => Event::Reinstate,
            Asked::Terminate => Event::GiveNotice(NoticeKind::Termination {
                by: if who.is_csirt() {
                    Party::Csirt
                } else {
                    Party::Provider
                },
            }),
            Asked::Breach => Event::GiveNotice(NoticeKind::Dereferencing {
                cause: DereferencingCause::Breach,
            }),
            Asked::CancelNotice => Event::CancelNotice,
            Asked::Evaluate => Event::Evaluate,
        }
    }
}

impl Registry<'_> {
    /// The yearly evaluation is based on the annual summary (art. 12): that of the last year
    /// that ended, submitted. The history line and the audit entry name it and its digest.
    async fn evaluation_basis(
        &self,
        org: &OrganisationId,
        now: OffsetDateTime,
    ) -> Result<String, RegistryError> {
        let year = evaluated_year(hub_day(now));
        match self.store.summary(org, year).await? {
            Some(s) if s.status == SummaryStatus::Submitted => Ok(format!(
                "based on the annual summary {year} (sha256:{})",
                s.sha256
            )),
            _ => Err(RegistryError::Conflict(format!(
                "the yearly evaluation is based on the provider's annual summary of {year}, \
                 which it has not submitted yet"
            ))),
        }
    }

    /// A lifecycle event asked for by name, by a principal: see [`Registry::transition`].
    pub async fn ask(
        &self,
        who: Who<'_>,
        org: &OrganisationId,
        asked: Asked,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<ProviderRecord, RegistryError> {
        self.transition(who, org, asked.event(who), reason, now)
            .await
    }

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
        let reason = match event {
            Event::Evaluate => Reason::Both {
                generated: self.evaluation_basis(org, now).await?,
                supplied: reason.to_owned(),
            },
            _ => Reason::Supplied(reason.to_owned()),
        };
        let referencing = record.referencing.apply(&event, now)?;
        write(
            self.store,
            who,
            &record,
            &record.file,
            &referencing,
            None,
            event.action(),
            reason,
            now,
        )
        .await?;
        self.record(org).await
    }
}
