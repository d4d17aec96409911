//! The STIX 2.1 pattern language (placeholder: the parser is being written).

/// Bounds on what the parser accepts, so no input can exhaust memory or the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PatternLimits {
    /// Longest pattern, in bytes.
    pub max_len: usize,
    /// Deepest nesting of brackets and parentheses.
    pub max_depth: usize,
    /// Most comparison expressions in one pattern.
    pub max_comparisons: usize,
}

impl Default for PatternLimits {
    fn default() -> Self {
        Self {
            max_len: 16 * 1024,
            max_depth: 32,
            max_comparisons: 512,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid pattern at byte {offset}: {message}")]
pub struct PatternError {
    pub offset: usize,
    pub message: String,
}

/// A parsed pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern;

pub fn parse(_pattern: &str, _limits: &PatternLimits) -> Result<Pattern, PatternError> {
    Ok(Pattern)
}
