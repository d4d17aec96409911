-- The tamper-evident audit log (domain::audit). Entries are appended by the writer that holds
-- the object-writer lock, in the transaction of the change they record, so seq runs from 0
-- without gaps in commit order. Nothing updates or deletes these rows; the Merkle tree and the
-- signed checkpoints make any such edit visible to `relais audit verify`.
CREATE TABLE audit_log (
    seq                    INTEGER PRIMARY KEY,
    time_us                BIGINT NOT NULL,   -- the entry's time, microseconds since 1970
    actor_organisation_id  TEXT,              -- whose members may fetch the entry
    entry                  BLOB NOT NULL,     -- canonical bytes
    leaf_hash              BLOB NOT NULL      -- SHA-256(0x00 || entry)
);
CREATE INDEX audit_log_by_organisation ON audit_log (actor_organisation_id, seq);

-- Signed checkpoints, one per tree size. The frontier (the compact range's hashes, 32 bytes
-- each) lets the next checkpoint start from this one instead of from leaf 0.
CREATE TABLE audit_checkpoints (
    size        INTEGER PRIMARY KEY,
    signed      TEXT NOT NULL,
    frontier    BLOB NOT NULL,
    created_at  TEXT NOT NULL
);
