-- Secrets every instance of a hub must share (cursor MAC key, later pseudonymisation keys),
-- generated once at first start.
CREATE TABLE hub_secrets (
    name        TEXT PRIMARY KEY,
    value       BYTEA NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
