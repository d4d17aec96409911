//! A client refused during the TLS handshake of the main listener, as the audit log records
//! it: where it came from, why, and what certificate it presented, if any. Nothing else is
//! known of it: no request was read.

use std::fmt;
use std::net::IpAddr;

use time::OffsetDateTime;

use super::record::{Acting, AuditRecord};
use crate::domain::access::RegistryRecord;
use crate::domain::principal::SpkiFingerprint;

/// The action of one refused handshake.
pub const TLS_REFUSED: &str = "tls.refused";
/// The action of the entry that counts refusals past the bound (`refusal_budget`).
pub const TLS_REFUSED_UNRECORDED: &str = "tls.refused.unrecorded";

/// Longest subject kept in an entry: the client wrote it, and its CA may be anyone's.
const MAX_SUBJECT: usize = 256;

/// Why the handshake failed, in the terms the README uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalReason {
    NoCertificate,
    UnknownIssuer,
    Revoked,
    Expired,
    NotYetValid,
    WrongKeyUsage,
    BadSignature,
    Malformed,
    /// Any other refusal of the certificate by the verifier.
    Other,
}

impl fmt::Display for RefusalReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RefusalReason::NoCertificate => "no client certificate",
            RefusalReason::UnknownIssuer => "issued by a CA the hub does not trust",
            RefusalReason::Revoked => "revoked",
            RefusalReason::Expired => "expired",
            RefusalReason::NotYetValid => "not yet valid",
            RefusalReason::WrongKeyUsage => "no clientAuth extended key usage",
            RefusalReason::BadSignature => "bad signature",
            RefusalReason::Malformed => "malformed certificate",
            RefusalReason::Other => "certificate refused",
        })
    }
}

/// What a refused certificate says of itself. Unverified: it identifies no one, and is
/// recorded only to tell refusals apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentedCertificate {
    pub fingerprint: SpkiFingerprint,
    /// Lower-case hex.
    pub serial: String,
    pub subject: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsRefusal {
    pub source: IpAddr,
    pub reason: RefusalReason,
    pub certificate: Option<PresentedCertificate>,
}

fn cut(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_owned();
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…(cut)", &text[..end])
}

impl TlsRefusal {
    /// The entry of this refusal. `known` is the registry record the presented key is bound
    /// to, if any: its organisation may then read the entry. `unrecorded_before` is how many
    /// refusals from the same source were counted but not recorded since its previous entry.
    pub fn record(
        &self,
        known: Option<&RegistryRecord>,
        unrecorded_before: u64,
        at: OffsetDateTime,
    ) -> AuditRecord {
        let fingerprint = self
            .certificate
            .as_ref()
            .map(|c| c.fingerprint.to_hex())
            .unwrap_or_default();
        let acting = match known {
            Some(record) => Acting::by(record, at),
            None => Acting::unregistered("", &fingerprint, at),
        };
        let mut objects = vec![format!("addr:{}", self.source)];
        if let Some(c) = &self.certificate {
            objects.push(format!("serial:{}", c.serial));
            objects.push(format!("subject:{}", cut(&c.subject, MAX_SUBJECT)));
        }
        let mut reason = self.reason.to_string();
        if unrecorded_before > 0 {
            reason.push_str(&format!(
                "; {unrecorded_before} earlier refusals from this source not recorded"
            ));
        }
        acting.record(TLS_REFUSED).objects(objects).denied(reason)
    }
}

/// The entry that counts `count` refusals past the bound that no later entry of their source
/// took up.
pub fn unrecorded_record(count: u64, at: OffsetDateTime) -> AuditRecord {
    AuditRecord::hub(TLS_REFUSED_UNRECORDED, at).denied(format!(
        "{count} refused TLS handshakes past the audit bound, not recorded one by one"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::audit::entry::Decision;
    use time::macros::datetime;

    #[test]
    fn an_entry_names_the_source_the_reason_and_the_certificate() {
        let refusal = TlsRefusal {
            source: "203.0.113.7".parse().unwrap(),
            reason: RefusalReason::Revoked,
            certificate: Some(PresentedCertificate {
                fingerprint: SpkiFingerprint::from_bytes([0xab; 32]),
                serial: "1f".into(),
                subject: format!("CN={}", "x".repeat(300)),
            }),
        };
        let r = refusal.record(None, 12, datetime!(2026-11-23 10:00 UTC));
        assert_eq!(r.action, TLS_REFUSED);
        assert_eq!(r.decision, Decision::Deny);
        assert_eq!(r.actor.fingerprint, "ab".repeat(32));
        assert_eq!(r.actor.principal, "");
        assert_eq!(r.organisation, None);
        assert_eq!(r.objects[0], "addr:203.0.113.7");
        assert_eq!(r.objects[1], "serial:1f");
        assert!(r.objects[2].ends_with("…(cut)") && r.objects[2].len() < 280);
        assert_eq!(
            r.reason,
            "revoked; 12 earlier refusals from this source not recorded"
        );
        let bare = TlsRefusal {
            source: "::1".parse().unwrap(),
            reason: RefusalReason::NoCertificate,
            certificate: None,
        }
        .record(None, 0, datetime!(2026-11-23 10:00 UTC));
        assert_eq!(bare.objects, ["addr:::1"]);
        assert_eq!(bare.reason, "no client certificate");
        assert_eq!(bare.actor.fingerprint, "");
    }
}
