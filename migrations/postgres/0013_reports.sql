-- Reports the providers owe (issue #15): REX versions, the reports' job notices, annual
-- summaries. Documents are JSON (store::reports); the columns are what is looked up.
CREATE TABLE case_rex (
    case_id       TEXT NOT NULL REFERENCES cases (id),
    version       BIGINT NOT NULL CHECK (version >= 1),
    provider_id   TEXT NOT NULL REFERENCES organisations (id),
    submitted_at  BIGINT NOT NULL,
    document      TEXT NOT NULL,
    PRIMARY KEY (case_id, version)
);
-- An amendment is a new version: what was returned stays as it was.
CREATE FUNCTION case_rex_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'REX versions are append only';
END;
$$;
CREATE TRIGGER case_rex_append_only BEFORE UPDATE OR DELETE ON case_rex
    FOR EACH ROW EXECUTE FUNCTION case_rex_append_only();


CREATE TABLE report_notices (
    organisation_id  TEXT NOT NULL REFERENCES organisations (id),
    kind             TEXT NOT NULL,
    -- The case id (REX) or the year (annual summary).
    subject          TEXT NOT NULL,
    due              TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    PRIMARY KEY (organisation_id, kind, subject)
);

CREATE TABLE annual_summaries (
    organisation_id  TEXT NOT NULL REFERENCES organisations (id),
    year             BIGINT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('draft', 'submitted')),
    updated_at       BIGINT NOT NULL,
    document         TEXT NOT NULL,
    PRIMARY KEY (organisation_id, year)
);
