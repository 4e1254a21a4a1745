//! Rewrites the live state into fresh segments at open when most of the disk is dead.
//!
//! While running, the writer deletes dead segments and compacts one segment at a time (see
//! `reclaim` and `rewrite`), but a crash or a close can leave that work unfinished. At open
//! nothing else uses the disk yet, so when dead bytes dominate it is cheap to copy the live
//! records out again (in seq order per space, which also makes paging in sequential) and
//! drop every old segment.
//!
//! Crash safety: the copies go into segments with higher ids, are synced (file and directory)
//! before any old segment is deleted, and old segments are deleted oldest first with a
//! directory sync after each. Replaying old segments plus any prefix of the copies, or any
//! suffix of the old segments plus all copies, yields the same live state, because a copy
//! re-puts exactly the value that is already live.

use std::sync::Arc;

use crate::config::JournalConfig;
use crate::error::JournalError;
use crate::index::Index;
use crate::op::{batch_len, encoded_len, Op};
use crate::read::read_payloads;
use crate::record::frame_len;
use crate::segment::{delete_segment, segment_path, Placement, SegmentLog};
use crate::stats::Counters;

/// Messages read back from the old segments at a time.
const READ_CHUNK: usize = 4096;

/// Whether dead bytes outweigh live ones by enough to be worth a rewrite.
pub(crate) fn should_compact(index: &Index, segment_size: u64) -> bool {
    let disk = index.disk_bytes();
    let live = index.live_bytes();
    let dead = disk.saturating_sub(live);
    index.segment_count() > 1 && dead > live && dead >= segment_size / 2
}

/// Writes `old`'s live state into new segments starting at `next_id`, reading the payloads
/// back from the old segments a chunk at a time, then deletes every old segment. Returns the
/// index of the new segments and the log positioned after them.
pub(crate) fn compact(
    old: Index,
    next_id: u64,
    config: &JournalConfig,
    counters: Arc<Counters>,
) -> Result<(Index, SegmentLog), JournalError> {
    let dir = config.dir.as_path();
    let old_segments: Vec<u64> = old.segments().map(|(id, _)| id).collect();
    let seq_floor = old.next_seq();
    let (old_live, old_disk) = (old.live_bytes(), old.disk_bytes());

    let mut log = SegmentLog::create(
        dir,
        next_id,
        seq_floor,
        config.log_shape(),
        Arc::clone(&counters),
    )?;
    let mut fresh = Index::new();
    fresh.raise_next_seq(seq_floor);
    fresh.set_segment_size(log.active_id(), log.active_len());

    // Group ops into records of about max_batch_bytes; atomicity across records does not
    // matter here because the old segments stay until every copy is durable.
    let mut out = Batcher {
        log: &mut log,
        index: &mut fresh,
        seq_floor,
        limit: u64::try_from(config.max_batch_bytes).unwrap_or(u64::MAX),
        batch: Vec::new(),
        bytes: 0,
    };
    for op in old.meta_ops() {
        out.push(op)?;
    }
    for key in old.space_keys() {
        let mut after = 0;
        loop {
            let found = old.locate(&key, after, READ_CHUNK, u64::MAX);
            let Some(last) = found.last() else { break };
            after = last.seq;
            for (seq, payload) in read_payloads(dir, &found)? {
                out.push(Op::Put {
                    key: key.clone(),
                    seq,
                    payload,
                })?;
            }
        }
    }
    out.finish()?;
    drop(old);
    log.flush()?;
    log.sync()?;
    fresh.set_segment_size(log.active_id(), log.active_len());

    for id in old_segments {
        delete_segment(dir, &segment_path(dir, id))?;
        Counters::add(&counters.segments_deleted, 1);
    }
    tracing::info!(
        before_bytes = old_disk,
        live_bytes = old_live,
        after_bytes = fresh.disk_bytes(),
        "compacted journal at open"
    );
    Ok((fresh, log))
}

/// Gathers copies into records of about `limit` bytes and writes them.
struct Batcher<'a> {
    log: &'a mut SegmentLog,
    index: &'a mut Index,
    seq_floor: u64,
    limit: u64,
    batch: Vec<Op>,
    bytes: u64,
}

impl Batcher<'_> {
    fn push(&mut self, op: Op) -> Result<(), JournalError> {
        let len = encoded_len(&op);
        if !self.batch.is_empty() && self.bytes.saturating_add(len) > self.limit {
            self.write()?;
        }
        self.bytes = self.bytes.saturating_add(len);
        self.batch.push(op);
        Ok(())
    }

    fn finish(mut self) -> Result<(), JournalError> {
        if !self.batch.is_empty() {
            self.write()?;
        }
        Ok(())
    }

    fn write(&mut self) -> Result<(), JournalError> {
        let batch = std::mem::take(&mut self.batch);
        self.bytes = 0;
        let size = frame_len(batch_len(&batch));
        if let Placement::Rolled { sealed, sealed_len } = self.log.place(size, self.seq_floor)? {
            self.index.set_segment_size(sealed, sealed_len);
        }
        let batch_at = self.log.push_batch(&batch, size)?;
        let segment = self.log.active_id();
        self.index.apply_batch(&batch, segment, batch_at);
        self.log.flush()?;
        self.index.set_segment_size(segment, self.log.active_len());
        Ok(())
    }
}
