//! What an action asks the log to record. The store turns a record into an entry: it gives
//! it the next sequence number and a time that never goes back, under the lock that
//! serialises the change itself.

use time::OffsetDateTime;

use super::entry::{Actor, AuditEntry, Decision, audit_time};
use crate::domain::access::RegistryRecord;
use crate::domain::principal::OrganisationId;

/// The principal name of entries the hub writes on its own (first start, background jobs).
pub const HUB_ACTOR: &str = "hub";
/// The principal name of entries written by `relais` commands run on the hub's host: whoever
/// runs them holds the database and the CA key, not a certificate.
pub const OPERATOR_ACTOR: &str = "operator";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub at: OffsetDateTime,
    pub actor: Actor,
    /// See [`Acting::organisation`].
    pub organisation: Option<OrganisationId>,
    pub action: String,
    pub objects: Vec<String>,
    pub markings: Vec<String>,
    pub decision: Decision,
    pub reason: String,
}

/// Who acts and when: what the records of one request or command share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acting {
    pub at: OffsetDateTime,
    pub actor: Actor,
    /// The actor's organisation, if it is a registry principal: its members may fetch the
    /// entries. Kept beside the entry, not in it.
    pub organisation: Option<OrganisationId>,
}

impl Acting {
    /// An authenticated principal.
    pub fn by(caller: &RegistryRecord, at: OffsetDateTime) -> Self {
        Self {
            at,
            actor: Actor {
                principal: caller.principal.id.as_str().to_owned(),
                fingerprint: caller.binding.fingerprint.to_hex(),
            },
            organisation: Some(caller.organisation.id.clone()),
        }
    }

    /// The hub itself (first start, background jobs).
    pub fn hub(at: OffsetDateTime) -> Self {
        Self::unregistered(HUB_ACTOR, "", at)
    }

    /// `relais` run on the hub's host.
    pub fn operator(at: OffsetDateTime) -> Self {
        Self::unregistered(OPERATOR_ACTOR, "", at)
    }

    /// An actor the registry does not know or no longer accepts: only its key is known.
    pub fn unregistered(principal: &str, fingerprint: &str, at: OffsetDateTime) -> Self {
        Self {
            at,
            actor: Actor {
                principal: principal.to_owned(),
                fingerprint: fingerprint.to_owned(),
            },
            organisation: None,
        }
    }

    /// A record of `action`, allowed, naming nothing yet.
    pub fn record(&self, action: &str) -> AuditRecord {
        AuditRecord {
            at: self.at,
            actor: self.actor.clone(),
            organisation: self.organisation.clone(),
            action: action.to_owned(),
            objects: Vec::new(),
            markings: Vec::new(),
            decision: Decision::Allow,
            reason: String::new(),
        }
    }
}

impl AuditRecord {
    /// An allowed action of an authenticated principal.
    pub fn by(caller: &RegistryRecord, action: &str, at: OffsetDateTime) -> Self {
        Acting::by(caller, at).record(action)
    }

    /// An action of the hub itself.
    pub fn hub(action: &str, at: OffsetDateTime) -> Self {
        Acting::hub(at).record(action)
    }

    /// An action of `relais` run on the hub's host.
    pub fn operator(action: &str, at: OffsetDateTime) -> Self {
        Acting::operator(at).record(action)
    }

    pub fn objects<I, S>(mut self, ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.objects.extend(ids.into_iter().map(Into::into));
        self
    }

    /// Adds marking names, keeping the list sorted and without repeats.
    pub fn markings<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.markings.extend(names.into_iter().map(Into::into));
        self.markings.sort();
        self.markings.dedup();
        self
    }

    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = reason.into();
        self
    }

    pub fn denied(mut self, reason: impl Into<String>) -> Self {
        self.decision = Decision::Deny;
        self.reason = reason.into();
        self
    }

    /// The entry at position `seq`, its time never before `not_before` (the previous entry's:
    /// instances' clocks differ, and the log's time only moves forward).
    pub fn to_entry(&self, seq: u64, not_before: Option<OffsetDateTime>) -> AuditEntry {
        let at = audit_time(self.at);
        AuditEntry {
            seq,
            time: match not_before {
                Some(previous) if previous > at => previous,
                _ => at,
            },
            actor: self.actor.clone(),
            action: self.action.clone(),
            objects: self.objects.clone(),
            markings: self.markings.clone(),
            decision: self.decision,
            reason: self.reason.clone(),
        }
    }
}

/// A free-text reason that may name a victim (an analyst's note) goes into the log as its
/// hash: the entry still pins the exact text kept in the store, without carrying it.
pub fn text_digest(text: &str) -> String {
    format!("sha256:{}", crate::crypto::sha256_hex(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn time_never_goes_back_and_is_kept_to_the_microsecond() {
        let r = AuditRecord::hub("hub.start", datetime!(2026-11-23 10:00:00.123456789 UTC));
        let e = r.to_entry(3, Some(datetime!(2026-11-23 10:00:01 UTC)));
        assert_eq!(e.time, datetime!(2026-11-23 10:00:01 UTC));
        let e = r.to_entry(3, Some(datetime!(2026-11-23 09:00:00 UTC)));
        assert_eq!(e.time, datetime!(2026-11-23 10:00:00.123456 UTC));
        assert_eq!(e.seq, 3);
    }

    #[test]
    fn markings_are_a_sorted_set() {
        let r = AuditRecord::hub("x", datetime!(2026-11-23 10:00 UTC)).markings([
            "TLP:RED",
            "TLP:CLEAR",
            "TLP:RED",
        ]);
        assert_eq!(r.markings, ["TLP:CLEAR", "TLP:RED"]);
    }

    #[test]
    fn free_text_is_hashed() {
        assert_eq!(
            text_digest("abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
