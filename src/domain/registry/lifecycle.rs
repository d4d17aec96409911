//! The referencing lifecycle of the convention, as a state machine over
//! [`OrganisationStatus`]:
//!
//! ```text
//! applied → under_review → referenced → (renewed ×0..2) → expired
//! referenced | renewed → suspended → (back)
//! referenced | renewed → notice_given → dereferenced | terminated   (or back, if cancelled)
//! ```
//!
//! Deadlines (art. 10, 12–14): a convention lasts one year from its signature and renews
//! tacitly at most twice, then expires; a notice (termination by either party, or the
//! de-referencing procedure) takes effect one month after it is given; a new convention
//! version must be signed within 15 days or the referencing ends. Nothing here reads a clock:
//! [`Referencing::apply`] takes the time of the event, [`Referencing::due`] the time it is now.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::domain::principal::OrganisationStatus;
use crate::domain::registry::calendar::calendar_year;

/// How long a provider has to sign a new convention version (art. 14).
pub const RESIGN_WITHIN: Duration = Duration::days(15);
/// Tacit renewals of a convention (art. 12).
pub const MAX_RENEWALS: u8 = 2;
/// A convention's term, in calendar months from its signature or its last renewal (art. 12).
pub const TERM_MONTHS: u32 = 12;
/// A notice, of termination by either party (art. 13) or of de-referencing (art. 10, 16),
/// takes effect this many calendar months after it is given.
pub const NOTICE_MONTHS: u32 = 1;
/// The yearly re-evaluation (art. 12) is due this many months after the last one: one term.
pub const EVALUATION_MONTHS: u32 = TERM_MONTHS;
// The reasons written below spell these durations out in words ("one month", "three years
// after signature, renewed twice"): a change of one must change them too.
const _: () = assert!(TERM_MONTHS == 12 && NOTICE_MONTHS == 1 && MAX_RENEWALS == 2);
/// Unfavourable satisfaction surveys that open the de-referencing procedure (art. 10, 16).
pub const UNFAVOURABLE_SURVEYS: u32 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    Csirt,
    Provider,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DereferencingCause {
    UnfavourableSurveys,
    Breach,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum NoticeKind {
    /// Either party ends the convention (art. 13).
    Termination { by: Party },
    /// The CSIRT's de-referencing procedure (art. 10, 16).
    Dereferencing { cause: DereferencingCause },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    #[serde(flatten)]
    pub kind: NoticeKind,
    #[serde(with = "time::serde::rfc3339")]
    pub given_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub effective_at: OffsetDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedVersion {
    pub version: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub signed_at: OffsetDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingVersion {
    pub version: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub deadline: OffsetDateTime,
}

/// Where a provider stands in the lifecycle, with every date a deadline is computed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Referencing {
    pub status: OrganisationStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub since: OffsetDateTime,
    /// The convention version in force for this provider and when it signed it.
    pub convention: Option<SignedVersion>,
    pub renewals: u8,
    /// End of the current one-year term.
    #[serde(with = "time::serde::rfc3339::option")]
    pub term_ends: Option<OffsetDateTime>,
    pub notice: Option<Notice>,
    /// While suspended or under notice: the status to go back to.
    pub resumes: Option<OrganisationStatus>,
    /// A newer convention version it must sign (art. 14).
    pub pending_version: Option<PendingVersion>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_evaluation: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub file_updated_at: OffsetDateTime,
    /// Unfavourable surveys count from here (the referencing, or the last cancelled
    /// procedure).
    #[serde(with = "time::serde::rfc3339")]
    pub surveys_count_from: OffsetDateTime,
}

/// What someone (or the deadline job) asks of the lifecycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    StartReview,
    /// The provider signed convention `version` (signature verified by the caller) and the
    /// CSIRT references it.
    Reference {
        version: u32,
    },
    Suspend,
    Reinstate,
    GiveNotice(NoticeKind),
    /// The CSIRT stops a notice before it takes effect.
    CancelNotice,
    /// A new convention version was published: the provider must sign it within 15 days.
    NewVersion {
        version: u32,
    },
    /// The provider signed the pending version (signature verified by the caller).
    SignVersion {
        version: u32,
    },
    /// The yearly re-evaluation, based on the annual summary.
    Evaluate,
    FileUpdated,
}

impl Event {
    /// The audit action of the event.
    pub fn action(&self) -> &'static str {
        match self {
            Event::StartReview => "registry.review",
            Event::Reference { .. } => "registry.reference",
            Event::Suspend => "registry.suspend",
            Event::Reinstate => "registry.reinstate",
            Event::GiveNotice(_) => "registry.notice",
            Event::CancelNotice => "registry.notice_cancel",
            Event::NewVersion { .. } => "registry.convention_due",
            Event::SignVersion { .. } => "registry.convention_signed",
            Event::Evaluate => "registry.evaluate",
            Event::FileUpdated => "registry.file_update",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("not possible while the provider is {0}")]
    NotFrom(OrganisationStatus),
    #[error("convention version {0} is not the one awaiting signature")]
    NotPending(u32),
    #[error("only a notice not yet in effect can be cancelled")]
    NoNotice,
    /// Art. 13: a provider's own termination is its right; the CSIRT cannot withdraw it.
    #[error("the provider's own notice of termination cannot be cancelled by the CSIRT")]
    ProviderNotice,
}

/// A deadline that passed, as the job applies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueChange {
    pub at: OffsetDateTime,
    pub from: OrganisationStatus,
    pub to: OrganisationStatus,
    pub action: &'static str,
    pub reason: String,
}

/// Something the analysts' dashboard shows as due or overdue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Overdue {
    /// The yearly re-evaluation (art. 12).
    Evaluation {
        #[serde(with = "time::serde::rfc3339")]
        due: OffsetDateTime,
    },
    /// No update of the file this calendar year (art. 4), counted in the hub's time zone.
    FileUpdate { year: i32 },
    Signature {
        version: u32,
        #[serde(with = "time::serde::rfc3339")]
        deadline: OffsetDateTime,
    },
    Notice {
        #[serde(with = "time::serde::rfc3339")]
        effective_at: OffsetDateTime,
    },
}

/// `at` plus `months` calendar months, the day clamped to the month's length (31 January + 1
/// month = 28 or 29 February).
pub fn add_months(at: OffsetDateTime, months: u32) -> OffsetDateTime {
    let total = i64::from(at.year()) * 12 + i64::from(u8::from(at.month())) - 1 + i64::from(months);
    let year = i32::try_from(total.div_euclid(12)).unwrap_or(i32::MAX);
    let month = u8::try_from(total.rem_euclid(12) + 1).unwrap_or(1);
    let Ok(month) = time::Month::try_from(month) else {
        return at;
    };
    let day = at.day().min(time::util::days_in_month(month, year));
    time::Date::from_calendar_date(year, month, day)
        .map(|d| at.replace_date(d))
        .unwrap_or(at)
}

fn in_force(status: OrganisationStatus) -> bool {
    matches!(
        status,
        OrganisationStatus::Referenced | OrganisationStatus::Renewed
    )
}

impl Referencing {
    /// A new application.
    pub fn applied(at: OffsetDateTime) -> Self {
        Self {
            status: OrganisationStatus::Applied,
            since: at,
            convention: None,
            renewals: 0,
            term_ends: None,
            notice: None,
            resumes: None,
            pending_version: None,
            last_evaluation: None,
            file_updated_at: at,
            surveys_count_from: at,
        }
    }

    /// Whether the provider counts as referenced: shortlists, the directory, badges.
    pub fn is_referenced(&self) -> bool {
        matches!(
            self.status,
            OrganisationStatus::Referenced
                | OrganisationStatus::Renewed
                | OrganisationStatus::NoticeGiven
        )
    }

    fn enter(&mut self, status: OrganisationStatus, at: OffsetDateTime) {
        self.status = status;
        self.since = at;
    }

    /// The lifecycle after `event` at `at`.
    pub fn apply(&self, event: &Event, at: OffsetDateTime) -> Result<Self, TransitionError> {
        use OrganisationStatus as S;
        let mut next = self.clone();
        let refuse = || TransitionError::NotFrom(self.status);
        match event {
            Event::StartReview => {
                if self.status != S::Applied {
                    return Err(refuse());
                }
                next.enter(S::UnderReview, at);
            }
            Event::Reference { version } => {
                if self.status != S::UnderReview {
                    return Err(refuse());
                }
                next.enter(S::Referenced, at);
                next.convention = Some(SignedVersion {
                    version: *version,
                    signed_at: at,
                });
                next.renewals = 0;
                next.term_ends = Some(add_months(at, TERM_MONTHS));
                next.last_evaluation = Some(at);
                next.surveys_count_from = at;
            }
            Event::Suspend => {
                if !(in_force(self.status) || self.status == S::NoticeGiven) {
                    return Err(refuse());
                }
                // Under notice, suspension keeps the notice running; it resumes to the
                // status the notice would have gone back to.
                next.resumes = Some(if self.status == S::NoticeGiven {
                    self.resumes.unwrap_or(S::Referenced)
                } else {
                    self.status
                });
                next.enter(S::Suspended, at);
            }
            Event::Reinstate => {
                if self.status != S::Suspended {
                    return Err(refuse());
                }
                let back = if self.notice.is_some() {
                    S::NoticeGiven
                } else {
                    self.resumes.unwrap_or(S::Referenced)
                };
                if self.notice.is_none() {
                    next.resumes = None;
                }
                next.enter(back, at);
            }
            Event::GiveNotice(kind) => {
                if !in_force(self.status) {
                    return Err(refuse());
                }
                next.resumes = Some(self.status);
                next.notice = Some(Notice {
                    kind: *kind,
                    given_at: at,
                    effective_at: add_months(at, NOTICE_MONTHS),
                });
                next.enter(S::NoticeGiven, at);
            }
            Event::CancelNotice => {
                match self.notice.as_ref().map(|n| n.kind) {
                    None => return Err(TransitionError::NoNotice),
                    Some(NoticeKind::Termination {
                        by: Party::Provider,
                    }) => return Err(TransitionError::ProviderNotice),
                    Some(_) => {}
                }
                next.notice = None;
                next.surveys_count_from = at;
                if self.status == S::NoticeGiven {
                    next.enter(self.resumes.unwrap_or(S::Referenced), at);
                    next.resumes = None;
                }
            }
            Event::NewVersion { version } => {
                if !(in_force(self.status) || matches!(self.status, S::NoticeGiven | S::Suspended))
                {
                    return Err(refuse());
                }
                next.pending_version = Some(PendingVersion {
                    version: *version,
                    deadline: at + RESIGN_WITHIN,
                });
            }
            Event::SignVersion { version } => {
                match self.pending_version {
                    Some(p) if p.version == *version => {}
                    _ => return Err(TransitionError::NotPending(*version)),
                }
                next.pending_version = None;
                next.convention = Some(SignedVersion {
                    version: *version,
                    signed_at: at,
                });
            }
            Event::Evaluate => {
                if !(self.is_referenced() || self.status == S::Suspended) {
                    return Err(refuse());
                }
                next.last_evaluation = Some(at);
            }
            Event::FileUpdated => {
                next.file_updated_at = at;
            }
        }
        Ok(next)
    }

    /// The earliest deadline still to apply, if any.
    fn next_deadline(&self) -> Option<(OffsetDateTime, Deadline)> {
        use OrganisationStatus as S;
        let live = self.is_referenced() || self.status == S::Suspended;
        if !live {
            return None;
        }
        let mut candidates = Vec::new();
        if let Some(p) = self.pending_version {
            candidates.push((p.deadline, Deadline::Signature));
        }
        if let Some(n) = &self.notice {
            candidates.push((n.effective_at, Deadline::Notice));
        }
        if let Some(end) = self.term_ends {
            candidates.push((end, Deadline::Term));
        }
        candidates.into_iter().min_by_key(|(at, _)| *at)
    }

    /// Applies every deadline passed by `now`, in order; the changes of status made.
    pub fn due(&mut self, now: OffsetDateTime) -> Vec<DueChange> {
        let mut changes = Vec::new();
        while let Some(change) = self.due_next(now) {
            changes.extend(change);
        }
        changes
    }

    /// Applies the earliest deadline passed by `now`, if any: `Some(Some(change))` when the
    /// status changed, `Some(None)` for a renewal that leaves the status shown as it is
    /// (under notice or suspension), `None` when nothing is due. One at a time, so that a
    /// caller can write each change against the state it was computed from.
    pub fn due_next(&mut self, now: OffsetDateTime) -> Option<Option<DueChange>> {
        use OrganisationStatus as S;
        {
            let (at, deadline) = self.next_deadline()?;
            if at > now {
                return None;
            }
            let from = self.status;
            let (to, action, reason) = match deadline {
                Deadline::Signature => {
                    let version = self.pending_version.map_or(0, |p| p.version);
                    self.pending_version = None;
                    (
                        S::Dereferenced,
                        "registry.convention_unsigned",
                        format!(
                            "convention version {version} not signed within {} days",
                            RESIGN_WITHIN.whole_days()
                        ),
                    )
                }
                Deadline::Notice => {
                    let notice = self.notice.take();
                    match notice.map(|n| n.kind) {
                        Some(NoticeKind::Termination { by }) => (
                            S::Terminated,
                            "registry.terminated",
                            format!(
                                "one month after notice of termination by the {}",
                                match by {
                                    Party::Csirt => "CSIRT",
                                    Party::Provider => "provider",
                                }
                            ),
                        ),
                        _ => (
                            S::Dereferenced,
                            "registry.dereferenced",
                            "one month after the de-referencing notice".to_owned(),
                        ),
                    }
                }
                Deadline::Term if self.renewals < MAX_RENEWALS => {
                    self.renewals += 1;
                    self.term_ends = Some(add_months(at, TERM_MONTHS));
                    // Under notice or suspension the renewal happens all the same; the
                    // status shown stays, the one to resume to is `renewed`.
                    if in_force(self.status) {
                        (
                            S::Renewed,
                            "registry.renewed",
                            format!("tacit renewal {} of {MAX_RENEWALS}", self.renewals),
                        )
                    } else {
                        self.resumes = Some(S::Renewed);
                        return Some(None);
                    }
                }
                Deadline::Term => (
                    S::Expired,
                    "registry.expired",
                    "three years after signature, renewed twice".to_owned(),
                ),
            };
            if matches!(to, S::Dereferenced | S::Terminated | S::Expired) {
                self.term_ends = None;
                self.notice = None;
                self.resumes = None;
                self.pending_version = None;
            }
            self.enter(to, at);
            Some(Some(DueChange {
                at,
                from,
                to,
                action,
                reason,
            }))
        }
    }

    /// What the dashboard shows for this provider at `now`.
    pub fn overdue(&self, now: OffsetDateTime) -> Vec<Overdue> {
        let mut out = Vec::new();
        if !(self.is_referenced() || self.status == OrganisationStatus::Suspended) {
            return out;
        }
        if let Some(last) = self.last_evaluation {
            let due = add_months(last, EVALUATION_MONTHS);
            if due <= now {
                out.push(Overdue::Evaluation { due });
            }
        }
        // Art. 4's calendar year is the island's: see `calendar`.
        let year = calendar_year(now);
        if calendar_year(self.file_updated_at) < year {
            out.push(Overdue::FileUpdate { year });
        }
        if let Some(p) = self.pending_version {
            out.push(Overdue::Signature {
                version: p.version,
                deadline: p.deadline,
            });
        }
        if let Some(n) = &self.notice {
            out.push(Overdue::Notice {
                effective_at: n.effective_at,
            });
        }
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Deadline {
    Signature,
    Notice,
    Term,
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrganisationStatus as S;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-01-31 10:00 UTC);

    fn referenced() -> Referencing {
        Referencing::applied(T0)
            .apply(&Event::StartReview, T0)
            .unwrap()
            .apply(&Event::Reference { version: 1 }, T0)
            .unwrap()
    }

    #[test]
    fn months_clamp_to_the_end_of_the_month() {
        assert_eq!(add_months(T0, 1), datetime!(2026-02-28 10:00 UTC));
        assert_eq!(add_months(T0, 12), datetime!(2027-01-31 10:00 UTC));
        assert_eq!(
            add_months(datetime!(2028-02-29 0:00 UTC), 12),
            datetime!(2029-02-28 0:00 UTC)
        );
        assert_eq!(
            add_months(datetime!(2026-12-15 0:00 UTC), 1),
            datetime!(2027-01-15 0:00 UTC)
        );
    }

    #[test]
    fn renews_twice_then_expires() {
        let mut r = referenced();
        assert!(r.due(datetime!(2027-01-31 09:59 UTC)).is_empty());
        let changes = r.due(datetime!(2027-01-31 10:00 UTC));
        assert_eq!(changes.len(), 1);
        assert_eq!(
            (changes[0].from, changes[0].to),
            (S::Referenced, S::Renewed)
        );
        assert_eq!(r.renewals, 1);
        // Down for two years: both remaining deadlines apply, in order.
        let changes = r.due(datetime!(2029-06-01 0:00 UTC));
        let path: Vec<_> = changes.iter().map(|c| (c.to, c.at)).collect();
        assert_eq!(
            path,
            [
                (S::Renewed, datetime!(2028-01-31 10:00 UTC)),
                (S::Expired, datetime!(2029-01-31 10:00 UTC))
            ]
        );
        assert!(!r.is_referenced());
        assert!(r.due(datetime!(2040-01-01 0:00 UTC)).is_empty());
    }

    #[test]
    fn unsigned_new_version_ends_the_referencing_after_15_days() {
        let r = referenced();
        let published = datetime!(2026-06-01 12:00 UTC);
        let mut waiting = r
            .apply(&Event::NewVersion { version: 2 }, published)
            .unwrap();
        let mut signed = waiting
            .apply(
                &Event::SignVersion { version: 2 },
                published + Duration::days(3),
            )
            .unwrap();
        assert!(
            waiting
                .due(published + Duration::days(15) - Duration::seconds(1))
                .is_empty()
        );
        let ended = waiting.due(published + Duration::days(15));
        assert_eq!(ended[0].to, S::Dereferenced);
        assert!(ended[0].reason.contains("version 2"));
        assert!(signed.due(published + Duration::days(16)).is_empty());
        assert_eq!(signed.convention.unwrap().version, 2);
        assert_eq!(
            signed.apply(&Event::SignVersion { version: 3 }, published),
            Err(TransitionError::NotPending(3))
        );
    }

    #[test]
    fn notices_take_effect_after_one_month_unless_cancelled() {
        let r = referenced();
        let at = datetime!(2026-03-31 09:00 UTC);
        let mut termination = r
            .apply(
                &Event::GiveNotice(NoticeKind::Termination {
                    by: Party::Provider,
                }),
                at,
            )
            .unwrap();
        assert_eq!(termination.status, S::NoticeGiven);
        assert!(termination.is_referenced());
        assert!(termination.due(datetime!(2026-04-30 08:59 UTC)).is_empty());
        let done = termination.due(datetime!(2026-04-30 09:00 UTC));
        assert_eq!(done[0].to, S::Terminated);

        let procedure = r
            .apply(
                &Event::GiveNotice(NoticeKind::Dereferencing {
                    cause: DereferencingCause::UnfavourableSurveys,
                }),
                at,
            )
            .unwrap();
        let provider_notice = r
            .apply(
                &Event::GiveNotice(NoticeKind::Termination {
                    by: Party::Provider,
                }),
                at,
            )
            .unwrap();
        assert_eq!(
            provider_notice.apply(&Event::CancelNotice, at),
            Err(TransitionError::ProviderNotice)
        );
        let mut cancelled = procedure
            .apply(&Event::CancelNotice, at + Duration::days(10))
            .unwrap();
        assert_eq!(cancelled.status, S::Referenced);
        assert_eq!(cancelled.surveys_count_from, at + Duration::days(10));
        assert!(cancelled.due(datetime!(2026-06-01 0:00 UTC)).is_empty());
        let mut kept = procedure.clone();
        assert_eq!(
            kept.due(datetime!(2026-05-01 0:00 UTC))[0].to,
            S::Dereferenced
        );
    }

    #[test]
    fn suspension_and_the_states_events_need() {
        let r = referenced();
        let s = r.apply(&Event::Suspend, T0).unwrap();
        assert_eq!(s.status, S::Suspended);
        assert!(!s.is_referenced());
        assert_eq!(
            s.apply(&Event::Reinstate, T0).unwrap().status,
            S::Referenced
        );
        assert_eq!(
            Referencing::applied(T0).apply(&Event::Reference { version: 1 }, T0),
            Err(TransitionError::NotFrom(S::Applied))
        );
        assert_eq!(
            r.apply(&Event::StartReview, T0),
            Err(TransitionError::NotFrom(S::Referenced))
        );
        assert!(r.apply(&Event::CancelNotice, T0).is_err());
        // A renewal while suspended is kept for the return.
        let mut s = s;
        assert!(s.due(datetime!(2027-02-01 0:00 UTC)).is_empty());
        assert_eq!(s.renewals, 1);
        assert_eq!(s.apply(&Event::Reinstate, T0).unwrap().status, S::Renewed);
    }

    #[test]
    fn the_dashboard_shows_what_is_due() {
        let r = referenced();
        assert!(r.overdue(datetime!(2026-06-01 0:00 UTC)).is_empty());
        let late = r.overdue(datetime!(2027-02-01 0:00 UTC));
        assert!(late.contains(&Overdue::Evaluation {
            due: datetime!(2027-01-31 10:00 UTC)
        }));
        assert!(late.contains(&Overdue::FileUpdate { year: 2027 }));
        let evaluated = r
            .apply(&Event::Evaluate, datetime!(2027-01-15 0:00 UTC))
            .unwrap();
        let evaluated = evaluated
            .apply(&Event::FileUpdated, datetime!(2027-01-15 0:00 UTC))
            .unwrap();
        assert!(evaluated.overdue(datetime!(2027-02-01 0:00 UTC)).is_empty());
    }

    #[test]
    fn the_file_update_year_is_the_one_in_reunion() {
        let r = referenced();
        let updates = |at| {
            r.apply(&Event::FileUpdated, at)
                .unwrap()
                .overdue(datetime!(2027-01-15 0:00 UTC))
                .contains(&Overdue::FileUpdate { year: 2027 })
        };
        // 21:00 UTC on 31 December 2026 is already 2027 in Réunion: this year's update.
        assert!(!updates(datetime!(2026-12-31 21:00 UTC)));
        // 19:00 UTC is still 2026 there: last year's.
        assert!(updates(datetime!(2026-12-31 19:00 UTC)));

        // And the other way: on the island's New Year's night, a file updated in June is
        // due for 2027 while UTC still says 2026.
        let june = r
            .apply(&Event::FileUpdated, datetime!(2026-06-01 0:00 UTC))
            .unwrap();
        assert_eq!(
            june.overdue(datetime!(2026-12-31 21:00 UTC)),
            [Overdue::FileUpdate { year: 2027 }]
        );
        assert!(june.overdue(datetime!(2026-12-31 19:00 UTC)).is_empty());
    }

    #[test]
    fn the_durations_are_the_conventions() {
        let r = referenced();
        assert_eq!(r.term_ends, Some(add_months(T0, TERM_MONTHS)));
        let notice = r
            .apply(
                &Event::GiveNotice(NoticeKind::Termination { by: Party::Csirt }),
                T0,
            )
            .unwrap();
        assert_eq!(
            notice.notice.map(|n| n.effective_at),
            Some(add_months(T0, NOTICE_MONTHS))
        );
        assert_eq!(add_months(T0, TERM_MONTHS), datetime!(2027-01-31 10:00 UTC));
        assert_eq!(
            add_months(T0, NOTICE_MONTHS),
            datetime!(2026-02-28 10:00 UTC)
        );
    }
}
