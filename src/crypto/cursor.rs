//! Pagination cursors (`next`) that only work for the principal and the query that made them.
//!
//! A cursor is the position (an arrival sequence number) and a MAC over the principal, the
//! query and the position, under a hub secret kept in the database so that every instance
//! accepts every other's cursors. A cursor replayed by another principal, or with other
//! filters, or edited, is refused: it cannot be used to page through someone else's view.

use ring::hmac;

const MAC_LEN: usize = 32;

/// The hub's cursor key.
#[derive(Clone)]
pub struct CursorKey(hmac::Key);

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey(..)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the next cursor is not valid for this principal and query")]
pub struct BadCursor;

impl CursorKey {
    pub fn new(secret: &[u8]) -> Self {
        Self(hmac::Key::new(hmac::HMAC_SHA256, secret))
    }

    /// What the MAC covers. Lengths first, so that no two (principal, query) pairs encode
    /// alike.
    fn message(principal: &str, query: &str, position: i64) -> Vec<u8> {
        let mut m = Vec::with_capacity(24 + principal.len() + query.len());
        m.extend_from_slice(&(principal.len() as u64).to_be_bytes());
        m.extend_from_slice(principal.as_bytes());
        m.extend_from_slice(&(query.len() as u64).to_be_bytes());
        m.extend_from_slice(query.as_bytes());
        m.extend_from_slice(&position.to_be_bytes());
        m
    }

    /// A cursor resuming after `position`, as lower-case hex.
    pub fn seal(&self, principal: &str, query: &str, position: i64) -> String {
        let tag = hmac::sign(&self.0, &Self::message(principal, query, position));
        let mut bytes = position.to_be_bytes().to_vec();
        bytes.extend_from_slice(tag.as_ref());
        hex::encode(bytes)
    }

    /// The position of a cursor made by `seal` for the same principal and query.
    pub fn open(&self, principal: &str, query: &str, cursor: &str) -> Result<i64, BadCursor> {
        let bytes = hex::decode(cursor).map_err(|_| BadCursor)?;
        if bytes.len() != 8 + MAC_LEN {
            return Err(BadCursor);
        }
        let (pos, mac) = bytes.split_at(8);
        let position = i64::from_be_bytes(pos.try_into().map_err(|_| BadCursor)?);
        hmac::verify(&self.0, &Self::message(principal, query, position), mac)
            .map_err(|_| BadCursor)?;
        Ok(position)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_bound_to_principal_and_query() {
        let key = CursorKey::new(b"0123456789abcdef0123456789abcdef");
        let c = key.seal("principal--a", "types=indicator", 42);
        assert_eq!(key.open("principal--a", "types=indicator", &c), Ok(42));
        assert_eq!(
            key.open("principal--b", "types=indicator", &c),
            Err(BadCursor)
        );
        assert_eq!(
            key.open("principal--a", "types=malware", &c),
            Err(BadCursor)
        );
        let other = CursorKey::new(b"another hub's secret............");
        assert_eq!(
            other.open("principal--a", "types=indicator", &c),
            Err(BadCursor)
        );
        let mut edited = c.clone().into_bytes();
        edited[15] = if edited[15] == b'0' { b'1' } else { b'0' };
        let edited = String::from_utf8(edited).unwrap();
        assert_eq!(
            key.open("principal--a", "types=indicator", &edited),
            Err(BadCursor)
        );
        assert_eq!(
            key.open("principal--a", "types=indicator", "zz"),
            Err(BadCursor)
        );
    }
}
