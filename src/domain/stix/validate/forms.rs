//! The forms of names and identifiers the validator checks as text: property names (§ 3.1,
//! § 11.1), predefined extension names (`…-ext`), and the CVE and CAPEC identifiers of external
//! references.

/// Bounds on the length of a property name (§ 11.1).
pub const PROPERTY_NAME_LEN: std::ops::RangeInclusive<usize> = 3..=250;

/// A property name: `id`, or 3 to 250 characters `a-z`, `0-9`, `_`, starting with a letter
/// (STIX 2.1 § 3.1 and § 11.1; the OASIS schemas' rule for every object and extension).
pub fn is_property_name(name: &str) -> bool {
    name == "id"
        || (PROPERTY_NAME_LEN.contains(&name.len())
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'))
}

pub(super) const PROPERTY_NAME_RULE: &str =
    "invalid property name: 3 to 250 characters a-z, 0-9 and '_', starting with a letter";

pub(super) fn is_predefined_extension_name(key: &str) -> bool {
    key.strip_suffix("-ext").is_some_and(|stem| {
        !stem.is_empty()
            && stem.starts_with(|c: char| c.is_ascii_lowercase())
            && stem.split('-').all(|part| {
                !part.is_empty()
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            })
    })
}

pub(super) fn is_cve(id: &str) -> bool {
    let Some(rest) = id.strip_prefix("CVE-") else {
        return false;
    };
    let Some((year, number)) = rest.split_once('-') else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(year)
        && year.len() == 4
        && digits(number)
        && (number.len() == 4 || (number.len() > 4 && !number.starts_with('0')))
}

pub(super) fn is_capec(id: &str) -> bool {
    id.strip_prefix("CAPEC-")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}
