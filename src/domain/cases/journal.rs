//! The case journal (main courante, Convention art. 4): every operation done for the
//! beneficiary, by the provider and the CSIRT. Append only: a correction is a new entry that
//! points at the one it corrects. Each entry's hash covers the previous entry's hash and its
//! own content, so an edited, removed or reordered entry breaks every hash after it.

use std::fmt;
use std::fmt::Write as _;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::qualification::{QualificationError, long_text, short_text};
use crate::domain::principal::{UnknownVariant, text_enum};
use crate::domain::stix::stored::utc_timestamp;

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// Most participants of a meeting, attachments of an entry, and entries of a journal.
pub const MAX_PARTICIPANTS: usize = 50;
pub const MAX_ATTACHMENTS: usize = 50;
pub const MAX_ENTRIES: u64 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    Action,
    Finding,
    Communication,
    /// A meeting, with its participants (follow-up and closure meetings, art. 3).
    Meeting,
    Decision,
}
text_enum!(EntryKind, "journal entry kind", {
    Action => "action",
    Finding => "finding",
    Communication => "communication",
    Meeting => "meeting",
    Decision => "decision",
});

/// A file the entry refers to, by digest: the journal never holds the file itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    pub name: String,
    /// Lower-case hex SHA-256 of the file.
    pub sha256: String,
}

/// What an author sends.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEntry {
    pub kind: EntryKind,
    pub text: String,
    #[serde(default)]
    pub participants: Vec<String>,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// The number of the entry this one corrects.
    #[serde(default)]
    pub corrects: Option<u64>,
}

/// An entry as chained and stored. Field order is the hashed order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub case_id: String,
    pub number: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Principal id from the certificate.
    pub author: String,
    pub author_name: String,
    pub organisation: String,
    pub kind: EntryKind,
    pub text: String,
    pub participants: Vec<String>,
    pub attachments: Vec<Attachment>,
    pub corrects: Option<u64>,
    pub previous: String,
    pub hash: String,
}

/// Who writes, as the certificate says.
pub struct Author<'a> {
    pub principal: &'a str,
    pub name: &'a str,
    pub organisation: &'a str,
}

/// The content an entry's hash covers: everything but the hash, in a fixed order.
fn hashed_content(e: &Entry) -> String {
    let content = serde_json::json!([
        e.case_id,
        e.number,
        utc_timestamp(e.at, 6),
        e.author,
        e.author_name,
        e.organisation,
        e.kind.as_str(),
        e.text,
        e.participants,
        e.attachments
            .iter()
            .map(|a| [&a.name, &a.sha256])
            .collect::<Vec<_>>(),
        e.corrects,
    ]);
    format!("{}\n{content}", e.previous)
}

pub fn entry_hash(e: &Entry) -> String {
    crate::crypto::sha256_hex(hashed_content(e).as_bytes())
}

/// The next entry after `head` (the last entry, if any), checked.
pub fn append(
    case_id: &str,
    head: Option<&Entry>,
    author: &Author<'_>,
    new: NewEntry,
    at: OffsetDateTime,
) -> Result<Entry, QualificationError> {
    let bad = |field: &str, message: String| QualificationError {
        field: field.into(),
        message,
    };
    let number = head.map_or(1, |h| h.number + 1);
    if number > MAX_ENTRIES {
        return Err(bad("journal", format!("at most {MAX_ENTRIES} entries")));
    }
    let text = long_text("text", &new.text)?;
    if new.participants.len() > MAX_PARTICIPANTS {
        return Err(bad(
            "participants",
            format!("at most {MAX_PARTICIPANTS} participants"),
        ));
    }
    let participants = new
        .participants
        .iter()
        .map(|p| short_text("participants", p))
        .collect::<Result<Vec<_>, _>>()?;
    if new.kind == EntryKind::Meeting && participants.is_empty() {
        return Err(bad(
            "participants",
            "a meeting names its participants".into(),
        ));
    }
    if new.attachments.len() > MAX_ATTACHMENTS {
        return Err(bad(
            "attachments",
            format!("at most {MAX_ATTACHMENTS} attachments"),
        ));
    }
    let mut attachments = Vec::with_capacity(new.attachments.len());
    for a in new.attachments {
        let name = short_text("attachments.name", &a.name)?;
        let sha256 = a.sha256.trim().to_ascii_lowercase();
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad(
                "attachments.sha256",
                "64 hexadecimal digits (SHA-256)".into(),
            ));
        }
        attachments.push(Attachment { name, sha256 });
    }
    if let Some(n) = new.corrects
        && (n == 0 || n >= number)
    {
        return Err(bad(
            "corrects",
            format!("entry #{n} does not exist; a correction points at an earlier entry"),
        ));
    }
    let mut entry = Entry {
        case_id: case_id.to_owned(),
        number,
        at,
        author: author.principal.to_owned(),
        author_name: author.name.to_owned(),
        organisation: author.organisation.to_owned(),
        kind: new.kind,
        text,
        participants,
        attachments,
        corrects: new.corrects,
        previous: head.map_or_else(|| GENESIS.to_owned(), |h| h.hash.clone()),
        hash: String::new(),
    };
    entry.hash = entry_hash(&entry);
    Ok(entry)
}

/// The first entry whose number, link or hash is wrong, if any.
pub fn verify(entries: &[Entry]) -> Result<(), u64> {
    let mut previous = GENESIS.to_owned();
    for (i, e) in entries.iter().enumerate() {
        if e.number != i as u64 + 1 || e.previous != previous || entry_hash(e) != e.hash {
            return Err(i as u64 + 1);
        }
        previous.clone_from(&e.hash);
    }
    Ok(())
}

/// The journal as a text the beneficiary can keep (and the hub signs in clear).
pub fn render_text(
    reference: &str,
    beneficiary: &str,
    csirt: &str,
    entries: &[Entry],
    at: OffsetDateTime,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Main courante / case journal");
    let _ = writeln!(out, "Case: {reference}");
    let _ = writeln!(out, "Beneficiary: {beneficiary}");
    let _ = writeln!(out, "Kept on the hub of {csirt}");
    let _ = writeln!(out, "Exported: {}", utc_timestamp(at, 0));
    let _ = writeln!(out, "Entries: {}", entries.len());
    if let Some(last) = entries.last() {
        let _ = writeln!(out, "Last hash: {}", last.hash);
    }
    for e in entries {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "#{} {} {} by {} ({})",
            e.number,
            utc_timestamp(e.at, 0),
            e.kind.as_str(),
            e.author_name,
            e.organisation
        );
        if let Some(n) = e.corrects {
            let _ = writeln!(out, "  corrects #{n}");
        }
        if !e.participants.is_empty() {
            let _ = writeln!(out, "  participants: {}", e.participants.join(", "));
        }
        for line in e.text.lines() {
            let _ = writeln!(out, "  | {line}");
        }
        for a in &e.attachments {
            let _ = writeln!(out, "  attachment: {} sha256:{}", a.name, a.sha256);
        }
        let _ = writeln!(out, "  hash: {}", e.hash);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn author() -> Author<'static> {
        Author {
            principal: "prn-1",
            name: "provider-a",
            organisation: "Provider A",
        }
    }

    fn entry(kind: EntryKind, text: &str) -> NewEntry {
        NewEntry {
            kind,
            text: text.into(),
            participants: vec![],
            attachments: vec![],
            corrects: None,
        }
    }

    fn chain() -> Vec<Entry> {
        let at = datetime!(2026-12-03 08:00 UTC);
        let a = append(
            "case--1",
            None,
            &author(),
            entry(EntryKind::Action, "Isolé le serveur"),
            at,
        )
        .unwrap();
        let b = append(
            "case--1",
            Some(&a),
            &author(),
            NewEntry {
                corrects: Some(1),
                ..entry(EntryKind::Finding, "Deux serveurs, pas un")
            },
            at,
        )
        .unwrap();
        vec![a, b]
    }

    #[test]
    fn a_chain_verifies_and_any_edit_breaks_it() {
        let entries = chain();
        assert_eq!(entries[0].previous, GENESIS);
        assert_eq!(entries[1].previous, entries[0].hash);
        assert_eq!(verify(&entries), Ok(()));
        let mut edited = entries.clone();
        edited[0].text = "Rien fait".into();
        assert_eq!(verify(&edited), Err(1));
        let mut dropped = entries.clone();
        dropped.remove(0);
        assert_eq!(verify(&dropped), Err(1));
        let mut reordered = entries;
        reordered.swap(0, 1);
        assert_eq!(verify(&reordered), Err(1));
    }

    #[test]
    fn entries_are_checked() {
        let at = datetime!(2026-12-03 08:00 UTC);
        let meeting = entry(EntryKind::Meeting, "Point de suivi");
        assert!(append("c", None, &author(), meeting, at).is_err());
        let ahead = NewEntry {
            corrects: Some(1),
            ..entry(EntryKind::Action, "x")
        };
        assert!(append("c", None, &author(), ahead, at).is_err());
        let bad_digest = NewEntry {
            attachments: vec![Attachment {
                name: "dump.raw".into(),
                sha256: "abc".into(),
            }],
            ..entry(EntryKind::Action, "x")
        };
        assert!(append("c", None, &author(), bad_digest, at).is_err());
        let escape = entry(EntryKind::Action, "\u{1b}]0;owned\u{7}");
        assert!(append("c", None, &author(), escape, at).is_err());
    }

    #[test]
    fn the_text_export_carries_every_entry_and_hash() {
        let entries = chain();
        let text = render_text(
            "CSIRT-RE-1",
            "Mairie",
            "CSIRT",
            &entries,
            datetime!(2026-12-03 09:00 UTC),
        );
        assert!(text.contains("#2 2026-12-03T08:00:00Z finding by provider-a (Provider A)"));
        assert!(text.contains("  corrects #1"));
        assert!(text.contains(&entries[1].hash));
    }
}
