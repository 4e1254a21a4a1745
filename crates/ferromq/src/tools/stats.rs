//! Numbers the tools report: latency histograms, rates and their human and JSON forms.
//!
//! Latencies are kept in microseconds in an HDR histogram so that p99.9 stays exact to three
//! significant digits whatever the run length, at a fixed memory cost.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde_json::{json, Value};

/// Highest latency a histogram can hold exactly: one hour in microseconds; slower samples are
/// clamped to it rather than dropped, so `max` still shows something went badly wrong.
const MAX_TRACKABLE_US: u64 = 3_600_000_000;

/// A latency histogram in microseconds.
#[derive(Debug, Clone)]
pub struct Latency {
    histogram: Histogram<u64>,
}

impl Default for Latency {
    fn default() -> Self {
        Self::new()
    }
}

impl Latency {
    /// An empty histogram.
    // The bounds are constants inside hdrhistogram's documented domain (low >= 1,
    // high >= 2 * low, sigfig <= 5), so creation cannot fail at run time.
    #[allow(clippy::expect_used)]
    pub fn new() -> Self {
        let histogram = Histogram::new_with_bounds(1, MAX_TRACKABLE_US, 3)
            .expect("constant histogram bounds are valid");
        Self { histogram }
    }

    /// Records one sample.
    pub fn record(&mut self, latency: Duration) {
        self.record_us(u64::try_from(latency.as_micros()).unwrap_or(u64::MAX));
    }

    /// Records one sample given in microseconds.
    pub fn record_us(&mut self, micros: u64) {
        self.histogram
            .saturating_record(micros.clamp(1, MAX_TRACKABLE_US));
    }

    /// Adds every sample of `other`.
    pub fn merge(&mut self, other: &Latency) {
        // Both sides share the same bounds, so adding cannot fail; a failure would only lose
        // the other side's samples, which the sample count in the report would reveal.
        if let Err(err) = self.histogram.add(&other.histogram) {
            eprintln!("warning: could not merge latency histograms: {err}");
        }
    }

    /// Number of samples.
    pub fn count(&self) -> u64 {
        self.histogram.len()
    }

    /// The percentiles the tools print.
    pub fn summary(&self) -> Summary {
        let h = &self.histogram;
        Summary {
            count: h.len(),
            mean_us: h.mean(),
            p50_us: h.value_at_quantile(0.50),
            p99_us: h.value_at_quantile(0.99),
            p999_us: h.value_at_quantile(0.999),
            max_us: h.max(),
        }
    }
}

/// Percentiles of one histogram, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Number of samples.
    pub count: u64,
    /// Mean.
    pub mean_us: f64,
    /// Median.
    pub p50_us: u64,
    /// 99th percentile.
    pub p99_us: u64,
    /// 99.9th percentile.
    pub p999_us: u64,
    /// Largest sample.
    pub max_us: u64,
}

impl Summary {
    /// One line such as `p50=1.20 ms p99=3.40 ms p99.9=5.00 ms max=7.10 ms (n=1000)`.
    pub fn line(&self) -> String {
        if self.count == 0 {
            return "no samples".to_owned();
        }
        format!(
            "p50={} p99={} p99.9={} max={} (n={})",
            micros(self.p50_us),
            micros(self.p99_us),
            micros(self.p999_us),
            micros(self.max_us),
            self.count
        )
    }

    /// The JSON object the bench script reads; `null` when there are no samples.
    pub fn to_json(self) -> Value {
        if self.count == 0 {
            return Value::Null;
        }
        json!({
            "count": self.count,
            "mean": (self.mean_us * 10.0).round() / 10.0,
            "p50": self.p50_us,
            "p99": self.p99_us,
            "p999": self.p999_us,
            "max": self.max_us,
        })
    }
}

/// Formats microseconds with a unit that keeps three significant digits readable.
pub fn micros(us: u64) -> String {
    if us < 1_000 {
        format!("{us} µs")
    } else if us < 1_000_000 {
        format!("{:.2} ms", us as f64 / 1e3)
    } else {
        format!("{:.2} s", us as f64 / 1e6)
    }
}

/// Events per second; zero when no time passed rather than infinity.
pub fn per_second(events: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 {
        events as f64 / secs
    } else {
        0.0
    }
}

/// Megabytes (10^6 bytes, the unit other brokers' benchmarks use) per second.
pub fn megabytes_per_second(events: u64, size: usize, elapsed: Duration) -> f64 {
    per_second(events, elapsed) * size as f64 / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_uniform_samples() {
        let mut latency = Latency::new();
        for us in 1..=1000 {
            latency.record_us(us);
        }
        let summary = latency.summary();
        assert_eq!(summary.count, 1000);
        assert_eq!(summary.p50_us, 500);
        assert_eq!(summary.p99_us, 990);
        assert_eq!(summary.p999_us, 999);
        assert_eq!(summary.max_us, 1000);
        assert!(summary.line().starts_with("p50=500 µs p99=990 µs"));
    }

    #[test]
    fn extremes_are_clamped_not_lost() {
        let mut latency = Latency::new();
        latency.record_us(0);
        latency.record(Duration::from_secs(10 * 3600));
        assert_eq!(latency.count(), 2);
        assert!(latency.summary().max_us >= MAX_TRACKABLE_US);
    }

    #[test]
    fn merge_adds_samples() {
        let mut a = Latency::new();
        let mut b = Latency::new();
        a.record_us(10);
        b.record_us(20);
        b.record_us(30);
        a.merge(&b);
        assert_eq!(a.count(), 3);
    }

    #[test]
    fn empty_summary_is_null_in_json() {
        let summary = Latency::new().summary();
        assert_eq!(summary.to_json(), Value::Null);
        assert_eq!(summary.line(), "no samples");
    }

    #[test]
    fn formats_units_and_rates() {
        assert_eq!(micros(999), "999 µs");
        assert_eq!(micros(1_500), "1.50 ms");
        assert_eq!(micros(2_500_000), "2.50 s");
        assert_eq!(per_second(100, Duration::from_millis(500)), 200.0);
        assert_eq!(per_second(100, Duration::ZERO), 0.0);
        assert_eq!(
            megabytes_per_second(1000, 1000, Duration::from_secs(1)),
            1.0
        );
    }
}
