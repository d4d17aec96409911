//! Federation state: pulled pages stored with their cursor in one transaction, each peer's
//! standing, job leases shared by the instances of a deployment, and the witnessed
//! checkpoints both ways.

use time::OffsetDateTime;

use crate::domain::audit::record::AuditRecord;
use crate::domain::principal::PrincipalId;
use crate::domain::stix::stored::{Inserted, NewObject};

use super::StoreResult;

/// Where the pull of one of a peer's collections stands.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PullCursor {
    /// The peer's `X-TAXII-Date-Added-Last` of the last complete run of pages, verbatim.
    pub added_after: Option<String>,
    /// The peer's `next` inside a run of pages.
    pub next: Option<String>,
    pub pages: i64,
}

/// A page pulled from a peer, to store in one transaction.
#[derive(Debug)]
pub struct PulledPage<'a> {
    pub peer: &'a PrincipalId,
    /// The peer's collection id.
    pub collection: &'a str,
    pub objects: &'a [NewObject],
    pub audits: &'a [AuditRecord],
    /// The cursor after this page.
    pub cursor: &'a PullCursor,
    /// Objects of the page refused (validation, markings, provenance).
    pub refused: u64,
    pub at: OffsetDateTime,
}

/// A peer's standing, for the status and the backoff.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PeerState {
    pub peer: String,
    pub last_attempt: Option<OffsetDateTime>,
    pub last_success: Option<OffsetDateTime>,
    pub last_error: Option<String>,
    pub failures: i64,
    pub next_poll: Option<OffsetDateTime>,
    pub objects_in: i64,
    pub refused_in: i64,
    pub objects_out: i64,
}

/// How a poll ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollEnd {
    Success,
    Failure(String),
}

/// The last checkpoint of a peer's log this hub cosigned, and the alarm if witnessing stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessedRow {
    pub peer: String,
    pub origin: String,
    pub size: u64,
    /// Standard base64.
    pub root: String,
    /// The cosignature line this hub made of it.
    pub cosignature: String,
    pub witnessed_at: OffsetDateTime,
    pub alarm: Option<String>,
    pub alarm_at: Option<OffsetDateTime>,
}

/// A cosignature of one of this hub's checkpoints, sent back by the peer that witnessed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedCosignature {
    pub size: u64,
    pub root: String,
    pub witness: String,
    pub peer: String,
    pub line: String,
    pub received_at: OffsetDateTime,
}

#[async_trait::async_trait]
pub trait FederationStore: Send + Sync {
    /// For each of `ids`, where its stored versions came from: (id, origin peer or `None`
    /// for local material).
    async fn object_origins(&self, ids: &[String]) -> StoreResult<Vec<(String, Option<String>)>>;
    async fn pull_cursor(
        &self,
        peer: &PrincipalId,
        collection: &str,
    ) -> StoreResult<Option<PullCursor>>;
    /// Stores a pulled page's objects, their audit records, the new cursor and the peer's
    /// counters in one transaction: a crash leaves either all of it or none.
    async fn store_pulled_page(&self, page: &PulledPage<'_>) -> StoreResult<Vec<Inserted>>;
    /// Records the end of a poll and when the next one is due.
    async fn record_poll(
        &self,
        peer: &PrincipalId,
        end: &PollEnd,
        at: OffsetDateTime,
        next: OffsetDateTime,
    ) -> StoreResult<()>;
    async fn peer_states(&self) -> StoreResult<Vec<PeerState>>;
    /// Counts objects served to a peer.
    async fn count_objects_out(&self, peer: &PrincipalId, n: u64) -> StoreResult<()>;
    /// Takes (or renews) the lease `name` for `holder` until `until`, if it is free, expired
    /// or already `holder`'s. True if `holder` holds it now.
    async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> StoreResult<bool>;
    async fn witnessed(&self, peer: &PrincipalId) -> StoreResult<Option<WitnessedRow>>;
    async fn all_witnessed(&self) -> StoreResult<Vec<WitnessedRow>>;
    /// Records a new cosigned checkpoint of a peer's log, with its audit record.
    async fn record_witnessed(&self, row: &WitnessedRow, audit: &AuditRecord) -> StoreResult<()>;
    /// Records an alarm that stops witnessing the peer, with its audit record. Kept: the first
    /// alarm stays until an operator clears the row.
    async fn record_witness_alarm(
        &self,
        peer: &PrincipalId,
        origin: &str,
        alarm: &str,
        at: OffsetDateTime,
        audit: &AuditRecord,
    ) -> StoreResult<()>;
    /// Keeps a cosignature of one of this hub's checkpoints; a witness's newer one for the
    /// same size replaces nothing (one per size and witness).
    async fn insert_cosignature(
        &self,
        c: &ReceivedCosignature,
        audit: &AuditRecord,
    ) -> StoreResult<bool>;
    /// Cosignatures of this hub's checkpoints, newest size first.
    async fn cosignatures(&self, limit: u32) -> StoreResult<Vec<ReceivedCosignature>>;
    /// Asks every instance to reload the federation policy; the new generation.
    async fn bump_federation_reload(&self, at: OffsetDateTime) -> StoreResult<i64>;
    async fn federation_reload_generation(&self) -> StoreResult<i64>;
}

macro_rules! federation_sql {
    ($store:ident, $row:ident) => {
        /// Federation state, instantiated for this backend.
        mod federation_sql {
            use super::audit_sql::append;
            use super::registry_sql::insert_rows;
            use super::{$row, $store};
            use sqlx::Row as _;
            use $crate::domain::audit::record::AuditRecord;
            use $crate::domain::principal::PrincipalId;
            use $crate::domain::stix::stored::Inserted;
            use $crate::store::federation::{
                FederationStore, PeerState, PollEnd, PullCursor, PulledPage, ReceivedCosignature,
                WitnessedRow,
            };
            use $crate::store::portable::{from_micros, micros};
            use $crate::store::StoreResult;

            fn size_of(v: i64) -> StoreResult<u64> {
                u64::try_from(v).map_err(|_| $crate::store::StoreError::Corrupt("negative size".into()))
            }

            fn time_opt(row: &$row, column: &str) -> StoreResult<Option<time::OffsetDateTime>> {
                row.try_get::<Option<i64>, _>(column)?.map(from_micros).transpose()
            }

            fn witnessed_from_row(row: &$row) -> StoreResult<WitnessedRow> {
                Ok(WitnessedRow {
                    peer: row.try_get("peer_id")?,
                    origin: row.try_get("origin")?,
                    size: size_of(row.try_get("size")?)?,
                    root: row.try_get("root")?,
                    cosignature: row.try_get("cosignature")?,
                    witnessed_at: from_micros(row.try_get("witnessed_at")?)?,
                    alarm: row.try_get("alarm")?,
                    alarm_at: time_opt(row, "alarm_at")?,
                })
            }

            async fn ensure_peer_row(
                tx: &mut sqlx::Transaction<'static, <$row as sqlx::Row>::Database>,
                peer: &PrincipalId,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO federation_peers (peer_id) VALUES ($1) ON CONFLICT DO NOTHING",
                )
                .bind(peer.as_str())
                .execute(&mut **tx)
                .await?;
                Ok(())
            }

            #[async_trait::async_trait]
            impl FederationStore for $store {
                async fn object_origins(
                    &self,
                    ids: &[String],
                ) -> StoreResult<Vec<(String, Option<String>)>> {
                    const CHUNK: usize = 500;
                    let mut out = Vec::new();
                    for chunk in ids.chunks(CHUNK) {
                        // No index starts with the id (one keyed on random ids doubled the
                        // cost of every insert, migration 0005): the unique (collection_id,
                        // id, version) index serves the lookup once the query names the
                        // collections, which a loose index scan lists in a few probes.
                        // `WHERE id IN (…)` alone scanned the whole table for every page.
                        let mut qb = sqlx::QueryBuilder::new(
                            "WITH RECURSIVE c(id) AS (\
                             SELECT MIN(collection_id) FROM stix_objects \
                             UNION ALL SELECT (SELECT MIN(collection_id) FROM stix_objects \
                             WHERE collection_id > c.id) FROM c WHERE c.id IS NOT NULL) \
                             SELECT DISTINCT o.id, o.origin_peer FROM c \
                             JOIN stix_objects o ON o.collection_id = c.id WHERE o.id IN (",
                        );
                        let mut list = qb.separated(", ");
                        for id in chunk {
                            list.push_bind(id.clone());
                        }
                        qb.push(")");
                        for row in qb.build().fetch_all(&self.pool).await? {
                            out.push((row.try_get("id")?, row.try_get("origin_peer")?));
                        }
                    }
                    Ok(out)
                }

                async fn pull_cursor(
                    &self,
                    peer: &PrincipalId,
                    collection: &str,
                ) -> StoreResult<Option<PullCursor>> {
                    let row = sqlx::query(
                        "SELECT added_after, next, pages FROM federation_cursors \
                         WHERE peer_id = $1 AND collection = $2",
                    )
                    .bind(peer.as_str())
                    .bind(collection)
                    .fetch_optional(&self.pool)
                    .await?;
                    row.map(|r| {
                        Ok(PullCursor {
                            added_after: r.try_get("added_after")?,
                            next: r.try_get("next")?,
                            pages: r.try_get("pages")?,
                        })
                    })
                    .transpose()
                }

                async fn store_pulled_page(
                    &self,
                    page: &PulledPage<'_>,
                ) -> StoreResult<Vec<Inserted>> {
                    let mut tx = self.begin_write().await?;
                    let outcomes = insert_rows(&mut tx, page.objects).await?;
                    for audit in page.audits {
                        append(&mut tx, audit).await?;
                    }
                    sqlx::query(
                        "INSERT INTO federation_cursors (peer_id, collection, added_after, next, \
                         pages, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
                         ON CONFLICT (peer_id, collection) DO UPDATE SET \
                         added_after = excluded.added_after, next = excluded.next, \
                         pages = excluded.pages, updated_at = excluded.updated_at",
                    )
                    .bind(page.peer.as_str())
                    .bind(page.collection)
                    .bind(page.cursor.added_after.as_deref())
                    .bind(page.cursor.next.as_deref())
                    .bind(page.cursor.pages)
                    .bind(micros(page.at))
                    .execute(&mut *tx)
                    .await?;
                    ensure_peer_row(&mut tx, page.peer).await?;
                    let new = outcomes
                        .iter()
                        .filter(|o| matches!(o, Inserted::New(_)))
                        .count();
                    sqlx::query(
                        "UPDATE federation_peers SET objects_in = objects_in + $2, \
                         refused_in = refused_in + $3 WHERE peer_id = $1",
                    )
                    .bind(page.peer.as_str())
                    .bind(i64::try_from(new).unwrap_or(i64::MAX))
                    .bind(i64::try_from(page.refused).unwrap_or(i64::MAX))
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    self.objects_written(page.objects.len());
                    Ok(outcomes)
                }

                async fn record_poll(
                    &self,
                    peer: &PrincipalId,
                    end: &PollEnd,
                    at: time::OffsetDateTime,
                    next: time::OffsetDateTime,
                ) -> StoreResult<()> {
                    let mut tx = self.pool.begin().await?;
                    ensure_peer_row(&mut tx, peer).await?;
                    match end {
                        PollEnd::Success => {
                            sqlx::query(
                                "UPDATE federation_peers SET last_attempt = $2, \
                                 last_success = $2, failures = 0, next_poll = $3 \
                                 WHERE peer_id = $1",
                            )
                            .bind(peer.as_str())
                            .bind(micros(at))
                            .bind(micros(next))
                            .execute(&mut *tx)
                            .await?;
                        }
                        PollEnd::Failure(error) => {
                            sqlx::query(
                                "UPDATE federation_peers SET last_attempt = $2, \
                                 last_error = $3, failures = failures + 1, next_poll = $4 \
                                 WHERE peer_id = $1",
                            )
                            .bind(peer.as_str())
                            .bind(micros(at))
                            .bind(error)
                            .bind(micros(next))
                            .execute(&mut *tx)
                            .await?;
                        }
                    }
                    tx.commit().await?;
                    Ok(())
                }

                async fn peer_states(&self) -> StoreResult<Vec<PeerState>> {
                    let rows = sqlx::query(
                        "SELECT peer_id, last_attempt, last_success, last_error, failures, \
                         next_poll, objects_in, refused_in, objects_out FROM federation_peers \
                         ORDER BY peer_id",
                    )
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter()
                        .map(|r| {
                            Ok(PeerState {
                                peer: r.try_get("peer_id")?,
                                last_attempt: time_opt(r, "last_attempt")?,
                                last_success: time_opt(r, "last_success")?,
                                last_error: r.try_get("last_error")?,
                                failures: r.try_get("failures")?,
                                next_poll: time_opt(r, "next_poll")?,
                                objects_in: r.try_get("objects_in")?,
                                refused_in: r.try_get("refused_in")?,
                                objects_out: r.try_get("objects_out")?,
                            })
                        })
                        .collect()
                }

                async fn count_objects_out(&self, peer: &PrincipalId, n: u64) -> StoreResult<()> {
                    let mut tx = self.pool.begin().await?;
                    ensure_peer_row(&mut tx, peer).await?;
                    sqlx::query(
                        "UPDATE federation_peers SET objects_out = objects_out + $2 \
                         WHERE peer_id = $1",
                    )
                    .bind(peer.as_str())
                    .bind(i64::try_from(n).unwrap_or(i64::MAX))
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn take_lease(
                    &self,
                    name: &str,
                    holder: &str,
                    now: time::OffsetDateTime,
                    until: time::OffsetDateTime,
                ) -> StoreResult<bool> {
                    let row = sqlx::query(
                        "INSERT INTO job_leases (name, holder, expires_at) VALUES ($1, $2, $3) \
                         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
                         expires_at = excluded.expires_at \
                         WHERE job_leases.holder = excluded.holder OR job_leases.expires_at < $4 \
                         RETURNING holder",
                    )
                    .bind(name)
                    .bind(holder)
                    .bind(micros(until))
                    .bind(micros(now))
                    .fetch_optional(&self.pool)
                    .await?;
                    Ok(row.is_some())
                }

                async fn witnessed(&self, peer: &PrincipalId) -> StoreResult<Option<WitnessedRow>> {
                    let row = sqlx::query(
                        "SELECT peer_id, origin, size, root, cosignature, witnessed_at, alarm, \
                         alarm_at FROM witnessed_checkpoints WHERE peer_id = $1",
                    )
                    .bind(peer.as_str())
                    .fetch_optional(&self.pool)
                    .await?;
                    row.as_ref().map(witnessed_from_row).transpose()
                }

                async fn all_witnessed(&self) -> StoreResult<Vec<WitnessedRow>> {
                    let rows = sqlx::query(
                        "SELECT peer_id, origin, size, root, cosignature, witnessed_at, alarm, \
                         alarm_at FROM witnessed_checkpoints ORDER BY peer_id",
                    )
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter().map(witnessed_from_row).collect()
                }

                async fn record_witnessed(
                    &self,
                    row: &WitnessedRow,
                    audit: &AuditRecord,
                ) -> StoreResult<()> {
                    let mut tx = self.begin_write().await?;
                    // An alarm is never overwritten by a later success.
                    sqlx::query(
                        "INSERT INTO witnessed_checkpoints (peer_id, origin, size, root, \
                         cosignature, witnessed_at) VALUES ($1, $2, $3, $4, $5, $6) \
                         ON CONFLICT (peer_id) DO UPDATE SET origin = excluded.origin, \
                         size = excluded.size, root = excluded.root, \
                         cosignature = excluded.cosignature, witnessed_at = excluded.witnessed_at \
                         WHERE witnessed_checkpoints.alarm IS NULL",
                    )
                    .bind(&row.peer)
                    .bind(&row.origin)
                    .bind(i64::try_from(row.size).unwrap_or(i64::MAX))
                    .bind(&row.root)
                    .bind(&row.cosignature)
                    .bind(micros(row.witnessed_at))
                    .execute(&mut *tx)
                    .await?;
                    append(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn record_witness_alarm(
                    &self,
                    peer: &PrincipalId,
                    origin: &str,
                    alarm: &str,
                    at: time::OffsetDateTime,
                    audit: &AuditRecord,
                ) -> StoreResult<()> {
                    let mut tx = self.begin_write().await?;
                    sqlx::query(
                        "INSERT INTO witnessed_checkpoints (peer_id, origin, size, root, \
                         cosignature, witnessed_at, alarm, alarm_at) \
                         VALUES ($1, $2, 0, '', '', $4, $3, $4) \
                         ON CONFLICT (peer_id) DO UPDATE SET alarm = excluded.alarm, \
                         alarm_at = excluded.alarm_at WHERE witnessed_checkpoints.alarm IS NULL",
                    )
                    .bind(peer.as_str())
                    .bind(origin)
                    .bind(alarm)
                    .bind(micros(at))
                    .execute(&mut *tx)
                    .await?;
                    append(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn insert_cosignature(
                    &self,
                    c: &ReceivedCosignature,
                    audit: &AuditRecord,
                ) -> StoreResult<bool> {
                    let mut tx = self.begin_write().await?;
                    let done = sqlx::query(
                        "INSERT INTO checkpoint_cosignatures (size, root, witness, peer_id, line, \
                         received_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                    )
                    .bind(i64::try_from(c.size).unwrap_or(i64::MAX))
                    .bind(&c.root)
                    .bind(&c.witness)
                    .bind(&c.peer)
                    .bind(&c.line)
                    .bind(micros(c.received_at))
                    .execute(&mut *tx)
                    .await?;
                    if done.rows_affected() == 0 {
                        return Ok(false);
                    }
                    append(&mut tx, audit).await?;
                    tx.commit().await?;
                    Ok(true)
                }

                async fn bump_federation_reload(&self, at: time::OffsetDateTime) -> StoreResult<i64> {
                    let generation: i64 = sqlx::query_scalar(
                        "INSERT INTO federation_reload (id, generation, at) VALUES (1, 1, $1) \
                         ON CONFLICT (id) DO UPDATE SET generation = federation_reload.generation + 1, \
                         at = excluded.at RETURNING generation",
                    )
                    .bind(micros(at))
                    .fetch_one(&self.pool)
                    .await?;
                    Ok(generation)
                }

                async fn federation_reload_generation(&self) -> StoreResult<i64> {
                    let generation: Option<i64> =
                        sqlx::query_scalar("SELECT generation FROM federation_reload WHERE id = 1")
                            .fetch_optional(&self.pool)
                            .await?;
                    Ok(generation.unwrap_or(0))
                }

                async fn cosignatures(&self, limit: u32) -> StoreResult<Vec<ReceivedCosignature>> {
                    let rows = sqlx::query(
                        "SELECT size, root, witness, peer_id, line, received_at \
                         FROM checkpoint_cosignatures ORDER BY size DESC, witness LIMIT $1",
                    )
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter()
                        .map(|r| {
                            Ok(ReceivedCosignature {
                                size: size_of(r.try_get("size")?)?,
                                root: r.try_get("root")?,
                                witness: r.try_get("witness")?,
                                peer: r.try_get("peer_id")?,
                                line: r.try_get("line")?,
                                received_at: from_micros(r.try_get("received_at")?)?,
                            })
                        })
                        .collect()
                }
            }
        }
    };
}
pub(super) use federation_sql;
