//! Counters the writer publishes and handles read without locking, and recovery's report.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

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
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn set(counter: &AtomicU64, n: u64) {
        counter.store(n, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> JournalStats {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let batches_written = get(&self.batches_written);
        let fsyncs = get(&self.fsyncs);
        JournalStats {
            live_bytes: get(&self.live_bytes),
            disk_bytes: get(&self.disk_bytes),
            segments: get(&self.segments),
            batches_written,
            group_commits: get(&self.group_commits),
            fsyncs,
            segments_deleted: get(&self.segments_deleted),
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
    /// `fdatasync` calls since open, including those at segment rolls and deletions.
    pub fsyncs: u64,
    /// Segment files deleted since open, including by compaction at open.
    pub segments_deleted: u64,
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
