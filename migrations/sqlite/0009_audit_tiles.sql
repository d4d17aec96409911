-- Roots of complete tiles of the audit log's Merkle tree: tile t is the subtree of leaves
-- [256 t, 256 t + 256). Derived from audit_log by the checkpoint job, never trusted for more
-- than speed: a proof built from a wrong tile fails the client's check against the signed
-- root, and `relais audit verify` reads the entries only. With them, a proof reads n/256
-- tile hashes and a few hundred leaves instead of every leaf.
CREATE TABLE audit_tiles (
    tile  INTEGER PRIMARY KEY,
    hash  BLOB NOT NULL
);
