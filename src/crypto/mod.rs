//! Cryptographic helpers: keyed tokens bound to who asked what (`ring`), OpenPGP signatures
//! (sequoia), and the signed links of satisfaction surveys (JWT).

pub mod cursor;
pub mod openpgp;
pub mod tokens;
