//! Organisations, principals and certificate bindings as the registry knows them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A value read from storage or the command line that does not name a known variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {value:?}")]
pub struct UnknownVariant {
    pub what: &'static str,
    pub value: String,
}

/// Implements `as_str`, `Display` and `FromStr` for a fieldless enum from one table of
/// (variant, text) pairs, so the text stored in the database and printed by the CLI can
/// never drift apart.
macro_rules! text_enum {
    ($ty:ident, $what:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $ty {
            type Err = UnknownVariant;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($ty::$variant),)+
                    _ => Err(UnknownVariant { what: $what, value: s.to_owned() }),
                }
            }
        }
    };
}
pub(crate) use text_enum;

/// What a principal is to the hub. It decides which parts of the API it may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    /// Staff of the hub's own CSIRT.
    Analyst,
    /// A person or tool of a referenced incident-response provider.
    Provider,
    /// A partner CSIRT's hub, for federation.
    Peer,
}
text_enum!(PrincipalKind, "principal kind", {
    Analyst => "analyst",
    Provider => "provider",
    Peer => "peer",
});

impl PrincipalKind {
    /// The only organisation kind a principal of this kind may belong to.
    pub fn organisation_kind(self) -> OrganisationKind {
        match self {
            PrincipalKind::Analyst => OrganisationKind::Csirt,
            PrincipalKind::Provider => OrganisationKind::Provider,
            PrincipalKind::Peer => OrganisationKind::Peer,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalStatus {
    Active,
    Suspended,
    /// Closed for good (the person left, the tool was retired).
    Disabled,
}
text_enum!(PrincipalStatus, "principal status", {
    Active => "active",
    Suspended => "suspended",
    Disabled => "disabled",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrganisationKind {
    /// The CSIRT that runs this hub.
    Csirt,
    Provider,
    Peer,
}
text_enum!(OrganisationKind, "organisation kind", {
    Csirt => "csirt",
    Provider => "provider",
    Peer => "peer",
});

/// Status of an organisation. For providers these are the states of the referencing lifecycle
/// of the convention; the CSIRT and peers use `Active` and `Suspended` only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrganisationStatus {
    Active,
    Applied,
    UnderReview,
    Referenced,
    Renewed,
    NoticeGiven,
    Suspended,
    Dereferenced,
    Terminated,
    Expired,
}
text_enum!(OrganisationStatus, "organisation status", {
    Active => "active",
    Applied => "applied",
    UnderReview => "under_review",
    Referenced => "referenced",
    Renewed => "renewed",
    NoticeGiven => "notice_given",
    Suspended => "suspended",
    Dereferenced => "dereferenced",
    Terminated => "terminated",
    Expired => "expired",
});

impl OrganisationStatus {
    /// Whether members of an organisation in this status may use the main listener.
    ///
    /// A provider under notice keeps working until the notice runs out (Convention art. 13,
    /// 16); an applicant has no access before it is referenced.
    pub fn grants_access(self) -> bool {
        matches!(
            self,
            OrganisationStatus::Active
                | OrganisationStatus::Referenced
                | OrganisationStatus::Renewed
                | OrganisationStatus::NoticeGiven
        )
    }
}

/// Identifier of an organisation (a UUID, kept as text so both backends store it alike).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrganisationId(String);

impl OrganisationId {
    /// The STIX `identity` the hub binds to this organisation: what its objects may name as
    /// `created_by_ref`, and what the hub names when it attributes an object to it. Derived
    /// from the registry's id, so it never changes and needs no storage.
    pub fn stix_identity(&self) -> String {
        // Fixed namespace: uuid5(URL, "urn:relais:identity").
        const NAMESPACE: uuid::Uuid =
            uuid::Uuid::from_u128(0x6b1e_0c2a_5d1f_5a8e_9b7c_1f2e_3d4c_5b6a);
        format!(
            "identity--{}",
            uuid::Uuid::new_v5(&NAMESPACE, self.0.as_bytes())
        )
    }
}

/// Identifier of a principal.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PrincipalId(String);

macro_rules! uuid_id {
    ($ty:ident, $prefix:literal) => {
        impl $ty {
            pub fn generate() -> Self {
                Self(format!(concat!($prefix, "{}"), uuid::Uuid::new_v4()))
            }

            /// Wraps an identifier read back from storage.
            pub fn from_stored(s: String) -> Self {
                Self(s)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}
uuid_id!(OrganisationId, "org--");
uuid_id!(PrincipalId, "principal--");

/// SHA-256 of a certificate's SubjectPublicKeyInfo: the only thing that identifies a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpkiFingerprint([u8; 32]);

impl SpkiFingerprint {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for SpkiFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a fingerprint is 64 hexadecimal digits (SHA-256 of the SubjectPublicKeyInfo)")]
pub struct BadFingerprint;

impl FromStr for SpkiFingerprint {
    type Err = BadFingerprint;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let cleaned: String = s.chars().filter(|c| *c != ':').collect();
        let bytes = hex::decode(cleaned).map_err(|_| BadFingerprint)?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| BadFingerprint)?;
        Ok(Self(bytes))
    }
}

impl Serialize for SpkiFingerprint {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Organisation {
    pub id: OrganisationId,
    pub name: String,
    pub kind: OrganisationKind,
    pub status: OrganisationStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    pub id: PrincipalId,
    pub organisation_id: OrganisationId,
    pub kind: PrincipalKind,
    pub name: String,
    pub status: PrincipalStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A certificate bound to a principal by its public key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateBinding {
    pub fingerprint: SpkiFingerprint,
    pub principal_id: PrincipalId,
    /// Serial number, lower-case hexadecimal without leading zero bytes.
    pub serial: String,
    pub subject: String,
    pub issuer: String,
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// Whether the hub's own CA issued it (and so lists it in its CRL when revoked).
    pub issued_by_hub: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
    pub revocation_reason: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl CertificateBinding {
    pub fn is_revoked(&self) -> bool {
        self.revoked_at.is_some()
    }
}

/// Checks a name given to an organisation or principal: printable, bounded, no leading or
/// trailing blanks. These names end up in certificate subjects and logs.
pub fn validate_name(what: &'static str, name: &str) -> Result<(), InvalidName> {
    const MAX: usize = 128;
    if name.trim().is_empty() {
        return Err(InvalidName {
            what,
            reason: "is empty",
        });
    }
    if name.trim() != name {
        return Err(InvalidName {
            what,
            reason: "has leading or trailing spaces",
        });
    }
    if name.chars().count() > MAX {
        return Err(InvalidName {
            what,
            reason: "is longer than 128 characters",
        });
    }
    if name.chars().any(char::is_control) {
        return Err(InvalidName {
            what,
            reason: "contains control characters",
        });
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the {what} name {reason}")]
pub struct InvalidName {
    pub what: &'static str,
    pub reason: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_enums_round_trip() {
        for k in PrincipalKind::ALL {
            assert_eq!(k.as_str().parse::<PrincipalKind>(), Ok(*k));
        }
        for s in OrganisationStatus::ALL {
            assert_eq!(s.as_str().parse::<OrganisationStatus>(), Ok(*s));
        }
        assert!("root".parse::<PrincipalKind>().is_err());
    }

    #[test]
    fn only_working_states_grant_access() {
        let granting: Vec<_> = OrganisationStatus::ALL
            .iter()
            .filter(|s| s.grants_access())
            .map(|s| s.as_str())
            .collect();
        assert_eq!(
            granting,
            ["active", "referenced", "renewed", "notice_given"]
        );
    }

    #[test]
    fn fingerprint_parses_with_or_without_colons() {
        let hex = "ab".repeat(32);
        let fp: SpkiFingerprint = hex.parse().unwrap();
        assert_eq!(fp.to_hex(), hex);
        let colons = vec!["ab"; 32].join(":");
        assert_eq!(colons.parse::<SpkiFingerprint>().unwrap(), fp);
        assert!("abcd".parse::<SpkiFingerprint>().is_err());
    }

    #[test]
    fn names_are_checked() {
        assert!(validate_name("organisation", "CSIRT La Réunion").is_ok());
        assert!(validate_name("organisation", " x").is_err());
        assert!(validate_name("organisation", "").is_err());
        assert!(validate_name("organisation", "a\u{7}b").is_err());
        assert!(validate_name("organisation", &"x".repeat(129)).is_err());
    }
}
