-- Provider submissions (issue #4): victim cases and their consent, the triage queue, and the
-- confinement of objects to the CSIRT and their producer.

-- Confined objects are read only by the CSIRT and the producing organisation, whatever their
-- markings: submissions waiting for triage, and material from a case without consent.
ALTER TABLE stix_objects ADD COLUMN confined BOOLEAN NOT NULL DEFAULT FALSE;
-- The victim case the object's material comes from, if any; never sent to a reader.
ALTER TABLE stix_objects ADD COLUMN case_id TEXT;
CREATE INDEX stix_objects_case ON stix_objects (case_id) WHERE case_id IS NOT NULL;

CREATE TABLE cases (
    id                TEXT PRIMARY KEY,
    reference         TEXT NOT NULL UNIQUE,
    beneficiary       TEXT NOT NULL,
    -- The provider organisation the case was handed to; it alone may name the case.
    provider_id       TEXT NOT NULL REFERENCES organisations (id),
    consent           TEXT NOT NULL CHECK (consent IN ('pending', 'given', 'refused', 'withdrawn')),
    -- What identifies the beneficiary, for the anonymiser: JSON {"domains": [...], ...}.
    identifiers       TEXT NOT NULL,
    created_by        TEXT NOT NULL REFERENCES principals (id),
    created_at        BIGINT NOT NULL,
    consent_by        TEXT REFERENCES principals (id),
    consent_at        BIGINT
);

CREATE TABLE submissions (
    id                TEXT PRIMARY KEY,
    -- The anonymised object as stored (confined) in the submissions collection; a producer
    -- that deletes it (TAXII DELETE) withdraws the submission with it.
    object_seq        BIGINT NOT NULL REFERENCES stix_objects (seq) ON DELETE CASCADE,
    stix_id           TEXT NOT NULL,
    object_type       TEXT NOT NULL,
    tlp               TEXT NOT NULL,
    pap               TEXT,
    provider_id       TEXT NOT NULL REFERENCES organisations (id),
    submitted_by      TEXT NOT NULL REFERENCES principals (id),
    case_id           TEXT REFERENCES cases (id),
    submitted_at      BIGINT NOT NULL,
    -- Indicators with the same pattern (after anonymisation) are one item of the queue.
    dedup_key         TEXT NOT NULL,
    -- What the anonymiser changed: JSON list of {object, field, rule, action}.
    report            TEXT NOT NULL,
    -- The submission as received, before anonymisation: TLP:RED, for the CSIRT only. It is in
    -- no collection, so no read, export or federation path can reach it.
    original          TEXT,
    status            TEXT NOT NULL CHECK (status IN ('pending', 'published', 'merged', 'rejected')),
    decided_by        TEXT REFERENCES principals (id),
    decided_at        BIGINT,
    reason            TEXT,
    -- Published: the community object; merged: the community object it duplicates.
    result_id         TEXT
);
CREATE INDEX submissions_queue ON submissions (status, submitted_at);
CREATE INDEX submissions_provider ON submissions (provider_id, submitted_at);
CREATE INDEX submissions_dedup ON submissions (dedup_key);
CREATE INDEX submissions_case ON submissions (case_id);
