-- Registry core: organisations, their principals, and the certificates bound to them.
-- Status columns are text checked against the domain's enums; the provider lifecycle adds its
-- own tables later and moves organisations.status through the referencing states.

CREATE TABLE organisations (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL CHECK (kind IN ('csirt', 'provider', 'peer')),
    status      TEXT NOT NULL CHECK (status IN ('active', 'applied', 'under_review', 'referenced',
                    'renewed', 'notice_given', 'suspended', 'dereferenced', 'terminated', 'expired')),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE principals (
    id               TEXT PRIMARY KEY,
    organisation_id  TEXT NOT NULL REFERENCES organisations (id),
    kind             TEXT NOT NULL CHECK (kind IN ('analyst', 'provider', 'peer')),
    name             TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'disabled')),
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    UNIQUE (organisation_id, name)
);

CREATE TABLE certificates (
    fingerprint        TEXT PRIMARY KEY,          -- hex SHA-256 of the SubjectPublicKeyInfo
    principal_id       TEXT NOT NULL REFERENCES principals (id),
    serial             TEXT NOT NULL,             -- lower-case hex
    subject            TEXT NOT NULL,
    issuer             TEXT NOT NULL,
    not_before         TEXT NOT NULL,
    not_after          TEXT NOT NULL,
    issued_by_hub      BOOLEAN NOT NULL,
    revoked_at         TEXT,
    revocation_reason  TEXT,
    created_at         TEXT NOT NULL,
    UNIQUE (issuer, serial)
);
CREATE INDEX certificates_principal ON certificates (principal_id);

-- Every CRL the hub's CA signed; running instances poll the highest number and reload.
CREATE TABLE crls (
    number       INTEGER PRIMARY KEY,
    der          BLOB NOT NULL,
    this_update  TEXT NOT NULL
);
