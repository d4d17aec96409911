//! The simple IOC API (`POST /api/v1/iocs`) for providers who do not speak STIX: a list of
//! plain indicators, each checked on its own and turned into valid STIX 2.1 objects that then
//! take the same way in as a TAXII submission.
//!
//! # The request
//! The body is a JSON **array** of items (not an object wrapping one), 1 to [`MAX_ITEMS`]:
//!
//! ```json
//! [{"type": "sha256", "value": "…", "tlp": "amber", "pap": "green",
//!   "description": "dropper seen at …", "first_seen": "2025-03-01T10:00:00+04:00",
//!   "attack_techniques": ["T1204.002"], "case": "…"}]
//! ```
//!
//! | field | | |
//! |---|---|---|
//! | `type` | required | `ipv4`, `ipv6`, `domain`, `url`, `email`, `md5`, `sha1`, `sha256`, `file_name` (`file name` also accepted) |
//! | `value` | required | at most [`MAX_VALUE_LEN`] bytes; rules per type below |
//! | `tlp` | optional | `clear`, `green`, `amber`, `amber+strict`, `red`; `white` = `clear`; any case, `TLP:` prefix allowed. Absent: the hub's default policy applies |
//! | `pap` | optional | `clear`, `green`, `amber`, `red`; `white` = `clear`; any case, `PAP:` prefix allowed |
//! | `description` | optional | at most [`MAX_DESCRIPTION_LEN`] bytes |
//! | `first_seen` | optional | RFC 3339 with any offset; at most [`MAX_FIRST_SEEN_AHEAD`] in the future, not before [`MIN_FIRST_SEEN_YEAR`]; becomes `valid_from` (default: now) |
//! | `attack_techniques` | optional | at most [`MAX_TECHNIQUES`] ids, `T1234` or `T1234.001`; repeats ignored |
//! | `case` | optional | the hub's case reference, at most [`MAX_CASE_LEN`] bytes; never written into STIX |
//!
//! Any other field is an error; `null` counts as absent for the optional string fields.
//!
//! # Values (see [`value`])
//! - `ipv4`, `ipv6`: an address or a CIDR network with its host bits clear, no wider than the
//!   export policy allows ([`NetworkBounds`]: /16 and /32 as shipped, IPv4-mapped IPv6
//!   networks held to the IPv4 bound); written canonically (`2001:db8::1`), a full-length
//!   prefix dropped.
//! - `domain`: ASCII letters, digits, `-` and `_`, two labels at least, the last not all
//!   digits; internationalised names in punycode (`xn--…`); lower-cased, a final dot dropped.
//! - `url`: `scheme://host…` whose host is a domain name, an IPv4 address or `[IPv6]`; no
//!   spaces or control characters; kept as sent.
//! - `email`: `dot-atom@domain`; the domain lower-cased.
//! - `md5`, `sha1`, `sha256`: exactly 32, 40, 64 hex digits; lower-cased.
//! - `file_name`: a name, not a path: no `/`, no control characters, not a Windows path;
//!   kept exactly as sent (even surrounding spaces).
//! - Surrounding whitespace is dropped (except for file names), and defanged values
//!   (`hxxp://`, `[.]`, `[@]`) are refused.
//!
//! # Errors
//! A body that is not an array, is empty or holds more than [`MAX_ITEMS`] items is refused
//! whole ([`RequestError`]). Otherwise every item gets its own outcome: its STIX objects, or
//! every problem found in it, each with the field (a JSON pointer inside the item, see
//! [`FieldError::pointer`] for the pointer in the request) and the reason.
//!
//! # The STIX objects (see [`to_stix`])
//! One `indicator` per item (`pattern_type` `stix`, `indicator_types`
//! `["malicious-activity"]`, the TLP 2.0 and PAP markings given), then per technique an
//! `attack-pattern` with a deterministic id and fixed version, so that every provider's copy
//! of a technique is one stored object, and an `indicates` relationship to it.

mod convert;
mod request;
pub mod value;

pub use convert::{
    ATTACK_PATTERN_NAMESPACE, ATTACK_PATTERN_VERSION, ConvertedIoc, IdSource, RandomIds,
    attack_pattern, attack_pattern_id, pattern, to_stix,
};
pub use request::{
    FieldError, IocError, IocItem, ItemResult, MAX_CASE_LEN, MAX_DESCRIPTION_LEN,
    MAX_FIRST_SEEN_AHEAD, MAX_ITEMS, MAX_TECHNIQUES, MAX_VALUE_LEN, MIN_FIRST_SEEN_YEAR,
    RequestError, ValidIoc, parse_item, parse_request, parse_tlp, read_item,
};
pub use value::{IocType, Technique};

use serde_json::Value;
use time::OffsetDateTime;

use crate::domain::exports::NetworkBounds;

use crate::domain::stix::id::StixId;

/// [`parse_request`], then [`to_stix`] on every valid item: the whole conversion of one
/// request, item `i` of the result being item `i` of the body.
pub fn convert_request(
    body: &Value,
    producer_identity: Option<&StixId>,
    now: OffsetDateTime,
    bounds: &NetworkBounds,
    ids: &mut (impl IdSource + ?Sized),
) -> Result<Vec<Result<ConvertedIoc, Vec<FieldError>>>, RequestError> {
    Ok(parse_request(body, now, bounds)?
        .into_iter()
        .map(|item| item.map(|valid| to_stix(&valid, producer_identity, now, ids)))
        .collect())
}

#[cfg(test)]
mod tests;
