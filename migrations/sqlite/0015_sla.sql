-- SOC service levels (issue #17): contracts, alerts and their clocks, and the records kept
-- under a contract (asset reviews, committees, prepaid credits). Documents are JSON
-- (store::sla); the columns are what is looked up.
CREATE TABLE soc_contracts (
    id           TEXT PRIMARY KEY,
    provider_id  TEXT NOT NULL REFERENCES organisations (id),
    created_at   BIGINT NOT NULL,
    document     TEXT NOT NULL
);
CREATE INDEX soc_contracts_provider ON soc_contracts (provider_id);

CREATE TABLE soc_alerts (
    id                  TEXT PRIMARY KEY,
    contract_id         TEXT NOT NULL REFERENCES soc_contracts (id),
    provider_id         TEXT NOT NULL REFERENCES organisations (id),
    external_id         TEXT NOT NULL,
    detected_at         BIGINT NOT NULL,
    -- When the clock reaches its target, while it runs or once it ran past it; NULL when
    -- paused in time, met, or without a service level. The breach job looks here (and
    -- skips a breach already recorded).
    due_at              BIGINT,
    breach_recorded_at  BIGINT,
    -- Bumped on every change: a change made on a stale read is refused.
    version             BIGINT NOT NULL,
    document            TEXT NOT NULL,
    -- A SOC's retry of the same alert finds the first one.
    UNIQUE (provider_id, external_id)
);
CREATE INDEX soc_alerts_contract ON soc_alerts (contract_id, detected_at);
CREATE INDEX soc_alerts_unbreached_due ON soc_alerts (due_at) WHERE breach_recorded_at IS NULL;

CREATE TABLE soc_records (
    contract_id  TEXT NOT NULL REFERENCES soc_contracts (id),
    kind         TEXT NOT NULL CHECK (kind IN ('review', 'committee', 'purchase', 'usage')),
    seq          BIGINT NOT NULL CHECK (seq >= 1),
    created_at   BIGINT NOT NULL,
    document     TEXT NOT NULL,
    PRIMARY KEY (contract_id, kind, seq)
);
