//! When a peer is polled again after failures: the delay doubles from the poll interval up to
//! a cap, and a random share of it is dropped so that hubs that failed together (a partner's
//! outage) do not all come back in the same second.

use std::time::Duration;

/// The delay before the next poll after `failures` failures in a row; `jitter` in [0, 1)
/// takes up to half of the delay off. No failure: the poll interval.
pub fn next_delay(poll_secs: u64, max_secs: u64, failures: u32, jitter: f64) -> Duration {
    if failures == 0 {
        return Duration::from_secs(poll_secs);
    }
    let grown = poll_secs.saturating_mul(1u64 << failures.min(32));
    let capped = grown.min(max_secs).max(1) as f64;
    let jitter = jitter.clamp(0.0, 1.0);
    Duration::from_secs_f64(capped * (1.0 - jitter / 2.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_with_jitter_below_it() {
        assert_eq!(next_delay(60, 3600, 0, 0.9), Duration::from_secs(60));
        assert_eq!(next_delay(60, 3600, 1, 0.0), Duration::from_secs(120));
        assert_eq!(next_delay(60, 3600, 2, 0.0), Duration::from_secs(240));
        assert_eq!(next_delay(60, 3600, 10, 0.0), Duration::from_secs(3600));
        assert_eq!(next_delay(60, 3600, 200, 0.0), Duration::from_secs(3600));
        let jittered = next_delay(60, 3600, 10, 0.99);
        assert!(jittered >= Duration::from_secs(1800) && jittered < Duration::from_secs(3600));
    }
}
