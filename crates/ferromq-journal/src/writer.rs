//! The single writer thread: group commit, segment rolls, reclaiming space, the close marker.
//!
//! It owns the segment files, the index and the lock file; nothing else touches them after
//! `open`. It takes batches from a bounded channel, gathers everything already queued (up to
//! `max_batch_bytes`), writes the gathered records with one `write`, covers them with one
//! `fdatasync`, and only then completes their `Durable` futures.
//!
//! After each pass it reclaims space: it deletes the segments the rule in `reclaim` allows,
//! and while enough of the store is dead it compacts one segment at a time (`rewrite`),
//! one chunk per pass, so producers' batches are never stuck behind a whole segment's copy.
//! While a compaction is under way it polls the channel instead of blocking on it.
//!
//! `close` ends the log with a durable close marker (see `record::KIND_CLOSE`); when every
//! handle is dropped without `close` the writer syncs and stops without one, so the next
//! open reports an unclean shutdown.
//!
//! # Failures
//!
//! A failed write or fsync fails every batch of that group commit and stops the writer from
//! accepting more (`WriterFailed`): after a failed fsync the page cache may have dropped the
//! data, so nothing later could be acknowledged honestly. A failed deletion only logs and is
//! retried after the next pass; a segment that cannot be read back for compaction stays.

use std::collections::BTreeSet;
use std::fs::File;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use bytes::Bytes;
use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::{mpsc, oneshot};

use crate::config::{JournalConfig, SyncMode};
use crate::error::JournalError;
use crate::index::Index;
use crate::op::{batch_len, Op};
use crate::read::read_payloads;
use crate::record::{encode_marker, frame_len, KIND_CLOSE};
use crate::rewrite::Job;
use crate::segment::{Placement, SegmentLog};
use crate::stats::Counters;

mod pacing;
mod space;

use pacing::Pacer;

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

/// One `read`: which messages, and where to send them.
#[derive(Debug)]
pub(crate) struct ReadRequest {
    pub(crate) key: String,
    pub(crate) after: u64,
    pub(crate) max_count: usize,
    pub(crate) max_bytes: u64,
    pub(crate) done: oneshot::Sender<Result<Vec<(u64, Bytes)>, JournalError>>,
}

#[derive(Debug)]
pub(crate) enum Request {
    Append(AppendRequest),
    Read(ReadRequest),
    Close(Reply),
}

/// The batches gathered for one group commit.
#[derive(Debug, Default)]
struct Group {
    appends: Vec<AppendRequest>,
    bytes: u64,
}

impl Group {
    fn add(&mut self, append: AppendRequest) {
        self.bytes = self.bytes.saturating_add(append.size);
        self.appends.push(append);
    }

    /// Whether the group has begun and is still under the byte cap.
    fn takes_more(&self, max_bytes: u64) -> bool {
        !self.appends.is_empty() && self.bytes < max_bytes
    }
}

#[derive(Debug)]
pub(crate) struct Writer {
    index: Index,
    log: SegmentLog,
    counters: Arc<Counters>,
    sync: SyncMode,
    max_batch_bytes: u64,
    segment_size: u64,
    failed: Option<JournalError>,
    /// The segment being compacted, if any.
    compaction: Option<Job>,
    /// Segments whose compaction met damage; not tried again before the next open.
    uncompactable: BTreeSet<u64>,
    /// The shape of the log when planning last found nothing to compact although
    /// compaction was due; planning waits until the shape changes.
    idle_plan: Option<(usize, u64, BTreeSet<u64>)>,
    /// Decides how long a group waits for stragglers.
    pacer: Pacer,
    /// Holds the directory lock; dropped last, after the segment files are closed.
    lock: File,
}

impl Writer {
    pub(crate) fn new(
        index: Index,
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
            segment_size: config.segment_size,
            failed: None,
            compaction: None,
            uncompactable: BTreeSet::new(),
            idle_plan: None,
            pacer: Pacer::default(),
            lock,
        }
    }

    pub(crate) fn spawn(self, rx: mpsc::Receiver<Request>) -> std::io::Result<JoinHandle<()>> {
        std::thread::Builder::new()
            .name(THREAD_NAME.into())
            .spawn(move || self.run(rx))
    }

    fn run(mut self, mut rx: mpsc::Receiver<Request>) {
        self.reclaim();
        loop {
            // With a compaction under way, a pass with no batch still moves it on.
            let first = if self.compaction.is_some() {
                match rx.try_recv() {
                    Ok(request) => Some(request),
                    Err(TryRecvError::Empty) => None,
                    Err(TryRecvError::Disconnected) => break,
                }
            } else {
                match rx.blocking_recv() {
                    Some(request) => Some(request),
                    None => break,
                }
            };
            let mut group = Group::default();
            // A read or a close ends the group: requests are served in the order they came,
            // so a read sees every batch appended before it.
            let mut after = None;
            match first {
                Some(Request::Append(append)) => group.add(append),
                Some(other) => after = Some(other),
                None => {}
            }
            // Group commit: take whatever else is already queued, up to the byte cap.
            while group.takes_more(self.max_batch_bytes) && after.is_none() {
                match rx.try_recv() {
                    Ok(Request::Append(append)) => group.add(append),
                    Ok(other) => after = Some(other),
                    Err(_) => break,
                }
            }
            if group.takes_more(self.max_batch_bytes) && after.is_none() {
                after = self.await_stragglers(&mut rx, &mut group);
            }
            if !group.appends.is_empty() {
                self.commit(group.appends);
            }
            match after {
                Some(Request::Close(done)) => {
                    self.close(rx, done);
                    return;
                }
                Some(Request::Read(read)) => self.read(read),
                _ => {}
            }
            self.reclaim();
        }
        // Every handle was dropped without `close`: finish without the close marker (the
        // owner did not say it was done), nobody to tell.
        if let Err(error) = self.finish(false) {
            tracing::error!(%error, "journal writer could not finish cleanly");
        }
    }

    /// Holds a group open while recent groups were larger, for at most about one fsync (see
    /// `pacing`). Returns a read or close that arrived meanwhile, which ends the group.
    fn await_stragglers(
        &mut self,
        rx: &mut mpsc::Receiver<Request>,
        group: &mut Group,
    ) -> Option<Request> {
        let target = self.pacer.target();
        if self.sync != SyncMode::Always || target < 2 || group.appends.len() >= target {
            return None;
        }
        Counters::add(&self.counters.group_holds, 1);
        let deadline = Instant::now() + self.pacer.linger();
        loop {
            match rx.try_recv() {
                Ok(Request::Append(append)) => {
                    group.add(append);
                    if group.appends.len() >= target || !group.takes_more(self.max_batch_bytes) {
                        return None;
                    }
                }
                Ok(other) => return Some(other),
                Err(TryRecvError::Disconnected) => return None,
                Err(TryRecvError::Empty) => {
                    if Instant::now() >= deadline {
                        Counters::add(&self.counters.group_holds_missed, 1);
                        self.pacer.gave_up(group.appends.len());
                        return None;
                    }
                    std::thread::sleep(pacing::POLL);
                }
            }
        }
    }

    /// Refuses what is still queued, writes the close marker, syncs, releases files and
    /// lock, then answers `done`.
    fn close(self, mut rx: mpsc::Receiver<Request>, done: Reply) {
        rx.close();
        let mut other_closers = Vec::new();
        while let Ok(request) = rx.try_recv() {
            match request {
                Request::Append(append) => {
                    // The caller may have dropped its Durable; nobody else to tell.
                    let _ = append.done.send(Err(JournalError::Closed));
                }
                Request::Read(read) => {
                    let _ = read.done.send(Err(JournalError::Closed));
                }
                Request::Close(done) => other_closers.push(done),
            }
        }
        let result = self.finish(true);
        let _ = done.send(result);
        for done in other_closers {
            let _ = done.send(Ok(()));
        }
    }

    /// Flushes and syncs (in every sync mode: a clean shutdown loses nothing), with the
    /// close marker as the last record when `clean`, then closes the segment and releases
    /// the lock. A compaction under way is abandoned: its copies so far are harmless.
    fn finish(mut self, clean: bool) -> Result<(), JournalError> {
        self.compaction = None;
        let result = match self.failed.take() {
            Some(cause) => Err(JournalError::WriterFailed {
                cause: Box::new(cause),
            }),
            None => self.seal(clean),
        };
        self.publish();
        let stats = self.counters.snapshot();
        let fsync = stats.fsync_latency;
        tracing::info!(
            clean = clean && result.is_ok(),
            batches = stats.batches_written,
            group_commits = stats.group_commits,
            fsyncs = stats.fsyncs,
            batches_per_fsync = format!("{:.1}", stats.batches_per_fsync()),
            group_holds = stats.group_holds,
            group_holds_missed = stats.group_holds_missed,
            messages_read = stats.messages_read,
            fsync_p50_le_s = fsync.quantile_bound(0.5).unwrap_or(0.0),
            fsync_p99_le_s = fsync.quantile_bound(0.99).unwrap_or(0.0),
            fsync_mean_us = fsync.sum_nanos.checked_div(fsync.count()).unwrap_or(0) / 1000,
            segments = stats.segments,
            disk_bytes = stats.disk_bytes,
            segments_deleted = stats.segments_deleted,
            segments_compacted = stats.segments_compacted,
            bytes_compacted = stats.bytes_compacted,
            "journal closed"
        );
        let Self { log, lock, .. } = self;
        drop(log);
        drop(lock);
        result
    }

    /// Writes an empty batch after the close marker the log ends with, durably, so that the
    /// marker is no longer the last record (called by `open` before anything else).
    pub(crate) fn start_session(&mut self) -> Result<(), JournalError> {
        let floor = self.index.next_seq();
        let _ = self.append_record(&[], frame_len(batch_len(&[])), floor)?;
        self.log.flush()?;
        self.log.sync()?;
        self.index
            .set_segment_size(self.log.active_id(), self.log.active_len());
        Ok(())
    }

    fn seal(&mut self, clean: bool) -> Result<(), JournalError> {
        if clean {
            let floor = self.index.next_seq();
            self.place(frame_len(0), floor)?;
            encode_marker(self.log.pending_mut(), KIND_CLOSE);
        }
        self.log.flush()?;
        self.log.sync()?;
        self.index
            .set_segment_size(self.log.active_id(), self.log.active_len());
        Ok(())
    }

    /// Writes one group of batches and answers each of them.
    pub(crate) fn commit(&mut self, appends: Vec<AppendRequest>) {
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
                self.pacer.committed(appends.len());
                let count = u64::try_from(appends.len()).unwrap_or(u64::MAX);
                Counters::add(&self.counters.batches_written, count);
                Counters::add(&self.counters.group_commits, 1);
                let mut replies = Vec::with_capacity(appends.len());
                for (append, (segment, batch_at)) in appends.into_iter().zip(segments) {
                    self.index.apply_batch(&append.ops, segment, batch_at);
                    replies.push(append.done);
                }
                // Publish before answering, so a caller reading stats after its batch is
                // durable sees the batch counted.
                self.publish();
                for done in replies {
                    // A dropped Durable means the caller does not care when; not an error.
                    let _ = done.send(Ok(()));
                }
            }
            Err(error) => {
                for append in appends {
                    let _ = append.done.send(Err(error.clone()));
                }
                self.fail(error);
            }
        }
    }

    /// Answers a read with the payloads of the live messages it asks for.
    fn read(&mut self, read: ReadRequest) {
        let result = match &self.failed {
            Some(cause) => Err(JournalError::WriterFailed {
                cause: Box::new(cause.clone()),
            }),
            // Everything the index knows is written (commits and compaction flush), but
            // flushing is free when nothing is pending and keeps that true whatever changes.
            None => self.log.flush().and_then(|()| {
                let found =
                    self.index
                        .locate(&read.key, read.after, read.max_count, read.max_bytes);
                read_payloads(self.log.dir(), &found)
            }),
        };
        if let Ok(messages) = &result {
            Counters::add(&self.counters.messages_read, messages.len() as u64);
        }
        // The reader may have given up; nothing to do about that.
        let _ = read.done.send(result);
    }

    fn fail(&mut self, error: JournalError) {
        tracing::error!(%error, "journal write failed; refusing further batches");
        self.failed = Some(error);
        self.compaction = None;
    }

    /// Encodes every batch into its segment, writes, and syncs. Returns each batch's segment
    /// and the offset of its batch payload there.
    fn write_group(&mut self, appends: &[AppendRequest]) -> Result<Vec<(u64, u64)>, JournalError> {
        let mut segments = Vec::with_capacity(appends.len());
        // Seqs of this group are not in the index yet; a segment created mid-group must
        // still record a floor above them.
        let mut floor = self.index.next_seq();
        for append in appends {
            let batch_at = self.append_record(&append.ops, append.size, floor)?;
            segments.push((self.log.active_id(), batch_at));
            let top = append.ops.iter().filter_map(Op::seq).max();
            floor = floor.max(top.map_or(0, |seq| seq.saturating_add(1)));
        }
        self.log.flush()?;
        if self.sync == SyncMode::Always {
            let started = Instant::now();
            self.log.sync()?;
            self.pacer.synced(started.elapsed());
        }
        self.index
            .set_segment_size(self.log.active_id(), self.log.active_len());
        Ok(segments)
    }

    /// Rolls first if a record of `size` bytes does not fit, keeping the index's sizes.
    fn place(&mut self, size: u64, floor: u64) -> Result<(), JournalError> {
        if let Placement::Rolled { sealed, sealed_len } = self.log.place(size, floor)? {
            self.index.set_segment_size(sealed, sealed_len);
            self.index
                .set_segment_size(self.log.active_id(), self.log.active_len());
            // A new sealed segment changes what compaction could do.
            self.idle_plan = None;
        }
        Ok(())
    }

    /// Places and encodes one record into the pending buffer. Returns the offset of its
    /// batch payload in the active segment.
    fn append_record(&mut self, ops: &[Op], size: u64, floor: u64) -> Result<u64, JournalError> {
        self.place(size, floor)?;
        self.log.push_batch(ops, size)
    }

    /// The active segment and its length once pending bytes are written.
    #[cfg(test)]
    pub(crate) fn active_position(&self) -> (u64, u64) {
        (self.log.active_id(), self.log.active_len())
    }

    #[cfg(test)]
    pub(crate) fn compacting(&self) -> bool {
        self.compaction.is_some()
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
