//! Signing checkpoints of the audit log: every `audit.checkpoint_entries` new entries, or
//! `audit.checkpoint_secs` after the last checkpoint if anything was appended since.
//!
//! Every instance runs the job. Two instances may sign the same size at once; the checkpoint
//! table's key on the size keeps the first and the other's is dropped. Both would commit to
//! the same root (entries are numbered under one lock), so nothing is lost either way and no
//! lease is needed.

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use crate::clock::SharedClock;
use crate::crypto::openpgp::{AuditKey, OpenPgpError};
use crate::domain::audit::checkpoint::{Checkpoint, SignedCheckpoint};
use crate::domain::audit::merkle::{self, CompactRange, Hash};
use crate::services::jobs::Periodic;
use crate::store::audit::TILE_LEAVES;
use crate::store::{SharedStore, StoreError, StoredCheckpoint};

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("signing the checkpoint: {0}")]
    Sign(#[from] OpenPgpError),
    /// The stored state does not add up: the database was edited, or is not this log's.
    #[error("the audit log's stored state is inconsistent: {0}")]
    Inconsistent(String),
}

/// How often the job looks at the log's size: cheap (two indexed lookups).
const POLL: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub struct Checkpointer {
    pub store: SharedStore,
    pub clock: SharedClock,
    pub key: Arc<AuditKey>,
    pub origin: String,
    pub every_entries: u64,
    pub every: time::Duration,
}

impl Checkpointer {
    /// Signs a checkpoint of the whole log if any entry is not covered by one; returns the
    /// checkpoint this call stored.
    pub async fn checkpoint_now(&self) -> Result<Option<StoredCheckpoint>, CheckpointError> {
        let latest = self.store.latest_checkpoint().await?;
        let size = self.store.audit_size().await?;
        self.extend(latest, size, self.clock.now()).await
    }

    /// Signs a checkpoint if one is due under the configured rule.
    pub async fn checkpoint_if_due(&self) -> Result<Option<StoredCheckpoint>, CheckpointError> {
        let latest = self.store.latest_checkpoint().await?;
        let size = self.store.audit_size().await?;
        let now = self.clock.now();
        let covered = latest.as_ref().map_or(0, |c| c.size);
        let uncovered = size.saturating_sub(covered);
        let due = uncovered >= self.every_entries
            || (uncovered > 0
                && latest
                    .as_ref()
                    .is_none_or(|c| now - c.created_at >= self.every));
        if !due {
            return Ok(None);
        }
        self.extend(latest, size, now).await
    }

    async fn extend(
        &self,
        latest: Option<StoredCheckpoint>,
        size: u64,
        now: OffsetDateTime,
    ) -> Result<Option<StoredCheckpoint>, CheckpointError> {
        let mut range = match &latest {
            None => CompactRange::new(),
            Some(c) if c.size >= size => return Ok(None),
            Some(c) => {
                let range = CompactRange::from_frontier(c.size, c.frontier.clone())
                    .map_err(|e| CheckpointError::Inconsistent(e.to_string()))?;
                // Never sign on top of a frontier that is not the one the last signature
                // committed to.
                let signed = SignedCheckpoint::parse(&c.signed)
                    .map_err(|e| CheckpointError::Inconsistent(e.to_string()))?;
                if signed.checkpoint.root != range.root() {
                    return Err(CheckpointError::Inconsistent(format!(
                        "the stored frontier of checkpoint {} does not give its signed root",
                        c.size
                    )));
                }
                range
            }
        };
        // From the start of the tile the range is in, so that every tile completed here can
        // be hashed and stored for the proof endpoints.
        let from = range.size() / TILE_LEAVES * TILE_LEAVES;
        let leaves = self.store.audit_leaf_hashes(from, size).await?;
        let already = usize::try_from(range.size() - from).unwrap_or(usize::MAX);
        for leaf in leaves.iter().skip(already) {
            range.push(*leaf);
        }
        let tiles: Vec<(u64, Hash)> = leaves
            .chunks_exact(usize::try_from(TILE_LEAVES).unwrap_or(256))
            .enumerate()
            .map(|(i, chunk)| (from / TILE_LEAVES + i as u64, merkle::root(chunk)))
            .collect();
        self.store.insert_tiles(&tiles).await?;
        let checkpoint = Checkpoint {
            origin: self.origin.clone(),
            size,
            root: range.root(),
        };
        let signed = SignedCheckpoint::sign(checkpoint, &self.key, now)?;
        let stored = StoredCheckpoint {
            size,
            signed: signed.to_text(),
            frontier: range.frontier().to_vec(),
            created_at: now,
        };
        if self.store.insert_checkpoint(&stored).await? {
            tracing::debug!(size, "audit checkpoint signed");
            Ok(Some(stored))
        } else {
            Ok(None)
        }
    }

    /// Runs until `shutdown`, then signs a last checkpoint so that a clean stop leaves no
    /// entry uncovered.
    pub fn spawn(
        self: Arc<Self>,
        shutdown: CancellationToken,
        jobs: &tokio_util::task::TaskTracker,
    ) {
        let this = Arc::clone(&self);
        Periodic::new("audit_checkpoint", POLL).spawn_then(
            shutdown,
            jobs,
            move || {
                let this = Arc::clone(&this);
                async move {
                    if let Err(e) = this.checkpoint_if_due().await {
                        tracing::warn!(error = %e, "audit checkpoint failed");
                    }
                }
            },
            async move {
                if let Err(e) = self.checkpoint_now().await {
                    tracing::warn!(error = %e, "final audit checkpoint failed");
                }
            },
        );
    }
}
