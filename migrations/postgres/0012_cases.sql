-- Victim cases end to end (issue #14): a case opens at first contact, before any provider;
-- shortlists, the beneficiary's choice, handoffs and their answers, the journal, closure.

-- The provider the case is handed to now (pending or accepted handoff); NULL before the
-- beneficiary's choice and after a decline. It alone, with the CSIRT, may name the case.
ALTER TABLE cases ALTER COLUMN provider_id DROP NOT NULL;
-- Cases opened before were handed to their provider at once.
ALTER TABLE cases ADD COLUMN status TEXT NOT NULL DEFAULT 'in_progress'
    CHECK (status IN ('open', 'shortlisted', 'handed_off', 'in_progress', 'closed'));
ALTER TABLE cases ALTER COLUMN status DROP DEFAULT;
-- JSON domain::cases::qualification::Qualification; NULL for cases opened before.
ALTER TABLE cases ADD COLUMN qualification TEXT;
-- JSON Closure, and the list of disputes.
ALTER TABLE cases ADD COLUMN closure TEXT;
ALTER TABLE cases ADD COLUMN disputes TEXT NOT NULL DEFAULT '[]';
ALTER TABLE cases ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
CREATE INDEX cases_provider ON cases (provider_id) WHERE provider_id IS NOT NULL;

-- Every shortlist, with what is needed to replay it (JSON domain::cases::shortlist::Shortlist).
CREATE TABLE case_shortlists (
    id             BIGSERIAL PRIMARY KEY,
    case_id        TEXT NOT NULL REFERENCES cases (id),
    created_by     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    document       TEXT NOT NULL,
    superseded_at  BIGINT
);
CREATE INDEX case_shortlists_by_case ON case_shortlists (case_id, id);

-- Who was proposed in which shortlist: the rotation's memory.
CREATE TABLE case_proposals (
    shortlist_id   BIGINT NOT NULL REFERENCES case_shortlists (id),
    provider_id    TEXT NOT NULL REFERENCES organisations (id),
    rank           BIGINT NOT NULL,
    PRIMARY KEY (shortlist_id, provider_id)
);
CREATE INDEX case_proposals_by_provider ON case_proposals (provider_id, shortlist_id);

-- Single-use links through which a beneficiary chooses (the token's id).
CREATE TABLE choice_links (
    id             TEXT PRIMARY KEY,
    case_id        TEXT NOT NULL REFERENCES cases (id),
    shortlist_id   BIGINT NOT NULL REFERENCES case_shortlists (id),
    issued_at      BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    used_at        BIGINT
);

CREATE TABLE case_handoffs (
    id              TEXT PRIMARY KEY,
    case_id         TEXT NOT NULL REFERENCES cases (id),
    provider_id     TEXT NOT NULL REFERENCES organisations (id),
    shortlist_id    BIGINT NOT NULL REFERENCES case_shortlists (id),
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
CREATE FUNCTION case_journal_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the case journal is append only';
END;
$$;
CREATE TRIGGER case_journal_append_only BEFORE UPDATE OR DELETE ON case_journal
    FOR EACH ROW EXECUTE FUNCTION case_journal_append_only();
