//! STIX objects as the store keeps them: the exact bytes received, plus the columns that
//! queries and the marking decision need.

use serde_json::Value;
use time::OffsetDateTime;

use crate::domain::markings::release::{Marked, ObjectAccess, VisibilityFilter};
use crate::domain::principal::PrincipalId;

/// An object version about to be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewObject {
    pub collection: String,
    pub id: String,
    pub object_type: String,
    pub spec_version: String,
    /// `modified`, else `created`, else empty (SCOs have no versions): with the id, the key of
    /// a version.
    pub version: String,
    pub date_added: OffsetDateTime,
    pub access: ObjectAccess,
    /// The TLP was not on the object: relais applied the policy's default.
    pub tlp_defaulted: bool,
    pub submitted_by: PrincipalId,
    /// The object exactly as received.
    pub raw: String,
}

/// A stored object version.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredObject {
    /// Arrival order; the stable pagination key.
    pub seq: i64,
    pub collection: String,
    pub id: String,
    pub object_type: String,
    pub spec_version: String,
    pub version: String,
    pub date_added: OffsetDateTime,
    pub access: ObjectAccess,
    pub tlp_defaulted: bool,
    pub submitted_by: PrincipalId,
    pub raw: String,
}

impl Marked for StoredObject {
    fn access(&self) -> &ObjectAccess {
        &self.access
    }

    fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.raw).ok()
    }
}

/// Whether a write stored a new version or found the same one already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    New(i64),
    /// The same (collection, id, version) was stored before; nothing was written.
    Duplicate(i64),
}

impl Inserted {
    pub fn seq(self) -> i64 {
        match self {
            Inserted::New(s) | Inserted::Duplicate(s) => s,
        }
    }
}

/// A read of one collection, already restricted to what one reader may see.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectQuery {
    pub collection: String,
    pub visibility: VisibilityFilter,
    /// `match[type]`; empty: any.
    pub types: Vec<String>,
    /// `match[id]`; empty: any.
    pub ids: Vec<String>,
    pub added_after: Option<OffsetDateTime>,
    /// Continue after this arrival sequence (a pagination cursor).
    pub after_seq: Option<i64>,
    pub limit: u32,
}
