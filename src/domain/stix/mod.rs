//! STIX 2.1: strict JSON reading, object validation and the pattern language. relais validates
//! untrusted STIX itself (the `stix-rs` crate panics and overflows its stack on some input).

pub mod id;
pub mod json;
pub mod matches;
pub mod pattern;
pub mod pending;
pub mod pointer;
pub mod prune;
pub mod references;
pub mod stored;
pub mod validate;
