-- Federation with partner hubs (issue #16): where federated material came from, the pull
-- cursors, each peer's standing, job leases, and the witnessed checkpoints both ways.

-- The peer hub that delivered an object (NULL: produced here). The visibility filter reads it
-- on every federated read, so it sits on the row, not in a side table.
ALTER TABLE stix_objects ADD COLUMN origin_peer TEXT;
CREATE INDEX stix_objects_origin_peer ON stix_objects (origin_peer, seq) WHERE origin_peer IS NOT NULL;

-- Where the pull of one peer collection stands: written in the transaction that stores the
-- page it follows, so that a restart resumes exactly there.
CREATE TABLE federation_cursors (
    peer_id        TEXT NOT NULL REFERENCES principals (id),
    collection     TEXT NOT NULL,            -- the peer's collection id
    added_after    TEXT,                     -- the peer's X-TAXII-Date-Added-Last, verbatim
    next           TEXT,                     -- the peer's 'next' within a run of pages
    pages          BIGINT NOT NULL DEFAULT 0,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (peer_id, collection)
);

-- Each peer's standing, for `relais federation status` and the backoff.
CREATE TABLE federation_peers (
    peer_id        TEXT PRIMARY KEY REFERENCES principals (id),
    last_attempt   BIGINT,
    last_success   BIGINT,
    last_error     TEXT,
    failures       BIGINT NOT NULL DEFAULT 0,
    next_poll      BIGINT,
    objects_in     BIGINT NOT NULL DEFAULT 0,
    refused_in     BIGINT NOT NULL DEFAULT 0,
    objects_out    BIGINT NOT NULL DEFAULT 0
);

-- One holder per background job across the instances of a deployment; a lease expires, so a
-- crashed instance's job is taken over.
CREATE TABLE job_leases (
    name           TEXT PRIMARY KEY,
    holder         TEXT NOT NULL,
    expires_at     BIGINT NOT NULL
);

-- The last checkpoint of each peer's log this hub cosigned, and an alarm that stops
-- witnessing that peer (a fork, a shrunk or rewritten log).
CREATE TABLE witnessed_checkpoints (
    peer_id        TEXT PRIMARY KEY REFERENCES principals (id),
    origin         TEXT NOT NULL,
    size           BIGINT NOT NULL,
    root           TEXT NOT NULL,
    cosignature    TEXT NOT NULL,
    witnessed_at   BIGINT NOT NULL,
    alarm          TEXT,
    alarm_at       BIGINT
);

-- Cosignatures of this hub's own checkpoints, sent back by the peers that witnessed them.
CREATE TABLE checkpoint_cosignatures (
    size           BIGINT NOT NULL,
    root           TEXT NOT NULL,
    witness        TEXT NOT NULL,            -- the witness key's name
    peer_id        TEXT NOT NULL REFERENCES principals (id),
    line           TEXT NOT NULL,            -- the C2SP cosignature line
    received_at    BIGINT NOT NULL,
    PRIMARY KEY (size, witness)
);

-- Bumped by `relais federation reload`: every instance of a deployment reloads its policy
-- when it sees a new generation.
CREATE TABLE federation_reload (
    id             BIGINT PRIMARY KEY CHECK (id = 1),
    generation     BIGINT NOT NULL,
    at             BIGINT NOT NULL
);
