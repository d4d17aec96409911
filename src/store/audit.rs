//! The audit log's rows, in SQL both backends accept.
//!
//! Entries are appended by [`append`](audit_sql) inside a write transaction that already holds
//! the writer lock (SQLite `BEGIN IMMEDIATE`, PostgreSQL's object-writer advisory lock): the
//! next seq is read and taken under that lock, so entries are numbered in commit order with no
//! gap, and an entry exists if and only if the change it records was committed.

use time::OffsetDateTime;

use crate::domain::audit::merkle::Hash;
use crate::domain::audit::record::AuditRecord;
use crate::domain::principal::OrganisationId;

use super::StoreResult;

pub use crate::domain::audit::entry::StoredEntry;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    pub size: u64,
    /// The signed checkpoint file (domain::audit::checkpoint).
    pub signed: String,
    /// The compact range of the first `size` leaves, to resume hashing from.
    pub frontier: Vec<Hash>,
    pub created_at: OffsetDateTime,
}

/// Most entries one call returns.
pub const MAX_ENTRIES_PAGE: u32 = 1000;
/// Leaves per stored tile (`audit_tiles`): tile `t` is the subtree of leaves
/// `TILE_LEAVES * t .. TILE_LEAVES * (t + 1)`.
pub const TILE_LEAVES: u64 = 256;

#[async_trait::async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends one entry in a transaction of its own (a denied request, a read): for entries
    /// that record no other change. Returns its seq.
    async fn append_audit(&self, record: &AuditRecord) -> StoreResult<u64>;
    /// How many entries the log holds (the next seq).
    async fn audit_size(&self) -> StoreResult<u64>;
    /// Up to `limit` entries from seq `from` (at most [`MAX_ENTRIES_PAGE`]); with
    /// `organisation`, only those whose actor belongs to it.
    async fn audit_entries(
        &self,
        from: u64,
        limit: u32,
        organisation: Option<&OrganisationId>,
    ) -> StoreResult<Vec<StoredEntry>>;
    /// The leaf hashes of entries `from..to`, in order.
    async fn audit_leaf_hashes(&self, from: u64, to: u64) -> StoreResult<Vec<Hash>>;
    /// Stores a checkpoint; false if one of that size exists (another instance signed it).
    async fn insert_checkpoint(&self, checkpoint: &StoredCheckpoint) -> StoreResult<bool>;
    async fn latest_checkpoint(&self) -> StoreResult<Option<StoredCheckpoint>>;
    /// Every checkpoint, by size.
    async fn checkpoints(&self) -> StoreResult<Vec<StoredCheckpoint>>;
    /// Stores the roots of complete tiles (`(tile, root)`); a tile stored already is kept.
    async fn insert_tiles(&self, tiles: &[(u64, Hash)]) -> StoreResult<()>;
    /// The stored roots of tiles `from..to` (some may be missing).
    async fn audit_tiles(&self, from: u64, to: u64) -> StoreResult<Vec<(u64, Hash)>>;
}

pub(super) fn frontier_bytes(frontier: &[Hash]) -> Vec<u8> {
    frontier.concat()
}

pub(super) fn frontier_from_bytes(bytes: &[u8]) -> Option<Vec<Hash>> {
    if !bytes.len().is_multiple_of(32) {
        return None;
    }
    Some(
        bytes
            .chunks_exact(32)
            .map(|c| {
                let mut h = [0u8; 32];
                h.copy_from_slice(c);
                h
            })
            .collect(),
    )
}

pub(super) fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

pub(super) fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

macro_rules! audit_sql {
    ($store:ident, $row:ident) => {
        /// The audit log's SQL, instantiated for this backend.
        pub(super) mod audit_sql {
            use super::{$row, $store};
            use $crate::domain::audit::merkle::{Hash, leaf_hash};
            use $crate::domain::audit::record::AuditRecord;
            use $crate::domain::principal::OrganisationId;
            use $crate::store::audit::{
                AuditStore, MAX_ENTRIES_PAGE, StoredCheckpoint, StoredEntry, frontier_bytes,
                frontier_from_bytes, to_i64, to_u64,
            };
            use $crate::store::portable::{from_micros, micros};
            use $crate::store::{StoreError, StoreResult};
            use sqlx::Row as _;

            type Tx = sqlx::Transaction<'static, <$row as sqlx::Row>::Database>;

            /// Appends the entry of `record` inside `tx`, which must hold the writer lock.
            pub(crate) async fn append(tx: &mut Tx, record: &AuditRecord) -> StoreResult<u64> {
                let last: Option<(i64, i64)> = sqlx::query_as(
                    "SELECT seq, time_us FROM audit_log ORDER BY seq DESC LIMIT 1",
                )
                .fetch_optional(&mut **tx)
                .await?;
                let (seq, previous) = match last {
                    Some((seq, us)) => (to_u64(seq) + 1, Some(from_micros(us)?)),
                    None => (0, None),
                };
                let entry = record.to_entry(seq, previous);
                let bytes = entry.to_canonical();
                let leaf = leaf_hash(&bytes);
                sqlx::query(
                    "INSERT INTO audit_log (seq, time_us, actor_organisation_id, entry, \
                     leaf_hash) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(to_i64(seq))
                .bind(micros(entry.time))
                .bind(record.organisation.as_ref().map(|o| o.as_str()))
                .bind(&bytes)
                .bind(&leaf[..])
                .execute(&mut **tx)
                .await?;
                Ok(seq)
            }

            fn hash_from(bytes: &[u8]) -> StoreResult<Hash> {
                bytes
                    .try_into()
                    .map_err(|_| StoreError::Corrupt("leaf hash is not 32 bytes".into()))
            }

            fn entry_from_row(row: &$row) -> StoreResult<StoredEntry> {
                let hash: Vec<u8> = row.try_get("leaf_hash")?;
                Ok(StoredEntry {
                    seq: to_u64(row.try_get("seq")?),
                    entry: row.try_get("entry")?,
                    leaf_hash: hash_from(&hash)?,
                    organisation: row
                        .try_get::<Option<String>, _>("actor_organisation_id")?
                        .map(OrganisationId::from_stored),
                })
            }

            fn checkpoint_from_row(row: &$row) -> StoreResult<StoredCheckpoint> {
                let frontier: Vec<u8> = row.try_get("frontier")?;
                Ok(StoredCheckpoint {
                    size: to_u64(row.try_get("size")?),
                    signed: row.try_get("signed")?,
                    frontier: frontier_from_bytes(&frontier).ok_or_else(|| {
                        StoreError::Corrupt("checkpoint frontier is not 32-byte hashes".into())
                    })?,
                    created_at: row.try_get("created_at")?,
                })
            }

            #[async_trait::async_trait]
            impl AuditStore for $store {
                async fn append_audit(&self, record: &AuditRecord) -> StoreResult<u64> {
                    let mut tx = self.begin_write().await?;
                    let seq = append(&mut tx, record).await?;
                    tx.commit().await?;
                    Ok(seq)
                }

                async fn audit_size(&self) -> StoreResult<u64> {
                    let last: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM audit_log")
                        .fetch_one(&self.pool)
                        .await?;
                    Ok(last.map_or(0, |s| to_u64(s) + 1))
                }

                async fn audit_entries(
                    &self,
                    from: u64,
                    limit: u32,
                    organisation: Option<&OrganisationId>,
                ) -> StoreResult<Vec<StoredEntry>> {
                    let limit = i64::from(limit.min(MAX_ENTRIES_PAGE));
                    let rows = match organisation {
                        None => {
                            sqlx::query(
                                "SELECT seq, entry, leaf_hash, actor_organisation_id \
                                 FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2",
                            )
                            .bind(to_i64(from))
                            .bind(limit)
                            .fetch_all(&self.pool)
                            .await?
                        }
                        Some(org) => {
                            sqlx::query(
                                "SELECT seq, entry, leaf_hash, actor_organisation_id \
                                 FROM audit_log WHERE actor_organisation_id = $1 AND seq >= $2 \
                                 ORDER BY seq LIMIT $3",
                            )
                            .bind(org.as_str())
                            .bind(to_i64(from))
                            .bind(limit)
                            .fetch_all(&self.pool)
                            .await?
                        }
                    };
                    rows.iter().map(entry_from_row).collect()
                }

                async fn audit_leaf_hashes(&self, from: u64, to: u64) -> StoreResult<Vec<Hash>> {
                    // In slices: a whole million-row column at once would hold every row
                    // object in memory together.
                    const SLICE: u64 = 50_000;
                    let mut out =
                        Vec::with_capacity(usize::try_from(to.saturating_sub(from)).unwrap_or(0));
                    let mut start = from;
                    while start < to {
                        let end = to.min(start.saturating_add(SLICE));
                        let rows: Vec<Vec<u8>> = sqlx::query_scalar(
                            "SELECT leaf_hash FROM audit_log WHERE seq >= $1 AND seq < $2 \
                             ORDER BY seq",
                        )
                        .bind(to_i64(start))
                        .bind(to_i64(end))
                        .fetch_all(&self.pool)
                        .await?;
                        for hash in &rows {
                            out.push(hash_from(hash)?);
                        }
                        start = end;
                    }
                    if out.len() as u64 != to.saturating_sub(from) {
                        return Err(StoreError::NotFound("audit entries"));
                    }
                    Ok(out)
                }

                async fn insert_checkpoint(&self, c: &StoredCheckpoint) -> StoreResult<bool> {
                    let done = sqlx::query(
                        "INSERT INTO audit_checkpoints (size, signed, frontier, created_at) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT (size) DO NOTHING",
                    )
                    .bind(to_i64(c.size))
                    .bind(&c.signed)
                    .bind(frontier_bytes(&c.frontier))
                    .bind(c.created_at)
                    .execute(&self.pool)
                    .await?;
                    Ok(done.rows_affected() == 1)
                }

                async fn latest_checkpoint(&self) -> StoreResult<Option<StoredCheckpoint>> {
                    let row = sqlx::query(
                        "SELECT size, signed, frontier, created_at FROM audit_checkpoints \
                         ORDER BY size DESC LIMIT 1",
                    )
                    .fetch_optional(&self.pool)
                    .await?;
                    row.as_ref().map(checkpoint_from_row).transpose()
                }

                async fn insert_tiles(&self, tiles: &[(u64, Hash)]) -> StoreResult<()> {
                    for chunk in tiles.chunks(500) {
                        let mut qb = sqlx::QueryBuilder::new("INSERT INTO audit_tiles (tile, hash) ");
                        qb.push_values(chunk, |mut b, (tile, hash)| {
                            b.push_bind(to_i64(*tile)).push_bind(hash.to_vec());
                        });
                        qb.push(" ON CONFLICT (tile) DO NOTHING");
                        qb.build().execute(&self.pool).await?;
                    }
                    Ok(())
                }

                async fn audit_tiles(&self, from: u64, to: u64) -> StoreResult<Vec<(u64, Hash)>> {
                    let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
                        "SELECT tile, hash FROM audit_tiles WHERE tile >= $1 AND tile < $2 \
                         ORDER BY tile",
                    )
                    .bind(to_i64(from))
                    .bind(to_i64(to))
                    .fetch_all(&self.pool)
                    .await?;
                    rows.into_iter()
                        .map(|(tile, hash)| Ok((to_u64(tile), hash_from(&hash)?)))
                        .collect()
                }

                async fn checkpoints(&self) -> StoreResult<Vec<StoredCheckpoint>> {
                    let rows = sqlx::query(
                        "SELECT size, signed, frontier, created_at FROM audit_checkpoints \
                         ORDER BY size",
                    )
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter().map(checkpoint_from_row).collect()
                }
            }
        }
    };
}
pub(super) use audit_sql;
