//! What the tasks of a run measured: latencies, errors, percentiles.

use std::time::Duration;

/// What one task measured.
#[derive(Debug, Default)]
pub struct Tally {
    /// Latency of each successful operation, in microseconds.
    pub latencies_us: Vec<u64>,
    pub errors: u64,
    pub first_error: Option<String>,
}

impl Tally {
    pub fn ok(&mut self, took: Duration) {
        self.latencies_us
            .push(u64::try_from(took.as_micros()).unwrap_or(u64::MAX));
    }

    pub fn error(&mut self, message: String) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(message);
        }
    }

    pub fn merge(&mut self, other: Self) {
        self.latencies_us.extend(other.latencies_us);
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    /// The latencies, sorted.
    pub fn sorted(&self) -> Vec<u64> {
        let mut sorted = self.latencies_us.clone();
        sorted.sort_unstable();
        sorted
    }
}

/// Nearest-rank percentile of sorted values, in milliseconds.
pub fn percentile_ms(sorted_us: &[u64], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted_us.len() as f64).ceil() as usize;
    let index = rank.clamp(1, sorted_us.len()) - 1;
    sorted_us.get(index).copied().unwrap_or(0) as f64 / 1000.0
}

/// p50, p99 and max of the latencies, on one line.
pub fn print_latencies(label: &str, tally: &Tally) {
    let sorted = tally.sorted();
    println!(
        "{label:<12} p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile_ms(&sorted, 0.50),
        percentile_ms(&sorted, 0.99),
        percentile_ms(&sorted, 1.0)
    );
}

#[cfg(test)]
mod tests {
    use super::percentile_ms;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=100).map(|i| i * 1000).collect();
        assert!((percentile_ms(&v, 0.50) - 50.0).abs() < f64::EPSILON);
        assert!((percentile_ms(&v, 0.99) - 99.0).abs() < f64::EPSILON);
        assert!((percentile_ms(&v, 1.0) - 100.0).abs() < f64::EPSILON);
        assert!(percentile_ms(&[], 0.5).abs() < f64::EPSILON);
    }
}
