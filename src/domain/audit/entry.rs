//! One audit entry and its canonical bytes.
//!
//! The canonical form is what the Merkle tree hashes, so it must be a function of the entry
//! alone: compact JSON, keys in a fixed order
//! (`seq,time,actor{principal,fingerprint},action,objects,markings,decision,reason`), the time
//! as RFC 3339 UTC with exactly six fractional digits and `Z`, and every character outside
//! printable ASCII written as `\uXXXX` (lower-case hex, UTF-16 surrogate pairs above the BMP).
//! Only `"` and `\` take the two-character escapes. An entry is therefore always one line of
//! printable ASCII: a newline, an escape sequence for a terminal, a bidirectional override or a
//! line separator in a reason can neither split the log nor rewrite what a reader sees.
//!
//! Parsing accepts exactly those bytes: a missing, unknown or repeated key is refused, and
//! anything else that parses but does not re-encode to the same bytes (other key order,
//! whitespace, another escape for the same character, another time format) is "not
//! canonical". Two different byte strings never stand for the same entry.
//!
//! What goes in is the caller's responsibility: ids and hashes, never secrets nor values that
//! identify a victim.

use std::fmt::Write as _;

use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

use crate::domain::stix::stored::utc_timestamp;

/// Whether the request was carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    Allow,
    Deny,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Deny => "deny",
        }
    }
}

/// Who acted: the registry principal and the certificate it presented.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Actor {
    pub principal: String,
    /// Lower-case hex SHA-256 of the certificate's SubjectPublicKeyInfo; empty for the hub's
    /// own jobs, which present no certificate.
    pub fingerprint: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AuditEntry {
    /// Position in the log, from 0: entry `seq` is leaf `seq` of the Merkle tree.
    pub seq: u64,
    /// UTC, kept to the microsecond (see [`audit_time`]).
    pub time: OffsetDateTime,
    pub actor: Actor,
    pub action: String,
    pub objects: Vec<String>,
    pub markings: Vec<String>,
    pub decision: Decision,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    /// Not JSON, or not the entry's keys exactly once each (serde's message says which).
    #[error("not an audit entry: {0}")]
    Malformed(String),
    #[error("time is not RFC 3339 UTC with microseconds")]
    Time,
    #[error("not canonical")]
    NotCanonical,
}

/// `at` as the log keeps it: in UTC, truncated to the microsecond. An entry built with this
/// time round-trips through its canonical bytes unchanged.
pub fn audit_time(at: OffsetDateTime) -> OffsetDateTime {
    let at = at.to_offset(UtcOffset::UTC);
    at.replace_nanosecond(at.microsecond() * 1000).unwrap_or(at)
}

/// `at` as the canonical bytes write it: `2026-11-23T10:15:30.123456Z`.
pub fn canonical_time(at: OffsetDateTime) -> String {
    let mut out = String::with_capacity(27);
    write_time(&mut out, at);
    out
}

impl AuditEntry {
    /// The canonical bytes (module documentation). Below the microsecond the time is
    /// truncated; a year outside 0000–9999 yields bytes that [`parse_canonical`] refuses.
    pub fn to_canonical(&self) -> Vec<u8> {
        let mut out = String::with_capacity(256);
        let _ = write!(out, "{{\"seq\":{},\"time\":\"", self.seq);
        write_time(&mut out, self.time);
        out.push_str("\",\"actor\":{\"principal\":");
        write_string(&mut out, &self.actor.principal);
        out.push_str(",\"fingerprint\":");
        write_string(&mut out, &self.actor.fingerprint);
        out.push_str("},\"action\":");
        write_string(&mut out, &self.action);
        out.push_str(",\"objects\":");
        write_list(&mut out, &self.objects);
        out.push_str(",\"markings\":");
        write_list(&mut out, &self.markings);
        out.push_str(",\"decision\":\"");
        out.push_str(self.decision.as_str());
        out.push_str("\",\"reason\":");
        write_string(&mut out, &self.reason);
        out.push('}');
        out.into_bytes()
    }
}

/// The entry whose canonical bytes are exactly `bytes` (no trailing newline).
pub fn parse_canonical(bytes: &[u8]) -> Result<AuditEntry, EntryError> {
    let raw: RawEntry =
        serde_json::from_slice(bytes).map_err(|e| EntryError::Malformed(e.to_string()))?;
    let time = OffsetDateTime::parse(&raw.time, &Rfc3339).map_err(|_| EntryError::Time)?;
    let entry = AuditEntry {
        seq: raw.seq,
        time,
        actor: Actor {
            principal: raw.actor.principal,
            fingerprint: raw.actor.fingerprint,
        },
        action: raw.action,
        objects: raw.objects,
        markings: raw.markings,
        decision: match raw.decision {
            RawDecision::Allow => Decision::Allow,
            RawDecision::Deny => Decision::Deny,
        },
        reason: raw.reason,
    };
    // One encoding per entry: whatever serde tolerated (order, spacing, escapes, a time with
    // an offset or more digits) shows up as a difference here.
    if entry.to_canonical() != bytes {
        return Err(EntryError::NotCanonical);
    }
    Ok(entry)
}

// serde's derived visitor refuses a repeated field ("duplicate field"), `deny_unknown_fields`
// an unknown one, and the absence of `default` a missing one: together, each key exactly once.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    seq: u64,
    time: String,
    actor: RawActor,
    action: String,
    objects: Vec<String>,
    markings: Vec<String>,
    decision: RawDecision,
    reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawActor {
    principal: String,
    fingerprint: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum RawDecision {
    Allow,
    Deny,
}

fn write_time(out: &mut String, at: OffsetDateTime) {
    out.push_str(&utc_timestamp(at, 6));
}

fn write_list(out: &mut String, items: &[String]) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(out, item);
    }
    out.push(']');
}

/// A JSON string in which every character outside printable ASCII is a `\uXXXX` escape.
fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// An entry as the log holds it: its canonical bytes and leaf hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    pub seq: u64,
    pub entry: Vec<u8>,
    pub leaf_hash: crate::domain::audit::merkle::Hash,
    /// The actor's organisation, if the actor is a registry principal.
    pub organisation: Option<crate::domain::principal::OrganisationId>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn sample() -> AuditEntry {
        AuditEntry {
            seq: 7,
            time: datetime!(2026-11-23 10:15:30.123456 UTC),
            actor: Actor {
                principal: "principal--0b1c".into(),
                fingerprint: "ab".repeat(32),
            },
            action: "object.read".into(),
            objects: vec!["indicator--a".into(), "report--b".into()],
            markings: vec!["TLP:AMBER+STRICT".into()],
            decision: Decision::Deny,
            reason: "above clearance".into(),
        }
    }

    #[test]
    fn canonical_bytes_are_fixed_and_round_trip() {
        let e = sample();
        let bytes = e.to_canonical();
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            format!(
                "{{\"seq\":7,\"time\":\"2026-11-23T10:15:30.123456Z\",\"actor\":{{\"principal\":\
                 \"principal--0b1c\",\"fingerprint\":\"{}\"}},\"action\":\"object.read\",\
                 \"objects\":[\"indicator--a\",\"report--b\"],\"markings\":[\"TLP:AMBER+STRICT\"],\
                 \"decision\":\"deny\",\"reason\":\"above clearance\"}}",
                "ab".repeat(32)
            )
        );
        assert_eq!(parse_canonical(&bytes), Ok(e));
    }

    #[test]
    fn empty_lists_and_zero_fraction() {
        let mut e = sample();
        e.objects.clear();
        e.markings.clear();
        e.actor.fingerprint.clear();
        e.time = datetime!(2026-01-01 00:00:00 UTC);
        let text = String::from_utf8(e.to_canonical()).unwrap();
        assert!(text.contains("\"time\":\"2026-01-01T00:00:00.000000Z\""));
        assert!(text.contains("\"objects\":[],\"markings\":[]"));
        assert_eq!(parse_canonical(text.as_bytes()), Ok(e));
    }

    #[test]
    fn control_and_non_ascii_characters_are_escaped_and_keep_one_line() {
        let mut e = sample();
        e.reason = "a\u{0}b\x1b[2Jc\nd\re\u{7f}f\u{85}g\u{2028}h\u{2029}i\u{202e}j\"k\\lé😀".into();
        let bytes = e.to_canonical();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(
            text.contains(
                "a\\u0000b\\u001b[2Jc\\u000ad\\u000de\\u007ff\\u0085g\\u2028h\\u2029i\\u202ej\\\"k\\\\l\\u00e9\\ud83d\\ude00"
            ),
            "{text}"
        );
        assert!(bytes.iter().all(|b| (b' '..=b'~').contains(b)));
        assert_eq!(parse_canonical(&bytes), Ok(e));
    }

    #[test]
    fn time_is_kept_in_utc_to_the_microsecond() {
        let at = datetime!(2026-11-23 12:15:30.123456789 +02:00);
        let kept = audit_time(at);
        assert_eq!(kept, datetime!(2026-11-23 10:15:30.123456 UTC));
        assert_eq!(kept.offset(), UtcOffset::UTC);
        let mut e = sample();
        e.time = at;
        // Encoding truncates; the parsed entry carries the kept time.
        let parsed = parse_canonical(&e.to_canonical()).unwrap();
        assert_eq!(parsed.time, kept);
    }

    fn replaced(from: &str, to: &str) -> Vec<u8> {
        let text = String::from_utf8(sample().to_canonical()).unwrap();
        assert!(text.contains(from), "{from}");
        text.replacen(from, to, 1).into_bytes()
    }

    #[test]
    fn duplicate_unknown_and_missing_keys_are_refused() {
        let dup = replaced("\"action\":", "\"action\":\"x\",\"action\":");
        assert!(
            matches!(parse_canonical(&dup), Err(EntryError::Malformed(m)) if m.contains("duplicate"))
        );
        let dup_nested = replaced("\"fingerprint\":", "\"principal\":\"x\",\"fingerprint\":");
        assert!(matches!(
            parse_canonical(&dup_nested),
            Err(EntryError::Malformed(m)) if m.contains("duplicate")
        ));
        let unknown = replaced("\"reason\":", "\"extra\":1,\"reason\":");
        assert!(matches!(
            parse_canonical(&unknown),
            Err(EntryError::Malformed(m)) if m.contains("unknown field")
        ));
        let missing = replaced(",\"reason\":\"above clearance\"", "");
        assert!(matches!(
            parse_canonical(&missing),
            Err(EntryError::Malformed(m)) if m.contains("missing field")
        ));
        assert!(matches!(
            parse_canonical(b"not json"),
            Err(EntryError::Malformed(_))
        ));
        assert!(matches!(
            parse_canonical(&replaced("\"deny\"", "\"maybe\"")),
            Err(EntryError::Malformed(_))
        ));
    }

    #[test]
    fn other_encodings_of_the_same_entry_are_not_canonical() {
        let cases = [
            // Key order.
            replaced(
                "\"seq\":7,\"time\":\"2026-11-23T10:15:30.123456Z\"",
                "\"time\":\"2026-11-23T10:15:30.123456Z\",\"seq\":7",
            ),
            // Whitespace.
            replaced("\"seq\":7", "\"seq\": 7"),
            // Another escape for the same character.
            replaced("above", "\\u0061bove"),
            // Another spelling of the same instant, and other precisions.
            replaced("10:15:30.123456Z", "12:15:30.123456+02:00"),
            replaced("10:15:30.123456Z", "10:15:30.1234560Z"),
            replaced("10:15:30.123456Z", "10:15:30.123456z"),
        ];
        for bytes in cases {
            assert_eq!(
                parse_canonical(&bytes),
                Err(EntryError::NotCanonical),
                "{}",
                String::from_utf8_lossy(&bytes)
            );
        }
        // A newline at the end is framing, not part of the entry.
        let mut with_newline = sample().to_canonical();
        with_newline.push(b'\n');
        assert_eq!(
            parse_canonical(&with_newline),
            Err(EntryError::NotCanonical)
        );
        // A raw (unescaped) non-ASCII character is valid JSON but not canonical.
        let mut e = sample();
        e.reason = "é".into();
        let raw = String::from_utf8(e.to_canonical())
            .unwrap()
            .replace("\\u00e9", "é");
        assert_eq!(
            parse_canonical(raw.as_bytes()),
            Err(EntryError::NotCanonical)
        );
        assert_eq!(
            parse_canonical(&replaced("10:15:30.123456Z", "yesterday")),
            Err(EntryError::Time)
        );
    }
}
