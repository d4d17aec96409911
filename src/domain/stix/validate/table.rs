//! The type table: every object type of STIX 2.1, its category ([`ObjectKind`]), its
//! type-specific properties with the type of their values, and the rules that tie several
//! properties together. The engine reads it; it is the single description of what each type
//! holds. Checks that do not fit the table's vocabulary are in [`super::rules`].

use serde_json::{Map, Value};

use super::ctx::Ctx;
use super::error::or_list;
use super::rules::{
    check_email_multipart, check_extension_definition, check_indicator_pattern,
    check_malware_family_name, check_marking_definition, check_network_traffic_active,
};

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

/// What a reference may point to.
#[derive(Debug, Clone, Copy)]
pub(super) enum Targets {
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
    pub(super) fn allows(self, object_type: &str) -> bool {
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

    pub(super) fn describe(self) -> String {
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

/// The type of a property's value.
#[derive(Debug, Clone, Copy)]
pub(super) enum Ty {
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
pub(super) struct Prop {
    pub(super) name: &'static str,
    pub(super) ty: Ty,
    pub(super) required: bool,
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
pub(super) enum Rule {
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

pub(super) struct TypeSpec {
    pub(super) name: &'static str,
    pub(super) kind: ObjectKind,
    pub(super) props: &'static [Prop],
    pub(super) rules: &'static [Rule],
    /// Top-level properties whose content is free-form: `*_ref` keys inside are not
    /// identifiers (the deprecated `observed-data.objects` uses local keys, for one).
    pub(super) free_form: &'static [&'static str],
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
pub(super) const EXTENSION_TYPES: &[&str] = &[
    "new-sdo",
    "new-sco",
    "new-sro",
    "property-extension",
    "toplevel-property-extension",
];

/// Common properties of SDOs, SROs, language-content, extension-definition and SDO-like custom
/// objects, besides type, spec_version, id, created and modified (§ 3.2).
pub(super) const SDO_COMMON: &[Prop] = &[
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
pub(super) const MARKING_COMMON: &[Prop] = &[
    opt("created_by_ref", IDENTITY_REF),
    opt("external_references", Ty::ExternalReferences),
    opt("object_marking_refs", MARKING_REFS),
    opt("granular_markings", Ty::GranularMarkings),
    opt("extensions", Ty::Extensions),
];

/// Common properties of SCOs (§ 6.1), besides type, spec_version and id.
pub(super) const SCO_COMMON: &[Prop] = &[
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

pub(super) fn spec_for(object_type: &str) -> Option<&'static TypeSpec> {
    TYPES.iter().find(|s| s.name == object_type)
}

/// The top-level properties of a type whose content is free-form: what looks like a reference
/// inside them is not one (the deprecated `observed-data.objects` uses local keys, for one).
pub fn free_form_properties(object_type: &str) -> &'static [&'static str] {
    spec_for(object_type).map_or(&[], |s| s.free_form)
}
