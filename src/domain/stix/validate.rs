//! STIX object validation (placeholder).
