//! Use-cases: each one reads or writes through the `Store`, calls the domain for decisions,
//! and knows nothing of HTTP.

pub mod audit_export;
pub mod audit_log;
pub mod audit_verify;
pub mod bootstrap;
pub mod cases;
pub mod checkpoints;
pub mod export;
pub mod identity;
pub mod ingest;
pub mod pki;
pub mod registry;
pub mod registry_demo;
pub mod secrets;
pub mod share;
pub mod tls_refusals;
pub mod triage;
