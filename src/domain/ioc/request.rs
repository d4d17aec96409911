//! Reading a request of the simple IOC API, item by item, so that one bad item is reported
//! with its index, field and reason while the others go on.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

use super::value::{self, IocType, Technique, TechniqueError, UnknownType, ValueError, shorten};
use crate::domain::exports::NetworkBounds;
use crate::domain::markings::{Pap, Tlp};
use crate::domain::stix::pointer::push_pointer;

/// Most items in one request. More is refused as a whole: a bulk load belongs on TAXII.
pub const MAX_ITEMS: usize = 1_000;
/// Longest `value`, in bytes (a URL is the longest kind; browsers and proxies stop near 2 KiB).
pub const MAX_VALUE_LEN: usize = 2_048;
/// Longest `description`, in bytes.
pub const MAX_DESCRIPTION_LEN: usize = 10_000;
/// Most `attack_techniques` on one item.
pub const MAX_TECHNIQUES: usize = 50;
/// Longest `case` reference, in bytes.
pub const MAX_CASE_LEN: usize = 128;
/// How far in the future `first_seen` may be, for clocks that disagree a little. Further
/// ahead is a mistake (a local time sent as UTC, a typo in the year): the indicator would
/// not be valid until then.
pub const MAX_FIRST_SEEN_AHEAD: Duration = Duration::minutes(5);
/// Earliest `first_seen`: anything before is a mistake, and a bound keeps every accepted
/// time within what a STIX timestamp can write once converted to UTC.
pub const MIN_FIRST_SEEN_YEAR: i32 = 1970;

/// One item as the API documents it. The body of `POST /api/v1/iocs` is a JSON array of
/// these (not an object wrapping one).
///
/// This is the shape only; [`parse_item`] reads the same shape field by field (so that each
/// problem names its field) and then checks every value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IocItem {
    /// `ipv4`, `ipv6`, `domain`, `url`, `email`, `md5`, `sha1`, `sha256`, `file_name`
    /// (or `file name`).
    #[serde(rename = "type")]
    pub kind: IocType,
    pub value: String,
    /// `clear`, `green`, `amber`, `amber+strict`, `red`, or `white` for clear; any case, an
    /// optional `TLP:` prefix. Absent: the hub's default policy applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tlp: Option<String>,
    /// `clear`, `green`, `amber`, `red`, or `white` for clear; any case, an optional `PAP:`
    /// prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pap: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// RFC 3339, any offset (`2025-03-01T10:00:00+04:00`); becomes the indicator's
    /// `valid_from`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<String>,
    /// ATT&CK technique ids, `T1059` or `T1059.001`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attack_techniques: Vec<String>,
    /// The hub's reference of the victim case the IOC comes from. Never put in the STIX
    /// objects: the hub decides from the beneficiary's consent what may be shared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<String>,
}

/// Why a whole request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("the body must be a JSON array of IOC items")]
    NotAList,
    #[error("the list of IOC items is empty")]
    Empty,
    #[error("{count} IOC items in one request, over the limit of {max}")]
    TooManyItems { count: usize, max: usize },
}

/// What is wrong with one field of an item.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IocError {
    #[error("an IOC item must be a JSON object")]
    NotAnObject,
    #[error("unknown field")]
    UnknownField,
    #[error("missing")]
    Missing,
    #[error("must be {expected}")]
    WrongType { expected: &'static str },
    #[error(transparent)]
    UnknownType(#[from] UnknownType),
    #[error("is {len} bytes long, over the limit of {max}")]
    TooLong { len: usize, max: usize },
    #[error("{kind} value {error}")]
    Value { kind: IocType, error: ValueError },
    #[error("unknown TLP level {0:?}; expected clear, green, amber, amber+strict or red")]
    Tlp(String),
    #[error("unknown PAP level {0:?}; expected clear, green, amber or red")]
    Pap(String),
    #[error("must be an RFC 3339 date and time, e.g. 2025-03-01T10:00:00+04:00")]
    TimestampFormat,
    #[error("is in the future")]
    TimestampFuture,
    #[error("is before {MIN_FIRST_SEEN_YEAR}")]
    TimestampTooEarly,
    #[error("{count} techniques, over the limit of {max}")]
    TooManyTechniques { count: usize, max: usize },
    #[error(transparent)]
    Technique(#[from] TechniqueError),
    #[error("must not be blank")]
    Blank,
    #[error("must not contain control characters")]
    ControlCharacters,
}

/// One problem of one item: where (a JSON pointer inside the item: `/value`,
/// `/attack_techniques/2`, or empty for the item itself) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {error}", if field.is_empty() { "item" } else { field.as_str() })]
pub struct FieldError {
    pub field: String,
    pub error: IocError,
}

impl FieldError {
    fn new(field: &str, error: IocError) -> Self {
        Self {
            field: field.to_owned(),
            error,
        }
    }

    /// The JSON pointer to the problem in the whole request, for item `index`.
    pub fn pointer(&self, index: usize) -> String {
        format!("/{index}{}", self.field)
    }
}

/// An item that passed every check, its value in normal form. Only [`parse_item`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidIoc {
    pub(super) kind: IocType,
    pub(super) value: String,
    pub(super) tlp: Option<Tlp>,
    pub(super) pap: Option<Pap>,
    pub(super) description: Option<String>,
    pub(super) first_seen: Option<OffsetDateTime>,
    pub(super) techniques: Vec<Technique>,
    pub(super) case: Option<String>,
}

impl ValidIoc {
    pub fn kind(&self) -> IocType {
        self.kind
    }

    /// The value in normal form (see [`value::normalise`]).
    pub fn value(&self) -> &str {
        &self.value
    }

    pub fn tlp(&self) -> Option<Tlp> {
        self.tlp
    }

    pub fn pap(&self) -> Option<Pap> {
        self.pap
    }

    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// In UTC.
    pub fn first_seen(&self) -> Option<OffsetDateTime> {
        self.first_seen
    }

    /// Without repeats, in the order first given.
    pub fn techniques(&self) -> &[Technique] {
        &self.techniques
    }

    pub fn case(&self) -> Option<&str> {
        self.case.as_deref()
    }
}

/// The outcome for one item: the position in the request's list is its index.
pub type ItemResult = Result<ValidIoc, Vec<FieldError>>;

/// Reads a request body (already parsed as JSON, with the hub's depth limit): a JSON array of
/// 1 to [`MAX_ITEMS`] items, each checked on its own against `now` and the export policy's
/// network `bounds`.
pub fn parse_request(
    body: &Value,
    now: OffsetDateTime,
    bounds: &NetworkBounds,
) -> Result<Vec<ItemResult>, RequestError> {
    let Value::Array(items) = body else {
        return Err(RequestError::NotAList);
    };
    if items.is_empty() {
        return Err(RequestError::Empty);
    }
    if items.len() > MAX_ITEMS {
        return Err(RequestError::TooManyItems {
            count: items.len(),
            max: MAX_ITEMS,
        });
    }
    Ok(items
        .iter()
        .map(|item| parse_item(item, now, bounds))
        .collect())
}

/// Reads and checks one item, listing every problem found.
pub fn parse_item(item: &Value, now: OffsetDateTime, bounds: &NetworkBounds) -> ItemResult {
    let (fields, mut errors) = read(item);
    let checked = check(fields, now, bounds, &mut errors);
    match checked {
        Some(valid) if errors.is_empty() => Ok(valid),
        _ => Err(errors),
    }
}

/// Reads the shape of one item only (field names and JSON types), as serde would read an
/// [`IocItem`], but naming the field of each problem and listing them all.
pub fn read_item(item: &Value) -> Result<IocItem, Vec<FieldError>> {
    let (fields, errors) = read(item);
    match fields {
        Some(Fields {
            kind: Some(kind),
            value: Some(value),
            tlp,
            pap,
            description,
            first_seen,
            attack_techniques,
            case,
        }) if errors.is_empty() => Ok(IocItem {
            kind,
            value,
            tlp,
            pap,
            description,
            first_seen,
            attack_techniques,
            case,
        }),
        _ => Err(errors),
    }
}

/// The fields of an item as read, the required ones possibly missing.
#[derive(Default)]
struct Fields {
    kind: Option<IocType>,
    value: Option<String>,
    tlp: Option<String>,
    pap: Option<String>,
    description: Option<String>,
    first_seen: Option<String>,
    attack_techniques: Vec<String>,
    case: Option<String>,
}

fn read(item: &Value) -> (Option<Fields>, Vec<FieldError>) {
    let Value::Object(map) = item else {
        return (None, vec![FieldError::new("", IocError::NotAnObject)]);
    };
    let mut errors = Vec::new();
    let mut fields = Fields::default();
    for (key, v) in map {
        let mut at = String::new();
        push_pointer(&mut at, key);
        let mut optional = |slot: &mut Option<String>| match v {
            Value::Null => {}
            Value::String(s) => *slot = Some(s.clone()),
            _ => errors.push(FieldError::new(&at, expected("a string or null"))),
        };
        match key.as_str() {
            "type" | "value" => {}
            "tlp" => optional(&mut fields.tlp),
            "pap" => optional(&mut fields.pap),
            "description" => optional(&mut fields.description),
            "first_seen" => optional(&mut fields.first_seen),
            "case" => optional(&mut fields.case),
            "attack_techniques" => fields.attack_techniques = strings(v, &at, &mut errors),
            _ => errors.push(FieldError::new(&at, IocError::UnknownField)),
        }
    }
    // Read in a fixed order, whatever the order of the object's keys.
    fields.kind = match map.get("type") {
        None => missing("/type", &mut errors),
        Some(Value::String(s)) => s
            .parse()
            .map_err(|e: UnknownType| errors.push(FieldError::new("/type", e.into())))
            .ok(),
        Some(_) => wrong("/type", "a string", &mut errors),
    };
    fields.value = match map.get("value") {
        None => missing("/value", &mut errors),
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => wrong("/value", "a string", &mut errors),
    };
    (Some(fields), errors)
}

fn expected(what: &'static str) -> IocError {
    IocError::WrongType { expected: what }
}

fn missing<T>(at: &str, errors: &mut Vec<FieldError>) -> Option<T> {
    errors.push(FieldError::new(at, IocError::Missing));
    None
}

fn wrong<T>(at: &str, what: &'static str, errors: &mut Vec<FieldError>) -> Option<T> {
    errors.push(FieldError::new(at, expected(what)));
    None
}

fn strings(v: &Value, at: &str, errors: &mut Vec<FieldError>) -> Vec<String> {
    let Value::Array(items) = v else {
        errors.push(FieldError::new(at, expected("a list of strings")));
        return Vec::new();
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match item {
            Value::String(s) => out.push(s.clone()),
            _ => errors.push(FieldError::new(&format!("{at}/{i}"), expected("a string"))),
        }
    }
    out
}

/// Checks every value that could be read; `None` if the item is not usable at all.
fn check(
    fields: Option<Fields>,
    now: OffsetDateTime,
    bounds: &NetworkBounds,
    errors: &mut Vec<FieldError>,
) -> Option<ValidIoc> {
    let fields = fields?;
    let mut push = |at: &str, e: IocError| errors.push(FieldError::new(at, e));

    let value = match (fields.kind, &fields.value) {
        (Some(_), Some(v)) if v.len() > MAX_VALUE_LEN => {
            push("/value", too_long(v, MAX_VALUE_LEN));
            None
        }
        (Some(kind), Some(v)) => value::normalise(kind, v, bounds)
            .map_err(|error| push("/value", IocError::Value { kind, error }))
            .ok(),
        _ => None,
    };
    let tlp = fields
        .tlp
        .as_deref()
        .map(|s| parse_tlp(s).ok_or_else(|| push("/tlp", IocError::Tlp(shorten(s)))));
    let pap = fields.pap.as_deref().map(|s| {
        s.parse::<Pap>()
            .map_err(|_| push("/pap", IocError::Pap(shorten(s))))
    });
    if let Some(d) = &fields.description
        && d.len() > MAX_DESCRIPTION_LEN
    {
        push("/description", too_long(d, MAX_DESCRIPTION_LEN));
    }
    let first_seen = fields
        .first_seen
        .as_deref()
        .map(|s| parse_first_seen(s, now).map_err(|e| push("/first_seen", e)));
    let mut techniques: Vec<Technique> = Vec::new();
    let count = fields.attack_techniques.len();
    if count > MAX_TECHNIQUES {
        // Not checked one by one: the list is refused anyway.
        push(
            "/attack_techniques",
            IocError::TooManyTechniques {
                count,
                max: MAX_TECHNIQUES,
            },
        );
    } else {
        for (i, t) in fields.attack_techniques.iter().enumerate() {
            match Technique::parse(t) {
                Ok(t) if techniques.contains(&t) => {}
                Ok(t) => techniques.push(t),
                Err(e) => push(&format!("/attack_techniques/{i}"), e.into()),
            }
        }
    }
    if let Some(c) = &fields.case {
        if c.len() > MAX_CASE_LEN {
            push("/case", too_long(c, MAX_CASE_LEN));
        } else if c.trim().is_empty() {
            push("/case", IocError::Blank);
        } else if c.chars().any(char::is_control) {
            push("/case", IocError::ControlCharacters);
        }
    }

    Some(ValidIoc {
        kind: fields.kind?,
        value: value?,
        tlp: tlp.transpose().ok()?,
        pap: pap.transpose().ok()?,
        description: fields.description,
        first_seen: first_seen.transpose().ok()?,
        techniques,
        case: fields.case,
    })
}

fn too_long(s: &str, max: usize) -> IocError {
    IocError::TooLong { len: s.len(), max }
}

/// TLP 2.0 by name, and `white` (TLP 1.0) as CLEAR.
pub fn parse_tlp(s: &str) -> Option<Tlp> {
    let lower = s.trim().to_ascii_lowercase();
    let name = lower.strip_prefix("tlp:").unwrap_or(&lower);
    match name {
        "clear" | "white" => Some(Tlp::Clear),
        "green" => Some(Tlp::Green),
        "amber" => Some(Tlp::Amber),
        "amber+strict" => Some(Tlp::AmberStrict),
        "red" => Some(Tlp::Red),
        _ => None,
    }
}

fn parse_first_seen(s: &str, now: OffsetDateTime) -> Result<OffsetDateTime, IocError> {
    let at = OffsetDateTime::parse(s, &Rfc3339).map_err(|_| IocError::TimestampFormat)?;
    // `to_offset` would panic past year 9999 (9999-12-31T23:00:00-02:00).
    let at = at
        .checked_to_offset(UtcOffset::UTC)
        .ok_or(IocError::TimestampFormat)?;
    if at.year() < MIN_FIRST_SEEN_YEAR {
        return Err(IocError::TimestampTooEarly);
    }
    if now
        .checked_add(MAX_FIRST_SEEN_AHEAD)
        .is_some_and(|latest| at > latest)
    {
        return Err(IocError::TimestampFuture);
    }
    Ok(at)
}
