//! The single writer thread: group commit, segment rolls, deletion of dead segments.
//!
//! It owns the segment files, the index and the lock file; nothing else touches them after
//! `open`. It takes batches from a bounded channel, gathers everything already queued (up to
//! `max_batch_bytes`), writes the gathered records with one `write`, covers them with one
//! `fdatasync`, and only then completes their `Durable` futures.
//!
//! # Deletion invariant
//!
//! Replay is positional: a `Remove`, `DropSpace` or `RemoveMeta` only affects records written
//! before it, and those may sit in older segments. Deleting a segment that holds such a
//! tombstone while an older segment survives could bring a removed message back. So:
//!
//! > A segment is deleted only when it holds no live Put and no live meta, it is not the
//! > segment being written, and every older segment has already been deleted (it is the
//! > oldest). Deletions are made durable one at a time, oldest first.
//!
//! With no older segment left, the tombstones in the deleted segment had nothing left to
//! suppress, and its own records were dead, so replay finds the same live state without it.
//! The newest segment is never deleted, so its header's seq floor keeps `next_seq` from going
//! backwards.
//!
//! Metas are long-lived (a durable subscription may outlive millions of messages) and would
//! pin the oldest segment forever. When the oldest segment's only live records are metas, the
//! writer rewrites those metas into the active segment, syncs, and then deletes it. Long-lived
//! messages still pin their segment until the next open compacts (see `compaction`).
//!
//! # Failures
//!
//! A failed write or fsync fails every batch of that group commit and stops the writer from
//! accepting more (`WriterFailed`): after a failed fsync the page cache may have dropped the
//! data, so nothing later could be acknowledged honestly. A failed deletion only logs and is
//! retried after the next group commit.

use std::fs::File;
use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::sync::{mpsc, oneshot};

use crate::config::{JournalConfig, SyncMode};
use crate::error::JournalError;
use crate::index::Index;
use crate::op::{batch_len, encode_batch, encoded_len, Op};
use crate::record::{begin_frame, finish_frame, frame_len, KIND_BATCH, MAX_RECORD_LEN};
use crate::segment::{delete_segment, segment_path, Placement, SegmentLog};
use crate::stats::Counters;

/// The name the writer thread carries, visible in debuggers and `top -H`.
pub(crate) const THREAD_NAME: &str = "ferromq-journal";

pub(crate) type Reply = oneshot::Sender<Result<(), JournalError>>;

/// One `append`: the ops, the size of their record, and where to say it is durable.
#[derive(Debug)]
pub(crate) struct AppendRequest {
    pub(crate) ops: Vec<Op>,
    pub(crate) size: u64,
    pub(crate) done: Reply,
}

#[derive(Debug)]
pub(crate) enum Request {
    Append(AppendRequest),
    Close(Reply),
}

#[derive(Debug)]
pub(crate) struct Writer {
    index: Index<()>,
    log: SegmentLog,
    counters: Arc<Counters>,
    sync: SyncMode,
    max_batch_bytes: u64,
    failed: Option<JournalError>,
    /// Holds the directory lock; dropped last, after the segment files are closed.
    lock: File,
}

impl Writer {
    pub(crate) fn new(
        index: Index<()>,
        log: SegmentLog,
        lock: File,
        counters: Arc<Counters>,
        config: &JournalConfig,
    ) -> Self {
        Self {
            index,
            log,
            counters,
            sync: config.sync,
            max_batch_bytes: u64::try_from(config.max_batch_bytes).unwrap_or(u64::MAX),
            failed: None,
            lock,
        }
    }

    pub(crate) fn spawn(self, rx: mpsc::Receiver<Request>) -> std::io::Result<JoinHandle<()>> {
        std::thread::Builder::new()
            .name(THREAD_NAME.into())
            .spawn(move || self.run(rx))
    }

    fn run(mut self, mut rx: mpsc::Receiver<Request>) {
        while let Some(first) = rx.blocking_recv() {
            let mut appends = Vec::new();
            let mut close = None;
            match first {
                Request::Append(append) => appends.push(append),
                Request::Close(done) => close = Some(done),
            }
            // Group commit: take whatever else is already queued, up to the byte cap.
            let mut bytes = appends.first().map_or(0, |a| a.size);
            while close.is_none() && bytes < self.max_batch_bytes {
                match rx.try_recv() {
                    Ok(Request::Append(append)) => {
                        bytes = bytes.saturating_add(append.size);
                        appends.push(append);
                    }
                    Ok(Request::Close(done)) => close = Some(done),
                    Err(_) => break,
                }
            }
            if !appends.is_empty() {
                self.commit(appends);
            }
            if let Some(done) = close {
                self.close(rx, done);
                return;
            }
        }
        // Every handle was dropped without `close`: finish the same way, nobody to tell.
        if let Err(error) = self.finish() {
            tracing::error!(%error, "journal writer could not finish cleanly");
        }
    }

    /// Refuses what is still queued, syncs, releases files and lock, then answers `done`.
    fn close(self, mut rx: mpsc::Receiver<Request>, done: Reply) {
        rx.close();
        let mut other_closers = Vec::new();
        while let Ok(request) = rx.try_recv() {
            match request {
                Request::Append(append) => {
                    // The caller may have dropped its Durable; nobody else to tell.
                    let _ = append.done.send(Err(JournalError::Closed));
                }
                Request::Close(done) => other_closers.push(done),
            }
        }
        let result = self.finish();
        let _ = done.send(result);
        for done in other_closers {
            let _ = done.send(Ok(()));
        }
    }

    /// Flushes and syncs (in every sync mode: a clean shutdown loses nothing), then closes
    /// the segment and releases the lock.
    fn finish(mut self) -> Result<(), JournalError> {
        let result = match self.failed.take() {
            Some(cause) => Err(JournalError::WriterFailed {
                cause: Box::new(cause),
            }),
            None => self.log.flush().and_then(|()| self.log.sync()),
        };
        self.publish();
        let Self { log, lock, .. } = self;
        drop(log);
        drop(lock);
        result
    }

    /// Writes one group of batches and answers each of them.
    fn commit(&mut self, appends: Vec<AppendRequest>) {
        if let Some(cause) = &self.failed {
            for append in appends {
                let _ = append.done.send(Err(JournalError::WriterFailed {
                    cause: Box::new(cause.clone()),
                }));
            }
            return;
        }
        match self.write_group(&appends) {
            Ok(segments) => {
                let count = u64::try_from(appends.len()).unwrap_or(u64::MAX);
                Counters::add(&self.counters.batches_written, count);
                Counters::add(&self.counters.group_commits, 1);
                let mut replies = Vec::with_capacity(appends.len());
                for (append, segment) in appends.into_iter().zip(segments) {
                    for op in append.ops {
                        self.index.apply(op, segment);
                    }
                    replies.push(append.done);
                }
                // Publish before answering, so a caller reading stats after its batch is
                // durable sees the batch counted.
                self.publish();
                for done in replies {
                    // A dropped Durable means the caller does not care when; not an error.
                    let _ = done.send(Ok(()));
                }
                // Deleting dead segments happens after the answers: it costs a directory
                // fsync and nobody's batch depends on it.
                if let Err(error) = self.collect_garbage() {
                    self.fail(error);
                }
            }
            Err(error) => {
                for append in appends {
                    let _ = append.done.send(Err(error.clone()));
                }
                self.fail(error);
            }
        }
        self.publish();
    }

    fn fail(&mut self, error: JournalError) {
        tracing::error!(%error, "journal write failed; refusing further batches");
        self.failed = Some(error);
    }

    /// Encodes every batch into its segment, writes, and syncs. Returns each batch's segment.
    fn write_group(&mut self, appends: &[AppendRequest]) -> Result<Vec<u64>, JournalError> {
        let mut segments = Vec::with_capacity(appends.len());
        // Seqs of this group are not in the index yet; a segment created mid-group must
        // still record a floor above them.
        let mut floor = self.index.next_seq();
        for append in appends {
            self.append_record(&append.ops, append.size, floor)?;
            segments.push(self.log.active_id());
            let top = append.ops.iter().filter_map(Op::seq).max();
            floor = floor.max(top.map_or(0, |seq| seq.saturating_add(1)));
        }
        self.log.flush()?;
        if self.sync == SyncMode::Always {
            self.log.sync()?;
        }
        self.index
            .set_segment_size(self.log.active_id(), self.log.active_len());
        Ok(segments)
    }

    /// Places and encodes one record into the pending buffer.
    fn append_record(&mut self, ops: &[Op], size: u64, floor: u64) -> Result<(), JournalError> {
        if let Placement::Rolled { sealed, sealed_len } = self.log.place(size, floor)? {
            self.index.set_segment_size(sealed, sealed_len);
            self.index
                .set_segment_size(self.log.active_id(), self.log.active_len());
        }
        let out = self.log.pending_mut();
        let start = begin_frame(out, KIND_BATCH);
        if encode_batch(ops, out) && finish_frame(out, start) {
            return Ok(());
        }
        // `append` checked the size, so this means a bug; refuse rather than write garbage.
        out.truncate(start);
        Err(JournalError::BatchTooLarge {
            size,
            max: u64::from(MAX_RECORD_LEN),
        })
    }

    /// Deletes dead segments from the oldest end (see the invariant in the module docs).
    pub(crate) fn collect_garbage(&mut self) -> Result<(), JournalError> {
        let mut synced = self.sync == SyncMode::Always;
        // Only segments older than the active one at the start of this round are candidates:
        // segments that carrying metas forward seals during the round hold nothing but live
        // metas, and carrying those again would loop when the metas exceed a segment.
        let limit = self.log.active_id();
        while let Some((id, usage)) = self.index.oldest_segment() {
            if id >= limit || usage.live_puts > 0 {
                break;
            }
            if usage.live_metas > 0 {
                self.carry_metas_forward(id)?;
                synced = true;
                let still_live = self
                    .index
                    .oldest_segment()
                    .is_some_and(|(_, usage)| usage.live_metas > 0);
                if still_live {
                    break;
                }
                continue;
            }
            // In SyncMode::Never the tombstones that made this segment dead may still be in
            // the page cache; make them durable before their targets disappear.
            if !synced {
                self.log.sync()?;
                synced = true;
            }
            let dir = self.log.dir().to_path_buf();
            if let Err(error) = delete_segment(&dir, &segment_path(&dir, id)) {
                tracing::warn!(%error, segment = id, "could not delete dead segment; will retry");
                break;
            }
            self.index.remove_segment(id);
            Counters::add(&self.counters.segments_deleted, 1);
            tracing::debug!(segment = id, "deleted dead segment");
        }
        Ok(())
    }

    /// Rewrites the live metas of `segment` into the active segment and syncs, so that
    /// `segment` holds nothing live.
    fn carry_metas_forward(&mut self, segment: u64) -> Result<(), JournalError> {
        let ops = self.index.metas_in(segment);
        tracing::debug!(segment, metas = ops.len(), "carrying live metas forward");
        // Split into records of about max_batch_bytes; atomicity across them does not
        // matter because the old copies stay until all are durable.
        let mut batches: Vec<Vec<Op>> = vec![Vec::new()];
        let mut bytes = 0u64;
        for op in ops {
            let len = encoded_len(&op);
            if bytes.saturating_add(len) > self.max_batch_bytes
                && batches.last().is_some_and(|b| !b.is_empty())
            {
                batches.push(Vec::new());
                bytes = 0;
            }
            bytes = bytes.saturating_add(len);
            if let Some(batch) = batches.last_mut() {
                batch.push(op);
            }
        }
        let mut placed = Vec::with_capacity(batches.len());
        let floor = self.index.next_seq();
        for batch in batches.into_iter().filter(|b| !b.is_empty()) {
            self.append_record(&batch, frame_len(batch_len(&batch)), floor)?;
            placed.push((self.log.active_id(), batch));
        }
        self.log.flush()?;
        self.log.sync()?;
        for (target, batch) in placed {
            for op in batch {
                self.index.apply(op, target);
            }
        }
        self.index
            .set_segment_size(self.log.active_id(), self.log.active_len());
        Ok(())
    }

    /// Copies the index's totals into the shared counters.
    pub(crate) fn publish(&self) {
        let counters = &self.counters;
        Counters::set(&counters.live_bytes, self.index.live_bytes());
        Counters::set(&counters.disk_bytes, self.index.disk_bytes());
        let segments = u64::try_from(self.index.segment_count()).unwrap_or(u64::MAX);
        Counters::set(&counters.segments, segments);
    }
}
