-- TAXII status resources: the outcome of each envelope a client posted, readable by the
-- principal that posted it, from any instance.
CREATE TABLE taxii_status (
    id            TEXT PRIMARY KEY,
    principal_id  TEXT NOT NULL REFERENCES principals (id),
    created_at    TIMESTAMPTZ NOT NULL,
    body          TEXT NOT NULL           -- the status resource, JSON
);
