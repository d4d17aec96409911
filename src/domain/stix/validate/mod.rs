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
//!   value types, referenced object types, co-occurrence and ordering rules), with the type
//!   table (`table.rs`) as the single description; an indicator with `pattern_type: "stix"`
//!   has its pattern parsed by [`crate::domain::stix::pattern::parse`].
//!
//! Custom properties and custom objects (types relais does not know, `x-…` or not) are kept
//! intact and never refused for being custom; their names and common properties still follow
//! the rules. A custom object with `created` or `modified` is read like an SDO (both required,
//! `spec_version` required), one with neither like an SCO.
//!
//! The engine (`engine.rs`) walks the object; the table (`table.rs`) says what each type
//! holds, and `rules.rs` what the table cannot say. Identifiers are parsed by
//! [`crate::domain::stix::id`], timestamps by `timestamp.rs`; every problem is reported
//! through `ctx.rs` as an `error.rs` [`ValidationError`].

mod ctx;
mod engine;
mod error;
mod forms;
mod object;
mod rules;
mod selector;
mod table;
mod timestamp;

pub use engine::{MAX_KEY_LEN, RESERVED_PROPERTIES, SPEC_VERSION, validate, validate_with};
pub use error::ValidationError;
pub use forms::{PROPERTY_NAME_LEN, is_property_name};
pub use object::{ExternalReference, GranularMarking, StixObject};
pub(crate) use table::DICTIONARIES;
pub use table::{ObjectKind, free_form_properties};
pub use timestamp::{Timestamp, TimestampError};

#[cfg(test)]
mod tests;
