-- Secrets every instance of a hub must share (cursor MAC key, later pseudonymisation keys),
-- generated once at first start.
CREATE TABLE hub_secrets (
    name        TEXT PRIMARY KEY,
    value       BLOB NOT NULL,
    created_at  TEXT NOT NULL
);
