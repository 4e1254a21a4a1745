//! How a journal is opened: directory, durability, locking and sizes.
//!
//! Only plain data and its validation live here; nothing touches the disk.

use std::path::PathBuf;

use crate::error::JournalError;
use crate::record::MAX_RECORD_LEN;
use crate::segment::LogShape;

/// Default size at which the writer rolls to a new segment.
pub const DEFAULT_SEGMENT_SIZE: u64 = 32 * 1024 * 1024;
/// Default cap on the bytes one group commit gathers before writing.
pub const DEFAULT_MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;
/// Default capacity of the bounded channel to the writer, in batches.
pub const DEFAULT_QUEUE_CAPACITY: usize = 1024;
/// Smallest segment size accepted; smaller ones would roll on nearly every batch.
pub const MIN_SEGMENT_SIZE: u64 = 4096;

/// When a batch counts as durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyncMode {
    /// `fdatasync` before acknowledging a group of batches.
    #[default]
    Always,
    /// Acknowledge once written to the page cache; for tests and benchmarks. A process crash
    /// loses nothing, an OS crash or power loss may.
    Never,
}

/// What `open` does when another process holds the directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LockMode {
    /// Block until the other holder releases the lock (a standby broker on shared storage).
    Wait,
    /// Fail at once with [`JournalError::Locked`].
    #[default]
    Fail,
}

/// Settings for [`crate::Journal::open`]. Start from [`JournalConfig::new`] and adjust.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalConfig {
    /// Directory holding the segments and the `lock` file; created if missing.
    pub dir: PathBuf,
    /// Durability of acknowledged batches.
    pub sync: SyncMode,
    /// Behaviour when the directory is locked.
    pub lock: LockMode,
    /// Roll to a new segment once a segment would grow past this many bytes. A single batch
    /// larger than this still goes into one (oversized) segment.
    pub segment_size: u64,
    /// A group commit stops gathering queued batches once it holds this many bytes.
    pub max_batch_bytes: usize,
    /// Capacity of the bounded queue to the writer; `append` waits when it is full.
    pub queue_capacity: usize,
    /// Write each new segment full of zeros ahead of time (in a helper thread), so that
    /// syncs after appending need not make a new file size durable. Costs up to two
    /// segments of disk beyond the records (the active segment's unused end and a spare).
    pub preallocate: bool,
}

impl JournalConfig {
    /// Defaults: `SyncMode::Always`, `LockMode::Fail`, 32 MiB preallocated segments, 4 MiB
    /// group commits, a queue of 1024 batches.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            sync: SyncMode::Always,
            lock: LockMode::Fail,
            segment_size: DEFAULT_SEGMENT_SIZE,
            max_batch_bytes: DEFAULT_MAX_BATCH_BYTES,
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
            preallocate: true,
        }
    }

    /// Sets [`JournalConfig::preallocate`].
    #[must_use]
    pub fn with_preallocate(mut self, preallocate: bool) -> Self {
        self.preallocate = preallocate;
        self
    }

    pub(crate) fn log_shape(&self) -> LogShape {
        LogShape {
            segment_size: self.segment_size,
            max_retained: self.max_batch_bytes.saturating_mul(2),
            preallocate: self.preallocate,
        }
    }

    /// Sets [`JournalConfig::sync`].
    #[must_use]
    pub fn with_sync(mut self, sync: SyncMode) -> Self {
        self.sync = sync;
        self
    }

    /// Sets [`JournalConfig::lock`].
    #[must_use]
    pub fn with_lock(mut self, lock: LockMode) -> Self {
        self.lock = lock;
        self
    }

    /// Sets [`JournalConfig::segment_size`].
    #[must_use]
    pub fn with_segment_size(mut self, segment_size: u64) -> Self {
        self.segment_size = segment_size;
        self
    }

    /// Checks the sizes; called by `open` before anything touches the disk.
    ///
    /// # Errors
    /// [`JournalError::InvalidConfig`] naming the field at fault.
    pub fn validate(&self) -> Result<(), JournalError> {
        if self.segment_size < MIN_SEGMENT_SIZE {
            return Err(JournalError::InvalidConfig {
                key: "segment_size",
                reason: format!(
                    "{} is below the minimum of {MIN_SEGMENT_SIZE}",
                    self.segment_size
                ),
            });
        }
        if self.segment_size > u64::from(MAX_RECORD_LEN) {
            return Err(JournalError::InvalidConfig {
                key: "segment_size",
                reason: format!(
                    "{} is above the maximum of {MAX_RECORD_LEN}",
                    self.segment_size
                ),
            });
        }
        if self.max_batch_bytes == 0 {
            return Err(JournalError::InvalidConfig {
                key: "max_batch_bytes",
                reason: "must be at least 1".into(),
            });
        }
        // tokio's bounded channel panics on a capacity of zero, so refuse it here.
        if self.queue_capacity == 0 {
            return Err(JournalError::InvalidConfig {
                key: "queue_capacity",
                reason: "must be at least 1".into(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_zero_capacity_is_not() {
        let config = JournalConfig::new("/tmp/x");
        assert!(config.validate().is_ok());
        let mut bad = config.clone();
        bad.queue_capacity = 0;
        assert!(matches!(
            bad.validate(),
            Err(JournalError::InvalidConfig {
                key: "queue_capacity",
                ..
            })
        ));
        let bad = config.with_segment_size(10);
        assert!(matches!(
            bad.validate(),
            Err(JournalError::InvalidConfig {
                key: "segment_size",
                ..
            })
        ));
    }
}
