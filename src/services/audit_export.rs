//! `relais audit export`: the log as stored, written to a directory that `relais audit
//! verify` checks offline (format in `services::audit_verify`).
//!
//! Safe while hubs run: it only reads. Checkpoints are read first and entries after, so the
//! export holds every entry its checkpoints commit to; entries appended meanwhile are either
//! in it or after its end (seqs are committed in order), never a gap.

use std::path::Path;

use crate::crypto::openpgp::{AuditKey, OpenPgpError};
use crate::domain::audit::checkpoint::{CheckpointError, SignedCheckpoint};
use crate::services::audit_verify::{ExportError, ExportWriter};
use crate::services::secrets::AUDIT_KEY;
use crate::store::audit::MAX_ENTRIES_PAGE;
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum AuditExportError {
    #[error("this hub has no audit key yet: start it once (relais serve) before exporting")]
    NoKey,
    #[error("the stored audit key is unreadable: {0}")]
    Key(#[from] OpenPgpError),
    #[error("stored checkpoint of size {size}: {source}")]
    Checkpoint {
        size: u64,
        #[source]
        source: CheckpointError,
    },
    #[error("the log changed under the export: entry {0} is missing")]
    Gap(u64),
    #[error(transparent)]
    Write(#[from] ExportError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exported {
    pub entries: u64,
    pub checkpoints: usize,
}

pub async fn export(store: &dyn Store, dir: &Path) -> Result<Exported, AuditExportError> {
    let secret = store
        .hub_secret(AUDIT_KEY)
        .await?
        .ok_or(AuditExportError::NoKey)?;
    let public = AuditKey::from_armored_secret(&secret)?.public_key();
    let checkpoints = store.checkpoints().await?;
    let signed: Vec<SignedCheckpoint> = checkpoints
        .iter()
        .map(|c| {
            SignedCheckpoint::parse(&c.signed).map_err(|source| AuditExportError::Checkpoint {
                size: c.size,
                source,
            })
        })
        .collect::<Result<_, _>>()?;
    let size = store.audit_size().await?;
    let mut writer = ExportWriter::create(dir, &public)?;
    let mut next = 0u64;
    while next < size {
        let page = store.audit_entries(next, MAX_ENTRIES_PAGE, None).await?;
        if page.is_empty() {
            return Err(AuditExportError::Gap(next));
        }
        for entry in page.iter().take_while(|e| e.seq < size) {
            // A gap in the stored seqs is written as found (the verifier reports it), but a
            // page that skips the very next seq means rows were removed: say so here too.
            if entry.seq != next {
                tracing::warn!(
                    expected = next,
                    found = entry.seq,
                    "gap in the stored audit log"
                );
            }
            writer.append_canonical(&entry.entry)?;
            next = entry.seq + 1;
        }
        if page.last().is_some_and(|e| e.seq + 1 >= size) {
            break;
        }
    }
    for c in &signed {
        writer.add_checkpoint(c)?;
    }
    let entries = writer.finish()?;
    Ok(Exported {
        entries,
        checkpoints: signed.len(),
    })
}
