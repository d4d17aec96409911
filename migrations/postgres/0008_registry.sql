-- The provider registry (domain::registry). Times are microseconds since 1970 (BIGINT), as in
-- the submissions tables. The file and the lifecycle are JSON documents of the domain types:
-- what the SQL needs to filter on (the status) lives in organisations.status, written in the
-- same transaction.
CREATE TABLE provider_files (
    organisation_id       TEXT PRIMARY KEY REFERENCES organisations (id),
    file                  TEXT NOT NULL,      -- ProviderFile
    referencing           TEXT NOT NULL,      -- Referencing
    conditions            TEXT NOT NULL,      -- Conditions (art. 2) as checked
    convention_signature  TEXT,               -- armored signature of the version in force
    updated_at            BIGINT NOT NULL
);

-- Every change of a file or of its lifecycle: who, when, what, why, and the file as it was
-- after the change (by hash; the audit log pins the same).
CREATE TABLE provider_history (
    id               BIGSERIAL PRIMARY KEY,
    organisation_id  TEXT NOT NULL REFERENCES organisations (id),
    at               BIGINT NOT NULL,
    actor            TEXT NOT NULL,
    action           TEXT NOT NULL,
    from_status      TEXT,
    to_status        TEXT NOT NULL,
    reason           TEXT NOT NULL,
    file_sha256      TEXT NOT NULL
);
CREATE INDEX provider_history_by_organisation ON provider_history (organisation_id, id);

-- Evidence of qualifications, stored once under its SHA-256.
CREATE TABLE provider_evidence (
    sha256           TEXT PRIMARY KEY,
    organisation_id  TEXT REFERENCES organisations (id),
    name             TEXT NOT NULL,
    content          BYTEA NOT NULL,
    created_at       BIGINT NOT NULL
);

CREATE TABLE conventions (
    version       BIGINT PRIMARY KEY,
    text          TEXT NOT NULL,
    published_at  BIGINT NOT NULL
);

-- Satisfaction surveys: the token's id, single use.
CREATE TABLE surveys (
    id               TEXT PRIMARY KEY,
    organisation_id  TEXT NOT NULL REFERENCES organisations (id),
    case_id          TEXT NOT NULL,
    issued_at        BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    answered_at      BIGINT,
    answers          TEXT,
    average          DOUBLE PRECISION,
    unfavourable     BOOLEAN
);
CREATE INDEX surveys_by_organisation ON surveys (organisation_id, answered_at);

CREATE TABLE badges (
    id               TEXT PRIMARY KEY,
    organisation_id  TEXT NOT NULL REFERENCES organisations (id),
    issued_at        BIGINT NOT NULL,
    text             TEXT NOT NULL
);
