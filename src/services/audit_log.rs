//! Reading the audit log over the API: checkpoints, entries, and the proofs that let a client
//! check an entry or a newer checkpoint against a checkpoint it already holds.
//!
//! Who reads what: entries are for the CSIRT's analysts; any other principal reads the entries
//! whose actor belongs to its own organisation, and the inclusion proofs of those, with the
//! latest checkpoint and the key that check them. Consistency proofs, which witness that the
//! log only ever grew, are for the analysts and partner hubs: a provider checks what concerns
//! it, its own entries, and witnesses nothing.
//!
//! Proofs are against signed sizes only, at most the latest checkpoint's: a proof against a
//! size nobody signed checks against no root, and a refusal that named the log's size (or
//! depended on it) would tell any principal how much everyone else is doing.

use crate::domain::access::RegistryRecord;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use crate::domain::audit::entry::StoredEntry;
use crate::domain::audit::merkle::{self, Hash, ProofError, Span};
use crate::domain::principal::PrincipalKind;
use crate::store::audit::MAX_ENTRIES_PAGE;
use crate::store::audit::TILE_LEAVES;
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum AuditLogError {
    /// No such entry, or one the caller may not read.
    #[error("no such audit entry")]
    NotFound,
    #[error("no checkpoint has been signed yet")]
    NoCheckpoint,
    #[error("{0}")]
    BadRange(String),
    /// This kind of principal does not get this; the text says who does.
    #[error("{0}")]
    NotPermitted(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<ProofError> for AuditLogError {
    fn from(e: ProofError) -> Self {
        AuditLogError::BadRange(e.to_string())
    }
}

/// An inclusion proof (RFC 9162 §2.1.3): leaf `seq` is in the tree of `tree_size` leaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InclusionProof {
    pub seq: u64,
    pub tree_size: u64,
    pub entry: StoredEntry,
    pub path: Vec<Hash>,
}

/// One page of entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntriesPage {
    pub entries: Vec<StoredEntry>,
    pub next: Option<u64>,
}

#[derive(Debug, Clone, Copy)]
pub struct AuditLog<'a> {
    pub store: &'a dyn Store,
}

fn reads_everything(caller: &RegistryRecord) -> bool {
    caller.principal.kind == PrincipalKind::Analyst
}

impl AuditLog<'_> {
    /// The latest signed checkpoint, as its file text.
    pub async fn latest_checkpoint(&self) -> Result<String, AuditLogError> {
        self.store
            .latest_checkpoint()
            .await?
            .map(|c| c.signed)
            .ok_or(AuditLogError::NoCheckpoint)
    }

    /// Up to `limit` entries (100 by default, at most `MAX_ENTRIES_PAGE`) from `from` that
    /// the caller may read, and where the next page starts if there may be more.
    pub async fn entries(
        &self,
        caller: &RegistryRecord,
        from: u64,
        limit: Option<u32>,
    ) -> Result<EntriesPage, AuditLogError> {
        let limit = limit.unwrap_or(100).clamp(1, MAX_ENTRIES_PAGE);
        let own = (!reads_everything(caller)).then_some(&caller.organisation.id);
        let entries = self.store.audit_entries(from, limit, own).await?;
        let next = (entries.len() == limit as usize)
            .then(|| entries.last().map(|e| e.seq + 1))
            .flatten();
        Ok(EntriesPage { entries, next })
    }

    /// The size a proof is asked against: the one given, at most the latest checkpoint's, or
    /// by default the latest checkpoint's, which is what a client holds.
    async fn tree_size(&self, asked: Option<u64>) -> Result<u64, AuditLogError> {
        let signed = self
            .store
            .latest_checkpoint()
            .await?
            .ok_or(AuditLogError::NoCheckpoint)?
            .size;
        match asked {
            Some(size) if size > signed => Err(AuditLogError::BadRange(format!(
                "tree size {size} is beyond the latest checkpoint"
            ))),
            Some(size) => Ok(size),
            None => Ok(signed),
        }
    }

    pub async fn inclusion(
        &self,
        caller: &RegistryRecord,
        seq: u64,
        size: Option<u64>,
    ) -> Result<InclusionProof, AuditLogError> {
        let entry = self
            .store
            .audit_entries(seq, 1, None)
            .await?
            .into_iter()
            .next()
            .filter(|e| e.seq == seq)
            .ok_or(AuditLogError::NotFound)?;
        if !reads_everything(caller) && entry.organisation.as_ref() != Some(&caller.organisation.id)
        {
            return Err(AuditLogError::NotFound);
        }
        let tree_size = self.tree_size(size).await?;
        if seq >= tree_size {
            return Err(AuditLogError::BadRange(format!(
                "entry {seq} is not below the tree size {tree_size}"
            )));
        }
        let path = self
            .hashes(&merkle::inclusion_spans(seq, tree_size)?, tree_size)
            .await?;
        Ok(InclusionProof {
            seq,
            tree_size,
            entry,
            path,
        })
    }

    /// The proof that the tree of `from` leaves is a prefix of the tree of `to` leaves
    /// (default: the latest checkpoint's size).
    pub async fn consistency(
        &self,
        caller: &RegistryRecord,
        from: u64,
        to: Option<u64>,
    ) -> Result<(u64, Vec<Hash>), AuditLogError> {
        if caller.principal.kind == PrincipalKind::Provider {
            return Err(AuditLogError::NotPermitted(
                "consistency proofs are for the CSIRT's analysts and partner hubs",
            ));
        }
        let to = self.tree_size(to).await?;
        if from == 0 || from > to {
            return Err(AuditLogError::BadRange(format!(
                "the old size must be between 1 and the new size {to}"
            )));
        }
        let spans = merkle::consistency_spans(from, to)?;
        Ok((to, self.hashes(&spans, to).await?))
    }

    /// The roots of `spans` of the tree of `size` leaves: from the stored tiles where a span
    /// covers whole ones, from the leaves for the rest (a few hundred per span at most), so
    /// that a proof costs n/256 tile reads rather than every leaf.
    async fn hashes(&self, spans: &[Span], size: u64) -> Result<Vec<Hash>, AuditLogError> {
        let tiles: HashMap<u64, Hash> = self
            .store
            .audit_tiles(0, size / TILE_LEAVES)
            .await?
            .into_iter()
            .collect();
        let mut out = Vec::with_capacity(spans.len());
        for &(start, len) in spans {
            out.push(self.span_root(start, len, &tiles).await?);
        }
        Ok(out)
    }

    fn span_root<'b>(
        &'b self,
        start: u64,
        len: u64,
        tiles: &'b HashMap<u64, Hash>,
    ) -> Pin<Box<dyn Future<Output = Result<Hash, AuditLogError>> + Send + 'b>> {
        Box::pin(async move {
            let aligned = start.is_multiple_of(TILE_LEAVES);
            if aligned
                && len == TILE_LEAVES
                && let Some(root) = tiles.get(&(start / TILE_LEAVES))
            {
                return Ok(*root);
            }
            // MTH splits at powers of two, so a span longer than a tile starts on a tile
            // boundary and halves into whole tiles; anything else is read leaf by leaf.
            if len <= TILE_LEAVES || !aligned {
                let leaves = self.store.audit_leaf_hashes(start, start + len).await?;
                return Ok(merkle::root(&leaves));
            }
            let k = merkle::split(len);
            let left = self.span_root(start, k, tiles).await?;
            let right = self.span_root(start + k, len - k, tiles).await?;
            Ok(merkle::node_hash(&left, &right))
        })
    }
}
