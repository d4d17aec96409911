//! Victim cases from first contact to closure (Convention art. 3, 4, 5.2, 6.2, 6.3, 9, 10):
//! the qualification, the fair shortlist, the beneficiary's choice, the handoff to the chosen
//! provider and its answer, the journal, the closure. Pure rules; the services store them.

pub mod access;
pub mod handoff;
pub mod hours;
pub mod journal;
pub mod lifecycle;
pub mod qualification;
pub mod shortlist;

use lifecycle::{CaseStatus, Closure, Dispute};
use qualification::Qualification;

use crate::domain::triage::Case;

/// A case with everything the CSIRT recorded on it.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseFile {
    /// What submissions need: reference, beneficiary, provider, consent, identifiers.
    pub case: Case,
    pub status: CaseStatus,
    /// `None` for a case opened before qualification was recorded (issue 4's cases).
    pub qualification: Option<Qualification>,
    pub closure: Option<Closure>,
    pub disputes: Vec<Dispute>,
    /// Bumped by every change: a write that read an older revision is refused, not lost.
    pub revision: i64,
}

impl CaseFile {
    /// Who the beneficiary is for conflicts of interest (see [`Beneficiary::key`]); a case
    /// opened before qualification has only its name.
    ///
    /// [`Beneficiary::key`]: qualification::Beneficiary::key
    pub fn beneficiary_key(&self) -> String {
        self.qualification.as_ref().map_or_else(
            || qualification::beneficiary_key(&self.case.beneficiary),
            |q| q.beneficiary.key(),
        )
    }
}
