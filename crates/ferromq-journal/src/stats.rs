//! Counters the writer publishes and handles read without locking, and recovery's report.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the fsync latency buckets, in nanoseconds (see [`LatencyHistogram`]).
const BOUNDS_NANOS: [u64; LatencyHistogram::BOUNDS] = [
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
];

/// Shared between the writer thread (the only writer of these) and every `Journal` handle.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) live_bytes: AtomicU64,
    pub(crate) disk_bytes: AtomicU64,
    pub(crate) segments: AtomicU64,
    pub(crate) batches_written: AtomicU64,
    pub(crate) group_commits: AtomicU64,
    pub(crate) fsyncs: AtomicU64,
    pub(crate) segments_deleted: AtomicU64,
    pub(crate) segments_compacted: AtomicU64,
    pub(crate) bytes_compacted: AtomicU64,
    pub(crate) messages_read: AtomicU64,
    pub(crate) group_holds: AtomicU64,
    pub(crate) group_holds_missed: AtomicU64,
    /// Per-bucket (not cumulative) fsync counts; the last one is above every bound.
    fsync_buckets: [AtomicU64; LatencyHistogram::BUCKETS],
    fsync_nanos: AtomicU64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn set(counter: &AtomicU64, n: u64) {
        counter.store(n, Ordering::Relaxed);
    }

    /// Counts one fsync that took `took`.
    pub(crate) fn record_fsync(&self, took: Duration) {
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        let bucket = BOUNDS_NANOS
            .iter()
            .position(|&bound| nanos <= bound)
            .unwrap_or(LatencyHistogram::BOUNDS);
        if let Some(counter) = self.fsync_buckets.get(bucket) {
            Self::add(counter, 1);
        }
        Self::add(&self.fsync_nanos, nanos);
        Self::add(&self.fsyncs, 1);
    }

    pub(crate) fn snapshot(&self) -> JournalStats {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let mut buckets = [0u64; LatencyHistogram::BUCKETS];
        for (out, counter) in buckets.iter_mut().zip(&self.fsync_buckets) {
            *out = get(counter);
        }
        JournalStats {
            live_bytes: get(&self.live_bytes),
            disk_bytes: get(&self.disk_bytes),
            segments: get(&self.segments),
            batches_written: get(&self.batches_written),
            group_commits: get(&self.group_commits),
            fsyncs: get(&self.fsyncs),
            segments_deleted: get(&self.segments_deleted),
            segments_compacted: get(&self.segments_compacted),
            bytes_compacted: get(&self.bytes_compacted),
            messages_read: get(&self.messages_read),
            group_holds: get(&self.group_holds),
            group_holds_missed: get(&self.group_holds_missed),
            fsync_latency: LatencyHistogram {
                buckets,
                sum_nanos: get(&self.fsync_nanos),
            },
        }
    }
}

/// A snapshot of the journal's counters. Each field is read on its own, so a snapshot taken
/// while the writer works may mix two moments.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct JournalStats {
    /// Encoded size of the live Puts and metas.
    pub live_bytes: u64,
    /// Total size of the segment files.
    pub disk_bytes: u64,
    /// Segment files on disk.
    pub segments: u64,
    /// Batches (appends) written since open.
    pub batches_written: u64,
    /// Writes of gathered batches (one per writer pass) since open.
    pub group_commits: u64,
    /// `fdatasync` calls on segment files since open: group commits, segment rolls,
    /// compaction and close. Directory fsyncs (segment creation and deletion) are not counted.
    pub fsyncs: u64,
    /// Segment files deleted since open, including by compaction at open.
    pub segments_deleted: u64,
    /// Segments whose live records the writer rewrote forward while running.
    pub segments_compacted: u64,
    /// Bytes of live records rewritten by that compaction.
    pub bytes_compacted: u64,
    /// Message payloads read back from the segments (paged in by the core).
    pub messages_read: u64,
    /// Group commits held open a moment for more batches (adaptive group commit).
    pub group_holds: u64,
    /// Of those, the holds that ended at their deadline, short of the batches expected.
    pub group_holds_missed: u64,
    /// How long each of the `fsyncs` took.
    pub fsync_latency: LatencyHistogram,
}

impl JournalStats {
    /// Batches acknowledged per fsync: above 1 means group commit is paying off.
    pub fn batches_per_fsync(&self) -> f64 {
        if self.fsyncs == 0 {
            return 0.0;
        }
        // Precision loss only past 2^53 batches.
        #[allow(clippy::cast_precision_loss)]
        let ratio = self.batches_written as f64 / self.fsyncs as f64;
        ratio
    }
}

/// A latency histogram with fixed buckets, shaped for a Prometheus histogram.
///
/// `buckets[i]` counts the observations in bucket `i` only (per bucket, **not** cumulative):
/// those `<=` [`LatencyHistogram::BOUNDS_SECONDS`]`[i]` and above the previous bound; the
/// last bucket counts those above 100 ms (Prometheus' `+Inf` bucket minus the others).
/// [`LatencyHistogram::cumulative`] gives the `le` / cumulative-count pairs that Prometheus'
/// `_bucket` series want, `sum_seconds` the `_sum` and `count` the `_count`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LatencyHistogram {
    /// Observations per bucket, not cumulative.
    pub buckets: [u64; LatencyHistogram::BUCKETS],
    /// Sum of all observations, in nanoseconds.
    pub sum_nanos: u64,
}

impl LatencyHistogram {
    /// Number of finite bucket bounds.
    pub const BOUNDS: usize = 11;
    /// Number of buckets: one per bound, plus the one above the last bound.
    pub const BUCKETS: usize = Self::BOUNDS + 1;
    /// Upper bounds of the finite buckets, in seconds: 50 µs, 100 µs, 250 µs, 500 µs, 1 ms,
    /// 2.5 ms, 5 ms, 10 ms, 25 ms, 50 ms, 100 ms.
    pub const BOUNDS_SECONDS: [f64; Self::BOUNDS] = [
        0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1,
    ];

    /// Total observations (the `+Inf` bucket's cumulative count). Computed from the buckets,
    /// so it always equals the last cumulative count of the same snapshot.
    pub fn count(&self) -> u64 {
        self.buckets
            .iter()
            .fold(0u64, |sum, &n| sum.saturating_add(n))
    }

    /// Sum of all observations in seconds (Prometheus `_sum`).
    pub fn sum_seconds(&self) -> f64 {
        Duration::from_nanos(self.sum_nanos).as_secs_f64()
    }

    /// `(le, cumulative count)` for every bucket, ending with `(f64::INFINITY, count)`.
    pub fn cumulative(&self) -> [(f64, u64); Self::BUCKETS] {
        let mut out = [(f64::INFINITY, 0u64); Self::BUCKETS];
        let mut running = 0u64;
        for (i, (slot, &n)) in out.iter_mut().zip(&self.buckets).enumerate() {
            running = running.saturating_add(n);
            let le = Self::BOUNDS_SECONDS
                .get(i)
                .copied()
                .unwrap_or(f64::INFINITY);
            *slot = (le, running);
        }
        out
    }

    /// The upper bound of the bucket holding quantile `q` (0..=1), in seconds; `None` when
    /// empty, infinity when it falls above the last bound. Coarse, for logs.
    pub fn quantile_bound(&self, q: f64) -> Option<f64> {
        let count = self.count();
        if count == 0 {
            return None;
        }
        // Precision loss only past 2^53 observations.
        #[allow(
            clippy::cast_precision_loss,
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss
        )]
        let rank = ((q.clamp(0.0, 1.0) * count as f64).ceil() as u64).max(1);
        self.cumulative()
            .iter()
            .find(|(_, cumulative)| *cumulative >= rank)
            .map(|(le, _)| *le)
    }
}

/// What recovery found and repaired.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecoveryStats {
    /// Segment files replayed.
    pub segments: u64,
    /// Records (batches) applied.
    pub records: u64,
    /// Bytes cut off the end of the last segment (a write torn by a crash).
    pub bytes_truncated: u64,
    /// Damaged records skipped, plus damaged segment tails and headers.
    pub corrupt_records_skipped: u64,
    /// Bytes not replayed because they were damaged (excluding `bytes_truncated`).
    pub bytes_skipped: u64,
    /// Whether the live state was rewritten into fresh segments at open.
    pub compacted: bool,
    /// Wall time of `open`, lock excluded.
    pub duration: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fsyncs_land_in_their_buckets_and_add_up() {
        let counters = Counters::default();
        for micros in [10, 50, 51, 900, 3_000, 200_000] {
            counters.record_fsync(Duration::from_micros(micros));
        }
        let stats = counters.snapshot();
        let histogram = stats.fsync_latency;
        assert_eq!(stats.fsyncs, 6);
        assert_eq!(histogram.count(), 6);
        assert_eq!(histogram.buckets[0], 2, "10 µs and exactly 50 µs");
        assert_eq!(histogram.buckets[1], 1, "51 µs");
        assert_eq!(histogram.buckets[4], 1, "900 µs");
        assert_eq!(histogram.buckets[6], 1, "3 ms");
        assert_eq!(histogram.buckets[11], 1, "200 ms is above every bound");
        let cumulative = histogram.cumulative();
        assert_eq!(cumulative[0], (0.000_05, 2));
        assert_eq!(cumulative[10], (0.1, 5));
        assert_eq!(cumulative[11], (f64::INFINITY, 6));
        assert!((histogram.sum_seconds() - 0.204_011).abs() < 1e-9);
        assert_eq!(histogram.quantile_bound(0.5), Some(0.000_1));
        assert_eq!(histogram.quantile_bound(1.0), Some(f64::INFINITY));
        assert_eq!(LatencyHistogram::default().quantile_bound(0.5), None);
    }
}
