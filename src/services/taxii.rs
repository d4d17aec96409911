//! The TAXII use-cases that go beyond one read or one write: an envelope and its status
//! resource, the status as it stands later, and DELETE of the versions a caller names.

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::ingest::{Deleted, IngestError, Waiting};
use super::share::{MAX_PAGE_SIZE, ReadRequest, ShareError};
use super::{Failure, Services};
use crate::domain::access::RegistryRecord;
use crate::domain::stix::pending::{PendingState, StoredPending};
use crate::domain::stix::stored::{VersionSelector, utc_timestamp};
use crate::store::StoreError;

/// What a DELETE came to when it could not run.
#[derive(Debug, thiserror::Error)]
pub enum DeleteError {
    #[error(transparent)]
    Read(#[from] ShareError),
    #[error(transparent)]
    Write(#[from] IngestError),
}

impl Services {
    /// Takes an envelope in and records its status resource, for its poster only; the
    /// status's JSON text.
    pub async fn post_envelope(
        &self,
        caller: &RegistryRecord,
        collection: &str,
        body: &[u8],
        case: Option<&str>,
        wait: time::Duration,
        now: OffsetDateTime,
    ) -> Result<String, IngestError> {
        let status_id = uuid::Uuid::new_v4().to_string();
        let waiting = Waiting {
            status_id: &status_id,
            wait,
        };
        let report = self
            .ingest()
            .envelope(caller, collection, body, now, case, Some(waiting))
            .await?;
        let status = json!({
            "id": status_id,
            "status": if report.pendings.is_empty() { "complete" } else { "pending" },
            "request_timestamp": utc_timestamp(now, 6),
            "total_count": report.successes.len() + report.failures.len() + report.pendings.len(),
            "success_count": report.successes.len(),
            "successes": report.successes,
            "failure_count": report.failures.len(),
            "failures": report.failures,
            "pending_count": report.pendings.len(),
            "pendings": report.pendings,
        });
        let text = status.to_string();
        self.store()
            .insert_status(&status_id, &caller.principal.id, now, &text)
            .await?;
        Ok(text)
    }

    /// A status resource as it stands now, if it is the caller's.
    pub async fn status(
        &self,
        caller: &RegistryRecord,
        id: &str,
    ) -> Result<Option<String>, Failure> {
        let Some(body) = self.store().status(id, &caller.principal.id).await? else {
            return Ok(None);
        };
        let pending = self.store().pending_of_status(id).await?;
        if pending.is_empty() {
            return Ok(Some(body));
        }
        let status: Value = serde_json::from_str(&body)
            .map_err(|e| StoreError::Corrupt(format!("status {id}: {e}")))?;
        Ok(Some(with_pending(status, &pending).to_string()))
    }

    /// Deletes the versions of an object that `versions` names (all by default), for its
    /// producer: `first` and `last` are judged among the versions the caller sees, as a read
    /// judges them.
    pub async fn delete_versions(
        &self,
        caller: &RegistryRecord,
        collection: &str,
        object: &str,
        versions: Vec<VersionSelector>,
        now: OffsetDateTime,
    ) -> Result<Deleted, DeleteError> {
        let mut keys = Vec::new();
        if !versions.is_empty() && !versions.contains(&VersionSelector::All) {
            let read = ReadRequest {
                ids: vec![object.to_owned()],
                versions,
                limit: Some(MAX_PAGE_SIZE),
                ..ReadRequest::default()
            };
            let page = self
                .sharing()
                .read(caller, collection, read, VersionSelector::All, now)
                .await?;
            keys = page
                .objects
                .iter()
                .map(|o| o.item().version.clone())
                .collect();
            if keys.is_empty() {
                return Ok(Deleted::NotFound);
            }
        }
        let reader = self.federation.load().reader(caller);
        Ok(self
            .ingest()
            .delete(caller, &reader, collection, object, &keys, now)
            .await?)
    }
}

/// The status as it stands now: the objects that waited for marking definitions moved to
/// `successes` or `failures` once resolved.
fn with_pending(mut status: Value, pending: &[StoredPending]) -> Value {
    if pending.is_empty() {
        return status;
    }
    let entry = |p: &StoredPending, message: Option<&str>| {
        let mut e = json!({});
        if let Some(id) = &p.object_id {
            e["id"] = json!(id);
        }
        if let Some(v) = &p.version {
            e["version"] = json!(v);
        }
        if let Some(m) = message {
            e["message"] = json!(m);
        }
        e
    };
    let list = |status: &Value, key: &str| status[key].as_array().cloned().unwrap_or_default();
    let (mut successes, mut failures) = (list(&status, "successes"), list(&status, "failures"));
    let mut pendings = Vec::new();
    for p in pending {
        match p.state {
            PendingState::Pending => pendings.push(entry(
                p,
                Some(&format!(
                    "waiting for marking definition {}",
                    p.waiting_for.join(", ")
                )),
            )),
            PendingState::Stored => successes.push(entry(p, None)),
            PendingState::Failed => failures.push(entry(p, Some(&p.message))),
        }
    }
    status["status"] = json!(if pendings.is_empty() {
        "complete"
    } else {
        "pending"
    });
    status["success_count"] = json!(successes.len());
    status["failure_count"] = json!(failures.len());
    status["pending_count"] = json!(pendings.len());
    status["successes"] = Value::Array(successes);
    status["failures"] = Value::Array(failures);
    status["pendings"] = Value::Array(pendings);
    status
}
