//! The type-specific rules that the table's vocabulary cannot say: an indicator's STIX pattern
//! parses, a malware family has a name, an email's body is inline or multipart, an active
//! network-traffic has no end, an extension-definition's properties match its types, and a TLP
//! marking-definition is one of the four STIX defines.

use serde_json::{Map, Value};

use super::ctx::Ctx;
use crate::domain::stix::pattern;
use crate::domain::stix::pointer::child;

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

pub(super) fn check_indicator_pattern(obj: &Map<String, Value>, cx: &mut Ctx<'_>) {
    if obj.get("pattern_type").and_then(Value::as_str) != Some("stix") {
        return;
    }
    if let Some(p) = obj.get("pattern").and_then(Value::as_str)
        && let Err(e) = pattern::parse(p, cx.pattern_limits)
    {
        cx.error("/pattern", format!("invalid STIX pattern: {e}"));
    }
}

pub(super) fn check_malware_family_name(obj: &Map<String, Value>, cx: &mut Ctx<'_>) {
    if obj.get("is_family") == Some(&Value::Bool(true)) && !obj.contains_key("name") {
        cx.error("/name", "required when is_family is true");
    }
}

pub(super) fn check_email_multipart(obj: &Map<String, Value>, cx: &mut Ctx<'_>) {
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

pub(super) fn check_network_traffic_active(obj: &Map<String, Value>, cx: &mut Ctx<'_>) {
    if obj.get("is_active") == Some(&Value::Bool(true)) && obj.contains_key("end") {
        cx.error("/end", "must not be present when is_active is true");
    }
}

pub(super) fn check_extension_definition(obj: &Map<String, Value>, cx: &mut Ctx<'_>) {
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

pub(super) fn check_marking_definition(obj: &Map<String, Value>, cx: &mut Ctx<'_>) {
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
