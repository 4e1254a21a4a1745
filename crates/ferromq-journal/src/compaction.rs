//! Rewrites the live state into fresh segments at open when most of the disk is dead.
//!
//! While running, the writer deletes dead segments and compacts one segment at a time (see
//! `reclaim` and `rewrite`), but a crash or a close can leave that work unfinished. At open
//! the whole live state is in memory anyway (it is being handed to the core), so when dead
//! bytes dominate it is cheap to write it out again and drop every old segment.
//!
//! Crash safety: the copies go into segments with higher ids, are synced (file and directory)
//! before any old segment is deleted, and old segments are deleted oldest first with a
//! directory sync after each. Replaying old segments plus any prefix of the copies, or any
//! suffix of the old segments plus all copies, yields the same live state, because a copy
//! re-puts exactly the value that is already live.

use std::sync::Arc;

use bytes::Bytes;

use crate::config::JournalConfig;
use crate::error::JournalError;
use crate::index::Index;
use crate::op::{batch_len, encode_batch, encoded_len, Op};
use crate::record::{begin_frame, finish_frame, frame_len, KIND_BATCH, MAX_RECORD_LEN};
use crate::segment::{delete_segment, segment_path, Placement, SegmentLog};
use crate::stats::Counters;

/// Whether dead bytes outweigh live ones by enough to be worth a rewrite.
pub(crate) fn should_compact(index: &Index<Bytes>, segment_size: u64) -> bool {
    let disk = index.disk_bytes();
    let live = index.live_bytes();
    let dead = disk.saturating_sub(live);
    index.segment_count() > 1 && dead > live && dead >= segment_size / 2
}

/// Writes `old`'s live state into new segments starting at `next_id`, then deletes every old
/// segment. Returns the index of the new segments and the log positioned after them.
pub(crate) fn compact(
    old: Index<Bytes>,
    next_id: u64,
    config: &JournalConfig,
    counters: Arc<Counters>,
) -> Result<(Index<Bytes>, SegmentLog), JournalError> {
    let dir = config.dir.as_path();
    let old_segments: Vec<u64> = old.segments().map(|(id, _)| id).collect();
    let seq_floor = old.next_seq();
    let ops = old.live_ops();
    let (old_live, old_disk) = (old.live_bytes(), old.disk_bytes());
    drop(old);

    let mut log = SegmentLog::create(
        dir,
        next_id,
        seq_floor,
        config.segment_size,
        config.max_batch_bytes,
        Arc::clone(&counters),
    )?;
    let mut fresh = Index::<Bytes>::new();
    fresh.raise_next_seq(seq_floor);
    fresh.set_segment_size(log.active_id(), log.active_len());

    // Group ops into records of about max_batch_bytes; atomicity across records does not
    // matter here because the old segments stay until every copy is durable.
    let limit = u64::try_from(config.max_batch_bytes).unwrap_or(u64::MAX);
    let mut batch = Vec::new();
    let mut batch_bytes = 0u64;
    for op in ops {
        let len = encoded_len(&op);
        if !batch.is_empty() && batch_bytes.saturating_add(len) > limit {
            write_batch(&mut log, &mut fresh, std::mem::take(&mut batch), seq_floor)?;
            batch_bytes = 0;
        }
        batch_bytes = batch_bytes.saturating_add(len);
        batch.push(op);
    }
    if !batch.is_empty() {
        write_batch(&mut log, &mut fresh, batch, seq_floor)?;
    }
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

fn write_batch(
    log: &mut SegmentLog,
    index: &mut Index<Bytes>,
    batch: Vec<Op>,
    seq_floor: u64,
) -> Result<(), JournalError> {
    let size = frame_len(batch_len(&batch));
    if let Placement::Rolled { sealed, sealed_len } = log.place(size, seq_floor)? {
        index.set_segment_size(sealed, sealed_len);
    }
    let out = log.pending_mut();
    let start = begin_frame(out, KIND_BATCH);
    if !(encode_batch(&batch, out) && finish_frame(out, start)) {
        out.truncate(start);
        return Err(JournalError::BatchTooLarge {
            size,
            max: u64::from(MAX_RECORD_LEN),
        });
    }
    let segment = log.active_id();
    for op in batch {
        index.apply(op, segment);
    }
    log.flush()?;
    index.set_segment_size(segment, log.active_len());
    Ok(())
}
