//! Objects that wait for a marking definition the hub does not hold yet.
//!
//! Fail closed must not mean data loss: ATT&CK bundles put their marking definitions last, so
//! an object whose only problem is such a reference waits, out of every collection, in its
//! envelope's status resource (TAXII 2.1 `pendings`), until the definition arrives or the wait
//! runs out (`limits.pending_marking_secs`).

use time::OffsetDateTime;

use crate::domain::principal::PrincipalId;

/// An object set aside, as posted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingObject {
    /// The status resource of the envelope it came in.
    pub status_id: String,
    /// Its position in that envelope, from 0.
    pub position: u32,
    pub object_id: Option<String>,
    pub version: Option<String>,
    pub collection: String,
    pub principal: PrincipalId,
    /// The SPKI fingerprint of the certificate it was posted with: who it is resumed as.
    pub fingerprint: String,
    pub case_id: Option<String>,
    pub raw: String,
    /// The marking definitions it waits for.
    pub waiting_for: Vec<String>,
    /// Why it waits: the message it fails with if they never come.
    pub message: String,
    pub received_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PendingState {
    Pending,
    Stored,
    Failed,
}

impl PendingState {
    pub fn as_str(self) -> &'static str {
        match self {
            PendingState::Pending => "pending",
            PendingState::Stored => "stored",
            PendingState::Failed => "failed",
        }
    }
}

impl std::str::FromStr for PendingState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pending" => Ok(PendingState::Pending),
            "stored" => Ok(PendingState::Stored),
            "failed" => Ok(PendingState::Failed),
            other => Err(format!("pending state {other:?}")),
        }
    }
}

/// A pending object as stored: `raw` is gone once it is resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPending {
    /// The row's key.
    pub key: i64,
    pub state: PendingState,
    pub status_id: String,
    pub position: u32,
    pub object_id: Option<String>,
    pub version: Option<String>,
    pub collection: String,
    pub principal: PrincipalId,
    pub fingerprint: String,
    pub case_id: Option<String>,
    pub raw: Option<String>,
    pub waiting_for: Vec<String>,
    pub message: String,
    pub expires_at: OffsetDateTime,
}

/// What became of a pending object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    Stored,
    Failed(String),
}

/// The pending-object writes of one transaction: new ones set aside, earlier ones resolved.
/// A resolution applies only to a row still pending: if another instance resolved it first,
/// the whole transaction is refused, so that nothing is stored twice.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PendingWrites {
    pub new: Vec<PendingObject>,
    pub resolved: Vec<(i64, Resolution)>,
}
