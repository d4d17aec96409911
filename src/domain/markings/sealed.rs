//! Stored bytes, sealed: the marking decision is the only code that opens them.
//!
//! The store hands out stored objects with their text in a [`Sealed`]. Nothing outside
//! `domain::markings` can read it: a response, an export, a count, an error message, a
//! federation row or a console page gets an object's text through `release`, for one reader
//! (`Releasable::text`), or not at all.
//!
//! What the rest of the hub may do with a stored object: read its markings and metadata, and
//! hand it to `release` for one reader, whose answer alone carries the text:
//!
//! ```
//! use relais::domain::markings::policy::MarkingPolicy;
//! use relais::domain::markings::release::{ReadableSet, Reader, release};
//! use relais::domain::stix::stored::StoredObject;
//!
//! fn send(policy: &MarkingPolicy, reader: &Reader, o: StoredObject) -> Option<String> {
//!     let _tlp = o.access.tlp;
//!     release(policy, reader, o, &ReadableSet::default()).map(|r| r.text().into_owned())
//! }
//! ```
//!
//! ```compile_fail
//! // A service, a handler or an export cannot take the bytes of a stored object itself:
//! fn leak(o: &relais::domain::stix::stored::StoredObject) -> String {
//!     o.raw.text().to_owned()
//! }
//! ```
//!
//! ```compile_fail
//! // Nor serialise them:
//! fn leak(o: &relais::domain::stix::stored::StoredObject) -> String {
//!     serde_json::to_string(&o.raw).unwrap_or_default()
//! }
//! ```

use std::fmt;

use serde_json::Value;

/// The exact text of a stored object, readable only by the marking decision.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed(String);

impl Sealed {
    pub fn new(text: String) -> Self {
        Self(text)
    }

    pub(super) fn text(&self) -> &str {
        &self.0
    }

    pub(super) fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.0).ok()
    }
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sealed({} bytes)", self.0.len())
    }
}
