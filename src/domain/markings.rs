//! TLP 2.0 and PAP markings (placeholder).
