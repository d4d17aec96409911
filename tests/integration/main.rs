//! Integration tests: the real hub over real mTLS, the CLI as a subprocess, and the storage
//! contract on both backends. One test binary; helpers in `tests/common`.

// Test code fails loudly: unwrap and panic are how a test reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../common/mod.rs"]
mod common;

mod adversarial;
mod audit_log;
mod audit_verify;
mod body_limit;
mod case_cli;
mod cases;
mod cli;
mod exports;
mod federation;
mod federation_clients;
mod federation_witness;
mod mtls;
mod operations;
mod pending_markings;
mod python_clients;
mod registry;
mod reports;
mod sla;
mod stix_corpus;
mod stix_patterns;
mod store_contract;
mod submissions;
mod taxii;
mod taxii_errors;
mod taxii_ingest;
mod tls_refusals;
mod visibility;
