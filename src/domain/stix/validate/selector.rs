//! Granular marking selectors (§ 7.2.3.1): whether `description`, `labels.[0]`,
//! `external_references.[0].url`, … is well formed and selects something in the object it marks.
//! A selector that selects nothing is refused: it would mark nothing while looking as if it did.

use serde_json::{Map, Value};

/// Why a granular marking selector selects nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum SelectorError {
    #[error("not a valid selector (property names and [index] separated by '.')")]
    Syntax,
    #[error("selects nothing in this object (no {0})")]
    Missing(String),
}

/// Follows a selector (§ 7.2.3.1: `description`, `external_references.[0].url`, …) through
/// the object.
pub(super) fn select(root: &Map<String, Value>, selector: &str) -> Result<(), SelectorError> {
    let mut parts = selector.split('.');
    let first = parts.next().unwrap_or_default();
    if !is_selector_key(first) {
        return Err(SelectorError::Syntax);
    }
    let mut current = root
        .get(first)
        .ok_or_else(|| SelectorError::Missing(first.to_owned()))?;
    let mut walked = first.to_owned();
    for part in parts {
        walked.push('.');
        walked.push_str(part);
        let next = if let Some(index) = part.strip_prefix('[').and_then(|p| p.strip_suffix(']')) {
            if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
                return Err(SelectorError::Syntax);
            }
            let index: usize = index.parse().map_err(|_| SelectorError::Syntax)?;
            current.as_array().and_then(|a| a.get(index))
        } else if is_selector_key(part) {
            current.as_object().and_then(|m| m.get(part))
        } else {
            return Err(SelectorError::Syntax);
        };
        current = next.ok_or_else(|| SelectorError::Missing(walked.clone()))?;
    }
    Ok(())
}

fn is_selector_key(part: &str) -> bool {
    !part.is_empty()
        && part.len() <= 250
        && part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}
