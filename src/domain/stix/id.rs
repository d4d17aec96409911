//! STIX identifiers (`type--UUID`, § 2.9) and object type names (§ 3.1): what makes a string
//! one. Every module that reads an identifier parses it here, so the JSON reader, the
//! validator and the marking rules agree on which strings name an object.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

/// Bounds on the length of a type name (§ 3.1 / § 11.2 of STIX 2.1).
pub const TYPE_NAME_LEN: std::ops::RangeInclusive<usize> = 3..=250;

/// Why a type name is not one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TypeNameError {
    #[error("must be 3 to 250 characters long")]
    Length,
    #[error("must start with a lowercase ASCII letter")]
    Start,
    #[error("may only contain a-z, 0-9 and '-'")]
    Charset,
    #[error("must not contain two hyphens in a row")]
    DoubleHyphen,
    #[error("must not end with a hyphen")]
    TrailingHyphen,
}

/// Checks a STIX object type name: `a-z`, `0-9` and single hyphens, starting with a letter and
/// ending with a letter or digit, 3 to 250 characters (the rules of the spec and the OASIS
/// identifier pattern).
pub fn check_type_name(name: &str) -> Result<(), TypeNameError> {
    if !TYPE_NAME_LEN.contains(&name.len()) {
        return Err(TypeNameError::Length);
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(TypeNameError::Start);
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(TypeNameError::Charset);
    }
    if name.contains("--") {
        return Err(TypeNameError::DoubleHyphen);
    }
    if name.ends_with('-') {
        return Err(TypeNameError::TrailingHyphen);
    }
    Ok(())
}

/// Why an identifier is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("must be <type>--<UUID>")]
    Shape,
    #[error("invalid type part: {0}")]
    Type(TypeNameError),
    #[error("the UUID part must be 8-4-4-4-12 hexadecimal digits")]
    UuidSyntax,
    #[error("the UUID is not an RFC 4122 UUID (variant bits)")]
    UuidVariant,
    #[error("the UUID has version {0}; RFC 4122 defines versions 1 to 5")]
    UuidVersion(usize),
}

/// A STIX identifier, `type--UUID`, as written (hex digits keep their case).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StixId {
    text: String,
    type_len: usize,
    uuid: Uuid,
}

impl StixId {
    pub fn parse(s: &str) -> Result<Self, IdError> {
        // Neither part holds "--".
        let Some(sep) = s.find("--") else {
            return Err(IdError::Shape);
        };
        let (object_type, uuid) = (&s[..sep], &s[sep + 2..]);
        if object_type.is_empty() {
            return Err(IdError::Shape);
        }
        check_type_name(object_type).map_err(IdError::Type)?;
        let uuid = parse_uuid(uuid)?;
        Ok(Self {
            text: s.to_owned(),
            type_len: sep,
            uuid,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The part before `--`.
    pub fn object_type(&self) -> &str {
        &self.text[..self.type_len]
    }

    pub fn uuid(&self) -> Uuid {
        self.uuid
    }
}

fn parse_uuid(s: &str) -> Result<Uuid, IdError> {
    // Only the hyphenated form: `Uuid::try_parse` also takes braces, URNs and bare hex.
    let b = s.as_bytes();
    let hyphenated = b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        });
    if !hyphenated {
        return Err(IdError::UuidSyntax);
    }
    let uuid = Uuid::try_parse(s).map_err(|_| IdError::UuidSyntax)?;
    if uuid.get_variant() != uuid::Variant::RFC4122 {
        return Err(IdError::UuidVariant);
    }
    match uuid.get_version_num() {
        1..=5 => Ok(uuid),
        v => Err(IdError::UuidVersion(v)),
    }
}

impl fmt::Display for StixId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for StixId {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl AsRef<str> for StixId {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

impl serde::Serialize for StixId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> serde::Deserialize<'de> for StixId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use serde_json::json;

    const UUID4: &str = "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
    const IDENTITY: &str = "identity--311b2d2d-f010-4473-83ec-1edf84858f4c";

    #[test]
    fn identifiers() {
        assert!(matches!(
            StixId::parse(&format!("Indicator--{UUID4}")),
            Err(IdError::Type(TypeNameError::Start))
        ));
        assert!(matches!(
            StixId::parse(&format!("x_a--{UUID4}")),
            Err(IdError::Type(TypeNameError::Charset))
        ));
        assert!(matches!(
            StixId::parse(&format!("ab--{UUID4}")),
            Err(IdError::Type(TypeNameError::Length))
        ));
        assert!(matches!(
            StixId::parse(&format!("--{UUID4}")),
            Err(IdError::Shape)
        ));
        assert!(StixId::parse(&format!("x-foo---{UUID4}")).is_err());
        assert_eq!(
            check_type_name("x-foo-"),
            Err(TypeNameError::TrailingHyphen)
        );
        assert_eq!(check_type_name("x--foo"), Err(TypeNameError::DoubleHyphen));
        let id: StixId = serde_json::from_value(json!(IDENTITY)).unwrap();
        assert_eq!(serde_json::to_value(&id).unwrap(), json!(IDENTITY));
        assert!(serde_json::from_value::<StixId>(json!("identity--1")).is_err());
    }
}
