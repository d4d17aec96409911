//! The engine: walks one object and checks it against the common properties of its category
//! and the [`super::table`] entry of its type, reporting every problem through [`Ctx`]. It
//! decides what the table leaves to code: identifiers and timestamps of the common properties,
//! the value types, references everywhere (`*_ref`, `*_refs`), markings, extensions, hashes,
//! and that no list is empty.

use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::ctx::Ctx;
use super::error::{ValidationError, or_list, show};
use super::forms::{
    PROPERTY_NAME_RULE, is_capec, is_cve, is_predefined_extension_name, is_property_name,
};
use super::object::{StixObject, external_references, granular_markings, ids};
use super::selector::select;
use super::table::{
    DICTIONARIES, EXTENSION_TYPES, MARKING_COMMON, ObjectKind, Prop, Rule, SCO_COMMON, SDO_COMMON,
    Targets, Ty, spec_for,
};
use super::timestamp::Timestamp;
use crate::domain::stix::id::{StixId, check_type_name};
use crate::domain::stix::pattern::PatternLimits;
use crate::domain::stix::pointer::{child, item};

/// The only `spec_version` relais accepts.
pub const SPEC_VERSION: &str = "2.1";
/// Longest dictionary key (hash algorithm names, …).
pub const MAX_KEY_LEN: usize = 250;
/// Property names STIX 2.1 reserves; no object may carry them.
pub const RESERVED_PROPERTIES: &[&str] = &["severity", "action", "username", "phone_numbers"];

/// Hash algorithms whose values have a fixed form: (name, hex digits).
const HEX_HASHES: &[(&str, usize)] = &[
    ("MD5", 32),
    ("SHA-1", 40),
    ("SHA-256", 64),
    ("SHA-512", 128),
    ("SHA3-256", 64),
    ("SHA3-512", 128),
];

/// Validates one STIX 2.1 object. `raw` is its exact text and `value` its parsed form (the
/// caller guarantees they agree, e.g. both from [`crate::domain::stix::json::read_stix`]).
/// Every problem is listed; none is fatal to the others.
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
                && m.time() < c.time()
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

impl Ctx<'_> {
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

fn times(
    obj: &Map<String, Value>,
    earlier: &str,
    later: &str,
) -> Option<(OffsetDateTime, OffsetDateTime)> {
    let get = |name: &str| {
        obj.get(name)
            .and_then(Value::as_str)
            .and_then(|s| Timestamp::parse(s).ok())
            .map(|t| t.time())
    };
    Some((get(earlier)?, get(later)?))
}
