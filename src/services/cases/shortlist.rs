//! The shortlist: drawn by the domain's pure function from the registry as it is now, the
//! rotation's memory and a fresh seed; stored with all of them, so that anyone can replay it.

use std::collections::HashMap;

use ring::rand::SecureRandom as _;
use serde::Serialize;
use time::OffsetDateTime;

use super::{CaseError, Cases};
use crate::crypto::envelope::can_receive;
use crate::crypto::openpgp::PublicKey;
use crate::domain::access::Analyst;
use crate::domain::audit::record::AuditRecord;
use crate::domain::cases::CaseFile;
use crate::domain::cases::handoff::HandoffStatus;
use crate::domain::cases::lifecycle::{CaseStatus, may_shortlist};
use crate::domain::cases::shortlist::{Candidate, Needs, Shortlist, shortlist};
use crate::store::cases::{CaseWrite, NewShortlist, StoredShortlist};

/// A stored shortlist, for the analysts: entries with their reasons, the providers left out
/// and why, and the seed and inputs that replay it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ShortlistView {
    /// The shortlist's number; the rotation counts in these.
    pub number: i64,
    pub case_id: String,
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// A newer shortlist replaced this one.
    pub superseded: bool,
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub shortlist: Shortlist,
}

impl From<StoredShortlist> for ShortlistView {
    fn from(s: StoredShortlist) -> Self {
        Self {
            number: s.id,
            case_id: s.case_id,
            created_by: s.created_by,
            created_at: s.created_at,
            superseded: s.superseded_at.is_some(),
            shortlist: s.document,
        }
    }
}

fn seed() -> Result<[u8; 32], CaseError> {
    let mut seed = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut seed)
        .map_err(|_| CaseError::Package("no randomness for the draw".into()))?;
    Ok(seed)
}

impl Cases<'_> {
    /// Every provider of the registry as the shortlist of `file` sees it now.
    async fn candidates(
        &self,
        file: &CaseFile,
        now: OffsetDateTime,
    ) -> Result<Vec<Candidate>, CaseError> {
        let conflicts = self.store.conflicts_with(&file.beneficiary_key()).await?;
        let last: HashMap<_, _> = self
            .store
            .last_proposals()
            .await?
            .into_iter()
            .map(|(id, last, count)| (id, (last, count)))
            .collect();
        let withdrew: Vec<_> = self
            .store
            .handoffs_of_case(&file.case.id)
            .await?
            .into_iter()
            .filter(|h| {
                matches!(
                    h.status,
                    HandoffStatus::Declined | HandoffStatus::Conflict | HandoffStatus::Withdrawn
                )
            })
            .map(|h| h.provider)
            .collect();
        Ok(self
            .store
            .providers()
            .await?
            .into_iter()
            .map(|p| {
                let id = p.organisation.id.clone();
                Candidate {
                    referenced: p.referencing.is_referenced()
                        && p.organisation.status.grants_access(),
                    status: p.organisation.status,
                    name: p.organisation.name.clone(),
                    offers: p.file.services.clone(),
                    conflict: conflicts.contains(&id),
                    can_receive: PublicKey::from_bytes(p.file.openpgp_key.as_bytes())
                        .is_ok_and(|k| can_receive(&k, now)),
                    withdrew: withdrew.contains(&id),
                    last_proposed: last.get(&id).map(|(n, _)| *n),
                    proposals: last.get(&id).map_or(0, |(_, c)| *c),
                    provider: id,
                }
            })
            .collect())
    }

    /// Draws, stores and returns a new shortlist for the case; it supersedes the earlier one.
    pub async fn shortlist(
        &self,
        caller: &Analyst,
        id: &str,
        now: OffsetDateTime,
    ) -> Result<ShortlistView, CaseError> {
        let file = self.disclosed(caller, id).await?.into_inner();
        may_shortlist(file.status)?;
        let q = file.qualification.as_ref().ok_or_else(|| {
            CaseError::NotNow(
                "this case was opened before qualification was recorded: it has no needs to \
                 draw a shortlist from"
                    .into(),
            )
        })?;
        let needs = Needs {
            services: q.services.clone(),
            outside_business_hours: q.outside_business_hours,
        };
        let candidates = self.candidates(&file, now).await?;
        let seed = seed()?;
        let list = shortlist(&needs, &candidates, self.settings.shortlist_size, &seed);
        if list.entries.is_empty() {
            return Err(CaseError::NotNow(format!(
                "no referenced provider is eligible for this case (of {} in the registry): {}",
                list.candidates.len(),
                list.excluded
                    .iter()
                    .map(|e| format!(
                        "{}: {}",
                        e.name,
                        e.reasons
                            .iter()
                            .map(|r| r.describe())
                            .collect::<Vec<_>>()
                            .join("; ")
                    ))
                    .collect::<Vec<_>>()
                    .join(" | ")
            )));
        }
        let mut next = file.clone();
        next.status = CaseStatus::Shortlisted;
        next.revision += 1;
        let audit = AuditRecord::by(caller, "case.shortlist", now)
            .objects(
                std::iter::once(file.case.id.clone())
                    .chain(list.entries.iter().map(|e| e.provider.to_string())),
            )
            .reason(format!(
                "seed {}; {} proposed of {} eligible",
                list.seed,
                list.entries.len(),
                list.eligible
            ));
        let write = CaseWrite {
            shortlist: Some(NewShortlist {
                document: &list,
                created_by: caller.principal.id.as_str(),
                at: now,
            }),
            ..CaseWrite::of(&next, file.revision)
        };
        let number = self
            .write(&write, &[audit])
            .await?
            .ok_or_else(|| CaseError::Package("the shortlist was not numbered".into()))?;
        Ok(ShortlistView {
            number,
            case_id: file.case.id,
            created_by: caller.principal.id.to_string(),
            created_at: now,
            superseded: false,
            shortlist: list,
        })
    }

    /// The case's shortlists, oldest first (analysts).
    pub async fn shortlists(
        &self,
        caller: &Analyst,
        id: &str,
    ) -> Result<Vec<ShortlistView>, CaseError> {
        let file = self.disclosed(caller, id).await?;
        Ok(self
            .store
            .shortlists(&file.item().case.id)
            .await?
            .into_iter()
            .map(ShortlistView::from)
            .collect())
    }

    /// The shortlist the beneficiary chooses from now.
    pub(super) async fn current_shortlist(
        &self,
        case_id: &str,
    ) -> Result<StoredShortlist, CaseError> {
        self.store
            .shortlists(case_id)
            .await?
            .into_iter()
            .rfind(|s| s.superseded_at.is_none())
            .ok_or_else(|| {
                CaseError::NotNow(
                    "no shortlist yet: the beneficiary chooses from a recorded shortlist".into(),
                )
            })
    }
}
