//! The OpenAPI schemas of the domain types the API sends and reads. `domain/` knows nothing of
//! OpenAPI: its enums are described from their own `ALL` lists (through serde, so the names are
//! the ones on the wire), its structs by a private mirror here that derives the schema. A unit
//! test checks each mirror against real serialized values.

use std::borrow::Cow;

use serde::Serialize;
use time::{Date, OffsetDateTime};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::domain::cases::journal::{Attachment, Entry as JournalEntry, EntryKind};
use crate::domain::cases::lifecycle::{CaseStatus, Closure, Dispute, DisputeParty};
use crate::domain::cases::qualification::{
    Beneficiary, BeneficiaryKind, Incident, IncidentCategory, Qualification as CaseQualification,
    SizeClass,
};
use crate::domain::ioc::{
    IocItem, MAX_CASE_LEN, MAX_DESCRIPTION_LEN, MAX_TECHNIQUES, MAX_VALUE_LEN,
};
use crate::domain::markings::{Pap, Tlp};
use crate::domain::principal::{
    OrganisationKind, OrganisationStatus, PrincipalKind, PrincipalStatus,
};
use crate::domain::registry::file::{
    ClientReference, Conditions, Contact, ProviderFile, Qualification, Service, ServiceOffer,
};
use crate::domain::registry::lifecycle::{
    Notice, Overdue, PendingVersion, Referencing, SignedVersion,
};
use crate::domain::triage::{Consent, ReportedChange, SubmissionStatus, VictimIdentifiers};
use crate::services::cases::{MAX_IDENTIFIER_LEN, MAX_IDENTIFIERS};

/// A string enum, its values as serde writes them.
fn text_enum<T: Serialize>(all: &[T], description: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(
            all.iter().filter_map(|v| serde_json::to_value(v).ok()),
        ))
        .description(Some(description))
        .into()
}

macro_rules! enum_schema {
    ($ty:ty, $all:expr, $description:literal) => {
        impl PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                text_enum(&$all, $description)
            }
        }
        impl ToSchema for $ty {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($ty))
            }
        }
    };
}

enum_schema!(Tlp, Tlp::ALL, "TLP 2.0 level");
enum_schema!(Pap, Pap::ALL, "PAP level");
enum_schema!(
    Consent,
    Consent::ALL,
    "the beneficiary's answer to sharing what its case produced"
);
enum_schema!(
    SubmissionStatus,
    SubmissionStatus::ALL,
    "where a submission stands in the triage queue"
);
enum_schema!(
    PrincipalKind,
    PrincipalKind::ALL,
    "what a principal is to the hub"
);
enum_schema!(
    PrincipalStatus,
    PrincipalStatus::ALL,
    "status of a principal"
);
enum_schema!(
    OrganisationKind,
    OrganisationKind::ALL,
    "kind of organisation"
);
enum_schema!(
    OrganisationStatus,
    OrganisationStatus::ALL,
    "status of an organisation: for providers, the states of the referencing lifecycle"
);
enum_schema!(
    Service,
    Service::ALL,
    "an incident-response service of the convention"
);

/// A domain type described by a mirror of this module.
macro_rules! described_by {
    ($ty:ty => $mirror:ty) => {
        impl PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                <$mirror as PartialSchema>::schema()
            }
        }
        impl ToSchema for $ty {
            fn name() -> Cow<'static, str> {
                <$mirror as ToSchema>::name()
            }
            fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
                <$mirror as ToSchema>::schemas(schemas)
            }
        }
    };
}

described_by!(VictimIdentifiers => VictimIdentifiersDoc);
described_by!(ReportedChange => ReportedChangeDoc);
described_by!(IocItem => IocItemDoc);
described_by!(ProviderFile => ProviderFileDoc);
described_by!(Contact => ContactDoc);
described_by!(ServiceOffer => ServiceOfferDoc);
described_by!(Qualification => QualificationDoc);
described_by!(ClientReference => ClientReferenceDoc);
described_by!(Conditions => ConditionsDoc);
described_by!(Referencing => ReferencingDoc);
described_by!(SignedVersion => SignedVersionDoc);
described_by!(PendingVersion => PendingVersionDoc);
described_by!(Notice => NoticeDoc);
described_by!(Overdue => OverdueDoc);

/// A list of case identifiers: bounded in count and length (`services::cases`).
fn identifiers() -> ArrayBuilder {
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(MAX_IDENTIFIER_LEN))
                .description(Some("bytes, no control characters")),
        )
        .max_items(Some(MAX_IDENTIFIERS))
}

/// What identifies a beneficiary, for the anonymiser. Seen by analysts only.
#[derive(ToSchema)]
#[schema(as = VictimIdentifiers)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct VictimIdentifiersDoc {
    #[serde(default)]
    #[schema(schema_with = identifiers)]
    domains: Vec<String>,
    #[serde(default)]
    #[schema(schema_with = identifiers)]
    emails: Vec<String>,
    #[serde(default)]
    #[schema(schema_with = identifiers)]
    hostnames: Vec<String>,
    #[serde(default)]
    #[schema(schema_with = identifiers)]
    organisations: Vec<String>,
}

/// One change the anonymiser made, as reported to the submitter: never the value itself.
#[derive(ToSchema)]
#[schema(as = ReportedChange)]
#[allow(dead_code)]
struct ReportedChangeDoc {
    object: String,
    /// A JSON pointer into the object.
    field: String,
    rule: String,
    /// `redacted` or `pseudonymised`.
    action: String,
}

/// One IOC item of `POST /api/v1/iocs`. Each item is checked on its own: a bad one is
/// refused in the answer (with its field and reason) while the others go on.
#[derive(ToSchema)]
#[schema(as = IocItem)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct IocItemDoc {
    /// `ipv4`, `ipv6`, `domain`, `url`, `email`, `md5`, `sha1`, `sha256`, `file_name` (or
    /// `file name`).
    #[serde(rename = "type")]
    kind: String,
    /// IPv4/IPv6 addresses may carry a CIDR prefix no wider than `policies/exports.toml`
    /// allows; defanged values (`hxxp`, `[.]`) are refused.
    #[schema(min_length = 1, max_length = 2048)]
    value: String,
    /// `clear`, `green`, `amber`, `amber+strict`, `red` (`white` = clear), any case, an
    /// optional `TLP:` prefix. Absent: the hub's default.
    #[serde(default)]
    tlp: Option<String>,
    /// `clear`, `green`, `amber`, `red` (`white` = clear), any case, an optional `PAP:`
    /// prefix.
    #[serde(default)]
    pap: Option<String>,
    #[serde(default)]
    #[schema(max_length = 10000)]
    description: Option<String>,
    /// RFC 3339, any offset; becomes the indicator's `valid_from`. Not in the future, not
    /// before 1970.
    #[serde(default)]
    first_seen: Option<OffsetDateTime>,
    /// ATT&CK technique ids, `T1059` or `T1059.001`.
    #[serde(default)]
    #[schema(schema_with = techniques)]
    attack_techniques: Vec<String>,
    /// The hub's id of the victim case the IOC comes from (a case handed to the caller's
    /// organisation).
    #[serde(default)]
    #[schema(max_length = 128)]
    case: Option<String>,
}

fn techniques() -> ArrayBuilder {
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(r"^T[0-9]{4}(\.[0-9]{3})?$")),
        )
        .max_items(Some(MAX_TECHNIQUES))
}

const _: () = {
    // The mirror's literals above are these constants (attribute values must be literals).
    assert!(MAX_VALUE_LEN == 2048);
    assert!(MAX_DESCRIPTION_LEN == 10_000);
    assert!(MAX_TECHNIQUES == 50);
    assert!(MAX_CASE_LEN == 128);
    assert!(crate::domain::registry::file::MAX_ITEMS == 100);
    assert!(crate::domain::registry::file::MAX_TEXT == 10_000);
};

/// Everything a provider declares (Convention art. 2, 4). Problems are answered field by
/// field (422).
#[derive(ToSchema)]
#[schema(as = ProviderFile)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ProviderFileDoc {
    /// One line, no control characters.
    #[schema(min_length = 1, max_length = 200)]
    legal_name: String,
    /// 9 digits with a valid (Luhn) check digit.
    #[schema(pattern = "^[0-9]{9}$")]
    siren: String,
    /// 14 digits starting with the SIREN, with a valid check digit.
    #[serde(default)]
    #[schema(pattern = "^[0-9]{14}$")]
    siret: Option<String>,
    #[schema(min_items = 1, max_items = 100)]
    contacts: Vec<Contact>,
    /// An `https://` URL.
    #[schema(pattern = "^https://[^\\s]+$")]
    website: String,
    /// The public catalogue page that lists the incident-response services (`https://`).
    #[schema(pattern = "^https://[^\\s]+$")]
    catalogue_url: String,
    /// The provider's statement that that page lists its incident-response services.
    catalogue_lists_incident_response: bool,
    /// Each service at most once.
    #[schema(max_items = 6)]
    services: Vec<ServiceOffer>,
    /// At most 100 items of 1 to 200 characters.
    #[serde(default)]
    #[schema(max_items = 100)]
    fields_of_competence: Vec<String>,
    #[serde(default)]
    #[schema(max_items = 100)]
    qualifications: Vec<Qualification>,
    #[serde(default)]
    #[schema(max_length = 10000)]
    staff_training: String,
    #[serde(default)]
    #[schema(max_length = 10000)]
    staff_experience: String,
    #[serde(default)]
    #[schema(max_items = 100)]
    client_references: Vec<ClientReference>,
    /// The armored OpenPGP public key that signs the convention.
    openpgp_key: String,
}

#[derive(ToSchema)]
#[schema(as = Contact)]
#[allow(dead_code)]
struct ContactDoc {
    #[schema(min_length = 1, max_length = 200)]
    name: String,
    #[serde(default)]
    #[schema(max_length = 200)]
    role: String,
    #[schema(max_length = 254)]
    email: String,
    #[serde(default)]
    #[schema(max_length = 50)]
    phone: String,
}

#[derive(ToSchema)]
#[schema(as = ServiceOffer)]
#[allow(dead_code)]
struct ServiceOfferDoc {
    service: Service,
    /// Offered in business hours (jours et heures ouvrés).
    jho: bool,
    /// Offered outside business hours (jours et heures non ouvrés).
    jhno: bool,
}

/// A qualification (`kind`; `name` for `other`) and the uploaded file that proves it.
#[derive(ToSchema)]
#[schema(as = Qualification)]
#[allow(dead_code)]
struct QualificationDoc {
    kind: QualificationKindDoc,
    /// The qualification's name, for `other` only.
    #[serde(default)]
    #[schema(max_length = 200)]
    name: Option<String>,
    /// Lower-case hex SHA-256 of the evidence file (uploaded first).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    evidence_sha256: String,
    #[schema(max_length = 200)]
    evidence_name: String,
    expires: Date,
}

#[derive(ToSchema)]
#[schema(as = QualificationKind)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum QualificationKindDoc {
    Pris,
    Passi,
    ExpertCyber,
    Acyma,
    Other,
}

#[derive(ToSchema)]
#[schema(as = ClientReference)]
#[allow(dead_code)]
struct ClientReferenceDoc {
    #[schema(min_length = 1, max_length = 200)]
    client: String,
    #[serde(default)]
    #[schema(max_length = 10000)]
    description: String,
    /// Shown to the CSIRT only, never published.
    confidential: bool,
}

/// The two cumulative conditions of art. 2, as checked when a file is recorded.
#[derive(ToSchema)]
#[schema(as = Conditions)]
#[allow(dead_code)]
struct ConditionsDoc {
    incident_response_offered: bool,
    listed_in_public_catalogue: bool,
}

/// Where a provider stands in the lifecycle, with every date a deadline is computed from.
#[derive(ToSchema)]
#[schema(as = Referencing)]
#[allow(dead_code)]
struct ReferencingDoc {
    status: OrganisationStatus,
    since: OffsetDateTime,
    /// The convention version in force for this provider and when it signed it.
    convention: Option<SignedVersion>,
    renewals: u8,
    /// End of the current one-year term.
    term_ends: Option<OffsetDateTime>,
    notice: Option<Notice>,
    /// While suspended or under notice: the status to go back to.
    resumes: Option<OrganisationStatus>,
    /// A newer convention version it must sign (art. 14).
    pending_version: Option<PendingVersion>,
    last_evaluation: Option<OffsetDateTime>,
    file_updated_at: OffsetDateTime,
    /// Unfavourable surveys count from here.
    surveys_count_from: OffsetDateTime,
}

#[derive(ToSchema)]
#[schema(as = SignedVersion)]
#[allow(dead_code)]
struct SignedVersionDoc {
    version: u32,
    signed_at: OffsetDateTime,
}

#[derive(ToSchema)]
#[schema(as = PendingVersion)]
#[allow(dead_code)]
struct PendingVersionDoc {
    version: u32,
    deadline: OffsetDateTime,
}

/// A notice: a termination (`by`) or the de-referencing procedure (`cause`).
#[derive(ToSchema)]
#[schema(as = Notice)]
#[allow(dead_code)]
struct NoticeDoc {
    kind: NoticeKindDoc,
    /// For a termination: who gave it.
    #[serde(default)]
    by: Option<PartyDoc>,
    /// For a de-referencing.
    #[serde(default)]
    cause: Option<DereferencingCauseDoc>,
    given_at: OffsetDateTime,
    effective_at: OffsetDateTime,
}

#[derive(ToSchema)]
#[schema(as = NoticeKind)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum NoticeKindDoc {
    Termination,
    Dereferencing,
}

#[derive(ToSchema)]
#[schema(as = Party)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum PartyDoc {
    Csirt,
    Provider,
}

#[derive(ToSchema)]
#[schema(as = DereferencingCause)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum DereferencingCauseDoc {
    UnfavourableSurveys,
    Breach,
}

/// Something due or overdue.
#[derive(ToSchema)]
#[schema(as = Overdue)]
#[serde(rename_all = "snake_case", tag = "kind")]
#[allow(dead_code)]
enum OverdueDoc {
    /// The yearly re-evaluation (art. 12).
    Evaluation {
        due: OffsetDateTime,
    },
    /// No update of the file this calendar year (art. 4).
    FileUpdate {
        year: i32,
    },
    Signature {
        version: u32,
        deadline: OffsetDateTime,
    },
    Notice {
        effective_at: OffsetDateTime,
    },
}

/// The body of `POST /api/v1/iocs`: a JSON array of 1 to 1000 IOC items.
pub(super) struct IocItems;

impl PartialSchema for IocItems {
    fn schema() -> RefOr<Schema> {
        ArrayBuilder::new()
            .items(utoipa::openapi::Ref::from_schema_name(IocItem::name()))
            .min_items(Some(1))
            .max_items(Some(crate::domain::ioc::MAX_ITEMS))
            .into()
    }
}

impl ToSchema for IocItems {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((IocItem::name().into_owned(), IocItem::schema()));
        IocItem::schemas(schemas);
    }
}

// Victim cases (`domain::cases`).
enum_schema!(
    BeneficiaryKind,
    BeneficiaryKind::ALL,
    "what the beneficiary is"
);
enum_schema!(SizeClass, SizeClass::ALL, "the beneficiary's size class");
enum_schema!(
    IncidentCategory,
    IncidentCategory::ALL,
    "the incident's category"
);
enum_schema!(CaseStatus, CaseStatus::ALL, "where a case stands");
enum_schema!(EntryKind, EntryKind::ALL, "what a journal entry records");
enum_schema!(DisputeParty, DisputeParty::ALL, "who raised a dispute");
described_by!(Beneficiary => BeneficiaryDoc);
described_by!(Incident => IncidentDoc);
described_by!(CaseQualification => CaseQualificationDoc);
described_by!(Closure => ClosureDoc);
described_by!(Dispute => DisputeDoc);
described_by!(JournalEntry => JournalEntryDoc);
described_by!(Attachment => AttachmentDoc);

/// Who the beneficiary is. Texts: 1 to 200 bytes once trimmed, no control characters.
#[derive(ToSchema)]
#[schema(as = Beneficiary)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct BeneficiaryDoc {
    #[schema(min_length = 1, max_length = 200)]
    name: String,
    kind: BeneficiaryKind,
    #[schema(min_length = 1, max_length = 200)]
    sector: String,
    size: SizeClass,
    #[schema(min_length = 1, max_length = 200)]
    commune: String,
}

/// What happened; `started_at` ≤ `detected_at` ≤ `reported_at` (RFC 3339).
#[derive(ToSchema)]
#[schema(as = Incident)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct IncidentDoc {
    category: IncidentCategory,
    /// 1 (low) to 4 (critical).
    #[schema(minimum = 1, maximum = 4)]
    severity: u8,
    started_at: OffsetDateTime,
    detected_at: OffsetDateTime,
    /// First contact with the CSIRT; business hours are judged at this instant.
    reported_at: OffsetDateTime,
}

/// The case as qualified by the CSIRT.
#[derive(ToSchema)]
#[schema(as = CaseQualification)]
#[allow(dead_code)]
struct CaseQualificationDoc {
    beneficiary: Beneficiary,
    incident: Incident,
    facts: String,
    /// STIX 2.1 cyber-observable objects.
    observables: Vec<serde_json::Value>,
    services: Vec<Service>,
    notes: String,
    /// Computed by the hub from `incident.reported_at` on its calendar.
    outside_business_hours: bool,
}

/// How the case ended.
#[derive(ToSchema)]
#[schema(as = Closure)]
#[allow(dead_code)]
struct ClosureDoc {
    /// `YYYY-MM-DD`.
    end_date: Date,
    closed_by: String,
    closed_at: OffsetDateTime,
    summary: String,
    /// The provider that served, if one did.
    provider: Option<String>,
    /// end + 30 days when a provider served (`YYYY-MM-DD`).
    rex_due: Option<Date>,
}

/// A dispute the CSIRT mediates.
#[derive(ToSchema)]
#[schema(as = Dispute)]
#[allow(dead_code)]
struct DisputeDoc {
    number: u32,
    raised_by: DisputeParty,
    summary: String,
    recorded_by: String,
    recorded_at: OffsetDateTime,
    outcome: Option<DisputeOutcomeDoc>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct DisputeOutcomeDoc {
    text: String,
    recorded_by: String,
    recorded_at: OffsetDateTime,
}

/// A file a journal entry refers to, by digest.
#[derive(ToSchema)]
#[schema(as = Attachment)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct AttachmentDoc {
    #[schema(min_length = 1, max_length = 200)]
    name: String,
    #[schema(pattern = "^[0-9a-fA-F]{64}$")]
    sha256: String,
}

/// A journal entry as chained: `hash` = SHA-256 of `previous`, a line break and the entry's
/// content; the first entry's `previous` is 64 zeros.
#[derive(ToSchema)]
#[schema(as = JournalEntry)]
#[allow(dead_code)]
struct JournalEntryDoc {
    case_id: String,
    number: u64,
    at: OffsetDateTime,
    /// The author's principal id, from its certificate.
    author: String,
    author_name: String,
    organisation: String,
    kind: EntryKind,
    text: String,
    participants: Vec<String>,
    attachments: Vec<Attachment>,
    corrects: Option<u64>,
    previous: String,
    hash: String,
}

#[cfg(test)]
mod tests {
    //! Each mirror against real values: serialized domain values validate against the
    //! generated schema (a small validator of the keywords the document uses), and documented
    //! requests deserialize into the domain types.

    use serde_json::{Value, json};
    use time::macros::datetime;

    use super::*;
    use crate::domain::registry::lifecycle::{DereferencingCause, NoticeKind, Party};

    fn document() -> Value {
        serde_json::to_value(crate::http::api::openapi_document()).unwrap()
    }

    fn check(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
        if let Some(name) = schema["$ref"].as_str() {
            let name = name.trim_start_matches("#/components/schemas/");
            let target = &doc["components"]["schemas"][name];
            assert!(!target.is_null(), "{at}: no schema {name}");
            return check(doc, target, value, at);
        }
        if let Some(all) = schema["allOf"].as_array() {
            for s in all {
                check(doc, s, value, at)?;
            }
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(any) = schema[key].as_array()
                && !any.iter().any(|s| check(doc, s, value, at).is_ok())
            {
                return Err(format!("{at}: {value} matches none of {key}"));
            }
        }
        if let Some(values) = schema["enum"].as_array()
            && !values.contains(value)
        {
            return Err(format!("{at}: {value} not in {values:?}"));
        }
        let types: Vec<&str> = match &schema["type"] {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let kind = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_f64() => "number",
            Value::Number(_) => "integer",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        let typed = types.contains(&kind) || (kind == "integer" && types.contains(&"number"));
        if !types.is_empty() && !typed {
            return Err(format!("{at}: {value} is not {types:?}"));
        }
        match value {
            Value::Object(map) => {
                let properties = schema["properties"].as_object();
                for required in schema["required"].as_array().into_iter().flatten() {
                    let required = required.as_str().unwrap_or_default();
                    if !map.contains_key(required) {
                        return Err(format!("{at}: {required} missing"));
                    }
                }
                for (key, v) in map {
                    match properties.and_then(|p| p.get(key)) {
                        Some(s) => check(doc, s, v, &format!("{at}/{key}"))?,
                        None if schema["additionalProperties"] == json!(false) => {
                            return Err(format!("{at}: {key} is not in the schema"));
                        }
                        None if properties.is_some() && schema["allOf"].is_null() => {
                            return Err(format!("{at}: {key} is undocumented"));
                        }
                        None => {}
                    }
                }
            }
            Value::Array(items) => {
                if let Some(max) = schema["maxItems"].as_u64() {
                    assert!(items.len() as u64 <= max, "{at}: over maxItems");
                }
                for (i, item) in items.iter().enumerate() {
                    if !schema["items"].is_null() {
                        check(doc, &schema["items"], item, &format!("{at}/{i}"))?;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn conforms<T: Serialize + ToSchema>(value: &T) {
        let doc = document();
        let name = T::name();
        let schema = &doc["components"]["schemas"][name.as_ref()];
        assert!(!schema.is_null(), "{name} is not in the document");
        let value = serde_json::to_value(value).unwrap();
        if let Err(e) = check(&doc, schema, &value, &name) {
            panic!("{e}\n{value:#}\n{schema:#}");
        }
    }

    fn provider_file() -> ProviderFile {
        serde_json::from_value(json!({
            "legal_name": "Cyber Réunion SAS",
            "siren": "732829320",
            "siret": "73282932000074",
            "contacts": [{"name": "A. Payet", "role": "CERT", "email": "a@cr.re", "phone": "0262"}],
            "website": "https://cr.re",
            "catalogue_url": "https://cr.re/catalogue",
            "catalogue_lists_incident_response": true,
            "services": [{"service": "post_incident", "jho": true, "jhno": false}],
            "fields_of_competence": ["forensics"],
            "qualifications": [
                {"kind": "pris", "evidence_sha256": "ab".repeat(32), "evidence_name": "pris.pdf",
                 "expires": "2027-01-31"},
                {"kind": "other", "name": "ISO 27001", "evidence_sha256": "cd".repeat(32),
                 "evidence_name": "iso.pdf", "expires": "2027-06-30"}
            ],
            "staff_training": "yearly",
            "staff_experience": "ten years",
            "client_references": [{"client": "Mairie", "description": "", "confidential": true}],
            "openpgp_key": "-----BEGIN PGP PUBLIC KEY BLOCK-----"
        }))
        .unwrap()
    }

    #[test]
    fn domain_values_conform_to_their_schemas() {
        for tlp in Tlp::ALL {
            conforms(&tlp);
        }
        for pap in Pap::ALL {
            conforms(&pap);
        }
        for v in OrganisationStatus::ALL {
            conforms(v);
        }
        conforms(&provider_file());
        let at = datetime!(2026-11-01 10:00 UTC);
        let mut referencing = Referencing::applied(at);
        conforms(&referencing);
        referencing.convention = Some(SignedVersion {
            version: 2,
            signed_at: at,
        });
        referencing.term_ends = Some(at);
        referencing.resumes = Some(OrganisationStatus::Referenced);
        referencing.pending_version = Some(PendingVersion {
            version: 3,
            deadline: at,
        });
        referencing.last_evaluation = Some(at);
        for kind in [
            NoticeKind::Termination { by: Party::Csirt },
            NoticeKind::Dereferencing {
                cause: DereferencingCause::UnfavourableSurveys,
            },
        ] {
            referencing.notice = Some(Notice {
                kind,
                given_at: at,
                effective_at: at,
            });
            conforms(&referencing);
        }
        for overdue in [
            Overdue::Evaluation { due: at },
            Overdue::FileUpdate { year: 2026 },
            Overdue::Signature {
                version: 2,
                deadline: at,
            },
            Overdue::Notice { effective_at: at },
        ] {
            conforms(&overdue);
        }
        conforms(&VictimIdentifiers {
            domains: vec!["mairie.re".into()],
            emails: vec![],
            hostnames: vec!["SRV-COMPTA".into()],
            organisations: vec!["Mairie".into()],
        });
        conforms(&ReportedChange {
            object: "indicator--x".into(),
            field: "/description".into(),
            rule: "hostname".into(),
            action: "redacted".into(),
        });
        let item: IocItem = serde_json::from_value(json!({
            "type": "domain", "value": "c2.example", "tlp": "amber", "pap": "green",
            "description": "seen", "first_seen": "2026-03-01T10:00:00+04:00",
            "attack_techniques": ["T1059.001"], "case": "case-1"
        }))
        .unwrap();
        conforms(&item);

        let q = crate::domain::cases::qualification::qualify(
            serde_json::from_value(json!({
                "beneficiary": {"name": "Mairie", "kind": "local_authority", "sector": "public",
                                "size": "mid_size", "commune": "Saint-Leu"},
                "incident": {"category": "ransomware", "severity": 4,
                             "started_at": "2026-11-02T04:00:00Z",
                             "detected_at": "2026-11-02T05:00:00Z",
                             "reported_at": "2026-11-02T06:00:00Z"},
                "facts": "chiffrement", "services": ["analysis"],
                "observables": [{"type": "ipv4-addr", "spec_version": "2.1",
                    "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", "value": "198.51.100.7"}]
            }))
            .unwrap(),
            true,
        )
        .unwrap();
        conforms(&q);
        conforms(&Closure {
            end_date: at.date(),
            closed_by: "prn".into(),
            closed_at: at,
            summary: String::new(),
            provider: Some("org".into()),
            rex_due: Some(at.date()),
        });
        conforms(&Dispute {
            number: 1,
            raised_by: DisputeParty::Beneficiary,
            summary: "x".into(),
            recorded_by: "prn".into(),
            recorded_at: at,
            outcome: Some(crate::domain::cases::lifecycle::DisputeOutcome {
                text: "y".into(),
                recorded_by: "prn".into(),
                recorded_at: at,
            }),
        });
        let entry = crate::domain::cases::journal::append(
            "case--1",
            None,
            &crate::domain::cases::journal::Author {
                principal: "prn",
                name: "a",
                organisation: "o",
            },
            serde_json::from_value(json!({"kind": "meeting", "text": "point",
                "participants": ["DGS"], "attachments": [{"name": "x", "sha256": "ab".repeat(32)}]}))
            .unwrap(),
            at,
        )
        .unwrap();
        conforms(&entry);
        for s in CaseStatus::ALL {
            conforms(s);
        }
    }

    #[test]
    fn the_document_is_self_consistent() {
        let doc = document();
        let mut ids = std::collections::BTreeSet::new();
        for item in doc["paths"].as_object().unwrap().values() {
            for operation in item.as_object().unwrap().values() {
                let id = operation["operationId"].as_str().unwrap();
                assert!(ids.insert(id.to_owned()), "operationId {id} twice");
            }
        }
        let text = doc.to_string();
        for piece in text.split("\"#/components/schemas/").skip(1) {
            let name = piece.split('"').next().unwrap_or_default();
            assert!(
                !doc["components"]["schemas"][name].is_null(),
                "{name} is referenced, not defined"
            );
        }
    }
}
