//! Who may learn of a SOC contract and its alerts: the CSIRT's analysts, and the SOC provider
//! the contract is with. Anyone else gets `None`, which the edge answers exactly as an id that
//! never existed; a contract, an alert or a record leaves the services only as `Disclosed`.

use super::contract::Contract;
use crate::domain::access::RegistryRecord;
use crate::domain::principal::PrincipalKind;

/// A contract one caller may see. Only this module builds one.
#[derive(Debug, Clone)]
pub struct Disclosed(Contract);

impl Disclosed {
    pub fn contract(&self) -> &Contract {
        &self.0
    }
}

pub fn disclose_contract(caller: &RegistryRecord, contract: Contract) -> Option<Disclosed> {
    let visible = match caller.principal.kind {
        PrincipalKind::Analyst => true,
        PrincipalKind::Provider => contract.provider == caller.organisation.id,
        PrincipalKind::Peer => false,
    };
    visible.then_some(Disclosed(contract))
}

/// Whether the caller is the contract's SOC provider (who reports alerts on it).
pub fn is_soc_of(caller: &RegistryRecord, contract: &Disclosed) -> bool {
    caller.principal.kind == PrincipalKind::Provider
        && contract.0.provider == caller.organisation.id
}
