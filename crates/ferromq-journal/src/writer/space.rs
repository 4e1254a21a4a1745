//! The writer's reclaiming of space after each pass: deleting the segments the rule in
//! `reclaim` allows and moving a compaction (`rewrite`) on by one chunk.
//!
//! Deletions are made durable one by one (each `delete_segment` syncs the directory), in
//! id order, so a crash leaves any prefix of them, each allowed by the rule. A compaction
//! chunk is written and synced like a group commit before its copies count in the index;
//! the segment it empties is deleted by the next `collect_garbage`.

use crate::config::SyncMode;
use crate::error::JournalError;
use crate::op::batch_len;
use crate::reclaim;
use crate::record::frame_len;
use crate::rewrite::Job;
use crate::segment::{delete_segment, segment_path};
use crate::stats::Counters;

use super::Writer;

/// Most bytes of live records one compaction step rewrites (one record, one fsync).
const COMPACTION_CHUNK: u64 = 1024 * 1024;

impl Writer {
    /// After a pass: deletes what may go, then moves compaction on by one step (starting
    /// one if enough is dead). Errors here are write errors and fail the writer.
    pub(crate) fn reclaim(&mut self) {
        if self.failed.is_some() {
            return;
        }
        let result = self.collect_garbage().and_then(|()| {
            self.plan_compaction();
            // A finished compaction left a segment to delete.
            if self.compact_step()? {
                self.collect_garbage()?;
            }
            Ok(())
        });
        if let Err(error) = result {
            self.fail(error);
        }
        self.publish();
    }

    /// Deletes every segment the rule in `reclaim` allows, oldest first, each durably.
    pub(crate) fn collect_garbage(&mut self) -> Result<(), JournalError> {
        let mut synced = self.sync == SyncMode::Always;
        let active = self.log.active_id();
        let candidates: Vec<u64> = self
            .index
            .segments()
            .filter(|(id, usage)| *id < active && !usage.holds_live())
            .map(|(id, _)| id)
            .collect();
        for id in candidates {
            // Deleting an older one may have just freed this one: check now, not before.
            if !self.index.segment(id).is_some_and(reclaim::deletable) {
                continue;
            }
            // In SyncMode::Never the tombstones (or compaction copies) that made this segment
            // dead may still be in the page cache; make them durable before their targets
            // disappear. Sealed segments were synced when they were sealed.
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
            self.idle_plan = None;
            Counters::add(&self.counters.segments_deleted, 1);
            tracing::debug!(segment = id, "deleted dead segment");
            if self
                .compaction
                .as_ref()
                .is_some_and(|job| job.segment() == id)
            {
                // Everything it still had to copy died meanwhile.
                self.compaction = None;
            }
        }
        Ok(())
    }

    /// Starts compacting the segment `reclaim::choose` picks, unless one is under way.
    pub(crate) fn plan_compaction(&mut self) {
        if self.compaction.is_some() {
            return;
        }
        let active = self.log.active_id();
        let shape = (
            self.index.segment_count(),
            active,
            self.uncompactable.clone(),
        );
        if self.idle_plan.as_ref() == Some(&shape) {
            return;
        }
        let choice = reclaim::choose(&self.index, active, self.segment_size, &self.uncompactable);
        let Some(segment) = choice else {
            if reclaim::compaction_due(&self.index, active, self.segment_size) {
                self.idle_plan = Some(shape);
            }
            return;
        };
        let len = self.index.segment(segment).map_or(0, |usage| usage.size);
        let metas = self.index.metas_in(segment);
        match Job::start(self.log.dir(), segment, len, metas) {
            Ok(job) => {
                tracing::debug!(segment, "compacting segment");
                self.compaction = Some(job);
            }
            Err(error) => {
                tracing::warn!(%error, segment, "cannot read segment back; not compacting it");
                self.uncompactable.insert(segment);
            }
        }
    }

    /// Rewrites the next chunk of the segment being compacted into the active segment.
    /// Returns whether that finished a compaction (the caller then collects garbage).
    pub(crate) fn compact_step(&mut self) -> Result<bool, JournalError> {
        let Some(job) = self.compaction.as_mut() else {
            return Ok(false);
        };
        let segment = job.segment();
        let limit = self.max_batch_bytes.clamp(1, COMPACTION_CHUNK);
        let chunk = match job.next_chunk(&self.index, limit) {
            Ok(chunk) => chunk,
            Err(error) => {
                tracing::warn!(%error, segment, "cannot read segment back; not compacting it");
                self.uncompactable.insert(segment);
                self.compaction = None;
                return Ok(false);
            }
        };
        let done = job.is_done();
        let damaged = job.met_damage();
        let copied = job.copied;
        if !chunk.is_empty() {
            let size = frame_len(batch_len(&chunk));
            let batch_at = self.append_record(&chunk, size, self.index.next_seq())?;
            let target = self.log.active_id();
            self.log.flush()?;
            if self.sync == SyncMode::Always {
                self.log.sync()?;
            }
            self.index.apply_batch(&chunk, target, batch_at);
            self.index.set_segment_size(target, self.log.active_len());
            Counters::add(&self.counters.bytes_compacted, size);
        }
        if !done {
            return Ok(false);
        }
        self.compaction = None;
        let freed = self.index.segment(segment).is_some_and(reclaim::deletable);
        if freed {
            Counters::add(&self.counters.segments_compacted, 1);
            tracing::info!(segment, bytes_copied = copied, "compacted segment");
        } else {
            if damaged {
                tracing::warn!(
                    segment,
                    "segment keeps damaged records; not compacting it again"
                );
            }
            self.uncompactable.insert(segment);
        }
        Ok(true)
    }
}
