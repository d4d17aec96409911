//! STIX objects as the store keeps them: the exact bytes received, plus the columns that
//! queries and the marking decision need.

use std::borrow::Cow;

use time::OffsetDateTime;

use crate::domain::markings::policy::MarkingPolicy;
use crate::domain::markings::references::Candidate;
use crate::domain::markings::release::{
    Content, Marked, ObjectAccess, Reader, Verdict, VisibilityFilter, addressed_whole, verdict,
};
use crate::domain::markings::sealed::Sealed;
use crate::domain::principal::PrincipalId;

/// An object version about to be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewObject {
    pub collection: String,
    pub id: String,
    pub object_type: String,
    pub spec_version: String,
    /// `version_key` of `modified`, else of `created`, else empty (SCOs have no versions):
    /// with the id, the key of a version.
    pub version: String,
    pub date_added: OffsetDateTime,
    pub access: ObjectAccess,
    /// The TLP was not on the object: relais applied the policy's default.
    pub tlp_defaulted: bool,
    pub submitted_by: PrincipalId,
    /// The object exactly as received.
    pub raw: String,
    /// The victim case the material comes from; kept with the row, never sent to readers.
    pub case_id: Option<String>,
    /// The distinct ids the object references under the reference rule
    /// (`stix::references::referenced_ids`).
    pub refs: Vec<String>,
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
    /// The object exactly as received, readable only through `release`.
    pub raw: Sealed,
    /// What the object references (see `NewObject::refs`).
    pub refs: Vec<String>,
}

impl Marked for StoredObject {
    fn access(&self) -> &ObjectAccess {
        &self.access
    }
}

impl Content for StoredObject {
    fn stix_id(&self) -> &str {
        &self.id
    }

    fn references(&self) -> Cow<'_, [String]> {
        Cow::Borrowed(&self.refs)
    }

    fn text(&self) -> Option<&Sealed> {
        Some(&self.raw)
    }
}

/// A stored version as the reference rule sees it: what it references, its markings only if it
/// carries granular ones, and its text only once the rule must look inside it (see
/// `markings::references::needing_text`).
#[derive(Debug, Clone, PartialEq)]
pub struct ReferencedObject {
    pub seq: i64,
    pub id: String,
    pub refs: Vec<String>,
    /// `None`: no granular marking, so the SQL visibility filter the row passed is the whole
    /// decision and nothing of it is removed.
    pub access: Option<ObjectAccess>,
    /// In the submissions collection (`ObjectAccess::submission`).
    pub submission: bool,
    pub raw: Option<Sealed>,
}

impl Content for ReferencedObject {
    fn stix_id(&self) -> &str {
        &self.id
    }

    fn references(&self) -> Cow<'_, [String]> {
        Cow::Borrowed(&self.refs)
    }

    /// Without its text the object cannot be cut, so it is not released (fail closed).
    fn text(&self) -> Option<&Sealed> {
        self.raw.as_ref()
    }
}

impl Candidate for ReferencedObject {
    fn verdict(&self, policy: &MarkingPolicy, reader: &Reader) -> Option<Verdict> {
        match &self.access {
            Some(access) => verdict(policy, reader, access),
            None => Some(Verdict {
                redact: Vec::new(),
                judge_references: !addressed_whole(self.submission, reader),
            }),
        }
    }
}

/// The form versions are stored and compared in: UTC with nine fraction digits, so that text
/// order is time order and `…00Z` and `…00.000Z` are the same version.
pub fn version_key(at: OffsetDateTime) -> String {
    utc_timestamp(at, 9)
}

/// The stored version of a submission: its version key scoped to the submitting organisation.
/// Submissions are confined to their producer, so each organisation's copy of an object is its
/// own lineage: a provider that sends an object with the same id as another provider's (STIX
/// observables have ids derived from their value) is neither refused nor told that the other
/// one exists.
pub fn scoped_version(key: &str, organisation: &str) -> String {
    format!("{key}{VERSION_SCOPE}{organisation}")
}

/// Separates a version key from its organisation scope; never in a version key.
pub const VERSION_SCOPE: char = '#';

/// The version key of a stored version, without its scope if it has one.
pub fn unscoped_version(stored: &str) -> &str {
    stored.split(VERSION_SCOPE).next().unwrap_or(stored)
}

/// An RFC 3339 UTC timestamp with exactly `digits` (0 to 9) fraction digits, truncated.
pub fn utc_timestamp(at: OffsetDateTime, digits: u32) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    let digits = digits.min(9);
    let fraction = at.nanosecond() / 10u32.pow(9 - digits);
    let mut out = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
    );
    if digits > 0 {
        out.push_str(&format!(".{fraction:0width$}", width = digits as usize));
    }
    out.push('Z');
    out
}

/// Which versions of each object a query returns (`match[version]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionSelector {
    All,
    First,
    Last,
    /// A version key (see `version_key`).
    At(String),
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
    /// Empty: every version.
    pub versions: Vec<VersionSelector>,
    /// Continue after this arrival sequence (a pagination cursor).
    pub after_seq: Option<i64>,
    pub limit: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn version_keys_sort_as_time_and_ignore_precision() {
        let a = version_key(datetime!(2016-01-01 00:00:00 UTC));
        let b = version_key(datetime!(2016-01-01 00:00:00.000 UTC));
        assert_eq!(a, b);
        assert_eq!(a, "2016-01-01T00:00:00.000000000Z");
        let c = version_key(datetime!(2016-01-01 00:00:00.5 UTC));
        let d = version_key(datetime!(2016-01-01 00:00:01 UTC));
        assert!(a < c && c < d);
        assert_eq!(version_key(datetime!(2016-01-01 04:00:00 +4)), a);
        assert_eq!(
            utc_timestamp(datetime!(2016-01-01 00:00:00.123456789 UTC), 6),
            "2016-01-01T00:00:00.123456Z"
        );
        assert_eq!(
            utc_timestamp(datetime!(2016-01-01 00:00:00.5 UTC), 0),
            "2016-01-01T00:00:00Z"
        );
    }
}
