//! How much a pattern may ask of the parser and of the consumers it is shared with: length,
//! nesting, comparisons, `REPEATS`, `WITHIN` and the size of its `MATCHES` regexes. The
//! defaults are what relais ingests; the ceiling on nesting holds whatever a caller asks.

/// The deepest nesting the parser ever accepts, whatever [`PatternLimits::max_depth`] says: it
/// keeps the recursive `Drop`, `Clone`, `Debug` and `Display` of the syntax tree far from any
/// thread's stack size (a tree this deep is written out within a 256 KiB stack, even in a
/// debug build).
pub const MAX_DEPTH_CEILING: usize = 128;

/// One year, in seconds: the default bound on `WITHIN`.
pub const YEAR_SECS: u32 = 365 * 24 * 60 * 60;

/// Bounds on what the parser accepts, so no input can exhaust memory or the stack, and no
/// pattern it accepts can hurt the consumers it is shared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PatternLimits {
    /// Longest pattern, in bytes.
    pub max_len: usize,
    /// Deepest nesting of brackets and parentheses (capped at [`MAX_DEPTH_CEILING`]).
    pub max_depth: usize,
    /// Most comparison expressions in one pattern.
    pub max_comparisons: usize,
    /// Largest `n` in `REPEATS n TIMES`. The grammar puts no bound on it, and consumers read
    /// it into a machine integer (a 64-bit overflow stops some imports) or keep `n` events
    /// in memory.
    pub max_repeats: u32,
    /// Largest `n` in `WITHIN n SECONDS` (decimals compared exactly): a window a consumer
    /// must keep its events for.
    pub max_within_secs: u32,
    /// Bytes of compiled NFA that the `MATCHES` regexes of one pattern may take together
    /// (see [`crate::domain::stix::matches`]).
    pub max_regex_bytes: usize,
}

impl Default for PatternLimits {
    fn default() -> Self {
        Self {
            max_len: 16 * 1024,
            max_depth: 32,
            max_comparisons: 512,
            max_repeats: 10_000,
            max_within_secs: YEAR_SECS,
            max_regex_bytes: 1 << 20,
        }
    }
}
