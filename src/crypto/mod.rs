//! Cryptographic helpers over `ring`: keyed tokens bound to who asked what.

pub mod cursor;
