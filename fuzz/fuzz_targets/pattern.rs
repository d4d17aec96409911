//! The STIX pattern parser on arbitrary UTF-8 text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use relais::domain::stix::pattern::{PatternLimits, parse};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let limits = PatternLimits::default();
    if let Ok(pattern) = parse(text, &limits) {
        // Walk the tree: counts, paths and the recursive Debug/Clone/Drop.
        let _ = pattern.observation_count();
        let _ = pattern.comparison_count();
        for comparison in pattern.comparisons() {
            let _ = comparison.property_path();
        }
        let _ = format!("{:?}", pattern.clone());
        // Writing the tree back gives a pattern that parses to the same tree (the text written
        // may be longer than the input, so only the length bound is lifted).
        let written = pattern.to_string();
        let again = parse(
            &written,
            &PatternLimits {
                max_len: usize::MAX,
                ..limits
            },
        );
        assert_eq!(again.as_ref(), Ok(&pattern), "{written}");
    }
});
