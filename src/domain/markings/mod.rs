//! TLP 2.0 and PAP: the levels, the marking definitions that carry them, the policy that says
//! who may read what, and the one decision function every way out goes through.
//!
//! Identifiers and rules: `shared/design/MARKINGS.md`.

pub mod definitions;
pub mod policy;
pub mod references;
pub mod release;
pub mod sealed;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Traffic Light Protocol 2.0 levels, in increasing order of restriction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tlp {
    Clear,
    Green,
    Amber,
    AmberStrict,
    Red,
}

/// Permissible Actions Protocol levels, in increasing order of restriction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pap {
    Clear,
    Green,
    Amber,
    Red,
}

impl Tlp {
    pub const ALL: [Tlp; 5] = [
        Tlp::Clear,
        Tlp::Green,
        Tlp::Amber,
        Tlp::AmberStrict,
        Tlp::Red,
    ];

    /// The label as FIRST writes it.
    pub fn label(self) -> &'static str {
        match self {
            Tlp::Clear => "TLP:CLEAR",
            Tlp::Green => "TLP:GREEN",
            Tlp::Amber => "TLP:AMBER",
            Tlp::AmberStrict => "TLP:AMBER+STRICT",
            Tlp::Red => "TLP:RED",
        }
    }

    /// The text stored in the database and used in the policy file.
    pub fn as_str(self) -> &'static str {
        match self {
            Tlp::Clear => "clear",
            Tlp::Green => "green",
            Tlp::Amber => "amber",
            Tlp::AmberStrict => "amber_strict",
            Tlp::Red => "red",
        }
    }

    /// The OASIS TLP 2.0 marking definition of this level.
    pub fn marking_definition_id(self) -> &'static str {
        definitions::tlp2_id(self)
    }
}

impl Pap {
    pub const ALL: [Pap; 4] = [Pap::Clear, Pap::Green, Pap::Amber, Pap::Red];

    pub fn label(self) -> &'static str {
        match self {
            Pap::Clear => "PAP:CLEAR",
            Pap::Green => "PAP:GREEN",
            Pap::Amber => "PAP:AMBER",
            Pap::Red => "PAP:RED",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Pap::Clear => "clear",
            Pap::Green => "green",
            Pap::Amber => "amber",
            Pap::Red => "red",
        }
    }

    /// Whether material at this level may feed blocking tools or any active action
    /// (MARKINGS.md: PAP:AMBER and PAP:RED never do).
    pub fn permits_active_use(self) -> bool {
        self <= Pap::Green
    }
}

impl fmt::Display for Tlp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl fmt::Display for Pap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} level {value:?}")]
pub struct UnknownLevel {
    what: &'static str,
    value: String,
}

impl FromStr for Tlp {
    type Err = UnknownLevel;

    /// Accepts the stored form (`amber_strict`) and the label (`TLP:AMBER+STRICT`), any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm = s.trim().to_ascii_lowercase();
        let norm = norm.strip_prefix("tlp:").unwrap_or(&norm).replace('+', "_");
        Tlp::ALL
            .into_iter()
            .find(|t| t.as_str() == norm)
            .ok_or_else(|| UnknownLevel {
                what: "TLP",
                value: s.to_owned(),
            })
    }
}

impl FromStr for Pap {
    type Err = UnknownLevel;

    /// Accepts `clear`, `PAP:GREEN`, and `white` (the old name of CLEAR), any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm = s.trim().to_ascii_lowercase();
        let norm = norm.strip_prefix("pap:").unwrap_or(&norm);
        if norm == "white" {
            return Ok(Pap::Clear);
        }
        Pap::ALL
            .into_iter()
            .find(|p| p.as_str() == norm)
            .ok_or_else(|| UnknownLevel {
                what: "PAP",
                value: s.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_totally_ordered_as_markings_md_says() {
        assert!(Tlp::Clear < Tlp::Green && Tlp::Green < Tlp::Amber);
        assert!(Tlp::Amber < Tlp::AmberStrict && Tlp::AmberStrict < Tlp::Red);
        assert!(Pap::Clear < Pap::Green && Pap::Green < Pap::Amber && Pap::Amber < Pap::Red);
    }

    #[test]
    fn levels_parse_from_labels_and_stored_text() {
        for t in Tlp::ALL {
            assert_eq!(t.as_str().parse::<Tlp>(), Ok(t));
            assert_eq!(t.label().parse::<Tlp>(), Ok(t));
        }
        for p in Pap::ALL {
            assert_eq!(p.as_str().parse::<Pap>(), Ok(p));
            assert_eq!(p.label().parse::<Pap>(), Ok(p));
        }
        assert_eq!("PAP:WHITE".parse::<Pap>(), Ok(Pap::Clear));
        assert!("TLP:WHITE".parse::<Tlp>().is_err());
        assert!("amber+".parse::<Tlp>().is_err());
    }

    #[test]
    fn only_clear_and_green_pap_permit_blocking() {
        let allowed: Vec<_> = Pap::ALL
            .into_iter()
            .filter(|p| p.permits_active_use())
            .collect();
        assert_eq!(allowed, [Pap::Clear, Pap::Green]);
    }
}
