//! Pure types and rules of the hub. Nothing in here performs I/O: no HTTP, no SQL, no clock
//! reads (time is passed in), so every rule can be tested on its own.

pub mod access;
pub mod anonymise;
pub mod audit;
pub mod blocklist;
pub mod cases;
pub mod collections;
pub mod exports;
pub mod federation;
pub mod ioc;
pub mod markings;
pub mod principal;
pub mod publishing;
pub mod registry;
pub mod reports;
pub mod sla;
pub mod stix;
pub mod triage;
