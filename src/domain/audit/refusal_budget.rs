//! How many TLS refusals the audit log takes, so that a flood of handshakes cannot grow it
//! without bound.
//!
//! Time is cut into windows of [`WINDOW`]. In one window, at most [`PER_SOURCE`] refusals are
//! recorded per source (an IPv4 address, or an IPv6 /64: one host holds a whole /64) and at
//! most [`PER_WINDOW`] in all. Past either bound a refusal is counted, not recorded:
//! - the count of a source goes into the next entry recorded for that source ("N earlier
//!   refusals from this source not recorded");
//! - a count whose source has not come back by the end of the following window, and whatever
//!   could not be attributed (more than [`MAX_SOURCES`] sources at once, refusals dropped
//!   before they reached the budget), goes into one summary entry at the end of a window.
//!
//! So every refusal is counted in the log, and a window adds at most `PER_WINDOW + 1`
//! entries, whatever the flood.

use std::collections::HashMap;
use std::net::IpAddr;

use time::{Duration, OffsetDateTime};

pub const WINDOW: Duration = Duration::seconds(60);
pub const PER_SOURCE: u32 = 5;
pub const PER_WINDOW: u32 = 60;
/// Sources tracked at once; memory stays bounded when every refusal comes from elsewhere.
pub const MAX_SOURCES: usize = 4096;

/// The unit a per-source bound applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Source(IpAddr);

impl Source {
    pub fn of(addr: IpAddr) -> Self {
        match addr {
            IpAddr::V4(v4) => Source(IpAddr::V4(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Source(IpAddr::V4(v4)),
                None => {
                    let bits = u128::from(v6) & !((1u128 << 64) - 1);
                    Source(IpAddr::V6(bits.into()))
                }
            },
        }
    }
}

/// What to do with one refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Record it, saying how many from its source were not recorded since its last entry.
    Record { unrecorded_before: u64 },
    /// Counted; not recorded.
    Count,
}

#[derive(Debug, Default)]
struct SourceCount {
    recorded: u32,
    unrecorded: u64,
    seen_this_window: bool,
}

#[derive(Debug, Default)]
pub struct RefusalBudget {
    window_start: Option<OffsetDateTime>,
    recorded: u32,
    sources: HashMap<Source, SourceCount>,
    unattributed: u64,
}

impl RefusalBudget {
    /// Ends the current window if `now` is past it. Returns the count for a summary entry, if
    /// anything is left to count: call this before [`admit`](Self::admit), and on a timer so
    /// that counts are written when the refusals stop.
    pub fn roll(&mut self, now: OffsetDateTime) -> Option<u64> {
        let start = self.window_start?;
        if now < start + WINDOW {
            return None;
        }
        self.window_start = None;
        self.recorded = 0;
        let mut summary = std::mem::take(&mut self.unattributed);
        self.sources.retain(|_, count| {
            if count.seen_this_window {
                count.recorded = 0;
                count.seen_this_window = false;
                // Kept one more window, for its next entry to take the count up.
                return true;
            }
            summary += count.unrecorded;
            false
        });
        if !self.sources.is_empty() {
            // Counts are still pending: the next window must end, even in silence.
            self.window_start = Some(now);
        }
        (summary > 0).then_some(summary)
    }

    /// Decides on one refusal from `source` at `now`.
    pub fn admit(&mut self, source: IpAddr, now: OffsetDateTime) -> Admission {
        self.window_start.get_or_insert(now);
        let key = Source::of(source);
        if !self.sources.contains_key(&key) && self.sources.len() >= MAX_SOURCES {
            self.unattributed += 1;
            return Admission::Count;
        }
        let count = self.sources.entry(key).or_default();
        count.seen_this_window = true;
        if count.recorded < PER_SOURCE && self.recorded < PER_WINDOW {
            count.recorded += 1;
            self.recorded += 1;
            Admission::Record {
                unrecorded_before: std::mem::take(&mut count.unrecorded),
            }
        } else {
            count.unrecorded += 1;
            Admission::Count
        }
    }

    /// Refusals that never reached the budget (dropped while the writer was behind).
    pub fn dropped(&mut self, n: u64, now: OffsetDateTime) {
        if n > 0 {
            self.window_start.get_or_insert(now);
            self.unattributed += n;
        }
    }

    /// Everything counted and not yet in an entry, emptying the budget: for a last summary
    /// when the hub stops.
    pub fn drain(&mut self) -> u64 {
        let pending: u64 = self.sources.values().map(|c| c.unrecorded).sum();
        let total = pending + self.unattributed;
        *self = Self::default();
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-11-23 10:00 UTC);

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_source_gets_its_share_and_its_next_entry_carries_the_rest() {
        let mut b = RefusalBudget::default();
        let a = ip("203.0.113.1");
        for i in 0..PER_SOURCE {
            assert_eq!(
                b.admit(a, T0 + Duration::seconds(i.into())),
                Admission::Record {
                    unrecorded_before: 0
                }
            );
        }
        for _ in 0..37 {
            assert_eq!(b.admit(a, T0 + Duration::seconds(10)), Admission::Count);
        }
        // Another source is not held back by the first.
        assert!(matches!(
            b.admit(ip("203.0.113.2"), T0),
            Admission::Record { .. }
        ));
        assert_eq!(b.roll(T0 + Duration::seconds(59)), None);
        // The source came back in the window: its count waits for its next entry.
        assert_eq!(b.roll(T0 + WINDOW), None);
        assert_eq!(
            b.admit(a, T0 + WINDOW + Duration::seconds(1)),
            Admission::Record {
                unrecorded_before: 37
            }
        );
    }

    #[test]
    fn a_count_whose_source_does_not_come_back_goes_to_a_summary() {
        let mut b = RefusalBudget::default();
        let a = ip("203.0.113.1");
        for _ in 0..PER_SOURCE + 3 {
            b.admit(a, T0);
        }
        assert_eq!(b.roll(T0 + WINDOW), None);
        // A whole window without it: the 3 are summarised, and nothing is left.
        assert_eq!(b.roll(T0 + WINDOW * 2), Some(3));
        assert_eq!(b.roll(T0 + WINDOW * 10), None);
        assert_eq!(b.drain(), 0);
    }

    #[test]
    fn a_window_records_at_most_its_bound_whatever_the_sources() {
        let mut b = RefusalBudget::default();
        let mut recorded = 0;
        for i in 0..10_000u32 {
            let source = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            if matches!(b.admit(source, T0), Admission::Record { .. }) {
                recorded += 1;
            }
        }
        assert_eq!(recorded, PER_WINDOW);
        b.dropped(5, T0);
        // What was not recorded is counted, exactly: the sources past MAX_SOURCES and the
        // dropped at once, the others one window later.
        let first = b.roll(T0 + WINDOW).unwrap();
        assert_eq!(first, (10_000 - MAX_SOURCES as u64) + 5);
        let second = b.roll(T0 + WINDOW * 2).unwrap();
        assert_eq!(first + second + u64::from(PER_WINDOW), 10_000 + 5);
    }

    #[test]
    fn an_ipv6_host_is_one_source_across_its_64() {
        assert_eq!(
            Source::of(ip("2001:db8:1:2:aaaa::1")),
            Source::of(ip("2001:db8:1:2:ffff:1:2:3"))
        );
        assert_ne!(
            Source::of(ip("2001:db8:1:2::1")),
            Source::of(ip("2001:db8:1:3::1"))
        );
        assert_eq!(
            Source::of(ip("::ffff:203.0.113.1")),
            Source::of(ip("203.0.113.1"))
        );
        let mut b = RefusalBudget::default();
        for i in 0..PER_SOURCE {
            let addr = ip(&format!("2001:db8:1:2::{}", i + 1));
            assert!(matches!(b.admit(addr, T0), Admission::Record { .. }));
        }
        assert_eq!(b.admit(ip("2001:db8:1:2::99"), T0), Admission::Count);
    }

    #[test]
    fn drain_counts_everything_pending() {
        let mut b = RefusalBudget::default();
        for _ in 0..PER_SOURCE + 4 {
            b.admit(ip("192.0.2.1"), T0);
        }
        b.dropped(2, T0);
        assert_eq!(b.drain(), 6);
        assert_eq!(b.roll(T0 + WINDOW), None);
    }
}
