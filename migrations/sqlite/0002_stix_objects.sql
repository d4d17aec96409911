-- STIX objects, stored verbatim, one row per (collection, id, version), with the columns the
-- visibility filter and TAXII queries need. `seq` orders rows by arrival and is the stable
-- pagination key.

CREATE TABLE stix_objects (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    collection_id    TEXT NOT NULL,
    id               TEXT NOT NULL,
    type             TEXT NOT NULL,
    spec_version     TEXT NOT NULL,
    -- The version: `modified`, else `created`, else '' (SCOs have no versions).
    version          TEXT NOT NULL,
    -- Microseconds since the Unix epoch, strictly increasing with seq (see the store).
    date_added       INTEGER NOT NULL,
    tlp              TEXT NOT NULL CHECK (tlp IN ('clear', 'green', 'amber', 'amber_strict', 'red')),
    tlp_defaulted    BOOLEAN NOT NULL,
    pap              TEXT CHECK (pap IN ('clear', 'green', 'amber', 'red')),
    -- Most restrictive granular TLP above the object's own, if any.
    granular_max     TEXT CHECK (granular_max IN ('clear', 'green', 'amber', 'amber_strict', 'red')),
    granular         TEXT NOT NULL,             -- JSON: [{"tlp": …, "selectors": […]}]
    producer         TEXT NOT NULL REFERENCES organisations (id),
    submitted_by     TEXT NOT NULL REFERENCES principals (id),
    shared_with      TEXT NOT NULL,             -- JSON list of organisation ids (copy of the table below)
    recipients       TEXT NOT NULL,             -- JSON list of principal ids (copy of the table below)
    raw              TEXT NOT NULL,
    UNIQUE (collection_id, id, version)
);
CREATE INDEX stix_objects_id ON stix_objects (id, collection_id);
CREATE INDEX stix_objects_type ON stix_objects (collection_id, type, seq);
-- Pages walk a collection in arrival order and stop at the page size.
CREATE INDEX stix_objects_collection_seq ON stix_objects (collection_id, seq);
-- added_after becomes a position: the last row added at or before the given time.
CREATE INDEX stix_objects_date_added ON stix_objects (date_added);

CREATE TABLE stix_object_shares (
    object_seq       INTEGER NOT NULL REFERENCES stix_objects (seq) ON DELETE CASCADE,
    organisation_id  TEXT NOT NULL,
    PRIMARY KEY (object_seq, organisation_id)
);
CREATE INDEX stix_object_shares_org ON stix_object_shares (organisation_id, object_seq);

CREATE TABLE stix_object_recipients (
    object_seq    INTEGER NOT NULL REFERENCES stix_objects (seq) ON DELETE CASCADE,
    principal_id  TEXT NOT NULL,
    PRIMARY KEY (object_seq, principal_id)
);
CREATE INDEX stix_object_recipients_principal ON stix_object_recipients (principal_id, object_seq);
