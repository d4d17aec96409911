-- Objects of a TAXII envelope whose only problem is a marking definition the hub does not
-- hold yet (ATT&CK bundles put theirs last): kept out of every collection, pending in their
-- envelope's status resource, stored once the definition arrives, refused when it has not
-- arrived by `expires_at`. A resolved row stays, without its text, as the status's record.
CREATE TABLE pending_objects (
    id              BIGSERIAL PRIMARY KEY,
    status_id       TEXT NOT NULL,
    position        BIGINT NOT NULL,       -- in its envelope, from 0
    object_id       TEXT,
    version         TEXT,
    collection_id   TEXT NOT NULL,
    principal_id    TEXT NOT NULL REFERENCES principals (id),
    fingerprint     TEXT NOT NULL,         -- the poster's certificate key: who it is resumed as
    case_id         TEXT,
    raw             TEXT,                  -- NULL once resolved
    waiting_for     TEXT NOT NULL,         -- JSON list of marking-definition ids
    message         TEXT NOT NULL,         -- why it waits; why it failed, once failed
    state           TEXT NOT NULL CHECK (state IN ('pending', 'stored', 'failed')),
    received_at     BIGINT NOT NULL,      -- µs since the Unix epoch
    expires_at      BIGINT NOT NULL
);
CREATE INDEX pending_objects_status ON pending_objects (status_id, position);
CREATE INDEX pending_objects_open ON pending_objects (expires_at) WHERE state = 'pending';
