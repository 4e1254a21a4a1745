//! Segment files on disk: naming, listing, creating, appending and rolling.
//!
//! A segment is `<dir>/journal-<id as 16 hex digits>.log`. Ids only grow, so file names sort
//! in write order. A segment set aside as damaged is renamed to `.corrupt` and kept for
//! inspection; its id is never reused.
//!
//! The active segment may be longer than its records: a segment made from a spare
//! (`prealloc`) ends in zeros that records overwrite, which recovery recognises. A sealed
//! segment is cut to its records before the next segment exists, so only the newest segment
//! can end in zeros.
//!
//! This module writes bytes it is given; it does not know what records mean and never
//! deletes a segment on its own (deletion order is the writer's invariant).

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use crate::error::{io_err, io_err_at, JournalError};
use crate::op::{encode_batch, Op};
use crate::prealloc::Preallocator;
use crate::record::{
    begin_frame, encode_header, finish_frame, SegmentHeader, FRAME_PREFIX, HEADER_LEN_U64,
    KIND_BATCH, MAX_RECORD_LEN,
};
use crate::stats::Counters;

const PREFIX: &str = "journal-";
const LOG_SUFFIX: &str = ".log";
const CORRUPT_SUFFIX: &str = ".corrupt";

pub(crate) fn segment_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("{PREFIX}{id:016x}{LOG_SUFFIX}"))
}

pub(crate) fn corrupt_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("{PREFIX}{id:016x}{CORRUPT_SUFFIX}"))
}

/// Parses `journal-<16 hex>.log` or `.corrupt`; returns the id and whether it is live.
fn parse_name(name: &str) -> Option<(u64, bool)> {
    let rest = name.strip_prefix(PREFIX)?;
    let (hex, live) = if let Some(hex) = rest.strip_suffix(LOG_SUFFIX) {
        (hex, true)
    } else {
        (rest.strip_suffix(CORRUPT_SUFFIX)?, false)
    };
    if hex.len() != 16 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(hex, 16).ok().map(|id| (id, live))
}

/// The segments of a directory.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    /// Live segments, ascending by id.
    pub(crate) segments: Vec<(u64, PathBuf)>,
    /// One past the highest id in use, counting segments set aside as corrupt.
    pub(crate) next_id: u64,
}

pub(crate) fn list_segments(dir: &Path) -> Result<Listing, JournalError> {
    let mut listing = Listing {
        segments: Vec::new(),
        next_id: 1,
    };
    for entry in fs::read_dir(dir).map_err(io_err("list", dir))? {
        let entry = entry.map_err(io_err("list", dir))?;
        let name = entry.file_name();
        let Some((id, live)) = name.to_str().and_then(parse_name) else {
            continue;
        };
        listing.next_id = listing.next_id.max(id.saturating_add(1));
        if live {
            listing.segments.push((id, entry.path()));
        }
    }
    listing.segments.sort_unstable_by_key(|(id, _)| *id);
    Ok(listing)
}

/// Makes renames, creations and deletions in `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), JournalError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err("fsync directory", dir))
}

/// Deletes a segment and makes the deletion durable before returning, so that deletions
/// reach the disk in the order they were made (see the invariant in `writer`).
pub(crate) fn delete_segment(dir: &Path, path: &Path) -> Result<(), JournalError> {
    fs::remove_file(path).map_err(io_err("delete segment", path))?;
    sync_dir(dir)
}

/// The segment being appended to.
#[derive(Debug)]
struct ActiveSegment {
    id: u64,
    path: PathBuf,
    file: File,
    /// Bytes of header and records.
    len: u64,
    /// Bytes of the file: past `len` it holds zeros (preallocated), else it grows as written.
    capacity: u64,
    /// `len` when this segment was opened or created, to tell how much it has taken since.
    start_len: u64,
}

impl ActiveSegment {
    /// Creates a segment with its header, durable (file and directory entry) before any
    /// record goes in, so a crash leaves either no file or a valid header. A spare becomes
    /// the segment by getting the header and then the segment's name.
    fn create(
        dir: &Path,
        id: u64,
        seq_floor: u64,
        spare: Option<(File, PathBuf)>,
    ) -> Result<Self, JournalError> {
        let path = segment_path(dir, id);
        let header = encode_header(SegmentHeader {
            segment_id: id,
            seq_floor,
        });
        let (file, capacity) = match spare {
            Some((file, spare_path)) => {
                let capacity = file
                    .metadata()
                    .map_err(io_err("size of", &spare_path))?
                    .len();
                file.write_all_at(&header, 0)
                    .and_then(|()| file.sync_data())
                    .map_err(io_err("write header of", &spare_path))?;
                fs::rename(&spare_path, &path).map_err(io_err("rename spare to", &path))?;
                (file, capacity.max(HEADER_LEN_U64))
            }
            None => {
                let mut file = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create_new(true)
                    .open(&path)
                    .map_err(io_err("create segment", &path))?;
                file.write_all(&header)
                    .and_then(|()| file.sync_all())
                    .map_err(io_err("write header of", &path))?;
                (file, HEADER_LEN_U64)
            }
        };
        sync_dir(dir)?;
        Ok(Self {
            id,
            path,
            file,
            len: HEADER_LEN_U64,
            capacity,
            start_len: HEADER_LEN_U64,
        })
    }

    fn reopen(id: u64, path: PathBuf, len: u64) -> Result<Self, JournalError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(io_err("open segment", &path))?;
        let capacity = file.metadata().map_err(io_err("size of", &path))?.len();
        Ok(Self {
            id,
            path,
            file,
            len,
            capacity: capacity.max(len),
            start_len: len,
        })
    }

    /// Whether writes extend the file (no preallocated zeros left to overwrite).
    fn grows(&self) -> bool {
        self.len >= self.capacity
    }

    /// Cuts the zeros after the records of a segment about to be sealed: recovery expects
    /// zeros only at the end of the newest segment. The seal's fdatasync makes the new size
    /// durable with the data.
    fn trim(&mut self) -> Result<(), JournalError> {
        if self.capacity > self.len {
            self.file
                .set_len(self.len)
                .map_err(io_err("cut the preallocated end of", &self.path))?;
            self.capacity = self.len;
        }
        Ok(())
    }
}

/// Where a record went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placement {
    /// Into the current segment.
    Same,
    /// The current segment was sealed (written and synced) at `sealed_len` bytes and a new
    /// one begun.
    Rolled { sealed: u64, sealed_len: u64 },
}

/// Appends records to the newest segment, rolling at `segment_size`. Records are gathered
/// in `pending` and written with one `write` per group commit.
#[derive(Debug)]
pub(crate) struct SegmentLog {
    dir: PathBuf,
    segment_size: u64,
    active: ActiveSegment,
    pending: Vec<u8>,
    next_id: u64,
    counters: Arc<Counters>,
    max_retained: usize,
    spares: Preallocator,
}

/// How a [`SegmentLog`] sizes and prepares its files.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LogShape {
    pub(crate) segment_size: u64,
    /// Pending buffer capacity kept between group commits.
    pub(crate) max_retained: usize,
    /// Whether new segments are zero-filled ahead of time (`prealloc`).
    pub(crate) preallocate: bool,
}

impl SegmentLog {
    /// Continues the existing segment `id` at `len` bytes (zeros after them are
    /// preallocated space); new segments get ids from `next_id` on (it may be above `id + 1`
    /// when later segments were set aside).
    pub(crate) fn reopen(
        dir: &Path,
        id: u64,
        len: u64,
        next_id: u64,
        shape: LogShape,
        counters: Arc<Counters>,
    ) -> Result<Self, JournalError> {
        let active = ActiveSegment::reopen(id, segment_path(dir, id), len)?;
        Ok(Self::with_active(dir, active, next_id, shape, counters))
    }

    /// Starts a fresh segment `id`.
    pub(crate) fn create(
        dir: &Path,
        id: u64,
        seq_floor: u64,
        shape: LogShape,
        counters: Arc<Counters>,
    ) -> Result<Self, JournalError> {
        let active = ActiveSegment::create(dir, id, seq_floor, None)?;
        Ok(Self::with_active(dir, active, id, shape, counters))
    }

    fn with_active(
        dir: &Path,
        active: ActiveSegment,
        next_id: u64,
        shape: LogShape,
        counters: Arc<Counters>,
    ) -> Self {
        Self {
            dir: dir.to_path_buf(),
            segment_size: shape.segment_size,
            next_id: next_id.max(active.id.saturating_add(1)),
            active,
            pending: Vec::new(),
            counters,
            max_retained: shape.max_retained,
            spares: Preallocator::new(dir, shape.segment_size, shape.preallocate),
        }
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn active_id(&self) -> u64 {
        self.active.id
    }

    /// Bytes the active segment holds once `pending` is written.
    pub(crate) fn active_len(&self) -> u64 {
        self.active
            .len
            .saturating_add(u64::try_from(self.pending.len()).unwrap_or(u64::MAX))
    }

    /// Encodes `ops` as one batch record into the pending buffer (after `place` made room
    /// for its `size` bytes). Returns where its batch payload starts in the active segment:
    /// after the record's length, checksum and kind byte.
    ///
    /// # Errors
    /// [`JournalError::BatchTooLarge`] when a count or length does not fit the format; callers
    /// check sizes first, so this refuses rather than write garbage. Nothing is left pending.
    pub(crate) fn push_batch(&mut self, ops: &[Op], size: u64) -> Result<u64, JournalError> {
        let batch_at = self.active_len() + FRAME_PREFIX as u64 + 1;
        let out = &mut self.pending;
        let start = begin_frame(out, KIND_BATCH);
        if encode_batch(ops, out) && finish_frame(out, start) {
            return Ok(batch_at);
        }
        out.truncate(start);
        Err(JournalError::BatchTooLarge {
            size,
            max: u64::from(MAX_RECORD_LEN),
        })
    }

    /// Makes room for a record of `record_len` bytes, rolling first if it would push the
    /// segment past `segment_size`. A segment holding no record yet takes any record, so an
    /// oversized batch gets a segment of its own instead of failing.
    ///
    /// A growing segment (not preallocated) is also sealed as soon as a spare is ready, so
    /// the cheaper syncs of a preallocated segment start early.
    pub(crate) fn place(
        &mut self,
        record_len: u64,
        seq_floor: u64,
    ) -> Result<Placement, JournalError> {
        let used = self.active_len();
        let fits = used.saturating_add(record_len) <= self.segment_size;
        if used <= HEADER_LEN_U64 || (fits && !(self.active.grows() && self.spares.is_ready())) {
            return Ok(Placement::Same);
        }
        self.flush()?;
        self.active.trim()?;
        // Always sync a sealed segment: it is never written again, and deletions later
        // assume every sealed segment is durable.
        self.sync()?;
        let sealed = self.active.id;
        let sealed_len = self.active.len;
        let spare = self.spares.take();
        self.active = ActiveSegment::create(&self.dir, self.next_id, seq_floor, spare)?;
        self.next_id = self.next_id.saturating_add(1);
        Ok(Placement::Rolled { sealed, sealed_len })
    }

    /// The buffer records are encoded into.
    pub(crate) fn pending_mut(&mut self) -> &mut Vec<u8> {
        &mut self.pending
    }

    /// Writes the gathered records with one `write_all`.
    pub(crate) fn flush(&mut self) -> Result<(), JournalError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let active = &mut self.active;
        active
            .file
            .write_all_at(&self.pending, active.len)
            .map_err(io_err_at("append to", &active.path, active.len))?;
        active.len = active
            .len
            .saturating_add(u64::try_from(self.pending.len()).unwrap_or(u64::MAX));
        active.capacity = active.capacity.max(active.len);
        if active.len.saturating_sub(active.start_len) >= self.spares.threshold() {
            self.spares.prepare();
        }
        self.pending.clear();
        // One oversized batch should not pin its buffer for the rest of the process.
        if self.pending.capacity() > self.max_retained {
            self.pending = Vec::new();
        }
        Ok(())
    }

    /// `fdatasync`s the active segment, timing it for the latency histogram.
    pub(crate) fn sync(&mut self) -> Result<(), JournalError> {
        let started = Instant::now();
        self.active
            .file
            .sync_data()
            .map_err(io_err("fsync", &self.active.path))?;
        self.counters.record_fsync(started.elapsed());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_strangers_are_ignored() {
        let dir = Path::new("/d");
        let path = segment_path(dir, 0xab);
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        assert_eq!(name, "journal-00000000000000ab.log");
        assert_eq!(parse_name(name), Some((0xab, true)));
        assert_eq!(
            parse_name("journal-00000000000000ab.corrupt"),
            Some((0xab, false))
        );
        assert_eq!(parse_name("journal-ab.log"), None);
        assert_eq!(parse_name("journal-00000000000000zz.log"), None);
        assert_eq!(parse_name("lock"), None);
    }
}
