//! Cryptographic helpers: keyed tokens bound to who asked what (`ring`), and OpenPGP
//! signatures (sequoia).

pub mod cursor;
pub mod openpgp;
