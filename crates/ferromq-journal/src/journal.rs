//! The public handle: `open`, `append`, `close`, `stats`, and the `Durable` future.
//!
//! The handle only checks and queues; the writer thread (see `writer`) owns every file. The
//! queue is bounded, so `append` waits when the disk falls behind, and that wait is the
//! backpressure producers feel.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};

use crate::compaction;
use crate::config::JournalConfig;
use crate::error::{io_err, JournalError};
pub use crate::index::StoredSpace;
use crate::lock;
use crate::op::{batch_len, Op};
use crate::record::{frame_len, MAX_RECORD_LEN};
use crate::recovery;
use crate::segment::SegmentLog;
use crate::stats::{Counters, JournalStats, RecoveryStats};
use crate::writer::{AppendRequest, ReadRequest, Request, Writer};

/// What [`Journal::open`] found on disk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovered {
    /// What each space holds. Spaces with no live message are absent. The messages stay on
    /// disk; [`Journal::read`] brings them back in seq order, as many as the caller wants
    /// at a time.
    pub spaces: BTreeMap<String, StoredSpace>,
    /// Live meta entries.
    pub meta: BTreeMap<String, Bytes>,
    /// `1 +` the highest seq ever written (never lower than after an earlier open).
    pub next_seq: u64,
    /// Whether the previous writer ended with [`Journal::close`]: the log ended with its
    /// close marker and nothing was written after it. `false` after a crash (`kill -9`,
    /// power loss, a panic that dropped every handle), for a new store, and when the journal
    /// was dropped without `close`. Stored messages may have been delivered without their
    /// acknowledgement reaching the journal whenever this is `false`.
    ///
    /// This `open` writes a record after the marker before it returns, so a crash of the new
    /// session is never mistaken for a clean shutdown.
    pub clean_shutdown: bool,
    /// What recovery found and repaired.
    pub stats: RecoveryStats,
}

/// A cheap, cloneable handle to an open journal.
#[derive(Clone)]
pub struct Journal {
    shared: Arc<Shared>,
}

struct Shared {
    tx: mpsc::Sender<Request>,
    closed: AtomicBool,
    counters: Arc<Counters>,
    config: JournalConfig,
}

impl fmt::Debug for Journal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Journal")
            .field("dir", &self.shared.config.dir)
            .field("closed", &self.shared.closed.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Journal {
    /// Opens the journal in `config.dir`: takes the directory lock, replays the segments
    /// (repairing a torn tail), compacts when most of the disk is dead, makes sure the log
    /// no longer ends with the close marker, and starts the writer thread.
    ///
    /// Blocking: call it from `spawn_blocking` or before the runtime starts. With
    /// [`crate::LockMode::Wait`] it blocks until the other holder lets go.
    ///
    /// # Errors
    /// [`JournalError::InvalidConfig`], [`JournalError::Locked`] (with `LockMode::Fail`),
    /// [`JournalError::UnsupportedVersion`] for segments of a newer format, and I/O errors
    /// naming the file. Damaged records are not errors; they are counted in
    /// [`Recovered::stats`].
    pub fn open(config: JournalConfig) -> Result<(Journal, Recovered), JournalError> {
        Self::open_visiting(config, &mut |_, _, _| {})
    }

    /// Like [`Journal::open`], showing `visit` every message replayed as `(key, seq,
    /// payload)`: live ones and those removed later in the log (but still on disk), in the
    /// order they were written. The core uses it to learn which producer sequences it has
    /// already stored without keeping the messages in memory.
    ///
    /// # Errors
    /// As [`Journal::open`].
    pub fn open_visiting(
        config: JournalConfig,
        visit: &mut dyn FnMut(&str, u64, &[u8]),
    ) -> Result<(Journal, Recovered), JournalError> {
        config.validate()?;
        let counters = Arc::new(Counters::default());
        let (writer, recovered) = prepare(&config, Arc::clone(&counters), visit)?;
        let (tx, rx) = mpsc::channel(config.queue_capacity);
        writer
            .spawn(rx)
            .map_err(io_err("start the writer thread for", &config.dir))?;
        let journal = Journal {
            shared: Arc::new(Shared {
                tx,
                closed: AtomicBool::new(false),
                counters,
                config,
            }),
        };
        Ok((journal, recovered))
    }

    /// Queues `ops` as one atomic batch: after a crash either all of them are applied or
    /// none. Waits only for room in the writer's queue; await the returned [`Durable`] to
    /// know the batch is on disk. An empty batch is durable at once.
    ///
    /// # Errors
    /// [`JournalError::Closed`] after [`Journal::close`], [`JournalError::BatchTooLarge`]
    /// when the batch exceeds the 1 GiB record limit.
    pub async fn append(&self, ops: Vec<Op>) -> Result<Durable, JournalError> {
        if self.shared.closed.load(Ordering::Acquire) {
            return Err(JournalError::Closed);
        }
        if ops.is_empty() {
            return Ok(Durable::ready());
        }
        let size = frame_len(batch_len(&ops));
        let max = u64::from(MAX_RECORD_LEN);
        if size > max {
            return Err(JournalError::BatchTooLarge { size, max });
        }
        let (done, rx) = oneshot::channel();
        self.shared
            .tx
            .send(Request::Append(AppendRequest { ops, size, done }))
            .await
            .map_err(|_| JournalError::Closed)?;
        Ok(Durable::waiting(rx))
    }

    /// The live messages of space `key` with a seq above `after`, in seq order: at most
    /// `max_count` of them and no more than `max_bytes` of payload (but at least one when
    /// any is there). Sees every batch appended before the call, durable or not yet.
    ///
    /// Reads run on the writer thread between group commits, so they never race a
    /// deletion or compaction of the segment they read.
    ///
    /// # Errors
    /// [`JournalError::Closed`] after [`Journal::close`], an I/O error naming the segment,
    /// or [`JournalError::WriterFailed`].
    pub async fn read(
        &self,
        key: &str,
        after: u64,
        max_count: usize,
        max_bytes: usize,
    ) -> Result<Vec<(u64, Bytes)>, JournalError> {
        if self.shared.closed.load(Ordering::Acquire) {
            return Err(JournalError::Closed);
        }
        let (done, rx) = oneshot::channel();
        let request = ReadRequest {
            key: key.to_owned(),
            after,
            max_count,
            max_bytes: u64::try_from(max_bytes).unwrap_or(u64::MAX),
            done,
        };
        self.shared
            .tx
            .send(Request::Read(request))
            .await
            .map_err(|_| JournalError::Closed)?;
        rx.await.unwrap_or(Err(JournalError::Unconfirmed))
    }

    /// Writes out what is queued, ends the log with the close marker (so the next open
    /// reports [`Recovered::clean_shutdown`]), syncs, stops the writer thread and releases
    /// the lock. Batches queued after this call fail with [`JournalError::Closed`].
    /// Idempotent. Dropping every handle without `close` also flushes and unlocks, but
    /// writes no marker.
    ///
    /// # Errors
    /// The final sync's I/O error, or [`JournalError::WriterFailed`] if an earlier write
    /// had failed.
    pub async fn close(&self) -> Result<(), JournalError> {
        self.shared.closed.store(true, Ordering::Release);
        let (done, rx) = oneshot::channel();
        if self.shared.tx.send(Request::Close(done)).await.is_err() {
            // The writer is already gone: an earlier close finished.
            return Ok(());
        }
        rx.await.unwrap_or(Ok(()))
    }

    /// The writer's counters; cheap (a few dozen atomic loads).
    pub fn stats(&self) -> JournalStats {
        self.shared.counters.snapshot()
    }

    /// [`JournalStats::live_bytes`] alone, for a check made on every send (one atomic load).
    pub fn live_bytes(&self) -> u64 {
        self.shared.counters.live_bytes.load(Ordering::Relaxed)
    }

    /// The configuration the journal was opened with.
    pub fn config(&self) -> &JournalConfig {
        &self.shared.config
    }
}

/// Everything `open` does before the writer thread starts: lock, replay, repair, compact if
/// worth it, follow the close marker, delete what is dead. The writer is returned unstarted
/// (tests drive it step by step).
pub(crate) fn prepare(
    config: &JournalConfig,
    counters: Arc<Counters>,
    visit: &mut dyn FnMut(&str, u64, &[u8]),
) -> Result<(Writer, Recovered), JournalError> {
    let dir = config.dir.clone();
    fs::create_dir_all(&dir).map_err(io_err("create journal directory", &dir))?;
    let lock = lock::acquire(&dir, config.lock)?;
    let started = Instant::now();

    let replayed = recovery::replay(&dir, visit)?;
    let clean_shutdown = replayed.clean_shutdown;
    let mut stats = replayed.stats;
    let (index, log) = if compaction::should_compact(&replayed.index, config.segment_size) {
        stats.compacted = true;
        compaction::compact(
            replayed.index,
            replayed.next_id,
            config,
            Arc::clone(&counters),
        )?
    } else {
        let mut index = replayed.index;
        let log = match replayed.last {
            Some(last) if last.len < config.segment_size => SegmentLog::reopen(
                &dir,
                last.id,
                last.len,
                replayed.next_id,
                config.log_shape(),
                Arc::clone(&counters),
            )?,
            _ => SegmentLog::create(
                &dir,
                replayed.next_id,
                index.next_seq(),
                config.log_shape(),
                Arc::clone(&counters),
            )?,
        };
        index.set_segment_size(log.active_id(), log.active_len());
        (index, log)
    };
    // Continuing a segment that ends with a close marker: put a record after it before
    // anything else can happen, or a crash of this session, even before it writes a batch,
    // would look like a clean shutdown at the next open. (Cutting the marker off instead
    // would turn a damaged record just before it into a torn tail.)
    let continues_marker = replayed
        .last
        .is_some_and(|last| last.ends_with_marker && last.id == log.active_id());
    let spaces = index.summary();
    let meta = index.metas();
    let next_seq = index.next_seq();

    let mut writer = Writer::new(index, log, lock, Arc::clone(&counters), config);
    if continues_marker {
        writer.start_session()?;
    }
    writer.collect_garbage()?;
    writer.publish();

    stats.duration = started.elapsed();
    let messages: u64 = spaces.values().map(|space| space.messages).sum();
    tracing::info!(
        dir = %dir.display(),
        segments = stats.segments,
        records = stats.records,
        messages,
        metas = meta.len(),
        bytes_truncated = stats.bytes_truncated,
        corrupt_records_skipped = stats.corrupt_records_skipped,
        compacted = stats.compacted,
        clean_shutdown,
        duration_ms = stats.duration.as_millis(),
        "journal recovered"
    );
    let recovered = Recovered {
        spaces,
        meta,
        next_seq,
        clean_shutdown,
        stats,
    };
    Ok((writer, recovered))
}

/// Resolves when a batch is on disk (after `fdatasync` in [`crate::SyncMode::Always`]).
/// Dropping it is fine: the batch is written anyway.
#[derive(Debug)]
pub struct Durable(DurableState);

#[derive(Debug)]
enum DurableState {
    Ready,
    Waiting(oneshot::Receiver<Result<(), JournalError>>),
}

impl Durable {
    fn ready() -> Self {
        Self(DurableState::Ready)
    }

    fn waiting(rx: oneshot::Receiver<Result<(), JournalError>>) -> Self {
        Self(DurableState::Waiting(rx))
    }
}

impl Future for Durable {
    type Output = Result<(), JournalError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.0 {
            DurableState::Ready => Poll::Ready(Ok(())),
            DurableState::Waiting(rx) => match Pin::new(rx).poll(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(Ok(result)) => Poll::Ready(result),
                // The writer dropped the reply without answering: it panicked.
                Poll::Ready(Err(_)) => Poll::Ready(Err(JournalError::Unconfirmed)),
            },
        }
    }
}
