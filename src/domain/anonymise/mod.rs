//! The anonymiser every provider submission passes before it is stored (Convention art. 3, 4:
//! the CSIRT shares anonymised IOCs and TTPs).
//!
//! [`anonymise`] reads one STIX object and finds victim identifiers in every string of it:
//! names, descriptions, labels, external references, custom properties at any depth,
//! observables' properties, and the string literals and comments of a STIX pattern. What it
//! looks for:
//!
//! - IP addresses that are not on the Internet (private, loopback, link-local, CGNAT,
//!   documentation, unique-local, unspecified; IPv4, IPv6, IPv4-mapped, CIDR blocks);
//! - what the CSIRT recorded about the beneficiary ([`VictimContext`]): domains and their
//!   sub-domains, e-mail addresses (and any address at its domains), host names, organisation
//!   names;
//! - user names in file paths, domain and account SIDs, URLs and UNC paths to internal hosts,
//!   host names under internal suffixes.
//!
//! Values written defanged (`victim[.]re`, `hxxp://`) or as a regular expression
//! (`victim\.re`) are found too. For each finding the policy ([`AnonymisationPolicy`]) says
//! whether to refuse the object, redact the value, pseudonymise it (a keyed hash, stable for
//! one hub: [`PseudonymKey`]) or keep it, depending on whether the value is in free text or in
//! what the object exists to share (see `policies/anonymisation.toml`).
//!
//! Left alone: the common properties that are syntax (`id`, `type`, `spec_version`,
//! `created`, `modified`, `pattern_type`, `pattern_version`, `lang`, `object_marking_refs`,
//! `granular_markings`), every string that is a STIX identifier under a `*_ref(s)` property,
//! every string that is a STIX timestamp, `hashes` dictionaries, a pattern's syntax (types,
//! paths, keywords) and its hash, timestamp, binary and hex literals. Property names are
//! never rewritten (renaming could merge two properties): a finding in one refuses the object
//! unless the policy keeps it.
//!
//! A rewritten STIX pattern is parsed again before it is accepted. A pattern in another
//! language, which the hub cannot parse, is refused on any finding the policy does not keep.
//!
//! Not found (the case records nothing to match them against, or they cannot be read as
//! text): a user name outside a path (`user-account.account_login`), a victim domain written
//! in punycode when the case records it in Unicode (or the reverse), anything inside a
//! pattern's `b'…'` literal or an artifact's `payload_bin`, and a victim's address written
//! reversed (`3.2.1.10.in-addr.arpa`).
//!
//! What goes back to the submitter, [`Change`] and [`Refused`], names the object, the field
//! (a JSON pointer), the rule and the action, never the value: the same structures may be
//! logged.

mod defang;
mod detect;
mod fold;
mod pattern_literals;
mod policy;
mod pseudonym;
mod rewrite;
mod victim;

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::domain::stix::id::StixId;
use crate::domain::stix::pattern::{self, PatternLimits};
use crate::domain::stix::pointer::child;
use crate::domain::stix::validate::{ObjectKind, Timestamp};

use detect::Detector;
use pattern_literals::PieceKind;
use rewrite::{Context, Outcome};

pub use policy::{Action, AnonymisationPolicy, FindingKind, Location, PolicyError, Rule, SHIPPED};
pub use pseudonym::{KEY_LEN, KeyLengthError, PseudonymKey};
pub use victim::VictimContext;

/// What was done to a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeAction {
    Redacted,
    Pseudonymised,
}

impl ChangeAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Redacted => "redacted",
            Self::Pseudonymised => "pseudonymised",
        }
    }
}

/// One line of the report to the submitter: in this object's field, this many values found
/// by this rule were redacted or pseudonymised. Never the values themselves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub object_id: String,
    /// JSON pointer to the string in the object (`/description`, `/pattern`,
    /// `/x_victim/contacts/0`).
    pub field: String,
    pub rule: FindingKind,
    pub action: ChangeAction,
    pub occurrences: usize,
}

/// An object that may be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anonymised {
    /// The rewritten object; `None` when nothing was changed, so that the caller stores the
    /// exact text it received (a rewritten `Value`, serialised again, would not be that text:
    /// serde_json without `preserve_order` writes keys sorted).
    pub rewritten: Option<Value>,
    /// Every change, in the order the object was read; empty exactly when `rewritten` is
    /// `None`.
    pub changes: Vec<Change>,
}

impl Anonymised {
    pub fn is_unchanged(&self) -> bool {
        self.rewritten.is_none()
    }

    /// The object to store: the rewritten one, or `original` when nothing changed.
    pub fn value<'a>(&'a self, original: &'a Value) -> &'a Value {
        self.rewritten.as_ref().unwrap_or(original)
    }
}

/// Why an object was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalReason {
    /// The policy refuses this finding here.
    Policy,
    /// The finding is in a property name, which is never rewritten.
    PropertyName,
    /// The finding is in a pattern that cannot be rewritten safely (not STIX).
    OpaquePattern,
    /// The rewritten STIX pattern would no longer be valid.
    PatternRewrite,
}

impl RefusalReason {
    fn describe(self) -> &'static str {
        match self {
            Self::Policy => "the anonymisation policy refuses it there",
            Self::PropertyName => "a property name is never rewritten",
            Self::OpaquePattern => "a pattern in that language cannot be rewritten",
            Self::PatternRewrite => "the pattern would no longer be valid once rewritten",
        }
    }
}

/// An object the hub will not store. Names where and which rule, never the value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub struct Refused {
    pub object_id: String,
    /// JSON pointer to the string (or the property name) holding the finding.
    pub field: String,
    pub rule: FindingKind,
    pub reason: RefusalReason,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = if self.field.is_empty() {
            "(object)"
        } else {
            &self.field
        };
        write!(
            f,
            "{} refused: {field:?} holds a victim identifier ({}) and {}",
            self.object_id,
            self.rule,
            self.reason.describe()
        )
    }
}

/// Anonymises one STIX object (see the module documentation).
pub fn anonymise(
    object: &Value,
    policy: &AnonymisationPolicy,
    ctx: &VictimContext,
    key: &PseudonymKey,
) -> Result<Anonymised, Refused> {
    let mut walk = Walk {
        detector: Detector::new(policy, ctx),
        policy,
        key,
        object_id: object
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        edits: Vec::new(),
        changes: Vec::new(),
    };
    walk.run(object)?;
    if walk.edits.is_empty() {
        return Ok(Anonymised {
            rewritten: None,
            changes: Vec::new(),
        });
    }
    let mut rewritten = object.clone();
    for (pointer, text) in walk.edits {
        if let Some(slot) = rewritten.pointer_mut(&pointer) {
            *slot = Value::String(text);
        }
    }
    Ok(Anonymised {
        rewritten: Some(rewritten),
        changes: walk.changes,
    })
}

/// Common properties that are syntax, not data.
const SYNTAX_PROPERTIES: &[&str] = &[
    "id",
    "type",
    "spec_version",
    "created",
    "modified",
    "pattern_type",
    "pattern_version",
    "lang",
    "object_marking_refs",
    "granular_markings",
];

struct Item<'v> {
    pointer: String,
    value: &'v Value,
    location: Location,
    /// The property the value is under (the array's, for an element).
    property: &'v str,
}

struct Walk<'a> {
    detector: Detector<'a>,
    policy: &'a AnonymisationPolicy,
    key: &'a PseudonymKey,
    object_id: String,
    /// JSON pointer → new text.
    edits: Vec<(String, String)>,
    changes: Vec<Change>,
}

fn is_sco(object_type: &str) -> bool {
    ObjectKind::of_type(object_type) == ObjectKind::Sco
}

impl Walk<'_> {
    fn refused(&self, field: &str, rule: FindingKind, reason: RefusalReason) -> Refused {
        Refused {
            object_id: self.object_id.clone(),
            field: field.to_owned(),
            rule,
            reason,
        }
    }

    /// Reads the object with an explicit stack: its depth is the input's, not ours.
    fn run(&mut self, root: &Value) -> Result<(), Refused> {
        let mut stack: Vec<Item<'_>> = Vec::new();
        match root {
            Value::Object(map) => {
                let object_type = map.get("type").and_then(Value::as_str).unwrap_or("");
                let location = if is_sco(object_type) {
                    Location::Indicator
                } else {
                    Location::Text
                };
                for (k, v) in map.iter().rev() {
                    if SYNTAX_PROPERTIES.contains(&k.as_str()) {
                        continue;
                    }
                    let pointer = child("", k);
                    self.property_name(k, &pointer, location)?;
                    if object_type == "indicator"
                        && k == "pattern"
                        && let Some(p) = v.as_str()
                    {
                        let language = map.get("pattern_type").and_then(Value::as_str);
                        self.pattern(&pointer, p, language)?;
                        continue;
                    }
                    stack.push(Item {
                        pointer,
                        value: v,
                        location,
                        property: k,
                    });
                }
            }
            other => stack.push(Item {
                pointer: String::new(),
                value: other,
                location: Location::Text,
                property: "",
            }),
        }
        while let Some(item) = stack.pop() {
            if item.property == "hashes" {
                continue;
            }
            match item.value {
                Value::String(s) => self.string(&item, s)?,
                Value::Array(values) => {
                    for (i, v) in values.iter().enumerate().rev() {
                        stack.push(Item {
                            pointer: format!("{}/{i}", item.pointer),
                            value: v,
                            location: item.location,
                            property: item.property,
                        });
                    }
                }
                Value::Object(map) => {
                    // An observable embedded in another object (observed-data's `objects`).
                    let location = if map.get("type").and_then(Value::as_str).is_some_and(is_sco) {
                        Location::Indicator
                    } else {
                        item.location
                    };
                    for (k, v) in map.iter().rev() {
                        let pointer = child(&item.pointer, k);
                        self.property_name(k, &pointer, location)?;
                        stack.push(Item {
                            pointer,
                            value: v,
                            location,
                            property: k,
                        });
                    }
                }
                Value::Null | Value::Bool(_) | Value::Number(_) => {}
            }
        }
        Ok(())
    }

    fn property_name(&self, name: &str, pointer: &str, location: Location) -> Result<(), Refused> {
        let finding = self
            .detector
            .find(name)
            .into_iter()
            .find(|f| self.policy.action(f.kind, location) != Action::Keep);
        match finding {
            Some(f) => Err(self.refused(pointer, f.kind, RefusalReason::PropertyName)),
            None => Ok(()),
        }
    }

    fn string(&mut self, item: &Item<'_>, s: &str) -> Result<(), Refused> {
        let is_ref = item.property.ends_with("_ref") || item.property.ends_with("_refs");
        if (is_ref && StixId::parse(s).is_ok()) || Timestamp::parse(s).is_ok() {
            return Ok(());
        }
        let findings = self.detector.find(s);
        match rewrite::apply(
            s,
            findings,
            item.location,
            true,
            Context::Plain,
            self.policy,
            self.key,
        ) {
            Outcome::Unchanged => Ok(()),
            Outcome::Refused(kind) => Err(self.refused(&item.pointer, kind, RefusalReason::Policy)),
            Outcome::Rewritten { text, applied } => {
                self.record(&item.pointer, &applied);
                self.edits.push((item.pointer.clone(), text));
                Ok(())
            }
        }
    }

    /// An indicator's pattern: STIX literals and comments are rewritten in place; a pattern
    /// in another language (or one that does not parse) is only checked.
    fn pattern(
        &mut self,
        pointer: &str,
        text: &str,
        language: Option<&str>,
    ) -> Result<(), Refused> {
        let limits = PatternLimits::default();
        let pieces = (language == Some("stix") && pattern::parse(text, &limits).is_ok())
            .then(|| pattern_literals::pieces(text))
            .flatten();
        let Some(pieces) = pieces else {
            let findings = self.detector.find(text);
            return match rewrite::apply(
                text,
                findings,
                Location::Indicator,
                false,
                Context::Plain,
                self.policy,
                self.key,
            ) {
                Outcome::Unchanged => Ok(()),
                Outcome::Refused(kind) => {
                    Err(self.refused(pointer, kind, RefusalReason::OpaquePattern))
                }
                // Not rewritable: `apply` refuses instead; should it not, nothing is stored.
                Outcome::Rewritten { applied, .. } => Err(self.refused(
                    pointer,
                    applied.first().map_or(FindingKind::InternalUrl, |a| a.0),
                    RefusalReason::OpaquePattern,
                )),
            };
        };
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        let mut applied_all = Vec::new();
        for piece in pieces {
            let raw = text.get(piece.start..piece.end).unwrap_or("");
            let (content, location, context) = match piece.kind {
                PieceKind::Value { regex } => (
                    pattern_literals::unescape(raw),
                    Location::Indicator,
                    if regex {
                        Context::Regex
                    } else {
                        Context::Plain
                    },
                ),
                PieceKind::Comment => (raw.to_owned(), Location::Text, Context::Plain),
            };
            let findings = match context {
                Context::Regex => self.detector.find_in_regex(&content),
                Context::Plain => self.detector.find(&content),
            };
            match rewrite::apply(
                &content,
                findings,
                location,
                true,
                context,
                self.policy,
                self.key,
            ) {
                Outcome::Unchanged => {}
                Outcome::Refused(kind) => {
                    return Err(self.refused(pointer, kind, RefusalReason::Policy));
                }
                Outcome::Rewritten { text: new, applied } => {
                    out.push_str(text.get(last..piece.start).unwrap_or(""));
                    match piece.kind {
                        PieceKind::Value { .. } => {
                            out.push_str(&pattern_literals::escape(&new));
                        }
                        PieceKind::Comment => out.push_str(&new),
                    }
                    last = piece.end;
                    applied_all.extend(applied);
                }
            }
        }
        let Some(&(first, _)) = applied_all.first() else {
            return Ok(());
        };
        out.push_str(text.get(last..).unwrap_or(""));
        if pattern::parse(&out, &limits).is_err() {
            return Err(self.refused(pointer, first, RefusalReason::PatternRewrite));
        }
        self.record(pointer, &applied_all);
        self.edits.push((pointer.to_owned(), out));
        Ok(())
    }

    fn record(&mut self, field: &str, applied: &[(FindingKind, ChangeAction)]) {
        for &(rule, action) in applied {
            match self
                .changes
                .iter_mut()
                .find(|c| c.field == field && c.rule == rule && c.action == action)
            {
                Some(change) => change.occurrences += 1,
                None => self.changes.push(Change {
                    object_id: self.object_id.clone(),
                    field: field.to_owned(),
                    rule,
                    action,
                    occurrences: 1,
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests;
