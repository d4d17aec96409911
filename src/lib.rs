//! relais: a federated threat-intelligence sharing hub for CSIRTs.

pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod http;
pub mod pki;
pub mod services;
pub mod store;
pub mod telemetry;
