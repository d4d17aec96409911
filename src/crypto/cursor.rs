//! Pagination cursors (`next`) that only work for the principal and the query that made them,
//! and say nothing about what they point at.
//!
//! A cursor is the position (an arrival sequence number) sealed with ChaCha20-Poly1305 under a
//! hub secret kept in the database (so every instance accepts every other's cursors), with the
//! principal and the query as associated data. Replayed by another principal, with other
//! filters, or edited, it is refused. Encrypted rather than only signed: a visible position
//! would count the objects the reader cannot see, and a random nonce makes two cursors for
//! the same position differ.

use ring::aead::{self, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

/// The hub's cursor key.
pub struct CursorKey {
    key: LessSafeKey,
    rng: SystemRandom,
}

impl Clone for CursorKey {
    fn clone(&self) -> Self {
        Self {
            key: self.key.clone(),
            rng: SystemRandom::new(),
        }
    }
}

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey(..)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the next cursor is not valid for this principal and query")]
pub struct BadCursor;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a cursor key is 32 bytes")]
pub struct BadKey;

/// Principal and query as associated data; lengths first, so no two pairs encode alike.
fn associated(principal: &str, query: &str) -> Vec<u8> {
    let mut m = Vec::with_capacity(16 + principal.len() + query.len());
    m.extend_from_slice(&(principal.len() as u64).to_be_bytes());
    m.extend_from_slice(principal.as_bytes());
    m.extend_from_slice(&(query.len() as u64).to_be_bytes());
    m.extend_from_slice(query.as_bytes());
    m
}

impl CursorKey {
    pub fn new(secret: &[u8]) -> Result<Self, BadKey> {
        let key = UnboundKey::new(&aead::CHACHA20_POLY1305, secret).map_err(|_| BadKey)?;
        Ok(Self {
            key: LessSafeKey::new(key),
            rng: SystemRandom::new(),
        })
    }

    /// A cursor resuming after `position`, as lower-case hex; `None` only if the system
    /// random number generator fails.
    pub fn seal(&self, principal: &str, query: &str, position: i64) -> Option<String> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).ok()?;
        let mut data = position.to_be_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(associated(principal, query)),
                &mut data,
            )
            .ok()?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        Some(hex::encode(out))
    }

    /// The position of a cursor made by `seal` for the same principal and query.
    pub fn open(&self, principal: &str, query: &str, cursor: &str) -> Result<i64, BadCursor> {
        let bytes = hex::decode(cursor).map_err(|_| BadCursor)?;
        if bytes.len() != NONCE_LEN + 8 + aead::CHACHA20_POLY1305.tag_len() {
            return Err(BadCursor);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| BadCursor)?;
        let mut sealed = sealed.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(associated(principal, query)), &mut sealed)
            .map_err(|_| BadCursor)?;
        let position: [u8; 8] = plain.try_into().map_err(|_| BadCursor)?;
        Ok(i64::from_be_bytes(position))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_bound_to_principal_and_query_and_opaque() {
        let key = CursorKey::new(b"0123456789abcdef0123456789abcdef").unwrap();
        let c = key.seal("principal--a", "types=indicator", 42).unwrap();
        assert_eq!(key.open("principal--a", "types=indicator", &c), Ok(42));
        assert_eq!(
            key.open("principal--b", "types=indicator", &c),
            Err(BadCursor)
        );
        assert_eq!(
            key.open("principal--a", "types=malware", &c),
            Err(BadCursor)
        );
        let other = CursorKey::new(b"another hub's secret............").unwrap();
        assert_eq!(
            other.open("principal--a", "types=indicator", &c),
            Err(BadCursor)
        );
        let mut edited = c.clone().into_bytes();
        edited[30] = if edited[30] == b'0' { b'1' } else { b'0' };
        let edited = String::from_utf8(edited).unwrap();
        assert_eq!(
            key.open("principal--a", "types=indicator", &edited),
            Err(BadCursor)
        );
        assert_eq!(
            key.open("principal--a", "types=indicator", "zz"),
            Err(BadCursor)
        );
        // Same position, different cursors: a cursor reveals nothing about the position.
        let again = key.seal("principal--a", "types=indicator", 42).unwrap();
        assert_ne!(c, again);
        assert!(CursorKey::new(b"short").is_err());
    }
}
