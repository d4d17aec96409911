//! The tamper-evident audit log: entries with one canonical encoding, the RFC 9162 Merkle
//! tree over them, and checkpoints (signed tree heads) in the C2SP format. Pure: storing,
//! exporting and verifying an exported log live in `services`; a checkpoint is signed and
//! checked through `crypto::openpgp`, with every time (signing, verifying) passed in. TLS
//! refusals have their own record and a bound on how many are written (`refusal_budget`).

pub mod checkpoint;
pub mod cosignature;
pub mod entry;
pub mod merkle;
pub mod reads;
pub mod record;
pub mod refusal_budget;
pub mod tls_refusal;
pub mod witness;
