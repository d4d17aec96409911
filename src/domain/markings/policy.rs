//! The marking policy (`policies/markings.toml`), parsed and checked.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{Pap, Tlp};

/// A group of readers a TLP level (or a PAP level) is released to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    Everyone,
    Csirt,
    Providers,
    Peers,
    Producer,
    SharedWith,
    Recipients,
}

/// What happens to a field whose granular marking the reader may not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GranularRule {
    Redact,
    Withhold,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelRule {
    pub readers: Vec<Audience>,
    #[serde(default = "yes")]
    pub bulk_export: bool,
    #[serde(default = "yes")]
    pub federate: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
struct PapSection {
    active_use: Vec<Pap>,
    #[serde(default)]
    readers: BTreeMap<Pap, Vec<Audience>>,
}

fn federated_provider_default() -> Vec<Tlp> {
    vec![Tlp::Clear, Tlp::Green]
}

/// Material that partner hubs delivered: whom it reaches besides the CSIRT.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
struct FederatedSection {
    /// The TLP levels of federated material providers may read (still subject to the level's
    /// own readers).
    #[serde(default = "federated_provider_default")]
    providers: Vec<Tlp>,
}

impl Default for FederatedSection {
    fn default() -> Self {
        Self {
            providers: federated_provider_default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    default_tlp: Tlp,
    granular_above_clearance: GranularRule,
    tlp: BTreeMap<Tlp, LevelRule>,
    pap: PapSection,
    #[serde(default)]
    federated: FederatedSection,
}

/// The checked policy: every TLP level has a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkingPolicy {
    pub default_tlp: Tlp,
    pub granular: GranularRule,
    tlp: BTreeMap<Tlp, LevelRule>,
    pap_active_use: Vec<Pap>,
    /// PAP levels that restrict readers; a level absent here restricts no one.
    pap_readers: BTreeMap<Pap, Vec<Audience>>,
    /// TLP levels of federated material that providers may read.
    federated_providers: Vec<Tlp>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("markings policy: {0}")]
    Parse(String),
    #[error("markings policy: no rule for {0}")]
    MissingLevel(Tlp),
    #[error("markings policy: {0} may never be used actively (MARKINGS.md)")]
    ActivePap(Pap),
    #[error("markings policy: {0} is readable by more than {1}, which is less restricted")]
    NotMonotonic(Tlp, Tlp),
}

/// The policy shipped in `policies/markings.toml`, compiled in so the hub always has one.
pub const SHIPPED: &str = include_str!("../../../policies/markings.toml");

impl MarkingPolicy {
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        let file: PolicyFile =
            toml::from_str(text).map_err(|e| PolicyError::Parse(one_line(&e.to_string())))?;
        for level in Tlp::ALL {
            if !file.tlp.contains_key(&level) {
                return Err(PolicyError::MissingLevel(level));
            }
        }
        if let Some(p) = file.pap.active_use.iter().find(|p| !p.permits_active_use()) {
            return Err(PolicyError::ActivePap(*p));
        }
        // A stricter level may not name an audience a looser one lacks: otherwise raising an
        // object's TLP could widen who reads it.
        for pair in Tlp::ALL.windows(2) {
            let (looser, stricter) = (pair[0], pair[1]);
            let wide = &file.tlp[&looser].readers;
            let allows_everyone = wide.contains(&Audience::Everyone);
            if !allows_everyone
                && file.tlp[&stricter]
                    .readers
                    .iter()
                    .any(|a| !wide.contains(a))
            {
                return Err(PolicyError::NotMonotonic(stricter, looser));
            }
        }
        Ok(Self {
            default_tlp: file.default_tlp,
            granular: file.granular_above_clearance,
            tlp: file.tlp,
            pap_active_use: file.pap.active_use,
            pap_readers: file.pap.readers,
            federated_providers: file.federated.providers,
        })
    }

    pub fn shipped() -> Result<Self, PolicyError> {
        Self::parse(SHIPPED)
    }

    pub fn tlp_readers(&self, tlp: Tlp) -> &[Audience] {
        self.tlp
            .get(&tlp)
            .map(|r| r.readers.as_slice())
            .unwrap_or(&[])
    }

    /// `None`: this PAP level restricts no reader.
    pub fn pap_readers(&self, pap: Pap) -> Option<&[Audience]> {
        self.pap_readers.get(&pap).map(Vec::as_slice)
    }

    pub fn bulk_export(&self, tlp: Tlp) -> bool {
        self.tlp.get(&tlp).is_some_and(|r| r.bulk_export)
    }

    pub fn federate(&self, tlp: Tlp) -> bool {
        self.tlp.get(&tlp).is_some_and(|r| r.federate)
    }

    /// Whether providers may read federated material at `tlp` (the level's readers decide
    /// besides).
    pub fn providers_read_federated(&self, tlp: Tlp) -> bool {
        self.federated_providers.contains(&tlp)
    }

    pub fn permits_active_use(&self, pap: Option<Pap>) -> bool {
        // An indicator without PAP is treated as the most restrictive level: never blocked on.
        pap.is_some_and(|p| self.pap_active_use.contains(&p))
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_policy_says_what_the_issue_says() {
        use Audience::*;
        let p = MarkingPolicy::shipped().unwrap();
        assert_eq!(p.default_tlp, Tlp::Amber);
        assert_eq!(p.tlp_readers(Tlp::Clear), [Everyone]);
        assert!(p.tlp_readers(Tlp::Green).contains(&Providers));
        assert!(p.tlp_readers(Tlp::Green).contains(&Peers));
        assert!(!p.tlp_readers(Tlp::Amber).contains(&Providers));
        assert!(!p.tlp_readers(Tlp::AmberStrict).contains(&SharedWith));
        assert_eq!(p.tlp_readers(Tlp::Red), [Producer, Recipients]);
        assert!(!p.bulk_export(Tlp::Red) && !p.federate(Tlp::Red));
        assert!(p.bulk_export(Tlp::Amber) && p.federate(Tlp::Green));
        assert!(p.permits_active_use(Some(Pap::Green)));
        assert!(!p.permits_active_use(Some(Pap::Amber)));
        assert!(!p.permits_active_use(None));
    }

    #[test]
    fn bad_policies_are_refused() {
        let missing = SHIPPED.replace("[tlp.red]", "[tlp.rouge]");
        assert!(MarkingPolicy::parse(&missing).is_err());
        let active_red = SHIPPED.replace(
            "active_use = [\"clear\", \"green\"]",
            "active_use = [\"clear\", \"red\"]",
        );
        assert_eq!(
            MarkingPolicy::parse(&active_red),
            Err(PolicyError::ActivePap(Pap::Red))
        );
        let wider_red = SHIPPED.replace(
            "readers = [\"producer\", \"recipients\"]",
            "readers = [\"producer\", \"recipients\", \"providers\"]",
        );
        assert_eq!(
            MarkingPolicy::parse(&wider_red),
            Err(PolicyError::NotMonotonic(Tlp::Red, Tlp::AmberStrict))
        );
        assert!(MarkingPolicy::parse("default_tlp = \"amber\"\nunknown = 1").is_err());
    }
}
