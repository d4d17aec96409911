//! Handoffs as the chosen provider meets them: its list, the encrypted package, its answer
//! (Convention art. 5.2, 6.2), and the job that flags an answer that did not come in time.

use serde::Serialize;
use time::OffsetDateTime;

use super::{CaseError, Cases};
use crate::domain::access::{Analyst, Provider, RegistryRecord};
use crate::domain::audit::record::{Acting, AuditRecord};
use crate::domain::cases::access::{Disclosed, disclose_handoff, disclose_package};
use crate::domain::cases::handoff::{Answer, Handoff, HandoffStatus};
use crate::domain::cases::lifecycle::CaseStatus;
use crate::domain::principal::PrincipalKind;
use crate::store::cases::{CaseWrite, DeclaredConflict};

/// A handoff for the analysts or its provider: never the package itself (it has its own
/// endpoint).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HandoffView {
    pub id: String,
    pub case_id: String,
    /// The provider's organisation id.
    pub provider: String,
    /// `pending`, `accepted`, `declined`, `conflict`.
    #[schema(value_type = String)]
    pub status: HandoffStatus,
    /// How the beneficiary's choice came: `phone`, `email`, `in_person`, `link`.
    pub channel: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub answer_due: OffsetDateTime,
    /// Pending past its deadline.
    pub overdue: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    pub answered_at: Option<OffsetDateTime>,
    /// `unavailable` or `out_of_scope`, for a decline.
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub note: String,
    /// SHA-256 of the armored package.
    pub package_sha256: String,
}

impl HandoffView {
    pub(super) fn of(h: Disclosed<Handoff>, now: OffsetDateTime) -> Self {
        let overdue = h.item().overdue(now);
        let h = h.into_inner();
        Self {
            id: h.id,
            case_id: h.case_id,
            provider: h.provider.to_string(),
            status: h.status,
            channel: h.channel.as_str().to_owned(),
            created_at: h.created_at,
            answer_due: h.answer_due,
            overdue,
            answered_at: h.answered_at,
            reason: h.reason.map(|r| r.as_str().to_owned()),
            note: h.note,
            package_sha256: h.package_sha256,
        }
    }
}

impl Cases<'_> {
    /// A provider's handoffs, newest first; every handoff for an analyst.
    pub async fn handoffs(
        &self,
        caller: &RegistryRecord,
        now: OffsetDateTime,
    ) -> Result<Vec<HandoffView>, CaseError> {
        let all = match caller.principal.kind {
            PrincipalKind::Provider => {
                self.store
                    .handoffs_of_provider(&caller.organisation.id)
                    .await?
            }
            PrincipalKind::Analyst => self.store.all_handoffs().await?,
            PrincipalKind::Peer => Vec::new(),
        };
        Ok(all
            .into_iter()
            .filter_map(|h| disclose_handoff(caller, h))
            .map(|h| HandoffView::of(h, now))
            .collect())
    }

    /// The armored package of a live handoff, for its provider (and the analysts). Its read
    /// is in the audit log: it holds the victim's identifiers.
    pub async fn package(
        &self,
        caller: &RegistryRecord,
        id: &str,
        now: OffsetDateTime,
    ) -> Result<String, CaseError> {
        let handoff = self.store.handoff(id).await?.ok_or(CaseError::NotFound)?;
        let shown = disclose_package(caller, handoff).ok_or(CaseError::NotFound)?;
        let h = shown.into_inner();
        self.store
            .append_audit(
                &AuditRecord::by(caller, "case.package_read", now)
                    .objects([h.id.as_str(), h.case_id.as_str()]),
            )
            .await?;
        Ok(h.package)
    }

    /// The provider's answer to its pending handoff. A decline or a conflict sends the case
    /// back to the beneficiary's choice; a conflict is also kept on the provider's record, so
    /// that it is never proposed to this beneficiary again.
    pub async fn answer(
        &self,
        caller: &Provider,
        id: &str,
        answer: Answer,
        now: OffsetDateTime,
    ) -> Result<HandoffView, CaseError> {
        let handoff = self.store.handoff(id).await?.ok_or(CaseError::NotFound)?;
        let handoff = disclose_handoff(caller, handoff)
            .ok_or(CaseError::NotFound)?
            .into_inner();
        if handoff.status != HandoffStatus::Pending {
            return Err(CaseError::NotNow(format!(
                "the handoff was answered already ({})",
                handoff.status
            )));
        }
        let note = if answer.note().trim().is_empty() {
            String::new()
        } else {
            crate::domain::cases::qualification::long_text("note", answer.note())?
        };
        let file = self
            .store
            .case_file(&handoff.case_id)
            .await?
            .ok_or(CaseError::NotFound)?;
        let mut answered = handoff.clone();
        answered.status = answer.status();
        answered.answered_at = Some(now);
        answered.answered_by = Some(caller.principal.id.to_string());
        answered.reason = answer.reason();
        answered.note.clone_from(&note);
        let mut next = file.clone();
        next.revision += 1;
        let mut conflict = None;
        match answer {
            Answer::Accept {} => next.status = CaseStatus::InProgress,
            Answer::Decline { .. } | Answer::Conflict { .. } => {
                next.status = CaseStatus::Shortlisted;
                next.case.provider = None;
            }
        }
        if matches!(answer, Answer::Conflict { .. }) {
            let key = file.beneficiary_key();
            conflict = Some(DeclaredConflict {
                organisation: caller.organisation.id.clone(),
                beneficiary_key: key,
                case_id: file.case.id.clone(),
                declared_at: now,
            });
        }
        let acting = Acting::by(caller, now);
        let audit = acting
            .record("case.handoff_answer")
            .objects([answered.id.clone(), file.case.id.clone()])
            .reason(match answered.reason {
                Some(r) => format!("{} ({})", answered.status, r.as_str()),
                None => answered.status.to_string(),
            });
        let write = CaseWrite {
            answer: Some(&answered),
            conflict: conflict.as_ref(),
            ..CaseWrite::of(&next, file.revision)
        };
        match self.write(&write, &[audit]).await {
            Err(CaseError::Store(crate::store::StoreError::Conflict(_))) => {
                return Err(CaseError::NotNow("the handoff was answered already".into()));
            }
            other => other?,
        };
        if conflict.is_some() {
            // On the provider's file too, where the registry's history shows it; the case
            // write above already keeps the provider off this beneficiary's shortlists.
            if let Err(e) = self
                .registry
                .note_conflict(caller, &file.case.id, now)
                .await
            {
                tracing::warn!(error = %e, "conflict not noted on the provider's history");
            }
        }
        let shown = disclose_handoff(caller, answered).ok_or(CaseError::NotFound)?;
        Ok(HandoffView::of(shown, now))
    }

    /// Takes a pending handoff back from a provider that did not answer (analysts): the case
    /// returns to the beneficiary's choice and the provider loses sight of it, as after a
    /// decline.
    pub async fn withdraw(
        &self,
        caller: &Analyst,
        id: &str,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<HandoffView, CaseError> {
        let reason = crate::domain::cases::qualification::short_text("reason", reason)?;
        let handoff = self.store.handoff(id).await?.ok_or(CaseError::NotFound)?;
        let handoff = disclose_handoff(caller, handoff)
            .ok_or(CaseError::NotFound)?
            .into_inner();
        if handoff.status != HandoffStatus::Pending {
            return Err(CaseError::NotNow(format!(
                "the provider has answered ({})",
                handoff.status
            )));
        }
        let file = self
            .store
            .case_file(&handoff.case_id)
            .await?
            .ok_or(CaseError::NotFound)?;
        let mut withdrawn = handoff;
        withdrawn.status = HandoffStatus::Withdrawn;
        withdrawn.answered_at = Some(now);
        withdrawn.answered_by = Some(caller.principal.id.to_string());
        withdrawn.note = reason;
        let mut next = file.clone();
        next.status = CaseStatus::Shortlisted;
        next.case.provider = None;
        next.revision += 1;
        let audit = AuditRecord::by(caller, "case.handoff_withdraw", now)
            .objects([withdrawn.id.clone(), file.case.id.clone()]);
        let write = CaseWrite {
            answer: Some(&withdrawn),
            ..CaseWrite::of(&next, file.revision)
        };
        match self.write(&write, &[audit]).await {
            Err(CaseError::Store(crate::store::StoreError::Conflict(_))) => {
                return Err(CaseError::NotNow(
                    "the provider has answered meanwhile".into(),
                ));
            }
            other => other?,
        };
        let shown = disclose_handoff(caller, withdrawn).ok_or(CaseError::NotFound)?;
        Ok(HandoffView::of(shown, now))
    }

    /// Flags every pending handoff past its deadline, once; returns how many. The job's
    /// round (`cases.handoff_check_secs`).
    pub async fn flag_overdue(&self, now: OffsetDateTime) -> Result<usize, CaseError> {
        let mut flagged = 0;
        for h in self.store.overdue_handoffs(now).await? {
            let audit = AuditRecord::hub("case.handoff_overdue", now)
                .objects([h.id.as_str(), h.case_id.as_str(), h.provider.as_str()])
                .reason(format!(
                    "no answer by {}",
                    crate::domain::stix::stored::utc_timestamp(h.answer_due, 0)
                ));
            if self.store.flag_handoff(&h.id, now, &audit).await? {
                tracing::warn!(handoff = %h.id, case = %h.case_id, "handoff unanswered in time");
                flagged += 1;
            }
        }
        Ok(flagged)
    }
}
