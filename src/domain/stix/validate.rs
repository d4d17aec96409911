//! STIX 2.1 object validation.
//!
//! [`validate`] takes one object, as its exact text and its strictly parsed value (see
//! [`super::json`]), checks it against STIX 2.1 and lists every problem it finds, each with a
//! JSON pointer to the offending value. A valid object comes back as a [`StixObject`]: the raw
//! text, untouched, plus the typed columns relais indexes.
//!
//! What is checked:
//! - the common properties each category requires: SDOs, SROs, language-content and
//!   extension-definition need `type`, `spec_version`, `id`, `created`, `modified`;
//!   marking-definition needs `created` but has no `modified`; SCOs need `type` and `id` only
//!   (`spec_version` may be absent);
//! - `spec_version` is `"2.1"`; `id` is `type--UUID` with the object's own type and an RFC 4122
//!   UUID; type names follow the spec's charset rules; timestamps are RFC 3339 in UTC
//!   (`YYYY-MM-DDTHH:MM:SS[.fraction]Z`), `created` and `modified` to the millisecond at least,
//!   and `modified` is not before `created`;
//! - every `*_ref` property, anywhere in the object (extensions included, custom `x_` properties
//!   excepted: their content is the producer's own), holds an identifier,
//!   and every `*_refs` property a non-empty list of them, except inside free-form dictionaries
//!   (`hashes`, `observed-data.objects`, `language-content.contents`, …);
//! - markings: `object_marking_refs` and `granular_markings[].marking_ref` name
//!   marking-definitions, selectors are well formed and select something in the object, and a
//!   marking-definition of type `tlp` is one of the four the spec defines;
//! - `extensions` keys are `extension-definition--UUID` or a predefined extension name (`…-ext`);
//! - the type-specific properties of every SDO, SRO and SCO of STIX 2.1 (required properties,
//!   value types, referenced object types, co-occurrence and ordering rules), with the
//!   `TYPES` table as the single description; an indicator with `pattern_type: "stix"` has
//!   its pattern parsed by [`pattern::parse`].
//!
//! Custom properties and custom objects (types relais does not know, `x-…` or not) are kept
//! intact and never refused for being custom; their names and common properties still follow
//! the rules. A custom object with `created` or `modified` is read like an SDO (both required,
//! `spec_version` required), one with neither like an SCO.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

use super::id::{StixId, check_type_name};
use super::pattern::{self, PatternLimits};
use super::pointer::{child, item};

/// The only `spec_version` relais accepts.
pub const SPEC_VERSION: &str = "2.1";
/// Bounds on the length of a property name (§ 11.1).
pub const PROPERTY_NAME_LEN: std::ops::RangeInclusive<usize> = 3..=250;
/// Longest dictionary key (hash algorithm names, …).
pub const MAX_KEY_LEN: usize = 250;
/// Property names STIX 2.1 reserves; no object may carry them.
pub const RESERVED_PROPERTIES: &[&str] = &["severity", "action", "username", "phone_numbers"];
/// Longest piece of an input value quoted in an error message.
const MAX_QUOTED_CHARS: usize = 80;

// ------------------------------------------------------------------------------------------
// Timestamps

/// Why a timestamp is not one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    #[error("must be YYYY-MM-DDTHH:MM:SS[.fraction]Z (RFC 3339, UTC)")]
    Format,
    #[error("is not a valid date and time")]
    Range,
}

/// A STIX timestamp: the text as written, and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timestamp {
    text: String,
    time: OffsetDateTime,
}

impl Timestamp {
    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction]Z`. A leap second (`23:59:60`) is read as
    /// `23:59:59.999999999`; fraction digits beyond the ninth are kept in the text only.
    pub fn parse(s: &str) -> Result<Self, TimestampError> {
        let b = s.as_bytes();
        if b.len() < 20 || b.last() != Some(&b'Z') {
            return Err(TimestampError::Format);
        }
        let num = |range: std::ops::Range<usize>| -> Result<u32, TimestampError> {
            let digits = b.get(range).ok_or(TimestampError::Format)?;
            digits.iter().try_fold(0u32, |acc, d| {
                if d.is_ascii_digit() {
                    Ok(acc * 10 + u32::from(d - b'0'))
                } else {
                    Err(TimestampError::Format)
                }
            })
        };
        let separators = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
        if separators.iter().any(|(i, c)| b[*i] != *c) {
            return Err(TimestampError::Format);
        }
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (hour, minute, mut second) = (num(11..13)?, num(14..16)?, num(17..19)?);
        let mut nanos = 0u32;
        match &b[19..b.len() - 1] {
            [] => {}
            [b'.', fraction @ ..] if !fraction.is_empty() => {
                if !fraction.iter().all(u8::is_ascii_digit) {
                    return Err(TimestampError::Format);
                }
                for i in 0..9 {
                    nanos = nanos * 10 + fraction.get(i).map_or(0, |d| u32::from(d - b'0'));
                }
            }
            _ => return Err(TimestampError::Format),
        }
        if second == 60 {
            if hour != 23 || minute != 59 {
                return Err(TimestampError::Range);
            }
            second = 59;
            nanos = 999_999_999;
        }
        let month = u8::try_from(month)
            .ok()
            .and_then(|m| Month::try_from(m).ok())
            .ok_or(TimestampError::Range)?;
        let year = i32::try_from(year).map_err(|_| TimestampError::Range)?;
        let small = |v: u32| u8::try_from(v).map_err(|_| TimestampError::Range);
        let date = Date::from_calendar_date(year, month, small(day)?)
            .map_err(|_| TimestampError::Range)?;
        let time = Time::from_hms_nano(small(hour)?, small(minute)?, small(second)?, nanos)
            .map_err(|_| TimestampError::Range)?;
        Ok(Self {
            text: s.to_owned(),
            time: PrimitiveDateTime::new(date, time).assume_utc(),
        })
    }

    /// The timestamp exactly as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn time(&self) -> OffsetDateTime {
        self.time
    }

    /// How many digits follow the decimal point (0 when there is none).
    pub fn fraction_digits(&self) -> usize {
        // The text is ASCII and 20 bytes at least: "…:SS" ends at 19, "Z" is last.
        self.text.len().saturating_sub(21)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

// ------------------------------------------------------------------------------------------
// Results

/// The category of a STIX object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    /// STIX Domain Object.
    Sdo,
    /// STIX Relationship Object (relationship, sighting).
    Sro,
    /// STIX Cyber-observable Object.
    Sco,
    MarkingDefinition,
    LanguageContent,
    ExtensionDefinition,
    /// A type relais does not know (`x-…` custom objects, types defined by an
    /// extension-definition).
    Custom,
}

impl ObjectKind {
    /// The kind of the objects of a type.
    pub fn of_type(object_type: &str) -> Self {
        spec_for(object_type).map_or(Self::Custom, |s| s.kind)
    }

    /// marking-definition, language-content and extension-definition.
    pub fn is_meta(self) -> bool {
        matches!(
            self,
            Self::MarkingDefinition | Self::LanguageContent | Self::ExtensionDefinition
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sdo => "sdo",
            Self::Sro => "sro",
            Self::Sco => "sco",
            Self::MarkingDefinition => "marking-definition",
            Self::LanguageContent => "language-content",
            Self::ExtensionDefinition => "extension-definition",
            Self::Custom => "custom",
        }
    }
}

/// One granular marking: a marking-definition or a language, and what it applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GranularMarking {
    pub marking_ref: Option<StixId>,
    pub lang: Option<String>,
    pub selectors: Vec<String>,
}

/// One external reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalReference {
    pub source_name: String,
    pub description: Option<String>,
    pub url: Option<String>,
    pub external_id: Option<String>,
    pub hashes: BTreeMap<String, String>,
}

/// A valid STIX object: the exact text, and the columns relais indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StixObject {
    /// The object exactly as received.
    pub raw: String,
    pub id: StixId,
    pub object_type: String,
    pub kind: ObjectKind,
    /// `None` only for SCOs (and SCO-like custom objects) that omit it.
    pub spec_version: Option<String>,
    /// `None` for SCOs.
    pub created: Option<Timestamp>,
    /// `None` for SCOs and marking-definitions.
    pub modified: Option<Timestamp>,
    /// `None` for SCOs.
    pub created_by_ref: Option<StixId>,
    /// `false` for SCOs.
    pub revoked: bool,
    pub object_marking_refs: Vec<StixId>,
    pub granular_markings: Vec<GranularMarking>,
    pub external_references: Vec<ExternalReference>,
}

impl StixObject {
    /// What tells versions of this object apart: `modified`, else `created` (marking
    /// definitions never change), else nothing (SCOs have no versions).
    pub fn version(&self) -> Option<&Timestamp> {
        self.modified.as_ref().or(self.created.as_ref())
    }
}

/// One problem with an object: where (a JSON pointer into the object, empty for the object
/// itself) and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", display_path(.path))]
pub struct ValidationError {
    pub path: String,
    pub message: String,
}

impl ValidationError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

fn display_path(path: &str) -> String {
    if path.is_empty() {
        "(object)".to_owned()
    } else if path.chars().any(char::is_control) {
        format!("{path:?}")
    } else {
        path.to_owned()
    }
}

/// Quotes a piece of input for an error message: cut, escaped, on one line.
fn show(s: &str) -> String {
    match s.char_indices().nth(MAX_QUOTED_CHARS) {
        Some((i, _)) => format!("{:?}…", &s[..i]),
        None => format!("{s:?}"),
    }
}

// ------------------------------------------------------------------------------------------
// The table

/// What a reference may point to.
#[derive(Debug, Clone, Copy)]
enum Targets {
    Any,
    Only(&'static [&'static str]),
    Not(&'static [&'static str]),
    /// An SDO, or a type relais does not know.
    Sdo,
    /// An SCO, or a type relais does not know.
    Sco,
    /// An SCO or an SRO, or a type relais does not know.
    ScoOrSro,
}

impl Targets {
    fn allows(self, object_type: &str) -> bool {
        let kind = ObjectKind::of_type(object_type);
        match self {
            Self::Any => true,
            Self::Only(types) => types.contains(&object_type),
            Self::Not(types) => !types.contains(&object_type),
            Self::Sdo => matches!(kind, ObjectKind::Sdo | ObjectKind::Custom),
            Self::Sco => matches!(kind, ObjectKind::Sco | ObjectKind::Custom),
            Self::ScoOrSro => {
                matches!(kind, ObjectKind::Sco | ObjectKind::Sro | ObjectKind::Custom)
            }
        }
    }

    fn describe(self) -> String {
        match self {
            Self::Any => "any object".to_owned(),
            Self::Only(types) => format!("an object of type {}", or_list(types)),
            Self::Not(types) => format!("an object of a type other than {}", or_list(types)),
            Self::Sdo => "an SDO".to_owned(),
            Self::Sco => "an SCO".to_owned(),
            Self::ScoOrSro => "an SCO or an SRO".to_owned(),
        }
    }
}

fn or_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The type of a property's value.
#[derive(Debug, Clone, Copy)]
enum Ty {
    /// Anything: the property is listed for its presence only.
    Any,
    Str,
    Bool,
    Int {
        min: i64,
        max: i64,
    },
    Num {
        min: f64,
        max: f64,
    },
    Timestamp,
    /// A non-empty list of strings.
    StrList,
    Enum(&'static [&'static str]),
    /// A non-empty list of values from the enumeration.
    EnumList(&'static [&'static str]),
    /// The form of an identifier is checked for every `*_ref`; this adds the target's type.
    Ref(Targets),
    Refs(Targets),
    Object,
    /// A non-empty JSON object.
    Dict,
    /// A non-empty list of objects.
    ObjectList,
    Hashes,
    KillChainPhases,
    ExternalReferences,
    GranularMarkings,
    Extensions,
    /// An email's `body_multipart`: a non-empty list of MIME parts.
    MimeParts,
}

#[derive(Debug, Clone, Copy)]
struct Prop {
    name: &'static str,
    ty: Ty,
    required: bool,
}

const fn req(name: &'static str, ty: Ty) -> Prop {
    Prop {
        name,
        ty,
        required: true,
    }
}

const fn opt(name: &'static str, ty: Ty) -> Prop {
    Prop {
        name,
        ty,
        required: false,
    }
}

/// A rule about several properties.
#[derive(Clone, Copy)]
enum Rule {
    /// At least one of them is present.
    AnyOf(&'static [&'static str]),
    /// Exactly one of them is present.
    ExactlyOne(&'static [&'static str]),
    /// If the first is present, the second is too.
    Requires(&'static str, &'static str),
    /// `later` is not before `earlier` (both timestamps, when both are present).
    NotBefore {
        earlier: &'static str,
        later: &'static str,
    },
    /// `later` is strictly after `earlier`.
    After {
        earlier: &'static str,
        later: &'static str,
    },
    /// Anything else.
    Check(fn(&Map<String, Value>, &mut Ctx<'_>)),
}

struct TypeSpec {
    name: &'static str,
    kind: ObjectKind,
    props: &'static [Prop],
    rules: &'static [Rule],
    /// Top-level properties whose content is free-form: `*_ref` keys inside are not
    /// identifiers (the deprecated `observed-data.objects` uses local keys, for one).
    free_form: &'static [&'static str],
}

/// Properties that hold dictionaries whose keys are data, not property names: the `*_ref`
/// rule does not look inside them, wherever they appear.
pub(crate) const DICTIONARIES: &[&str] = &[
    "hashes",
    "environment_variables",
    "additional_header_fields",
    "ipfix",
    "request_header",
    "document_info_dict",
    "exif_tags",
    "options",
];

const INT_MAX: i64 = i64::MAX;
const COUNT: Ty = Ty::Int {
    min: 0,
    max: 999_999_999,
};
const NON_NEGATIVE: Ty = Ty::Int {
    min: 0,
    max: INT_MAX,
};
const PORT: Ty = Ty::Int { min: 0, max: 65535 };
const MARKING_REFS: Ty = Ty::Refs(Targets::Only(&["marking-definition"]));
const IDENTITY_REF: Ty = Ty::Ref(Targets::Only(&["identity"]));
const SOFTWARE: &[&str] = &["software"];
const ADDRESSES: &[&str] = &["ipv4-addr", "ipv6-addr", "mac-addr", "domain-name"];
/// What a relationship may not connect (the OASIS schema's list).
const NOT_RELATABLE: &[&str] = &[
    "relationship",
    "sighting",
    "bundle",
    "marking-definition",
    "language-content",
];
const OPINIONS: &[&str] = &[
    "strongly-disagree",
    "disagree",
    "neutral",
    "agree",
    "strongly-agree",
];
const EXTENSION_TYPES: &[&str] = &[
    "new-sdo",
    "new-sco",
    "new-sro",
    "property-extension",
    "toplevel-property-extension",
];

/// Common properties of SDOs, SROs, language-content, extension-definition and SDO-like custom
/// objects, besides type, spec_version, id, created and modified (§ 3.2).
const SDO_COMMON: &[Prop] = &[
    opt("created_by_ref", IDENTITY_REF),
    opt("revoked", Ty::Bool),
    opt("labels", Ty::StrList),
    opt("confidence", Ty::Int { min: 0, max: 100 }),
    opt("lang", Ty::Str),
    opt("external_references", Ty::ExternalReferences),
    opt("object_marking_refs", MARKING_REFS),
    opt("granular_markings", Ty::GranularMarkings),
    opt("extensions", Ty::Extensions),
];

/// Common properties of marking-definitions (§ 7.2.1), besides type, spec_version, id and
/// created.
const MARKING_COMMON: &[Prop] = &[
    opt("created_by_ref", IDENTITY_REF),
    opt("external_references", Ty::ExternalReferences),
    opt("object_marking_refs", MARKING_REFS),
    opt("granular_markings", Ty::GranularMarkings),
    opt("extensions", Ty::Extensions),
];

/// Common properties of SCOs (§ 6.1), besides type, spec_version and id.
const SCO_COMMON: &[Prop] = &[
    opt("object_marking_refs", MARKING_REFS),
    opt("granular_markings", Ty::GranularMarkings),
    opt("defanged", Ty::Bool),
    opt("extensions", Ty::Extensions),
];

const fn sdo(name: &'static str, props: &'static [Prop], rules: &'static [Rule]) -> TypeSpec {
    spec(name, ObjectKind::Sdo, props, rules)
}

const fn sco(name: &'static str, props: &'static [Prop], rules: &'static [Rule]) -> TypeSpec {
    spec(name, ObjectKind::Sco, props, rules)
}

const fn spec(
    name: &'static str,
    kind: ObjectKind,
    props: &'static [Prop],
    rules: &'static [Rule],
) -> TypeSpec {
    TypeSpec {
        name,
        kind,
        props,
        rules,
        free_form: &[],
    }
}

const SEEN: Rule = Rule::NotBefore {
    earlier: "first_seen",
    later: "last_seen",
};

/// Every object type of STIX 2.1, its category and its type-specific properties and rules
/// (from the specification and the OASIS JSON schemas).
static TYPES: &[TypeSpec] = &[
    // SDOs (§ 4)
    sdo(
        "attack-pattern",
        &[
            req("name", Ty::Str),
            opt("description", Ty::Str),
            opt("aliases", Ty::StrList),
            opt("kill_chain_phases", Ty::KillChainPhases),
        ],
        &[],
    ),
    sdo(
        "campaign",
        &[
            req("name", Ty::Str),
            opt("description", Ty::Str),
            opt("aliases", Ty::StrList),
            opt("first_seen", Ty::Timestamp),
            opt("last_seen", Ty::Timestamp),
            opt("objective", Ty::Str),
        ],
        &[SEEN],
    ),
    sdo(
        "course-of-action",
        &[req("name", Ty::Str), opt("description", Ty::Str)],
        &[],
    ),
    sdo(
        "grouping",
        &[
            opt("name", Ty::Str),
            opt("description", Ty::Str),
            req("context", Ty::Str),
            req("object_refs", Ty::Refs(Targets::Any)),
        ],
        &[],
    ),
    sdo(
        "identity",
        &[
            req("name", Ty::Str),
            opt("description", Ty::Str),
            opt("roles", Ty::StrList),
            opt("identity_class", Ty::Str),
            opt("sectors", Ty::StrList),
            opt("contact_information", Ty::Str),
        ],
        &[],
    ),
    sdo(
        "incident",
        &[
            req("name", Ty::Str),
            opt("description", Ty::Str),
            opt("kill_chain_phases", Ty::KillChainPhases),
        ],
        &[],
    ),
    sdo(
        "indicator",
        &[
            opt("name", Ty::Str),
            opt("description", Ty::Str),
            opt("indicator_types", Ty::StrList),
            req("pattern", Ty::Str),
            req("pattern_type", Ty::Str),
            opt("pattern_version", Ty::Str),
            req("valid_from", Ty::Timestamp),
            opt("valid_until", Ty::Timestamp),
            opt("kill_chain_phases", Ty::KillChainPhases),
        ],
        &[
            Rule::After {
                earlier: "valid_from",
                later: "valid_until",
            },
            Rule::Check(check_indicator_pattern),
        ],
    ),
    sdo(
        "infrastructure",
        &[
            req("name", Ty::Str),
            opt("description", Ty::Str),
            opt("infrastructure_types", Ty::StrList),
            opt("aliases", Ty::StrList),
            opt("kill_chain_phases", Ty::KillChainPhases),
            opt("first_seen", Ty::Timestamp),
            opt("last_seen", Ty::Timestamp),
        ],
        &[SEEN],
    ),
    sdo(
        "intrusion-set",
        &[
            req("name", Ty::Str),
            opt("description", Ty::Str),
            opt("aliases", Ty::StrList),
            opt("first_seen", Ty::Timestamp),
            opt("last_seen", Ty::Timestamp),
            opt("goals", Ty::StrList),
            opt("resource_level", Ty::Str),
            opt("primary_motivation", Ty::Str),
            opt("secondary_motivations", Ty::StrList),
        ],
        &[SEEN],
    ),
    sdo(
        "location",
        &[
            opt("name", Ty::Str),
            opt("description", Ty::Str),
            opt(
                "latitude",
                Ty::Num {
                    min: -90.0,
                    max: 90.0,
                },
            ),
            opt(
                "longitude",
                Ty::Num {
                    min: -180.0,
                    max: 180.0,
                },
            ),
            opt(
                "precision",
                Ty::Num {
                    min: 0.0,
                    max: f64::MAX,
                },
            ),
            opt("region", Ty::Str),
            opt("country", Ty::Str),
            opt("administrative_area", Ty::Str),
            opt("city", Ty::Str),
            opt("street_address", Ty::Str),
            opt("postal_code", Ty::Str),
        ],
        &[
            Rule::AnyOf(&["region", "country", "latitude"]),
            Rule::Requires("latitude", "longitude"),
            Rule::Requires("longitude", "latitude"),
            Rule::Requires("precision", "latitude"),
        ],
    ),
    sdo(
        "malware",
        &[
            opt("name", Ty::Str),
            opt("description", Ty::Str),
            opt("malware_types", Ty::StrList),
            req("is_family", Ty::Bool),
            opt("aliases", Ty::StrList),
            opt("kill_chain_phases", Ty::KillChainPhases),
            opt("first_seen", Ty::Timestamp),
            opt("last_seen", Ty::Timestamp),
            opt("operating_system_refs", Ty::Refs(Targets::Only(SOFTWARE))),
            opt("architecture_execution_envs", Ty::StrList),
            opt("implementation_languages", Ty::StrList),
            opt("capabilities", Ty::StrList),
            opt(
                "sample_refs",
                Ty::Refs(Targets::Only(&["file", "artifact"])),
            ),
        ],
        &[SEEN, Rule::Check(check_malware_family_name)],
    ),
    sdo(
        "malware-analysis",
        &[
            req("product", Ty::Str),
            opt("version", Ty::Str),
            opt("host_vm_ref", Ty::Ref(Targets::Only(SOFTWARE))),
            opt("operating_system_ref", Ty::Ref(Targets::Only(SOFTWARE))),
            opt("installed_software_refs", Ty::Refs(Targets::Only(SOFTWARE))),
            opt("configuration_version", Ty::Str),
            opt("modules", Ty::StrList),
            opt("analysis_engine_version", Ty::Str),
            opt("analysis_definition_version", Ty::Str),
            opt("submitted", Ty::Timestamp),
            opt("analysis_started", Ty::Timestamp),
            opt("analysis_ended", Ty::Timestamp),
            opt("result_name", Ty::Str),
            opt("result", Ty::Str),
            opt("analysis_sco_refs", Ty::Refs(Targets::Sco)),
            opt(
                "sample_ref",
                Ty::Ref(Targets::Only(&["file", "network-traffic", "artifact"])),
            ),
        ],
        &[Rule::AnyOf(&["result", "analysis_sco_refs"])],
    ),
    sdo(
        "note",
        &[
            opt("abstract", Ty::Str),
            req("content", Ty::Str),
            opt("authors", Ty::StrList),
            req("object_refs", Ty::Refs(Targets::Any)),
        ],
        &[],
    ),
    TypeSpec {
        name: "observed-data",
        kind: ObjectKind::Sdo,
        props: &[
            req("first_observed", Ty::Timestamp),
            req("last_observed", Ty::Timestamp),
            req(
                "number_observed",
                Ty::Int {
                    min: 1,
                    max: 999_999_999,
                },
            ),
            opt("objects", Ty::Dict),
            opt("object_refs", Ty::Refs(Targets::ScoOrSro)),
        ],
        rules: &[
            Rule::NotBefore {
                earlier: "first_observed",
                later: "last_observed",
            },
            Rule::ExactlyOne(&["objects", "object_refs"]),
        ],
        free_form: &["objects"],
    },
    sdo(
        "opinion",
        &[
            opt("explanation", Ty::Str),
            opt("authors", Ty::StrList),
            req("opinion", Ty::Enum(OPINIONS)),
            req("object_refs", Ty::Refs(Targets::Any)),
        ],
        &[],
    ),
    sdo(
        "report",
        &[
            req("name", Ty::Str),
            opt("description", Ty::Str),
            opt("report_types", Ty::StrList),
            req("published", Ty::Timestamp),
            req("object_refs", Ty::Refs(Targets::Any)),
        ],
        &[],
    ),
    sdo(
        "threat-actor",
        &[
            req("name", Ty::Str),
            opt("description", Ty::Str),
            opt("threat_actor_types", Ty::StrList),
            opt("aliases", Ty::StrList),
            opt("first_seen", Ty::Timestamp),
            opt("last_seen", Ty::Timestamp),
            opt("roles", Ty::StrList),
            opt("goals", Ty::StrList),
            opt("sophistication", Ty::Str),
            opt("resource_level", Ty::Str),
            opt("primary_motivation", Ty::Str),
            opt("secondary_motivations", Ty::StrList),
            opt("personal_motivations", Ty::StrList),
        ],
        &[SEEN],
    ),
    sdo(
        "tool",
        &[
            req("name", Ty::Str),
            opt("description", Ty::Str),
            opt("tool_types", Ty::StrList),
            opt("aliases", Ty::StrList),
            opt("kill_chain_phases", Ty::KillChainPhases),
            opt("tool_version", Ty::Str),
        ],
        &[],
    ),
    sdo(
        "vulnerability",
        &[req("name", Ty::Str), opt("description", Ty::Str)],
        &[],
    ),
    // SROs (§ 5)
    spec(
        "relationship",
        ObjectKind::Sro,
        &[
            req("relationship_type", Ty::Str),
            opt("description", Ty::Str),
            req("source_ref", Ty::Ref(Targets::Not(NOT_RELATABLE))),
            req("target_ref", Ty::Ref(Targets::Not(NOT_RELATABLE))),
            opt("start_time", Ty::Timestamp),
            opt("stop_time", Ty::Timestamp),
        ],
        &[Rule::After {
            earlier: "start_time",
            later: "stop_time",
        }],
    ),
    spec(
        "sighting",
        ObjectKind::Sro,
        &[
            opt("description", Ty::Str),
            opt("first_seen", Ty::Timestamp),
            opt("last_seen", Ty::Timestamp),
            opt("count", COUNT),
            req("sighting_of_ref", Ty::Ref(Targets::Sdo)),
            opt(
                "observed_data_refs",
                Ty::Refs(Targets::Only(&["observed-data"])),
            ),
            opt(
                "where_sighted_refs",
                Ty::Refs(Targets::Only(&["identity", "location"])),
            ),
            opt("summary", Ty::Bool),
        ],
        &[SEEN],
    ),
    // Meta objects (§ 7)
    TypeSpec {
        name: "marking-definition",
        kind: ObjectKind::MarkingDefinition,
        props: &[
            opt("name", Ty::Str),
            opt("definition_type", Ty::Str),
            opt("definition", Ty::Object),
        ],
        rules: &[
            Rule::Requires("definition_type", "definition"),
            Rule::Requires("definition", "definition_type"),
            Rule::Check(check_marking_definition),
        ],
        free_form: &["definition"],
    },
    TypeSpec {
        name: "language-content",
        kind: ObjectKind::LanguageContent,
        props: &[
            req(
                "object_ref",
                Ty::Ref(Targets::Not(&["bundle", "language-content"])),
            ),
            opt("object_modified", Ty::Timestamp),
            req("contents", Ty::Dict),
        ],
        rules: &[],
        free_form: &["contents"],
    },
    spec(
        "extension-definition",
        ObjectKind::ExtensionDefinition,
        &[
            req("created_by_ref", Ty::Any),
            req("name", Ty::Str),
            opt("description", Ty::Str),
            req("schema", Ty::Str),
            req("version", Ty::Str),
            req("extension_types", Ty::EnumList(EXTENSION_TYPES)),
            opt("extension_properties", Ty::StrList),
        ],
        &[Rule::Check(check_extension_definition)],
    ),
    // SCOs (§ 6)
    sco(
        "artifact",
        &[
            opt("mime_type", Ty::Str),
            opt("payload_bin", Ty::Str),
            opt("url", Ty::Str),
            opt("hashes", Ty::Hashes),
            opt("encryption_algorithm", Ty::Str),
            opt("decryption_key", Ty::Str),
        ],
        &[
            Rule::ExactlyOne(&["payload_bin", "url"]),
            Rule::Requires("url", "hashes"),
            Rule::Requires("decryption_key", "encryption_algorithm"),
        ],
    ),
    sco(
        "autonomous-system",
        &[
            req("number", NON_NEGATIVE),
            opt("name", Ty::Str),
            opt("rir", Ty::Str),
        ],
        &[],
    ),
    sco(
        "directory",
        &[
            req("path", Ty::Str),
            opt("path_enc", Ty::Str),
            opt("ctime", Ty::Timestamp),
            opt("mtime", Ty::Timestamp),
            opt("atime", Ty::Timestamp),
            opt(
                "contains_refs",
                Ty::Refs(Targets::Only(&["file", "directory"])),
            ),
        ],
        &[],
    ),
    sco(
        "domain-name",
        &[
            req("value", Ty::Str),
            opt(
                "resolves_to_refs",
                Ty::Refs(Targets::Only(&["ipv4-addr", "ipv6-addr", "domain-name"])),
            ),
        ],
        &[],
    ),
    sco(
        "email-addr",
        &[
            req("value", Ty::Str),
            opt("display_name", Ty::Str),
            opt("belongs_to_ref", Ty::Ref(Targets::Only(&["user-account"]))),
        ],
        &[],
    ),
    sco(
        "email-message",
        &[
            req("is_multipart", Ty::Bool),
            opt("date", Ty::Timestamp),
            opt("content_type", Ty::Str),
            opt("from_ref", Ty::Ref(Targets::Only(&["email-addr"]))),
            opt("sender_ref", Ty::Ref(Targets::Only(&["email-addr"]))),
            opt("to_refs", Ty::Refs(Targets::Only(&["email-addr"]))),
            opt("cc_refs", Ty::Refs(Targets::Only(&["email-addr"]))),
            opt("bcc_refs", Ty::Refs(Targets::Only(&["email-addr"]))),
            opt("message_id", Ty::Str),
            opt("subject", Ty::Str),
            opt("received_lines", Ty::StrList),
            opt("additional_header_fields", Ty::Dict),
            opt("body", Ty::Str),
            opt("body_multipart", Ty::MimeParts),
            opt("raw_email_ref", Ty::Ref(Targets::Only(&["artifact"]))),
        ],
        &[Rule::Check(check_email_multipart)],
    ),
    sco(
        "file",
        &[
            opt("hashes", Ty::Hashes),
            opt("size", NON_NEGATIVE),
            opt("name", Ty::Str),
            opt("name_enc", Ty::Str),
            opt("magic_number_hex", Ty::Str),
            opt("mime_type", Ty::Str),
            opt("ctime", Ty::Timestamp),
            opt("mtime", Ty::Timestamp),
            opt("atime", Ty::Timestamp),
            opt(
                "parent_directory_ref",
                Ty::Ref(Targets::Only(&["directory"])),
            ),
            opt("contains_refs", Ty::Refs(Targets::Sco)),
            opt("content_ref", Ty::Ref(Targets::Only(&["artifact"]))),
        ],
        &[Rule::AnyOf(&["hashes", "name"])],
    ),
    sco(
        "ipv4-addr",
        &[
            req("value", Ty::Str),
            opt("resolves_to_refs", Ty::Refs(Targets::Only(&["mac-addr"]))),
            opt(
                "belongs_to_refs",
                Ty::Refs(Targets::Only(&["autonomous-system"])),
            ),
        ],
        &[],
    ),
    sco(
        "ipv6-addr",
        &[
            req("value", Ty::Str),
            opt("resolves_to_refs", Ty::Refs(Targets::Only(&["mac-addr"]))),
            opt(
                "belongs_to_refs",
                Ty::Refs(Targets::Only(&["autonomous-system"])),
            ),
        ],
        &[],
    ),
    sco("mac-addr", &[req("value", Ty::Str)], &[]),
    sco("mutex", &[req("name", Ty::Str)], &[]),
    sco(
        "network-traffic",
        &[
            opt("start", Ty::Timestamp),
            opt("end", Ty::Timestamp),
            opt("is_active", Ty::Bool),
            opt("src_ref", Ty::Ref(Targets::Only(ADDRESSES))),
            opt("dst_ref", Ty::Ref(Targets::Only(ADDRESSES))),
            opt("src_port", PORT),
            opt("dst_port", PORT),
            req("protocols", Ty::StrList),
            opt("src_byte_count", NON_NEGATIVE),
            opt("dst_byte_count", NON_NEGATIVE),
            opt("src_packets", NON_NEGATIVE),
            opt("dst_packets", NON_NEGATIVE),
            opt("ipfix", Ty::Dict),
            opt("src_payload_ref", Ty::Ref(Targets::Only(&["artifact"]))),
            opt("dst_payload_ref", Ty::Ref(Targets::Only(&["artifact"]))),
            opt(
                "encapsulates_refs",
                Ty::Refs(Targets::Only(&["network-traffic"])),
            ),
            opt(
                "encapsulated_by_ref",
                Ty::Ref(Targets::Only(&["network-traffic"])),
            ),
        ],
        &[
            Rule::AnyOf(&["src_ref", "dst_ref"]),
            Rule::NotBefore {
                earlier: "start",
                later: "end",
            },
            Rule::Check(check_network_traffic_active),
        ],
    ),
    sco(
        "process",
        &[
            opt("is_hidden", Ty::Bool),
            opt(
                "pid",
                Ty::Int {
                    min: i64::MIN,
                    max: INT_MAX,
                },
            ),
            opt("created_time", Ty::Timestamp),
            opt("cwd", Ty::Str),
            opt("command_line", Ty::Str),
            opt("environment_variables", Ty::Dict),
            opt(
                "opened_connection_refs",
                Ty::Refs(Targets::Only(&["network-traffic"])),
            ),
            opt(
                "creator_user_ref",
                Ty::Ref(Targets::Only(&["user-account"])),
            ),
            opt("image_ref", Ty::Ref(Targets::Only(&["file"]))),
            opt("parent_ref", Ty::Ref(Targets::Only(&["process"]))),
            opt("child_refs", Ty::Refs(Targets::Only(&["process"]))),
        ],
        &[Rule::AnyOf(&[
            "extensions",
            "is_hidden",
            "pid",
            "created_time",
            "cwd",
            "command_line",
            "environment_variables",
            "opened_connection_refs",
            "creator_user_ref",
            "image_ref",
            "parent_ref",
            "child_refs",
        ])],
    ),
    sco(
        "software",
        &[
            req("name", Ty::Str),
            opt("cpe", Ty::Str),
            opt("swid", Ty::Str),
            opt("languages", Ty::StrList),
            opt("vendor", Ty::Str),
            opt("version", Ty::Str),
        ],
        &[],
    ),
    sco("url", &[req("value", Ty::Str)], &[]),
    sco(
        "user-account",
        &[
            opt("user_id", Ty::Str),
            opt("credential", Ty::Str),
            opt("account_login", Ty::Str),
            opt("account_type", Ty::Str),
            opt("display_name", Ty::Str),
            opt("is_service_account", Ty::Bool),
            opt("is_privileged", Ty::Bool),
            opt("can_escalate_privs", Ty::Bool),
            opt("is_disabled", Ty::Bool),
            opt("account_created", Ty::Timestamp),
            opt("account_expires", Ty::Timestamp),
            opt("credential_last_changed", Ty::Timestamp),
            opt("account_first_login", Ty::Timestamp),
            opt("account_last_login", Ty::Timestamp),
        ],
        &[Rule::AnyOf(&[
            "extensions",
            "user_id",
            "credential",
            "account_login",
            "account_type",
            "display_name",
            "is_service_account",
            "is_privileged",
            "can_escalate_privs",
            "is_disabled",
            "account_created",
            "account_expires",
            "credential_last_changed",
            "account_first_login",
            "account_last_login",
        ])],
    ),
    sco(
        "windows-registry-key",
        &[
            opt("key", Ty::Str),
            opt("values", Ty::ObjectList),
            opt("modified_time", Ty::Timestamp),
            opt(
                "creator_user_ref",
                Ty::Ref(Targets::Only(&["user-account"])),
            ),
            opt("number_of_subkeys", NON_NEGATIVE),
        ],
        &[Rule::AnyOf(&[
            "key",
            "values",
            "modified_time",
            "creator_user_ref",
            "number_of_subkeys",
        ])],
    ),
    sco(
        "x509-certificate",
        &[
            opt("is_self_signed", Ty::Bool),
            opt("hashes", Ty::Hashes),
            opt("version", Ty::Str),
            opt("serial_number", Ty::Str),
            opt("signature_algorithm", Ty::Str),
            opt("issuer", Ty::Str),
            opt("validity_not_before", Ty::Timestamp),
            opt("validity_not_after", Ty::Timestamp),
            opt("subject", Ty::Str),
            opt("subject_public_key_algorithm", Ty::Str),
            opt("subject_public_key_modulus", Ty::Str),
            opt("subject_public_key_exponent", NON_NEGATIVE),
            opt("x509_v3_extensions", Ty::Dict),
        ],
        &[Rule::AnyOf(&[
            "is_self_signed",
            "hashes",
            "version",
            "serial_number",
            "signature_algorithm",
            "issuer",
            "validity_not_before",
            "validity_not_after",
            "subject",
            "subject_public_key_algorithm",
            "subject_public_key_modulus",
            "subject_public_key_exponent",
            "x509_v3_extensions",
        ])],
    ),
];

fn spec_for(object_type: &str) -> Option<&'static TypeSpec> {
    TYPES.iter().find(|s| s.name == object_type)
}

/// The top-level properties of a type whose content is free-form: what looks like a reference
/// inside them is not one (the deprecated `observed-data.objects` uses local keys, for one).
pub fn free_form_properties(object_type: &str) -> &'static [&'static str] {
    spec_for(object_type).map_or(&[], |s| s.free_form)
}

/// The TLP 1.0 marking-definitions STIX 2.1 defines (§ 7.2.1.4): the only valid ones of
/// `definition_type` `tlp`.
const TLP1: &[(&str, &str, &str)] = &[
    (
        "white",
        "TLP:WHITE",
        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    ),
    (
        "green",
        "TLP:GREEN",
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    ),
    (
        "amber",
        "TLP:AMBER",
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
    ),
    (
        "red",
        "TLP:RED",
        "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
    ),
];
const TLP1_CREATED: &str = "2017-01-20T00:00:00.000Z";

/// Hash algorithms whose values have a fixed form: (name, hex digits).
const HEX_HASHES: &[(&str, usize)] = &[
    ("MD5", 32),
    ("SHA-1", 40),
    ("SHA-256", 64),
    ("SHA-512", 128),
    ("SHA3-256", 64),
    ("SHA3-512", 128),
];

// ------------------------------------------------------------------------------------------
// Validation

/// Validates one STIX 2.1 object. `raw` is its exact text and `value` its parsed form (the
/// caller guarantees they agree, e.g. both from [`super::json::read_stix`]). Every problem is
/// listed; none is fatal to the others.
pub fn validate(raw: &str, value: &Value) -> Result<StixObject, Vec<ValidationError>> {
    validate_with(raw, value, &PatternLimits::default())
}

/// [`validate`], with explicit bounds for the indicator pattern parser.
pub fn validate_with(
    raw: &str,
    value: &Value,
    pattern_limits: &PatternLimits,
) -> Result<StixObject, Vec<ValidationError>> {
    let Value::Object(obj) = value else {
        return Err(vec![ValidationError::new(
            "",
            "a STIX object must be a JSON object",
        )]);
    };
    let mut cx = Ctx {
        errors: Vec::new(),
        pattern_limits,
    };

    let object_type = cx.object_type(obj);
    let spec = object_type.and_then(spec_for);
    let kind = spec.map_or(ObjectKind::Custom, |s| s.kind);
    let sco_like = match kind {
        ObjectKind::Sco => true,
        ObjectKind::Custom => !obj.contains_key("created") && !obj.contains_key("modified"),
        _ => false,
    };
    let id = cx.id(obj, object_type);
    let spec_version = cx.spec_version(obj, !sco_like);
    let (created, modified) = match kind {
        _ if sco_like => (None, None),
        ObjectKind::MarkingDefinition => (cx.timestamp_prop(obj, "created", false), None),
        _ => {
            let created = cx.timestamp_prop(obj, "created", true);
            let modified = cx.timestamp_prop(obj, "modified", true);
            if let (Some(c), Some(m)) = (&created, &modified)
                && m.time < c.time
            {
                cx.error("/modified", "must not be earlier than created");
            }
            (created, modified)
        }
    };
    cx.property_names(obj);

    let common = match kind {
        _ if sco_like => SCO_COMMON,
        ObjectKind::MarkingDefinition => MARKING_COMMON,
        _ => SDO_COMMON,
    };
    cx.props(obj, common);
    let (props, rules, free_form) = spec.map_or((&[][..], &[][..], &[][..]), |s| {
        (s.props, s.rules, s.free_form)
    });
    cx.props(obj, props);
    cx.rules(obj, rules);
    cx.refs(obj, free_form);
    cx.empty_lists(obj, common, props);

    if !cx.errors.is_empty() {
        return Err(cx.errors);
    }
    let (Some(id), Some(object_type)) = (id, object_type) else {
        // Cannot happen: a missing id or type is an error above.
        return Err(vec![ValidationError::new(
            "",
            "internal error: no id or type",
        )]);
    };
    Ok(StixObject {
        raw: raw.to_owned(),
        id,
        object_type: object_type.to_owned(),
        kind,
        spec_version,
        created,
        modified,
        // SCOs have neither property: a custom one of the same name means nothing to STIX.
        created_by_ref: obj
            .get("created_by_ref")
            .filter(|_| !sco_like)
            .and_then(Value::as_str)
            .and_then(|s| StixId::parse(s).ok()),
        revoked: !sco_like && obj.get("revoked") == Some(&Value::Bool(true)),
        object_marking_refs: ids(obj.get("object_marking_refs")),
        granular_markings: granular_markings(obj.get("granular_markings")),
        external_references: external_references(obj.get("external_references")),
    })
}

fn ids(value: Option<&Value>) -> Vec<StixId> {
    let Some(Value::Array(items)) = value else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(Value::as_str)
        .filter_map(|s| StixId::parse(s).ok())
        .collect()
}

fn strings(value: Option<&Value>) -> Vec<String> {
    let Some(Value::Array(items)) = value else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

fn string(map: &Map<String, Value>, key: &str) -> Option<String> {
    map.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn granular_markings(value: Option<&Value>) -> Vec<GranularMarking> {
    let Some(Value::Array(items)) = value else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(Value::as_object)
        .map(|m| GranularMarking {
            marking_ref: m
                .get("marking_ref")
                .and_then(Value::as_str)
                .and_then(|s| StixId::parse(s).ok()),
            lang: string(m, "lang"),
            selectors: strings(m.get("selectors")),
        })
        .collect()
}

fn external_references(value: Option<&Value>) -> Vec<ExternalReference> {
    let Some(Value::Array(items)) = value else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(Value::as_object)
        .map(|m| ExternalReference {
            source_name: string(m, "source_name").unwrap_or_default(),
            description: string(m, "description"),
            url: string(m, "url"),
            external_id: string(m, "external_id"),
            hashes: m
                .get("hashes")
                .and_then(Value::as_object)
                .map(|h| {
                    h.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect()
}

struct Ctx<'a> {
    errors: Vec<ValidationError>,
    pattern_limits: &'a PatternLimits,
}

impl Ctx<'_> {
    fn error(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.errors.push(ValidationError::new(path, message));
    }

    fn missing(&mut self, name: &str) {
        self.error(child("", name), "required property is missing");
    }

    fn object_type<'v>(&mut self, obj: &'v Map<String, Value>) -> Option<&'v str> {
        match obj.get("type") {
            None => {
                self.missing("type");
                None
            }
            Some(Value::String(t)) => {
                if t == "bundle" {
                    self.error("/type", "a bundle is a container, not a STIX object");
                    None
                } else if let Err(e) = check_type_name(t) {
                    self.error("/type", format!("invalid type name {}: {e}", show(t)));
                    None
                } else {
                    Some(t)
                }
            }
            Some(_) => {
                self.error("/type", "must be a string");
                None
            }
        }
    }

    fn id(&mut self, obj: &Map<String, Value>, object_type: Option<&str>) -> Option<StixId> {
        match obj.get("id") {
            None => {
                self.missing("id");
                None
            }
            Some(Value::String(s)) => match StixId::parse(s) {
                Ok(id) => {
                    if let Some(t) = object_type
                        && id.object_type() != t
                    {
                        self.error(
                            "/id",
                            format!(
                                "the type part {} differs from the object's type {}",
                                show(id.object_type()),
                                show(t)
                            ),
                        );
                    }
                    Some(id)
                }
                Err(e) => {
                    self.error("/id", format!("invalid identifier {}: {e}", show(s)));
                    None
                }
            },
            Some(_) => {
                self.error("/id", "must be a string");
                None
            }
        }
    }

    fn spec_version(&mut self, obj: &Map<String, Value>, required: bool) -> Option<String> {
        match obj.get("spec_version") {
            None => {
                if required {
                    self.missing("spec_version");
                }
                None
            }
            Some(Value::String(v)) if v == SPEC_VERSION => Some(v.clone()),
            Some(Value::String(v)) => {
                self.error(
                    "/spec_version",
                    format!("must be \"{SPEC_VERSION}\", not {}", show(v)),
                );
                None
            }
            Some(_) => {
                self.error("/spec_version", "must be the string \"2.1\"");
                None
            }
        }
    }

    /// `created` or `modified`: required, a timestamp, to the millisecond at least when
    /// `millis` (§ 3.2; marking-definitions are exempt, as in the OASIS schema).
    fn timestamp_prop(
        &mut self,
        obj: &Map<String, Value>,
        name: &str,
        millis: bool,
    ) -> Option<Timestamp> {
        let path = child("", name);
        match obj.get(name) {
            None => {
                self.missing(name);
                None
            }
            Some(Value::String(s)) => match Timestamp::parse(s) {
                Ok(t) if millis && t.fraction_digits() < 3 => {
                    self.error(
                        path,
                        format!("{} must be precise to the millisecond at least", show(s)),
                    );
                    None
                }
                Ok(t) => Some(t),
                Err(e) => {
                    self.error(path, format!("{} {e}", show(s)));
                    None
                }
            },
            Some(_) => {
                self.error(path, "must be a timestamp string");
                None
            }
        }
    }

    /// Top-level property names (see [`is_property_name`]); none of the reserved names.
    fn property_names(&mut self, obj: &Map<String, Value>) {
        for key in obj.keys() {
            if !is_property_name(key) {
                self.error(child("", key), PROPERTY_NAME_RULE);
            } else if RESERVED_PROPERTIES.contains(&key.as_str()) {
                self.error(child("", key), "reserved property name");
            }
        }
    }

    fn props(&mut self, obj: &Map<String, Value>, props: &[Prop]) {
        for prop in props {
            match obj.get(prop.name) {
                None if prop.required => self.missing(prop.name),
                None => {}
                Some(v) => self.check(obj, &child("", prop.name), v, prop.ty),
            }
        }
    }

    fn check(&mut self, root: &Map<String, Value>, path: &str, v: &Value, ty: Ty) {
        match ty {
            Ty::Any => {}
            Ty::Str => {
                if !v.is_string() {
                    self.error(path, "must be a string");
                }
            }
            Ty::Bool => {
                if !v.is_boolean() {
                    self.error(path, "must be a boolean");
                }
            }
            Ty::Int { min, max } => {
                let in_range = match v {
                    Value::Number(n) if n.is_i64() || n.is_u64() => {
                        n.as_i64().is_some_and(|i| (min..=max).contains(&i))
                    }
                    _ => {
                        self.error(path, "must be an integer");
                        return;
                    }
                };
                if !in_range {
                    self.error(path, format!("must be between {min} and {max}"));
                }
            }
            Ty::Num { min, max } => match v.as_f64() {
                Some(f) if (min..=max).contains(&f) => {}
                Some(_) if max == f64::MAX => self.error(path, format!("must be at least {min}")),
                Some(_) => self.error(path, format!("must be between {min} and {max}")),
                None => self.error(path, "must be a number"),
            },
            Ty::Timestamp => match v {
                Value::String(s) => {
                    if let Err(e) = Timestamp::parse(s) {
                        self.error(path, format!("{} {e}", show(s)));
                    }
                }
                _ => self.error(path, "must be a timestamp string"),
            },
            Ty::StrList => {
                if let Some(items) = self.list(path, v) {
                    for (i, x) in items.iter().enumerate() {
                        if !x.is_string() {
                            self.error(item(path, i), "must be a string");
                        }
                    }
                }
            }
            Ty::Enum(values) => self.enumerated(path, v, values),
            Ty::EnumList(values) => {
                if let Some(items) = self.list(path, v) {
                    for (i, x) in items.iter().enumerate() {
                        self.enumerated(&item(path, i), x, values);
                    }
                }
            }
            Ty::Ref(targets) => {
                if let Some(s) = v.as_str() {
                    self.target(path, s, targets);
                }
            }
            Ty::Refs(targets) => {
                if let Value::Array(items) = v {
                    for (i, x) in items.iter().enumerate() {
                        if let Some(s) = x.as_str() {
                            self.target(&item(path, i), s, targets);
                        }
                    }
                }
            }
            Ty::Object => {
                if !v.is_object() {
                    self.error(path, "must be an object");
                }
            }
            Ty::Dict => match v {
                Value::Object(m) if m.is_empty() => self.error(path, "must not be empty"),
                Value::Object(_) => {}
                _ => self.error(path, "must be an object"),
            },
            Ty::ObjectList => {
                if let Some(items) = self.list(path, v) {
                    for (i, x) in items.iter().enumerate() {
                        if !x.is_object() {
                            self.error(item(path, i), "must be an object");
                        }
                    }
                }
            }
            Ty::Hashes => self.hashes(path, v),
            Ty::KillChainPhases => {
                if let Some(items) = self.list(path, v) {
                    for (i, x) in items.iter().enumerate() {
                        let p = item(path, i);
                        let Some(m) = x.as_object() else {
                            self.error(p, "must be a kill chain phase object");
                            continue;
                        };
                        for name in ["kill_chain_name", "phase_name"] {
                            match m.get(name) {
                                None => self.error(child(&p, name), "required property is missing"),
                                Some(Value::String(_)) => {}
                                Some(_) => self.error(child(&p, name), "must be a string"),
                            }
                        }
                    }
                }
            }
            Ty::ExternalReferences => {
                if let Some(items) = self.list(path, v) {
                    for (i, x) in items.iter().enumerate() {
                        self.external_reference(&item(path, i), x);
                    }
                }
            }
            Ty::MimeParts => {
                if let Some(items) = self.list(path, v) {
                    for (i, x) in items.iter().enumerate() {
                        self.mime_part(root, &item(path, i), x);
                    }
                }
            }
            Ty::GranularMarkings => {
                if let Some(items) = self.list(path, v) {
                    for (i, x) in items.iter().enumerate() {
                        self.granular_marking(root, &item(path, i), x);
                    }
                }
            }
            Ty::Extensions => self.extensions(path, v),
        }
    }

    /// A non-empty list.
    fn list<'v>(&mut self, path: &str, v: &'v Value) -> Option<&'v [Value]> {
        match v {
            Value::Array(items) if items.is_empty() => {
                self.error(path, "must not be an empty list");
                None
            }
            Value::Array(items) => Some(items),
            _ => {
                self.error(path, "must be a list");
                None
            }
        }
    }

    fn enumerated(&mut self, path: &str, v: &Value, values: &[&str]) {
        match v.as_str() {
            Some(s) if values.contains(&s) => {}
            Some(s) => self.error(
                path,
                format!("{} is not one of {}", show(s), or_list(values)),
            ),
            None => self.error(path, "must be a string"),
        }
    }

    fn target(&mut self, path: &str, s: &str, targets: Targets) {
        // A malformed identifier is reported by the `*_ref` rule.
        let Ok(id) = StixId::parse(s) else {
            return;
        };
        if !targets.allows(id.object_type()) {
            self.error(
                path,
                format!(
                    "must reference {}, not {}",
                    targets.describe(),
                    show(id.object_type())
                ),
            );
        }
    }

    fn hashes(&mut self, path: &str, v: &Value) {
        let Value::Object(m) = v else {
            self.error(path, "must be an object of hashes");
            return;
        };
        if m.is_empty() {
            self.error(path, "must not be empty");
        }
        for (algorithm, value) in m {
            let p = child(path, algorithm);
            if algorithm.len() > MAX_KEY_LEN {
                self.error(&p, "hash algorithm names are 250 characters at most");
            }
            let Some(hash) = value.as_str() else {
                self.error(p, "must be a string");
                continue;
            };
            if let Some((_, digits)) = HEX_HASHES.iter().find(|(name, _)| name == algorithm)
                && (hash.len() != *digits || !hash.bytes().all(|b| b.is_ascii_hexdigit()))
            {
                self.error(
                    p,
                    format!(
                        "{} is not a {algorithm} hash ({digits} hex digits)",
                        show(hash)
                    ),
                );
            }
        }
    }

    /// A MIME part (§ 6.6.2): its body inline or in an artifact or file, exactly one. A part
    /// that lost both (a granular marking, a reference its reader may not read) is no part.
    fn mime_part(&mut self, root: &Map<String, Value>, path: &str, v: &Value) {
        let Some(m) = v.as_object() else {
            self.error(path, "must be a MIME part object");
            return;
        };
        match (m.contains_key("body"), m.contains_key("body_raw_ref")) {
            (true, true) => self.error(path, "must have body or body_raw_ref, not both"),
            (false, false) => self.error(path, "must have body or body_raw_ref"),
            _ => {}
        }
        for (name, ty) in [
            ("body", Ty::Str),
            (
                "body_raw_ref",
                Ty::Ref(Targets::Only(&["artifact", "file"])),
            ),
            ("content_type", Ty::Str),
            ("content_disposition", Ty::Str),
        ] {
            if let Some(x) = m.get(name) {
                self.check(root, &child(path, name), x, ty);
            }
        }
    }

    fn external_reference(&mut self, path: &str, v: &Value) {
        let Some(m) = v.as_object() else {
            self.error(path, "must be an external reference object");
            return;
        };
        let source = match m.get("source_name") {
            None => {
                self.error(child(path, "source_name"), "required property is missing");
                None
            }
            Some(Value::String(s)) => Some(s.as_str()),
            Some(_) => {
                self.error(child(path, "source_name"), "must be a string");
                None
            }
        };
        for name in ["description", "url", "external_id"] {
            if let Some(x) = m.get(name)
                && !x.is_string()
            {
                self.error(child(path, name), "must be a string");
            }
        }
        if !["description", "url", "external_id"]
            .iter()
            .any(|k| m.contains_key(*k))
        {
            self.error(
                path,
                "at least one of description, url or external_id must be present",
            );
        }
        if let Some(h) = m.get("hashes") {
            self.hashes(&child(path, "hashes"), h);
        }
        let (check, form): (fn(&str) -> bool, &str) = match source {
            Some("cve") => (is_cve, "CVE-YYYY-NNNN"),
            Some("capec") => (is_capec, "CAPEC-N"),
            _ => return,
        };
        match m.get("external_id").and_then(Value::as_str) {
            Some(id) if check(id) => {}
            Some(id) => self.error(
                child(path, "external_id"),
                format!("{} is not of the form {form}", show(id)),
            ),
            None => self.error(
                child(path, "external_id"),
                format!(
                    "required when source_name is {}",
                    show(source.unwrap_or(""))
                ),
            ),
        }
    }

    fn granular_marking(&mut self, root: &Map<String, Value>, path: &str, v: &Value) {
        let Some(m) = v.as_object() else {
            self.error(path, "must be a granular marking object");
            return;
        };
        match (m.get("marking_ref"), m.get("lang")) {
            (None, None) => self.error(path, "one of marking_ref or lang must be present"),
            (Some(_), Some(_)) => self.error(path, "marking_ref and lang are mutually exclusive"),
            _ => {}
        }
        if let Some(Value::String(s)) = m.get("marking_ref") {
            self.target(
                &child(path, "marking_ref"),
                s,
                Targets::Only(&["marking-definition"]),
            );
        }
        if let Some(lang) = m.get("lang")
            && !lang.is_string()
        {
            self.error(child(path, "lang"), "must be a string");
        }
        let p = child(path, "selectors");
        match m.get("selectors") {
            None => self.error(p, "required property is missing"),
            Some(v) => {
                if let Some(items) = self.list(&p, v) {
                    for (i, x) in items.iter().enumerate() {
                        match x.as_str() {
                            Some(selector) => {
                                if let Err(e) = select(root, selector) {
                                    self.error(item(&p, i), format!("{}: {e}", show(selector)));
                                }
                            }
                            None => self.error(item(&p, i), "must be a string"),
                        }
                    }
                }
            }
        }
    }

    fn extensions(&mut self, path: &str, v: &Value) {
        let Value::Object(m) = v else {
            self.error(path, "must be an object");
            return;
        };
        if m.is_empty() {
            self.error(path, "must not be empty");
        }
        for (key, ext) in m {
            let p = child(path, key);
            if let Some(body) = ext.as_object() {
                for name in body.keys().filter(|k| !is_property_name(k)) {
                    self.error(child(&p, name), PROPERTY_NAME_RULE);
                }
            }
            if key.starts_with("extension-definition--") {
                if let Err(e) = StixId::parse(key) {
                    self.error(&p, format!("invalid extension-definition identifier: {e}"));
                }
                let Some(body) = ext.as_object() else {
                    self.error(p, "must be an object");
                    continue;
                };
                match body.get("extension_type") {
                    None => self.error(child(&p, "extension_type"), "required property is missing"),
                    Some(t) => self.enumerated(&child(&p, "extension_type"), t, EXTENSION_TYPES),
                }
            } else if is_predefined_extension_name(key) {
                match ext {
                    Value::Object(body) if body.is_empty() => self.error(p, "must not be empty"),
                    Value::Object(_) => {}
                    _ => self.error(p, "must be an object"),
                }
            } else {
                self.error(
                    p,
                    "an extension key must be an extension-definition identifier or a \
                     predefined extension name ending in -ext",
                );
            }
        }
    }

    fn rules(&mut self, obj: &Map<String, Value>, rules: &[Rule]) {
        for rule in rules {
            match *rule {
                Rule::AnyOf(names) => {
                    if !names.iter().any(|n| obj.contains_key(*n)) {
                        self.error(
                            "",
                            format!("at least one of {} must be present", or_list(names)),
                        );
                    }
                }
                Rule::ExactlyOne(names) => {
                    match names.iter().filter(|n| obj.contains_key(**n)).count() {
                        1 => {}
                        0 => self.error("", format!("one of {} must be present", or_list(names))),
                        _ => {
                            self.error("", format!("only one of {} may be present", or_list(names)))
                        }
                    }
                }
                Rule::Requires(a, b) => {
                    if obj.contains_key(a) && !obj.contains_key(b) {
                        self.error(child("", a), format!("requires {b} to be present"));
                    }
                }
                Rule::NotBefore { earlier, later } => {
                    if let Some((e, l)) = times(obj, earlier, later)
                        && l < e
                    {
                        self.error(
                            child("", later),
                            format!("must not be earlier than {earlier}"),
                        );
                    }
                }
                Rule::After { earlier, later } => {
                    if let Some((e, l)) = times(obj, earlier, later)
                        && l <= e
                    {
                        self.error(child("", later), format!("must be later than {earlier}"));
                    }
                }
                Rule::Check(check) => check(obj, self),
            }
        }
    }

    /// The `*_ref` / `*_refs` rule, everywhere but in free-form places. Iterative: the value's
    /// depth is bounded by the JSON reader, but this does not rely on it.
    fn refs(&mut self, obj: &Map<String, Value>, free_form: &[&str]) {
        let mut stack: Vec<(String, &Value)> = Vec::new();
        let top = obj
            .iter()
            .filter(|(k, _)| !free_form.contains(&k.as_str()))
            .collect::<Vec<_>>();
        // Pushed in reverse so that errors come out in document order.
        for (key, value) in top.into_iter().rev() {
            self.ref_member("", key, value, &mut stack);
        }
        while let Some((path, value)) = stack.pop() {
            match value {
                Value::Object(m) => {
                    for (key, v) in m.iter().rev() {
                        self.ref_member(&path, key, v, &mut stack);
                    }
                }
                Value::Array(items) => {
                    for (i, v) in items.iter().enumerate().rev() {
                        if v.is_object() || v.is_array() {
                            stack.push((item(&path, i), v));
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn ref_member<'v>(
        &mut self,
        path: &str,
        key: &str,
        value: &'v Value,
        stack: &mut Vec<(String, &'v Value)>,
    ) {
        let p = child(path, key);
        if key.starts_with("x_") {
            // A custom property's content is the producer's own: kept intact, never judged by
            // the rules of standard properties (ATT&CK ships `"x_mitre_data_source_ref": ""`).
        } else if key.ends_with("_ref") {
            match value {
                Value::String(s) => {
                    if let Err(e) = StixId::parse(s) {
                        self.error(p, format!("invalid identifier {}: {e}", show(s)));
                    }
                }
                _ => self.error(p, "must be an identifier string"),
            }
        } else if key.ends_with("_refs") {
            match value {
                Value::Array(items) if items.is_empty() => {
                    self.error(p, "must not be an empty list")
                }
                Value::Array(items) => {
                    for (i, x) in items.iter().enumerate() {
                        match x {
                            Value::String(s) => {
                                if let Err(e) = StixId::parse(s) {
                                    self.error(
                                        item(&p, i),
                                        format!("invalid identifier {}: {e}", show(s)),
                                    );
                                }
                            }
                            _ => self.error(item(&p, i), "must be an identifier string"),
                        }
                    }
                }
                _ => self.error(p, "must be a list of identifiers"),
            }
        } else if DICTIONARIES.contains(&key) {
            // Keys are data here.
        } else if value.is_object() || value.is_array() {
            stack.push((p, value));
        }
    }

    /// No top-level list may be empty (§ 2.7); the known ones are checked with their type, and
    /// `*_refs` by the reference rule.
    fn empty_lists(&mut self, obj: &Map<String, Value>, common: &[Prop], props: &[Prop]) {
        for (key, value) in obj {
            let known = common.iter().chain(props).any(|p| p.name == key);
            if !known
                && !key.ends_with("_refs")
                && matches!(value, Value::Array(items) if items.is_empty())
            {
                self.error(child("", key), "must not be an empty list");
            }
        }
    }
}

/// A property name: `id`, or 3 to 250 characters `a-z`, `0-9`, `_`, starting with a letter
/// (STIX 2.1 § 3.1 and § 11.1; the OASIS schemas' rule for every object and extension).
pub fn is_property_name(name: &str) -> bool {
    name == "id"
        || (PROPERTY_NAME_LEN.contains(&name.len())
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'))
}

const PROPERTY_NAME_RULE: &str =
    "invalid property name: 3 to 250 characters a-z, 0-9 and '_', starting with a letter";

fn times(
    obj: &Map<String, Value>,
    earlier: &str,
    later: &str,
) -> Option<(OffsetDateTime, OffsetDateTime)> {
    let get = |name: &str| {
        obj.get(name)
            .and_then(Value::as_str)
            .and_then(|s| Timestamp::parse(s).ok())
            .map(|t| t.time)
    };
    Some((get(earlier)?, get(later)?))
}

fn is_predefined_extension_name(key: &str) -> bool {
    key.strip_suffix("-ext").is_some_and(|stem| {
        !stem.is_empty()
            && stem.starts_with(|c: char| c.is_ascii_lowercase())
            && stem.split('-').all(|part| {
                !part.is_empty()
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            })
    })
}

fn is_cve(id: &str) -> bool {
    let Some(rest) = id.strip_prefix("CVE-") else {
        return false;
    };
    let Some((year, number)) = rest.split_once('-') else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(year)
        && year.len() == 4
        && digits(number)
        && (number.len() == 4 || (number.len() > 4 && !number.starts_with('0')))
}

fn is_capec(id: &str) -> bool {
    id.strip_prefix("CAPEC-")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Why a granular marking selector selects nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum SelectorError {
    #[error("not a valid selector (property names and [index] separated by '.')")]
    Syntax,
    #[error("selects nothing in this object (no {0})")]
    Missing(String),
}

/// Follows a selector (§ 7.2.3.1: `description`, `external_references.[0].url`, …) through
/// the object.
fn select(root: &Map<String, Value>, selector: &str) -> Result<(), SelectorError> {
    let mut parts = selector.split('.');
    let first = parts.next().unwrap_or_default();
    if !is_selector_key(first) {
        return Err(SelectorError::Syntax);
    }
    let mut current = root
        .get(first)
        .ok_or_else(|| SelectorError::Missing(first.to_owned()))?;
    let mut walked = first.to_owned();
    for part in parts {
        walked.push('.');
        walked.push_str(part);
        let next = if let Some(index) = part.strip_prefix('[').and_then(|p| p.strip_suffix(']')) {
            if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
                return Err(SelectorError::Syntax);
            }
            let index: usize = index.parse().map_err(|_| SelectorError::Syntax)?;
            current.as_array().and_then(|a| a.get(index))
        } else if is_selector_key(part) {
            current.as_object().and_then(|m| m.get(part))
        } else {
            return Err(SelectorError::Syntax);
        };
        current = next.ok_or_else(|| SelectorError::Missing(walked.clone()))?;
    }
    Ok(())
}

fn is_selector_key(part: &str) -> bool {
    !part.is_empty()
        && part.len() <= 250
        && part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

// Type-specific checks that do not fit a rule.

fn check_indicator_pattern(obj: &Map<String, Value>, cx: &mut Ctx<'_>) {
    if obj.get("pattern_type").and_then(Value::as_str) != Some("stix") {
        return;
    }
    if let Some(p) = obj.get("pattern").and_then(Value::as_str)
        && let Err(e) = pattern::parse(p, cx.pattern_limits)
    {
        cx.error("/pattern", format!("invalid STIX pattern: {e}"));
    }
}

fn check_malware_family_name(obj: &Map<String, Value>, cx: &mut Ctx<'_>) {
    if obj.get("is_family") == Some(&Value::Bool(true)) && !obj.contains_key("name") {
        cx.error("/name", "required when is_family is true");
    }
}

fn check_email_multipart(obj: &Map<String, Value>, cx: &mut Ctx<'_>) {
    match obj.get("is_multipart") {
        Some(Value::Bool(true)) if obj.contains_key("body") => {
            cx.error("/body", "must not be present when is_multipart is true");
        }
        Some(Value::Bool(false)) if obj.contains_key("body_multipart") => {
            cx.error(
                "/body_multipart",
                "must not be present when is_multipart is false",
            );
        }
        _ => {}
    }
}

fn check_network_traffic_active(obj: &Map<String, Value>, cx: &mut Ctx<'_>) {
    if obj.get("is_active") == Some(&Value::Bool(true)) && obj.contains_key("end") {
        cx.error("/end", "must not be present when is_active is true");
    }
}

fn check_extension_definition(obj: &Map<String, Value>, cx: &mut Ctx<'_>) {
    let toplevel = obj
        .get("extension_types")
        .and_then(Value::as_array)
        .is_some_and(|t| t.iter().any(|x| x == "toplevel-property-extension"));
    if obj.contains_key("extension_properties") && !toplevel {
        cx.error(
            "/extension_properties",
            "only allowed when extension_types has toplevel-property-extension",
        );
    }
}

fn check_marking_definition(obj: &Map<String, Value>, cx: &mut Ctx<'_>) {
    if !obj.contains_key("extensions") {
        for name in ["definition_type", "definition"] {
            if !obj.contains_key(name) {
                cx.error(child("", name), "required when extensions is absent");
            }
        }
    }
    let definition = obj.get("definition").and_then(Value::as_object);
    match obj.get("definition_type").and_then(Value::as_str) {
        Some("statement") => {
            if let Some(d) = definition
                && !d.get("statement").is_some_and(Value::is_string)
            {
                cx.error("/definition/statement", "must be a string");
            }
        }
        Some("tlp") => {
            let level = definition
                .and_then(|d| d.get("tlp"))
                .and_then(Value::as_str);
            let Some(&(level, name, id)) = TLP1.iter().find(|(l, _, _)| Some(*l) == level) else {
                cx.error(
                    "/definition/tlp",
                    "must be one of white, green, amber or red",
                );
                return;
            };
            if obj.get("id").and_then(Value::as_str) != Some(id) {
                cx.error(
                    "/id",
                    format!(
                        "the TLP:{} marking-definition is {id}",
                        level.to_uppercase()
                    ),
                );
            }
            if obj.get("created").and_then(Value::as_str) != Some(TLP1_CREATED) {
                cx.error(
                    "/created",
                    format!("the TLP marking-definitions were created {TLP1_CREATED}"),
                );
            }
            if let Some(n) = obj.get("name")
                && n.as_str() != Some(name)
            {
                cx.error("/name", format!("must be {name}"));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use serde_json::json;

    const UUID4: &str = "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
    const IDENTITY: &str = "identity--311b2d2d-f010-4473-83ec-1edf84858f4c";
    const TLP_GREEN: &str = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da";
    const TS: &str = "2016-04-06T20:03:48.000Z";

    fn ok(value: Value) -> StixObject {
        let raw = value.to_string();
        match validate(&raw, &value) {
            Ok(o) => {
                assert_eq!(o.raw, raw);
                o
            }
            Err(errors) => panic!("{value:#}\n{errors:#?}"),
        }
    }

    fn errors(value: Value) -> Vec<(String, String)> {
        match validate(&value.to_string(), &value) {
            Ok(_) => panic!("accepted: {value:#}"),
            Err(errors) => errors.into_iter().map(|e| (e.path, e.message)).collect(),
        }
    }

    /// The object is refused with an error at `path` whose message contains `text`.
    fn refused(value: Value, path: &str, text: &str) {
        let errors = errors(value);
        assert!(
            errors.iter().any(|(p, m)| p == path && m.contains(text)),
            "expected {path:?} ~ {text:?} in {errors:#?}"
        );
    }

    fn with(mut base: Value, changes: Value) -> Value {
        let (Value::Object(b), Value::Object(c)) = (&mut base, changes) else {
            panic!("objects only");
        };
        for (k, v) in c {
            if v.is_null() {
                b.remove(&k);
            } else {
                b.insert(k, v);
            }
        }
        base
    }

    fn indicator() -> Value {
        json!({
            "type": "indicator", "spec_version": "2.1",
            "id": format!("indicator--{UUID4}"),
            "created": TS, "modified": TS,
            "created_by_ref": IDENTITY,
            "pattern": "[ipv4-addr:value = '198.51.100.1']",
            "pattern_type": "stix",
            "valid_from": "2016-04-06T20:03:48Z",
            "object_marking_refs": [TLP_GREEN],
            "labels": ["x"],
            "external_references": [{"source_name": "capec", "external_id": "CAPEC-163"}],
            "granular_markings": [{"marking_ref": TLP_GREEN, "selectors": ["description", "labels.[0]", "external_references.[0].source_name"]}],
            "description": "d",
            "x_custom_thing": {"nested": [1, 2]},
        })
    }

    #[test]
    fn a_valid_sdo_and_its_columns() {
        let o = ok(indicator());
        assert_eq!(o.kind, ObjectKind::Sdo);
        assert_eq!(o.object_type, "indicator");
        assert_eq!(o.id.as_str(), format!("indicator--{UUID4}"));
        assert_eq!(o.id.object_type(), "indicator");
        assert_eq!(o.id.uuid().to_string(), UUID4);
        assert_eq!(o.spec_version.as_deref(), Some("2.1"));
        let created = o.created.as_ref().unwrap();
        assert_eq!(created.as_str(), TS);
        assert_eq!(
            created.time(),
            time::macros::datetime!(2016-04-06 20:03:48 UTC)
        );
        assert_eq!(o.version().unwrap().as_str(), TS);
        assert_eq!(o.created_by_ref.as_ref().unwrap().as_str(), IDENTITY);
        assert!(!o.revoked);
        assert_eq!(o.object_marking_refs.len(), 1);
        assert_eq!(o.object_marking_refs[0].as_str(), TLP_GREEN);
        assert_eq!(o.granular_markings.len(), 1);
        assert_eq!(o.granular_markings[0].selectors.len(), 3);
        assert_eq!(
            o.granular_markings[0]
                .marking_ref
                .as_ref()
                .unwrap()
                .as_str(),
            TLP_GREEN
        );
        assert_eq!(o.external_references[0].source_name, "capec");
        assert_eq!(
            o.external_references[0].external_id.as_deref(),
            Some("CAPEC-163")
        );
    }

    #[test]
    fn valid_objects_of_each_category() {
        let relationship = ok(json!({
            "type": "relationship", "spec_version": "2.1",
            "id": "relationship--81f12913-1372-4c96-85ec-E9034ac98aba",
            "created": TS, "modified": "2017-04-06T20:03:48.123456Z",
            "relationship_type": "indicates",
            "source_ref": format!("indicator--{UUID4}"),
            "target_ref": format!("ipv4-addr--{UUID4}"),
            "revoked": true,
        }));
        assert_eq!(relationship.kind, ObjectKind::Sro);
        assert!(relationship.revoked);

        let sighting = ok(json!({
            "type": "sighting", "spec_version": "2.1", "id": format!("sighting--{UUID4}"),
            "created": TS, "modified": TS,
            "sighting_of_ref": format!("x-mitre-tactic--{UUID4}"),
            "where_sighted_refs": [IDENTITY], "count": 0,
        }));
        assert_eq!(sighting.kind, ObjectKind::Sro);

        let sco = ok(
            json!({"type": "ipv4-addr", "id": format!("ipv4-addr--{UUID4}"), "value": "198.51.100.3"}),
        );
        assert_eq!(sco.kind, ObjectKind::Sco);
        assert_eq!(sco.spec_version, None);
        assert_eq!(sco.created, None);
        assert_eq!(sco.version(), None);

        let file = ok(json!({
            "type": "file", "spec_version": "2.1", "id": format!("file--{UUID4}"),
            "hashes": {"SHA-256": "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c", "x-custom": "anything"},
            "extensions": {"archive-ext": {"contains_refs": [format!("file--{UUID4}")]},
                           format!("extension-definition--{UUID4}"): {"extension_type": "property-extension", "x_ref": IDENTITY}},
            "object_marking_refs": [TLP_GREEN], "defanged": false,
        }));
        assert_eq!(file.kind, ObjectKind::Sco);

        let marking = ok(json!({
            "type": "marking-definition", "spec_version": "2.1",
            "id": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
            "created": "2017-01-20T00:00:00.000Z",
            "definition_type": "tlp", "name": "TLP:GREEN", "definition": {"tlp": "green"},
        }));
        assert_eq!(marking.kind, ObjectKind::MarkingDefinition);
        assert!(marking.kind.is_meta());
        assert_eq!(marking.modified, None);
        assert_eq!(
            marking.version().unwrap().as_str(),
            "2017-01-20T00:00:00.000Z"
        );

        // TLP 2.0 (an extension, no definition_type), second-precision created.
        ok(json!({"type": "marking-definition", "spec_version": "2.1",
            "id": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
            "created": "2022-10-01T00:00:00Z", "name": "TLP:AMBER+STRICT",
            "extensions": {"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":
                {"extension_type": "property-extension", "tlp_2_0": "amber+strict"}}}));

        let statement = ok(json!({"type": "marking-definition", "spec_version": "2.1",
            "id": "marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168",
            "created": "2017-06-01T00:00:00.000Z", "created_by_ref": IDENTITY,
            "definition_type": "statement", "definition": {"statement": "Copyright"}}));
        assert_eq!(statement.created_by_ref.unwrap().as_str(), IDENTITY);

        let lc = ok(json!({"type": "language-content", "spec_version": "2.1",
            "id": format!("language-content--{UUID4}"), "created": TS, "modified": TS,
            "object_ref": format!("campaign--{UUID4}"), "object_modified": TS,
            "contents": {"de": {"name": "Bank Angriff", "x_odd_ref": "not an id"}}}));
        assert_eq!(lc.kind, ObjectKind::LanguageContent);

        let ed = ok(
            json!({"type": "extension-definition", "spec_version": "2.1",
            "id": format!("extension-definition--{UUID4}"), "created": TS, "modified": TS,
            "created_by_ref": IDENTITY, "name": "x", "schema": "https://example.com", "version": "1.0",
            "extension_types": ["toplevel-property-extension"], "extension_properties": ["rank"]}),
        );
        assert_eq!(ed.kind, ObjectKind::ExtensionDefinition);

        let custom = ok(json!({"type": "x-mitre-tactic", "spec_version": "2.1",
            "id": format!("x-mitre-tactic--{UUID4}"), "created": TS, "modified": TS,
            "x_mitre_shortname": "collection", "tactic_refs": [format!("x-mitre-tactic--{UUID4}")],
            "x_mitre_contents": [{"object_ref": IDENTITY, "object_modified": TS}]}));
        assert_eq!(custom.kind, ObjectKind::Custom);

        let custom_sco = ok(
            json!({"type": "my-observable", "id": format!("my-observable--{UUID4}"), "value": 1}),
        );
        assert_eq!(custom_sco.kind, ObjectKind::Custom);
        assert_eq!(custom_sco.created, None);

        let observed = ok(json!({"type": "observed-data", "spec_version": "2.1",
            "id": format!("observed-data--{UUID4}"), "created": TS, "modified": TS,
            "first_observed": TS, "last_observed": TS, "number_observed": 1,
            "objects": {"0": {"type": "ipv4-addr", "value": "10.0.0.1"},
                        "1": {"type": "network-traffic", "src_ref": "0", "protocols": ["tcp"]}}}));
        assert_eq!(observed.kind, ObjectKind::Sdo);

        ok(
            json!({"type": "report", "spec_version": "2.1", "id": format!("report--{UUID4}"),
            "created": TS, "modified": TS, "name": "r", "published": TS,
            "object_refs": [format!("indicator--{UUID4}"), format!("x-foo--{UUID4}")]}),
        );
        ok(
            json!({"type": "location", "spec_version": "2.1", "id": format!("location--{UUID4}"),
            "created": TS, "modified": TS, "latitude": 48.8566, "longitude": 2.3522, "precision": 1000.0}),
        );
        ok(
            json!({"type": "malware", "spec_version": "2.1", "id": format!("malware--{UUID4}"),
            "created": TS, "modified": TS, "is_family": false}),
        );
        ok(
            json!({"type": "opinion", "spec_version": "2.1", "id": format!("opinion--{UUID4}"),
            "created": TS, "modified": TS, "opinion": "agree", "object_refs": [IDENTITY]}),
        );
        ok(
            json!({"type": "note", "spec_version": "2.1", "id": format!("note--{UUID4}"),
            "created": TS, "modified": TS, "content": "c", "object_refs": [IDENTITY]}),
        );
        ok(
            json!({"type": "grouping", "spec_version": "2.1", "id": format!("grouping--{UUID4}"),
            "created": TS, "modified": TS, "context": "suspicious-activity", "object_refs": [IDENTITY]}),
        );
        ok(
            json!({"type": "vulnerability", "spec_version": "2.1", "id": format!("vulnerability--{UUID4}"),
            "created": TS, "modified": TS, "name": "CVE-2012-0158",
            "external_references": [{"source_name": "cve", "external_id": "CVE-2012-0158"}]}),
        );
        ok(
            json!({"type": "email-message", "spec_version": "2.1", "id": format!("email-message--{UUID4}"),
            "is_multipart": true, "body_multipart": [{"body_raw_ref": format!("artifact--{UUID4}")}]}),
        );
        ok(
            json!({"type": "artifact", "id": format!("artifact--{UUID4}"),
            "url": "https://example.com/x", "hashes": {"MD5": "001dd76872d80801692ff942308c64e6"}}),
        );
    }

    #[test]
    fn not_an_object() {
        let e = errors(json!([1]));
        assert_eq!(
            e,
            [(
                "".to_owned(),
                "a STIX object must be a JSON object".to_owned()
            )]
        );
    }

    #[test]
    fn common_properties_by_category() {
        let e = errors(json!({}));
        for p in ["/type", "/id"] {
            assert!(e.iter().any(|(path, _)| path == p), "{p}: {e:?}");
        }
        let bare = json!({"type": "campaign", "id": format!("campaign--{UUID4}"), "name": "c"});
        let e = errors(bare);
        for p in ["/spec_version", "/created", "/modified"] {
            assert!(
                e.contains(&(p.to_owned(), "required property is missing".to_owned())),
                "{p}: {e:?}"
            );
        }
        // A marking-definition needs created but not modified.
        let e = errors(json!({"type": "marking-definition", "spec_version": "2.1",
            "id": format!("marking-definition--{UUID4}"), "definition_type": "statement",
            "definition": {"statement": "s"}}));
        assert_eq!(
            e,
            [(
                "/created".to_owned(),
                "required property is missing".to_owned()
            )]
        );
        // An SCO needs neither; spec_version may be absent but if present is 2.1.
        refused(
            json!({"type": "url", "id": format!("url--{UUID4}"), "value": "x", "spec_version": "2.0"}),
            "/spec_version",
            "must be \"2.1\"",
        );
        // A custom object with created is read like an SDO.
        let e =
            errors(json!({"type": "x-thing", "id": format!("x-thing--{UUID4}"), "created": TS}));
        assert!(e.iter().any(|(p, _)| p == "/modified"), "{e:?}");
        assert!(e.iter().any(|(p, _)| p == "/spec_version"), "{e:?}");
        refused(
            json!({"type": "bundle", "id": format!("bundle--{UUID4}")}),
            "/type",
            "container",
        );
    }

    #[test]
    fn every_error_is_listed() {
        let bad = with(
            indicator(),
            json!({
                "spec_version": "2.0",
                "created": "2016-04-06 20:03:48.000Z",
                "modified": "2016-04-06T20:03:48Z",
                "valid_from": null,
                "labels": [],
                "confidence": 101,
                "created_by_ref": "identity--nope",
                "object_marking_refs": [IDENTITY],
            }),
        );
        let e = errors(bad);
        let paths: Vec<&str> = e.iter().map(|(p, _)| p.as_str()).collect();
        for p in [
            "/spec_version",
            "/created",
            "/modified",
            "/valid_from",
            "/labels",
            "/confidence",
            "/created_by_ref",
            "/object_marking_refs/0",
        ] {
            assert!(paths.contains(&p), "{p} missing from {e:#?}");
        }
    }

    #[test]
    fn identifiers() {
        for (id, text) in [
            (
                "indicator-8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                "<type>--<UUID>",
            ),
            ("indicator--8e2e2d2b17d44cbf938f98ee46b3cd3f", "8-4-4-4-12"),
            (
                "indicator--{8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f}",
                "8-4-4-4-12",
            ),
            ("indicator--8e2e2d2b-17d4-4cbf-138f-98ee46b3cd3f", "variant"),
            (
                "indicator--8e2e2d2b-17d4-0cbf-938f-98ee46b3cd3f",
                "version 0",
            ),
            (
                "indicator--8e2e2d2b-17d4-7cbf-938f-98ee46b3cd3f",
                "version 7",
            ),
            ("indicator--00000000-0000-0000-0000-000000000000", "variant"),
        ] {
            refused(with(indicator(), json!({"id": id})), "/id", text);
        }
        refused(
            with(indicator(), json!({"id": format!("malware--{UUID4}")})),
            "/id",
            "differs from the object's type",
        );
        refused(
            with(indicator(), json!({"type": "Indicator"})),
            "/type",
            "lowercase",
        );
    }

    #[test]
    fn timestamps() {
        for good in [
            "2016-04-06T20:03:48Z",
            "2016-04-06T20:03:48.1Z",
            "2016-04-06T20:03:48.123456789123Z",
            "2016-12-31T23:59:60Z",
            "2000-02-29T00:00:00Z",
        ] {
            assert!(Timestamp::parse(good).is_ok(), "{good}");
        }
        for (bad, error) in [
            ("2016-04-06T20:03:48", TimestampError::Format),
            ("2016-04-06T20:03:48+00:00", TimestampError::Format),
            ("2016-04-06t20:03:48z", TimestampError::Format),
            ("2016-04-06T20:03:48.Z", TimestampError::Format),
            ("2016-4-06T20:03:48Z", TimestampError::Format),
            ("2016-04-06T20:03:48.1a2Z", TimestampError::Format),
            ("+016-04-06T20:03:48Z", TimestampError::Format),
            ("2016-02-30T20:03:48Z", TimestampError::Range),
            ("1900-02-29T20:03:48Z", TimestampError::Range),
            ("2016-13-06T20:03:48Z", TimestampError::Range),
            ("2016-04-06T24:00:00Z", TimestampError::Range),
            ("2016-04-06T20:60:48Z", TimestampError::Range),
            ("2016-04-06T20:03:60Z", TimestampError::Range),
        ] {
            assert_eq!(Timestamp::parse(bad), Err(error), "{bad}");
        }
        let t = Timestamp::parse("2016-04-06T20:03:48.123456789123Z").unwrap();
        assert_eq!(t.fraction_digits(), 12);
        assert_eq!(t.time().nanosecond(), 123_456_789);
        assert_eq!(t.as_str(), "2016-04-06T20:03:48.123456789123Z");
        let leap = Timestamp::parse("2016-12-31T23:59:60Z").unwrap();
        assert_eq!(leap.time().second(), 59);

        refused(
            with(
                indicator(),
                json!({"created": "2016-04-06T20:03:48Z", "modified": "2016-04-06T20:03:48Z"}),
            ),
            "/created",
            "millisecond",
        );
        refused(
            with(indicator(), json!({"modified": "2016-04-06T20:03:47.999Z"})),
            "/modified",
            "earlier than created",
        );
        refused(
            with(indicator(), json!({"valid_until": "2016-04-06T20:03:48Z"})),
            "/valid_until",
            "later than valid_from",
        );
        refused(
            with(indicator(), json!({"valid_from": "yesterday"})),
            "/valid_from",
            "RFC 3339",
        );
        refused(
            with(indicator(), json!({"created": 1})),
            "/created",
            "timestamp string",
        );
    }

    #[test]
    fn references() {
        refused(
            with(
                indicator(),
                json!({"thing": {"deep": [{"sample_ref": "nope"}]}}),
            ),
            "/thing/deep/0/sample_ref",
            "invalid identifier \"nope\"",
        );
        refused(
            with(indicator(), json!({"related_refs": []})),
            "/related_refs",
            "empty",
        );
        refused(
            with(indicator(), json!({"related_refs": "identity"})),
            "/related_refs",
            "list of identifiers",
        );
        refused(
            with(indicator(), json!({"related_refs": [IDENTITY, 3]})),
            "/related_refs/1",
            "identifier string",
        );
        refused(
            with(indicator(), json!({"owner_ref": 3})),
            "/owner_ref",
            "identifier string",
        );
        // A custom `x_` property is the producer's own and kept as it is.
        ok(with(
            indicator(),
            json!({"x_mitre_data_source_ref": "", "x_target_refs": [], "x_owner_ref": 3}),
        ));
        // Inside extensions too.
        refused(
            with(
                indicator(),
                json!({"extensions": {format!("extension-definition--{UUID4}"):
                {"extension_type": "property-extension", "owner_ref": "x"}}}),
            ),
            &format!("/extensions/extension-definition--{UUID4}/owner_ref"),
            "invalid identifier",
        );
        // But not inside dictionaries.
        ok(with(
            indicator(),
            json!({"x_ext": {"hashes": {"foo_ref": "MD5"}}}),
        ));
        refused(
            with(
                indicator(),
                json!({"created_by_ref": format!("malware--{UUID4}")}),
            ),
            "/created_by_ref",
            "must reference an object of type identity, not \"malware\"",
        );
        let rel = json!({"type": "relationship", "spec_version": "2.1", "id": format!("relationship--{UUID4}"),
            "created": TS, "modified": TS, "relationship_type": "related-to",
            "source_ref": format!("sighting--{UUID4}"), "target_ref": format!("malware--{UUID4}")});
        refused(rel.clone(), "/source_ref", "other than relationship");
        refused(
            with(rel.clone(), json!({"target_ref": null})),
            "/target_ref",
            "missing",
        );
        refused(
            with(rel, json!({"start_time": TS, "stop_time": TS})),
            "/stop_time",
            "later than start_time",
        );
        let sighting = json!({"type": "sighting", "spec_version": "2.1", "id": format!("sighting--{UUID4}"),
            "created": TS, "modified": TS, "sighting_of_ref": format!("relationship--{UUID4}"),
            "where_sighted_refs": [format!("malware--{UUID4}")], "count": 1_000_000_000u64});
        refused(sighting.clone(), "/sighting_of_ref", "an SDO");
        refused(
            sighting.clone(),
            "/where_sighted_refs/0",
            "identity or location",
        );
        refused(sighting, "/count", "between 0 and 999999999");
    }

    #[test]
    fn markings() {
        refused(
            with(indicator(), json!({"object_marking_refs": [IDENTITY]})),
            "/object_marking_refs/0",
            "marking-definition",
        );
        refused(
            with(indicator(), json!({"object_marking_refs": []})),
            "/object_marking_refs",
            "empty",
        );
        let gm = |m: Value| with(indicator(), json!({"granular_markings": [m]}));
        refused(
            gm(json!({"marking_ref": IDENTITY, "selectors": ["description"]})),
            "/granular_markings/0/marking_ref",
            "marking-definition",
        );
        refused(
            gm(json!({"marking_ref": TLP_GREEN, "selectors": []})),
            "/granular_markings/0/selectors",
            "empty",
        );
        refused(
            gm(json!({"marking_ref": TLP_GREEN})),
            "/granular_markings/0/selectors",
            "missing",
        );
        refused(
            gm(json!({"selectors": ["description"]})),
            "/granular_markings/0",
            "one of marking_ref or lang",
        );
        refused(
            gm(json!({"marking_ref": TLP_GREEN, "lang": "en", "selectors": ["description"]})),
            "/granular_markings/0",
            "mutually exclusive",
        );
        refused(
            gm(json!({"marking_ref": TLP_GREEN, "selectors": ["labels.[3]"]})),
            "/granular_markings/0/selectors/0",
            "selects nothing in this object (no labels.[3])",
        );
        refused(
            gm(json!({"marking_ref": TLP_GREEN, "selectors": ["name"]})),
            "/granular_markings/0/selectors/0",
            "selects nothing",
        );
        refused(
            gm(json!({"marking_ref": TLP_GREEN, "selectors": ["labels..x"]})),
            "/granular_markings/0/selectors/0",
            "not a valid selector",
        );
        ok(gm(
            json!({"lang": "fr", "selectors": ["x_custom_thing.nested.[1]"]}),
        ));

        let tlp = json!({"type": "marking-definition", "spec_version": "2.1",
            "id": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
            "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp", "name": "TLP:GREEN",
            "definition": {"tlp": "green"}});
        refused(
            with(
                tlp.clone(),
                json!({"id": "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ec"}),
            ),
            "/id",
            "TLP:GREEN marking-definition is marking-definition--34098fce",
        );
        refused(
            with(tlp.clone(), json!({"definition": {"tlp": "clear"}})),
            "/definition/tlp",
            "one of",
        );
        refused(
            with(tlp.clone(), json!({"name": "TLP:RED"})),
            "/name",
            "TLP:GREEN",
        );
        refused(
            with(tlp.clone(), json!({"created": TS})),
            "/created",
            "2017-01-20",
        );
        let e = errors(with(
            tlp,
            json!({"definition_type": null, "definition": null}),
        ));
        assert!(e.iter().any(|(p, _)| p == "/definition_type"), "{e:?}");
        assert!(e.iter().any(|(p, _)| p == "/definition"), "{e:?}");
        refused(
            json!({"type": "marking-definition", "spec_version": "2.1",
                "id": format!("marking-definition--{UUID4}"), "created": TS,
                "definition_type": "statement", "definition": {"text": "s"}}),
            "/definition/statement",
            "string",
        );
    }

    #[test]
    fn extensions() {
        let ext = |e: Value| with(indicator(), json!({"extensions": e}));
        refused(ext(json!({})), "/extensions", "empty");
        refused(
            ext(json!({"my-extension": {"a": 1}})),
            "/extensions/my-extension",
            "-ext",
        );
        refused(
            ext(json!({"extension-definition--1234": {"extension_type": "property-extension"}})),
            "/extensions/extension-definition--1234",
            "invalid extension-definition identifier",
        );
        refused(
            ext(json!({format!("extension-definition--{UUID4}"): {"rank": 1}})),
            &format!("/extensions/extension-definition--{UUID4}/extension_type"),
            "missing",
        );
        refused(
            ext(json!({"x-acme-ext": {"a": 1}})),
            "/extensions/x-acme-ext/a",
            "invalid property name",
        );
        refused(
            ext(json!({format!("extension-definition--{UUID4}"): {"extension_type": "new-thing"}})),
            &format!("/extensions/extension-definition--{UUID4}/extension_type"),
            "not one of",
        );
        refused(
            ext(json!({"x-acme-ext": {}})),
            "/extensions/x-acme-ext",
            "empty",
        );
        refused(
            ext(json!({"ntfs-ext": 1})),
            "/extensions/ntfs-ext",
            "object",
        );
        ok(ext(json!({"x-acme-ext": {"rank": 1}})));
        refused(
            json!({"type": "extension-definition", "spec_version": "2.1",
                "id": format!("extension-definition--{UUID4}"), "created": TS, "modified": TS,
                "name": "x", "schema": "s", "version": "1", "extension_types": ["new-sdo"],
                "extension_properties": ["a"]}),
            "/extension_properties",
            "toplevel-property-extension",
        );
        refused(
            json!({"type": "extension-definition", "spec_version": "2.1",
                "id": format!("extension-definition--{UUID4}"), "created": TS, "modified": TS,
                "name": "x", "schema": "s", "version": "1", "extension_types": ["new-sdo"]}),
            "/created_by_ref",
            "missing",
        );
    }

    #[test]
    fn property_names_and_custom_content() {
        refused(
            with(indicator(), json!({"x": 1})),
            "/x",
            "invalid property name",
        );
        refused(
            with(indicator(), json!({"x-foo": 1})),
            "/x-foo",
            "invalid property name",
        );
        refused(
            with(indicator(), json!({"_foo": 1})),
            "/_foo",
            "invalid property name",
        );
        refused(
            with(indicator(), json!({"severity": "high"})),
            "/severity",
            "reserved",
        );
        refused(
            with(indicator(), json!({"x_list": []})),
            "/x_list",
            "empty list",
        );
        refused(
            with(indicator(), json!({"X_Acme_Score": 3})),
            "/X_Acme_Score",
            "invalid property name",
        );
        // Nested custom content is left alone.
        ok(with(
            indicator(),
            json!({"x_acme_score": 3, "x_list": [{"sectors": [], "Odd-Key": 1}]}),
        ));
        let e = errors(with(indicator(), json!({"a\nb": 1})));
        let message = ValidationError::new(&e[0].0, &e[0].1).to_string();
        assert!(!message.contains('\n'), "{message}");
    }

    #[test]
    fn indicator_patterns() {
        let _ = pattern::parse("[ipv4-addr:value = '1.2.3.4']", &PatternLimits::default());
        // Other pattern languages are not parsed.
        ok(with(
            indicator(),
            json!({"pattern_type": "snort", "pattern": "alert tcp any any"}),
        ));
        refused(
            with(indicator(), json!({"pattern": 3})),
            "/pattern",
            "string",
        );
        refused(
            with(indicator(), json!({"pattern_type": null})),
            "/pattern_type",
            "missing",
        );
        // The message of the pattern parser is passed on, whatever the parser says.
        let bad = with(indicator(), json!({"pattern": "[ipv4-addr:value = "}));
        if let Err(e) = pattern::parse("[ipv4-addr:value = ", &PatternLimits::default()) {
            refused(bad, "/pattern", &format!("invalid STIX pattern: {e}"));
        }
    }

    #[test]
    fn type_specific_rules() {
        let base = |t: &str, extra: Value| {
            with(
                json!({"type": t, "spec_version": "2.1", "id": format!("{t}--{UUID4}"),
                    "created": TS, "modified": TS}),
                extra,
            )
        };
        refused(
            base("malware", json!({"is_family": true})),
            "/name",
            "is_family",
        );
        refused(base("malware", json!({})), "/is_family", "missing");
        refused(
            base("malware", json!({"is_family": "yes"})),
            "/is_family",
            "boolean",
        );
        refused(
            base("report", json!({"name": "r", "object_refs": [IDENTITY]})),
            "/published",
            "missing",
        );
        refused(
            base("grouping", json!({"object_refs": [IDENTITY]})),
            "/context",
            "missing",
        );
        refused(
            base("note", json!({"object_refs": [IDENTITY]})),
            "/content",
            "missing",
        );
        refused(
            base(
                "opinion",
                json!({"opinion": "meh", "object_refs": [IDENTITY]}),
            ),
            "/opinion",
            "not one of",
        );
        refused(base("identity", json!({})), "/name", "missing");
        refused(
            base("location", json!({"name": "x"})),
            "",
            "region, country or latitude",
        );
        refused(
            base("location", json!({"latitude": 91.0, "longitude": 0})),
            "/latitude",
            "between -90 and 90",
        );
        refused(
            base("location", json!({"latitude": 1.0})),
            "/latitude",
            "requires longitude",
        );
        refused(
            base(
                "observed-data",
                json!({"first_observed": TS, "last_observed": "2015-01-01T00:00:00Z",
                "number_observed": 0, "object_refs": [format!("malware--{UUID4}")]}),
            ),
            "/last_observed",
            "earlier than first_observed",
        );
        refused(
            base(
                "observed-data",
                json!({"first_observed": TS, "last_observed": TS, "number_observed": 0,
                "object_refs": [format!("ipv4-addr--{UUID4}")]}),
            ),
            "/number_observed",
            "between 1 and",
        );
        refused(
            base(
                "observed-data",
                json!({"first_observed": TS, "last_observed": TS, "number_observed": 1,
                "object_refs": [format!("malware--{UUID4}")]}),
            ),
            "/object_refs/0",
            "an SCO or an SRO",
        );
        refused(
            base(
                "observed-data",
                json!({"first_observed": TS, "last_observed": TS, "number_observed": 1}),
            ),
            "",
            "one of objects or object_refs",
        );
        refused(
            base(
                "campaign",
                json!({"name": "c", "first_seen": TS, "last_seen": "2010-01-01T00:00:00Z"}),
            ),
            "/last_seen",
            "earlier than first_seen",
        );
        refused(
            base(
                "vulnerability",
                json!({"name": "v", "external_references": [{"source_name": "cve", "external_id": "CVE-12-1"}]}),
            ),
            "/external_references/0/external_id",
            "CVE-YYYY-NNNN",
        );
        refused(
            base(
                "vulnerability",
                json!({"name": "v", "external_references": [{"source_name": "x"}]}),
            ),
            "/external_references/0",
            "description, url or external_id",
        );
        refused(
            base(
                "attack-pattern",
                json!({"name": "a", "kill_chain_phases": [{"kill_chain_name": "k"}]}),
            ),
            "/kill_chain_phases/0/phase_name",
            "missing",
        );
        let sco =
            |t: &str, extra: Value| with(json!({"type": t, "id": format!("{t}--{UUID4}")}), extra);
        refused(sco("file", json!({"size": 1})), "", "hashes or name");
        refused(
            sco("file", json!({"name": "a", "size": -1})),
            "/size",
            "between 0",
        );
        refused(
            sco("file", json!({"hashes": {"MD5": "abc"}})),
            "/hashes/MD5",
            "MD5 hash",
        );
        refused(
            sco(
                "file",
                json!({"name": "a", "parent_directory_ref": format!("file--{UUID4}")}),
            ),
            "/parent_directory_ref",
            "directory",
        );
        refused(
            sco("artifact", json!({"url": "u"})),
            "/url",
            "requires hashes",
        );
        refused(sco("artifact", json!({})), "", "one of payload_bin or url");
        refused(
            sco("email-message", json!({"is_multipart": true, "body": "b"})),
            "/body",
            "is_multipart",
        );
        // A MIME part holds its body, inline or by reference, once.
        refused(
            sco(
                "email-message",
                json!({"is_multipart": true, "body_multipart": [{"body": "b"}, {"content_type": "text/plain"}]}),
            ),
            "/body_multipart/1",
            "must have body or body_raw_ref",
        );
        refused(
            sco(
                "email-message",
                json!({"is_multipart": true, "body_multipart": [{"body": "b", "body_raw_ref": format!("artifact--{UUID4}")}]}),
            ),
            "/body_multipart/0",
            "not both",
        );
        refused(
            sco(
                "email-message",
                json!({"is_multipart": true, "body_multipart": [{"body_raw_ref": format!("ipv4-addr--{UUID4}")}]}),
            ),
            "/body_multipart/0/body_raw_ref",
            "artifact",
        );
        refused(
            sco(
                "network-traffic",
                json!({"protocols": ["tcp"], "src_ref": format!("ipv4-addr--{UUID4}"),
            "is_active": true, "end": TS}),
            ),
            "/end",
            "is_active",
        );
        refused(
            sco("network-traffic", json!({"protocols": ["tcp"]})),
            "",
            "src_ref or dst_ref",
        );
        refused(
            sco(
                "network-traffic",
                json!({"protocols": ["tcp"], "dst_ref": format!("file--{UUID4}"), "dst_port": 70000}),
            ),
            "/dst_port",
            "between 0 and 65535",
        );
        refused(sco("process", json!({})), "", "at least one of extensions");
        refused(
            sco("autonomous-system", json!({"number": 1.5})),
            "/number",
            "integer",
        );
        refused(sco("ipv4-addr", json!({})), "/value", "missing");
    }

    #[test]
    fn deep_values_do_not_recurse() {
        // Deeper than the JSON reader allows, built by hand (`json!` would copy it through
        // serde, recursively).
        let mut v = json!({"leaf_ref": "bad"});
        for _ in 0..5_000 {
            let mut m = Map::new();
            m.insert("x".into(), Value::Array(vec![v]));
            v = Value::Object(m);
        }
        let Value::Object(mut obj) = indicator() else {
            unreachable!()
        };
        obj.insert("deep_data".into(), v);
        let obj = Value::Object(obj);
        let handle = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                let n = validate("{}", &obj).err().map(|e| e.len());
                // Dropping the value recurses: leak it here, this thread's stack is small.
                std::mem::forget(obj);
                n
            })
            .unwrap();
        assert_eq!(handle.join().unwrap(), Some(1));
    }
}
