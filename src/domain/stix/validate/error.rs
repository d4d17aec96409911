//! How the validator says what is wrong: one [`ValidationError`] a problem, at a JSON pointer,
//! with the offending input quoted short and on one line, so that an error message can neither
//! carry a whole hostile value nor break a log line.

/// Longest piece of an input value quoted in an error message.
const MAX_QUOTED_CHARS: usize = 80;

/// One problem with an object: where (a JSON pointer into the object, empty for the object
/// itself) and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", display_path(.path))]
pub struct ValidationError {
    pub path: String,
    pub message: String,
}

impl ValidationError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

fn display_path(path: &str) -> String {
    if path.is_empty() {
        "(object)".to_owned()
    } else if path.chars().any(char::is_control) {
        format!("{path:?}")
    } else {
        path.to_owned()
    }
}

/// Quotes a piece of input for an error message: cut, escaped, on one line.
pub(super) fn show(s: &str) -> String {
    match s.char_indices().nth(MAX_QUOTED_CHARS) {
        Some((i, _)) => format!("{:?}…", &s[..i]),
        None => format!("{s:?}"),
    }
}

pub(super) fn or_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}
