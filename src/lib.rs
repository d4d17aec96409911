//! relais: a federated threat-intelligence sharing hub for CSIRTs.

pub mod clock;
pub mod domain;
pub mod store;
