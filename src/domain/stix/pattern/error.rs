//! How a refused pattern is explained: one [`PatternError`], a byte offset and a message, with
//! any piece of the input it quotes cut short so that a hostile pattern cannot fill a log line.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid pattern at byte {offset}: {message}")]
pub struct PatternError {
    /// Byte offset in the pattern where the problem was found.
    pub offset: usize,
    pub message: String,
}

impl PatternError {
    pub(super) fn new(offset: usize, message: impl Into<String>) -> Self {
        Self {
            offset,
            message: message.into(),
        }
    }
}

/// What to show of a token in an error message.
pub(super) fn shown(text: &str) -> String {
    const MAX_CHARS: usize = 40;
    let mut out: String = text.chars().take(MAX_CHARS).collect();
    if text.chars().nth(MAX_CHARS).is_some() {
        out.push('…');
    }
    out
}
