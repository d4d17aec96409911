-- no-transaction
-- Victim cases end to end (issue #14): a case opens at first contact, before any provider;
-- shortlists, the beneficiary's choice, handoffs and their answers, the journal, closure.
--
-- `cases.provider_id` becomes nullable, which SQLite can only do by rebuilding the table.
-- Its own transaction, with foreign keys off meanwhile (they cannot change inside one), as
-- the SQLite documentation's procedure for altering a table says. The rows are copied as they
-- were, so every reference still holds; the store's contract tests read them back.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE cases_new (
    id                TEXT PRIMARY KEY,
    reference         TEXT NOT NULL UNIQUE,
    beneficiary       TEXT NOT NULL,
    -- The provider the case is handed to now (pending or accepted handoff); NULL before the
    -- beneficiary's choice and after a decline. It alone, with the CSIRT, may name the case.
    provider_id       TEXT REFERENCES organisations (id),
    consent           TEXT NOT NULL CHECK (consent IN ('pending', 'given', 'refused', 'withdrawn')),
    identifiers       TEXT NOT NULL,
    created_by        TEXT NOT NULL REFERENCES principals (id),
    created_at        INTEGER NOT NULL,
    consent_by        TEXT REFERENCES principals (id),
    consent_at        INTEGER,
    status            TEXT NOT NULL CHECK (status IN ('open', 'shortlisted', 'handed_off', 'in_progress', 'closed')),
    -- JSON domain::cases::qualification::Qualification; NULL for cases opened before.
    qualification     TEXT,
    -- JSON Closure, and the list of disputes.
    closure           TEXT,
    disputes          TEXT NOT NULL DEFAULT '[]',
    revision          INTEGER NOT NULL DEFAULT 0
);
-- Cases opened before were handed to their provider at once.
INSERT INTO cases_new (id, reference, beneficiary, provider_id, consent, identifiers,
    created_by, created_at, consent_by, consent_at, status)
SELECT id, reference, beneficiary, provider_id, consent, identifiers, created_by, created_at,
    consent_by, consent_at, 'in_progress' FROM cases;
DROP TABLE cases;
ALTER TABLE cases_new RENAME TO cases;
CREATE INDEX cases_provider ON cases (provider_id) WHERE provider_id IS NOT NULL;

-- Every shortlist, with what is needed to replay it (JSON domain::cases::shortlist::Shortlist).
CREATE TABLE case_shortlists (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id        TEXT NOT NULL REFERENCES cases (id),
    created_by     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    document       TEXT NOT NULL,
    superseded_at  BIGINT
);
CREATE INDEX case_shortlists_by_case ON case_shortlists (case_id, id);

-- Who was proposed in which shortlist: the rotation's memory.
CREATE TABLE case_proposals (
    shortlist_id   INTEGER NOT NULL REFERENCES case_shortlists (id),
    provider_id    TEXT NOT NULL REFERENCES organisations (id),
    rank           INTEGER NOT NULL,
    PRIMARY KEY (shortlist_id, provider_id)
);
CREATE INDEX case_proposals_by_provider ON case_proposals (provider_id, shortlist_id);

-- Single-use links through which a beneficiary chooses (the token's id).
CREATE TABLE choice_links (
    id             TEXT PRIMARY KEY,
    case_id        TEXT NOT NULL REFERENCES cases (id),
    shortlist_id   INTEGER NOT NULL REFERENCES case_shortlists (id),
    issued_at      BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    used_at        BIGINT
);

CREATE TABLE case_handoffs (
    id              TEXT PRIMARY KEY,
    case_id         TEXT NOT NULL REFERENCES cases (id),
    provider_id     TEXT NOT NULL REFERENCES organisations (id),
    shortlist_id    INTEGER NOT NULL REFERENCES case_shortlists (id),
    channel         TEXT NOT NULL,
    chosen_by       TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    answer_due      BIGINT NOT NULL,
    package         TEXT NOT NULL,
    package_sha256  TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'declined', 'conflict', 'withdrawn')),
    answered_at     BIGINT,
    answered_by     TEXT,
    reason          TEXT,
    note            TEXT NOT NULL DEFAULT '',
    flagged_at      BIGINT
);
CREATE INDEX case_handoffs_by_provider ON case_handoffs (provider_id, created_at);
CREATE INDEX case_handoffs_by_case ON case_handoffs (case_id, created_at);
CREATE INDEX case_handoffs_pending ON case_handoffs (answer_due) WHERE status = 'pending';

-- Conflicts of interest declared by providers (Convention art. 6.2), by beneficiary.
CREATE TABLE provider_conflicts (
    organisation_id  TEXT NOT NULL REFERENCES organisations (id),
    beneficiary_key  TEXT NOT NULL,
    case_id          TEXT NOT NULL REFERENCES cases (id),
    declared_at      BIGINT NOT NULL,
    PRIMARY KEY (organisation_id, beneficiary_key)
);
CREATE INDEX provider_conflicts_by_beneficiary ON provider_conflicts (beneficiary_key);

-- The journal (main courante): append only, hash-chained.
CREATE TABLE case_journal (
    case_id     TEXT NOT NULL REFERENCES cases (id),
    number      BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    entry       TEXT NOT NULL,
    hash        TEXT NOT NULL,
    PRIMARY KEY (case_id, number)
);
CREATE TRIGGER case_journal_append_only_update BEFORE UPDATE ON case_journal
BEGIN SELECT RAISE(ABORT, 'the case journal is append only'); END;
CREATE TRIGGER case_journal_append_only_delete BEFORE DELETE ON case_journal
BEGIN SELECT RAISE(ABORT, 'the case journal is append only'); END;

COMMIT;
PRAGMA foreign_keys = ON;
