//! Where each peer stands, for `relais federation status`: the pull (last success, cursor,
//! lag, objects in and out, errors, backoff) and the witnessing (last cosigned checkpoint,
//! alarm).

use serde::Serialize;
use time::OffsetDateTime;

use crate::domain::federation::FederationPolicy;
use crate::store::{Store, StoreError};

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CursorStatus {
    pub collection: String,
    pub added_after: Option<String>,
    pub next: bool,
    pub pages: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PeerStatus {
    /// The entry's name in the policy.
    pub name: String,
    /// `None`: no principal of kind peer in the registry answers to the name.
    pub principal: Option<String>,
    pub pulled: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_success: Option<OffsetDateTime>,
    /// Seconds since the last successful poll.
    pub lag_secs: Option<i64>,
    pub last_error: Option<String>,
    pub failures: i64,
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_poll: Option<OffsetDateTime>,
    pub objects_in: i64,
    pub refused_in: i64,
    pub objects_out: i64,
    pub cursors: Vec<CursorStatus>,
    /// The size of the peer's log this hub last cosigned.
    pub witnessed_size: Option<u64>,
    pub witness_alarm: Option<String>,
}

impl PeerStatus {
    /// Whether something needs an operator: a witness alarm, or a peer failing.
    pub fn alarming(&self) -> bool {
        self.witness_alarm.is_some()
    }
}

pub async fn status(
    store: &dyn Store,
    policy: &FederationPolicy,
    now: OffsetDateTime,
) -> Result<Vec<PeerStatus>, StoreError> {
    let states = store.peer_states().await?;
    let witnessed = store.all_witnessed().await?;
    let resolved: Vec<_> = policy.resolved().collect();
    let mut out = Vec::new();
    for (name, entry) in policy.entries() {
        let id = resolved
            .iter()
            .find(|(_, n, _)| *n == name)
            .map(|(id, _, _)| *id);
        let state = id.and_then(|id| states.iter().find(|s| s.peer == id.as_str()));
        let mut cursors = Vec::new();
        if let (Some(id), Some(ingress)) = (id, &entry.ingress) {
            for c in &ingress.collections {
                let cursor = store.pull_cursor(id, c).await?.unwrap_or_default();
                cursors.push(CursorStatus {
                    collection: c.clone(),
                    added_after: cursor.added_after,
                    next: cursor.next.is_some(),
                    pages: cursor.pages,
                });
            }
        }
        let witness = id.and_then(|id| witnessed.iter().find(|w| w.peer == id.as_str()));
        out.push(PeerStatus {
            name: name.to_owned(),
            principal: id.map(|i| i.to_string()),
            pulled: entry.ingress.as_ref().is_some_and(|i| i.enabled),
            last_success: state.and_then(|s| s.last_success),
            lag_secs: state
                .and_then(|s| s.last_success)
                .map(|t| (now - t).whole_seconds()),
            last_error: state.and_then(|s| s.last_error.clone()),
            failures: state.map_or(0, |s| s.failures),
            next_poll: state.and_then(|s| s.next_poll),
            objects_in: state.map_or(0, |s| s.objects_in),
            refused_in: state.map_or(0, |s| s.refused_in),
            objects_out: state.map_or(0, |s| s.objects_out),
            cursors,
            witnessed_size: witness
                .filter(|w| !w.cosignature.is_empty())
                .map(|w| w.size),
            witness_alarm: witness.and_then(|w| w.alarm.clone()),
        });
    }
    Ok(out)
}
