//! Who may learn of a case. A case, a handoff or a journal leaves the services only as a
//! `Disclosed` value, built here for one caller: a case the caller may not see is `None`,
//! which the edge answers exactly as it answers an id that never existed.

use super::CaseFile;
use super::handoff::Handoff;
use crate::domain::access::RegistryRecord;
use crate::domain::principal::PrincipalKind;
use crate::domain::triage::may_see_case;

/// A value one caller may receive. Only this module builds one.
#[derive(Debug, Clone)]
pub struct Disclosed<T>(T);

impl<T> Disclosed<T> {
    pub fn item(&self) -> &T {
        &self.0
    }

    pub fn into_inner(self) -> T {
        self.0
    }
}

/// The CSIRT's analysts, and the provider the case is handed to now (its handoff pending or
/// accepted). A provider that declined, a shortlisted provider before the choice, a peer:
/// `None`.
pub fn disclose_case(caller: &RegistryRecord, file: CaseFile) -> Option<Disclosed<CaseFile>> {
    may_see_case(caller, &file.case).then_some(Disclosed(file))
}

/// A handoff for the analysts, or for the provider it was made to.
pub fn disclose_handoff(caller: &RegistryRecord, handoff: Handoff) -> Option<Disclosed<Handoff>> {
    let visible = match caller.principal.kind {
        PrincipalKind::Analyst => true,
        PrincipalKind::Provider => handoff.provider == caller.organisation.id,
        PrincipalKind::Peer => false,
    };
    visible.then_some(Disclosed(handoff))
}

/// The encrypted package, to the provider of a live handoff only (and to the analysts, who
/// hold the CSIRT's key it is also encrypted to).
pub fn disclose_package(caller: &RegistryRecord, handoff: Handoff) -> Option<Disclosed<Handoff>> {
    let live = handoff.is_live() || caller.principal.kind == PrincipalKind::Analyst;
    disclose_handoff(caller, handoff).filter(|_| live)
}

/// Journal entries of a case the caller may see.
pub fn disclose_journal<T>(
    caller: &RegistryRecord,
    file: &CaseFile,
    entries: T,
) -> Option<Disclosed<T>> {
    may_see_case(caller, &file.case).then_some(Disclosed(entries))
}
