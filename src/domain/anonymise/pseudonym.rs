//! Keyed pseudonyms: HMAC-SHA-256 with the hub's secret.

use std::fmt;

use ring::hmac;

use super::policy::{AnonymisationPolicy, FindingKind};

/// Hex digits of the HMAC kept in a pseudonym: 48 bits. The key is secret, so the length
/// protects nothing (no one without the key can compute or test a pseudonym, however short);
/// it only has to keep distinct values apart. With 48 bits, two of the values of one class ever
/// seen by a hub collide with probability about n²/2⁴⁹: below one in ten thousand for a
/// hundred thousand distinct host names, and such a collision would only merge two pseudonyms
/// in an analyst's view. Twelve digits stay readable in a sentence.
const HEX_DIGITS: usize = 12;

/// Length of the hub's pseudonym secret, in bytes.
pub const KEY_LEN: usize = 32;

/// The hub's pseudonym secret. Pseudonyms are stable for one key and unrelated between keys:
/// two hubs with different secrets give the same value unrelated pseudonyms.
pub struct PseudonymKey(hmac::Key);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a pseudonym key is {KEY_LEN} bytes, not {0}")]
pub struct KeyLengthError(pub usize);

impl PseudonymKey {
    pub fn new(secret: &[u8; KEY_LEN]) -> Self {
        Self(hmac::Key::new(hmac::HMAC_SHA256, secret))
    }

    pub fn from_slice(secret: &[u8]) -> Result<Self, KeyLengthError> {
        let secret: &[u8; KEY_LEN] = secret
            .try_into()
            .map_err(|_| KeyLengthError(secret.len()))?;
        Ok(Self::new(secret))
    }

    /// A key of its own for one scope (a submitting organisation), derived from this one.
    /// A submitter reads back its own anonymised copies; with the hub's key it could submit a
    /// guessed value and compare the pseudonym it gets with those in published objects. Keyed
    /// per organisation, what it reads back says nothing about other organisations' values.
    pub fn scoped(&self, scope: &str) -> PseudonymKey {
        let mut ctx = hmac::Context::with_key(&self.0);
        ctx.update(b"relais pseudonym scope");
        ctx.update(&[0]);
        ctx.update(scope.as_bytes());
        let tag = ctx.sign();
        PseudonymKey(hmac::Key::new(hmac::HMAC_SHA256, tag.as_ref()))
    }

    /// A UUID standing for `value` under this key: stable for the key, unrelated to the value
    /// for anyone without it (the replacement id of an anonymised observable, so that the same
    /// submission sent twice is still stored once).
    pub fn derived_uuid(&self, value: &str) -> uuid::Uuid {
        let mut ctx = hmac::Context::with_key(&self.0);
        ctx.update(b"relais derived id");
        ctx.update(&[0]);
        ctx.update(value.as_bytes());
        let tag = ctx.sign();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(tag.as_ref().get(..16).unwrap_or(&[0; 16]));
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    /// The pseudonym of a value already normalised (see [`normalise`]).
    pub(super) fn pseudonym_of_normalised(
        &self,
        prefix: &str,
        kind: FindingKind,
        normalised: &str,
    ) -> String {
        let class = kind.class();
        // class || 0x00 || value: the separator keeps ("ip", "x…") and ("i", "px…") apart.
        let mut ctx = hmac::Context::with_key(&self.0);
        ctx.update(class.as_bytes());
        ctx.update(&[0]);
        ctx.update(normalised.as_bytes());
        let tag = ctx.sign();
        let hex = hex::encode(tag.as_ref());
        let digits = hex.get(..HEX_DIGITS).unwrap_or(&hex);
        format!("{prefix}{class}-{digits}")
    }

    /// The pseudonym the anonymiser gives `value` found as `kind`, so that an analyst who
    /// knows a value (from the case) can look for it in what was shared.
    pub fn pseudonym(
        &self,
        policy: &AnonymisationPolicy,
        kind: FindingKind,
        value: &str,
    ) -> String {
        self.with_prefix(policy.pseudonym_prefix(), kind, value)
    }

    fn with_prefix(&self, prefix: &str, kind: FindingKind, value: &str) -> String {
        self.pseudonym_of_normalised(prefix, kind, &normalise(kind, value))
    }
}

impl fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PseudonymKey(…)")
    }
}

/// The form of a value that is hashed: two spellings of one thing get one pseudonym.
pub(super) fn normalise(kind: FindingKind, value: &str) -> String {
    use FindingKind::*;
    let value = value.trim();
    match kind {
        PrivateIp | LoopbackIp | LinkLocalIp | CgnatIp | DocumentationIp | UniqueLocalIpv6
        | UnspecifiedIp => {
            super::detect::ip::canonical(value).unwrap_or_else(|| value.to_lowercase())
        }
        WindowsSid => value.to_ascii_uppercase(),
        VictimDomain | VictimHostname | InternalHostname | VictimEmail => {
            super::fold::fold(value.trim_end_matches('.'))
        }
        VictimOrganisation => super::fold::fold(value)
            .split(|c: char| c.is_whitespace() || c == '-' || c == '_')
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
        PathUserName | InternalUrl => super::fold::fold(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonyms_are_stable_per_key_and_differ_between_keys() {
        let a = PseudonymKey::new(&[7; KEY_LEN]);
        let a2 = PseudonymKey::from_slice(&[7; KEY_LEN]).unwrap();
        let b = PseudonymKey::new(&[8; KEY_LEN]);
        let p = a.with_prefix("anon-", FindingKind::VictimHostname, "DC01");
        assert_eq!(p.len(), "anon-host-".len() + HEX_DIGITS);
        assert!(p.starts_with("anon-host-"), "{p}");
        assert_eq!(
            p,
            a2.with_prefix("anon-", FindingKind::VictimHostname, "dc01")
        );
        // One class, one pseudonym.
        assert_eq!(
            p,
            a.with_prefix("anon-", FindingKind::InternalHostname, "dc01")
        );
        assert_ne!(
            p,
            b.with_prefix("anon-", FindingKind::VictimHostname, "DC01")
        );
        assert_ne!(p, a.with_prefix("anon-", FindingKind::PathUserName, "dc01"));
        assert_ne!(
            p,
            a.with_prefix("anon-", FindingKind::VictimHostname, "DC02")
        );
    }

    #[test]
    fn spellings_of_one_value_share_a_pseudonym() {
        let k = PseudonymKey::new(&[1; KEY_LEN]);
        let ip = |v: &str| k.with_prefix("", FindingKind::PrivateIp, v);
        assert_eq!(ip("10.1.2.3"), ip("010.001.002.003"));
        assert_eq!(ip("10.1.2.3"), ip("::ffff:10.1.2.3"));
        assert_eq!(ip("fd00::1"), ip("FD00:0:0::0001"));
        let org = |v: &str| k.with_prefix("", FindingKind::VictimOrganisation, v);
        assert_eq!(
            org("Sucrerie de Bois-Rouge"),
            org("SUCRERIE  DE BOIS ROUGE")
        );
        assert_eq!(org("Communauté"), org("communaute"));
    }

    #[test]
    fn keys_have_one_length_and_never_show() {
        assert_eq!(
            PseudonymKey::from_slice(&[0; 16]).unwrap_err(),
            KeyLengthError(16)
        );
        let k = PseudonymKey::new(&[0x41; KEY_LEN]);
        assert_eq!(format!("{k:?}"), "PseudonymKey(…)");
    }
}

#[cfg(test)]
mod scope_tests {
    use super::*;

    #[test]
    fn scoped_keys_differ_from_each_other_and_from_the_hub_key() {
        let hub = PseudonymKey::new(&[7; KEY_LEN]);
        let a = hub.scoped("org--a");
        let b = hub.scoped("org--b");
        let p = |k: &PseudonymKey| {
            k.pseudonym_of_normalised("anon-", FindingKind::PrivateIp, "10.1.2.3")
        };
        assert_eq!(p(&a), p(&hub.scoped("org--a")));
        assert_ne!(p(&a), p(&b));
        assert_ne!(p(&a), p(&hub));
    }
}
