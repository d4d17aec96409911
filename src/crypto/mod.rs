//! Cryptographic helpers: keyed tokens bound to who asked what (`ring`), OpenPGP signatures
//! (sequoia), and the signed links of satisfaction surveys (JWT).

pub mod cursor;
pub mod envelope;
pub mod openpgp;
pub mod tokens;

/// Lower-case hex SHA-256 of `bytes`: how files (evidence, provider files, convention texts)
/// are named in the registry and the audit log.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref())
}
