//! Replays the segments at open and repairs what a crash can leave behind.
//!
//! Rules, from most to least common:
//! - Zeros after the last valid record are preallocated space (`prealloc`): kept, not
//!   reported, and the next record of the segment goes where they start.
//! - The end of the **last** segment may hold a write torn by a crash: anything after the last
//!   valid record that is not followed by a valid record is cut off (`set_len`) and reported
//!   in `bytes_truncated`. Those bytes were never acknowledged: acks follow the fsync.
//! - A record with a plausible length but a bad checksum, followed by valid records, was
//!   damaged at rest: it is skipped by its declared length and counted, and replay goes on.
//!   Its ops are lost as a whole, so batches stay atomic.
//! - A damaged length (zero, too large, or past the end of a non-last segment) leaves no way
//!   to find the next record boundary safely: the rest of that segment is skipped (not cut),
//!   and replay goes on with the next segment. We do not scan byte by byte for the next valid
//!   record, because message payloads are chosen by clients and could contain bytes that look
//!   like a valid record.
//! - A segment with a torn header that is the last one is deleted (a crash during creation);
//!   any other damaged header sets the file aside as `.corrupt`.
//!
//! The log was closed cleanly when the newest segment ends exactly with a close marker
//! (`record::KIND_CLOSE`); a marker anywhere else means nothing.
//!
//! Speed: a reader thread reads each file whole and checks its checksums one segment ahead
//! of the thread that decodes and applies it; payloads are slices of the file's buffer.
//!
//! Nothing here panics on file content; every length is checked before use.

use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use bytes::Bytes;

use crate::error::{io_err, JournalError};
use crate::index::Index;
use crate::op::{decode_refs, OpRef};
use crate::record::{
    check_frame, check_header, Frame, HeaderCheck, FORMAT_VERSION, FRAME_PREFIX, HEADER_LEN,
    KIND_BATCH, KIND_CLOSE,
};
use crate::segment::{corrupt_path, delete_segment, list_segments, sync_dir};
use crate::stats::RecoveryStats;

/// The replayed state of a directory.
#[derive(Debug)]
pub(crate) struct Replayed {
    pub(crate) index: Index,
    pub(crate) stats: RecoveryStats,
    /// The newest segment, if appending to it is safe.
    pub(crate) last: Option<LastSegment>,
    /// The id for the next segment created.
    pub(crate) next_id: u64,
    /// Whether the log ends with the close marker: the newest segment's last bytes are it.
    pub(crate) clean_shutdown: bool,
}

/// The newest segment, when new records may follow its last one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LastSegment {
    pub(crate) id: u64,
    /// Its length after repair.
    pub(crate) len: u64,
    /// Whether its last record is a close marker, which must then be followed by a record
    /// before this session can be mistaken for a clean one (see `Writer::start_session`).
    pub(crate) ends_with_marker: bool,
}

/// Where the valid records of one segment body end, and what was wrong with the rest.
#[derive(Debug, Default, PartialEq, Eq)]
struct Scan {
    /// End of the last valid record, relative to the body.
    valid_end: usize,
    /// Start and kind of the last valid record, relative to the body.
    last_valid: Option<(usize, u8)>,
    /// Damaged records followed by a valid one: `(offset, length)` relative to the body.
    skipped: Vec<(usize, usize)>,
    /// Damaged frames after `valid_end` (a stop on a bad length counts as one).
    tail_frames: usize,
}

/// Walks the records of a segment body, calling `visit(offset, kind, payload)` for every
/// record whose checksum matches.
fn scan<'a>(body: &'a [u8], mut visit: impl FnMut(usize, u8, &'a [u8])) -> Scan {
    let mut out = Scan::default();
    let mut pos = 0;
    let mut pending: Vec<(usize, usize)> = Vec::new();
    let mut stopped = false;
    while let Some(rest) = body.get(pos..).filter(|rest| !rest.is_empty()) {
        match check_frame(rest) {
            Frame::Valid {
                kind,
                payload,
                total,
            } => {
                out.skipped.append(&mut pending);
                visit(pos, kind, payload);
                out.last_valid = Some((pos, kind));
                pos += total;
                out.valid_end = pos;
            }
            Frame::Corrupt { total } => {
                pending.push((pos, total));
                pos += total;
            }
            Frame::BadLength { .. } | Frame::Truncated => {
                stopped = true;
                break;
            }
        }
    }
    out.tail_frames = pending.len() + usize::from(stopped);
    out
}

/// One segment file read into memory and checked by the reader thread.
struct Loaded {
    id: u64,
    path: PathBuf,
    bytes: Result<Bytes, JournalError>,
    /// The records of the body whose checksum matches (empty if the header is not valid).
    records: Vec<Record>,
    scan: Scan,
}

/// A record whose checksum matched: its start, kind and payload, relative to the body.
#[derive(Debug, Clone, Copy)]
struct Record {
    offset: usize,
    kind: u8,
    payload: (usize, usize),
}

impl Loaded {
    /// Reads a segment and, when its header is valid, checks its records.
    fn read(id: u64, path: PathBuf) -> Loaded {
        let bytes = fs::read(&path)
            .map(Bytes::from)
            .map_err(io_err("read segment", &path));
        let mut records = Vec::new();
        let mut result = Scan::default();
        if let Ok(bytes) = &bytes {
            if matches!(check_header(bytes), HeaderCheck::Valid(_)) {
                let body = bytes.get(HEADER_LEN..).unwrap_or_default();
                result = scan(body, |offset, kind, payload| {
                    // The payload follows the length, the crc and the kind byte.
                    let start = offset + FRAME_PREFIX + 1;
                    records.push(Record {
                        offset,
                        kind,
                        payload: (start, start + payload.len()),
                    });
                });
            }
        }
        Loaded {
            id,
            path,
            bytes,
            records,
            scan: result,
        }
    }
}

/// Replays every segment of `dir` in order, showing `visit` every Put met, live or not, as
/// `(key, seq, payload)`.
///
/// A helper thread reads the next segment file while this one decodes and applies the
/// current one; each file is read whole into one buffer, which is dropped once applied: the
/// index keeps where payloads are, not the payloads, so memory stays at two segments.
pub(crate) fn replay(
    dir: &Path,
    visit: &mut dyn FnMut(&str, u64, &[u8]),
) -> Result<Replayed, JournalError> {
    let listing = list_segments(dir)?;
    let next_id = listing.next_id;
    let count = listing.segments.len();
    std::thread::scope(|scope| {
        // One segment in the channel and one being read: reading stays just ahead.
        let (tx, rx) = mpsc::sync_channel::<Loaded>(1);
        std::thread::Builder::new()
            .name("ferromq-journal-read".into())
            .spawn_scoped(scope, move || {
                for (id, path) in listing.segments {
                    let loaded = Loaded::read(id, path);
                    let failed = loaded.bytes.is_err();
                    // A closed channel means replay stopped on an error; so do we.
                    if tx.send(loaded).is_err() || failed {
                        break;
                    }
                }
            })
            .map_err(io_err("start the segment reader for", dir))?;
        let mut replay = Replay {
            dir,
            index: Index::new(),
            visit,
            stats: RecoveryStats::default(),
            last: None,
            clean_shutdown: false,
        };
        for (position, loaded) in rx.into_iter().enumerate() {
            replay.segment(loaded, position + 1 == count)?;
        }
        Ok(Replayed {
            index: replay.index,
            stats: replay.stats,
            last: replay.last,
            next_id,
            clean_shutdown: replay.clean_shutdown,
        })
    })
}

/// The state of a replay in progress.
struct Replay<'d, 'v> {
    dir: &'d Path,
    index: Index,
    visit: &'v mut dyn FnMut(&str, u64, &[u8]),
    stats: RecoveryStats,
    last: Option<LastSegment>,
    clean_shutdown: bool,
}

impl Replay<'_, '_> {
    /// Replays one segment file, repairing or setting it aside as needed.
    fn segment(&mut self, loaded: Loaded, is_last: bool) -> Result<(), JournalError> {
        let Loaded {
            id,
            path,
            bytes,
            records,
            scan: result,
        } = loaded;
        let bytes = bytes?;
        let path = path.as_path();
        let (dir, stats) = (self.dir, &mut self.stats);
        let file_len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        // Whatever this segment holds, an earlier segment's marker is not the log's end.
        self.clean_shutdown = false;
        match check_header(&bytes) {
            HeaderCheck::Valid(header) => {
                if header.segment_id != id {
                    tracing::warn!(path = %path.display(), header_id = header.segment_id,
                        "segment header names another id; trusting the file name");
                }
                self.index.raise_next_seq(header.seq_floor);
            }
            HeaderCheck::Torn if is_last => {
                tracing::warn!(path = %path.display(), bytes = file_len,
                    "deleting last segment with a torn header (crash while it was created)");
                delete_segment(dir, path)?;
                stats.bytes_truncated += file_len;
                return Ok(());
            }
            HeaderCheck::Torn | HeaderCheck::Damaged => {
                let aside = corrupt_path(dir, id);
                tracing::warn!(path = %path.display(), aside = %aside.display(), bytes = file_len,
                    "segment header is damaged; setting the segment aside, its records are lost");
                fs::rename(path, &aside).map_err(io_err("set aside segment", path))?;
                sync_dir(dir)?;
                stats.corrupt_records_skipped += 1;
                stats.bytes_skipped += file_len;
                return Ok(());
            }
            HeaderCheck::Unsupported(found) => {
                return Err(JournalError::UnsupportedVersion {
                    path: path.to_path_buf(),
                    found,
                    supported: FORMAT_VERSION,
                });
            }
        }
        stats.segments += 1;
        self.index.set_segment_size(id, file_len);
        let body = bytes.get(HEADER_LEN..).unwrap_or_default();
        // Reused for every batch of the segment, so decoding allocates nothing per record.
        let mut ops: Vec<OpRef<'_>> = Vec::new();
        for record in &records {
            let offset = record.offset + HEADER_LEN;
            let payload = body
                .get(record.payload.0..record.payload.1)
                .unwrap_or_default();
            match record.kind {
                KIND_BATCH => match decode_refs(payload, &mut ops) {
                    Ok(()) => {
                        for op in &ops {
                            if let OpRef::Put { key, seq, payload } = *op {
                                (self.visit)(key, seq, payload);
                            }
                            self.index.apply_ref(op, id, &bytes);
                        }
                        stats.records += 1;
                    }
                    Err(error) => {
                        tracing::warn!(path = %path.display(), offset, %error,
                            "skipping record whose batch cannot be decoded");
                        stats.corrupt_records_skipped += 1;
                    }
                },
                // Only meaningful as the very last record; see below.
                KIND_CLOSE => {}
                kind => {
                    tracing::warn!(path = %path.display(), offset, kind,
                        "skipping record of unknown kind");
                    stats.corrupt_records_skipped += 1;
                }
            }
        }
        for &(offset, len) in &result.skipped {
            tracing::warn!(path = %path.display(), offset = offset + HEADER_LEN, bytes = len,
                "skipping damaged record (checksum mismatch)");
            stats.corrupt_records_skipped += 1;
            stats.bytes_skipped += u64::try_from(len).unwrap_or(u64::MAX);
        }
        let valid_end = u64::try_from(HEADER_LEN + result.valid_end).unwrap_or(u64::MAX);
        let rest = bytes
            .get(HEADER_LEN + result.valid_end..)
            .unwrap_or_default();
        // Zeros after the last record are preallocated space (`prealloc`), not damage. Only
        // the newest segment keeps them, unless a crash came between a compaction at open
        // creating segments and deleting the old ones; either way they hold nothing.
        let data_end = rest.len() - zero_suffix(rest);
        let tail = if data_end == 0 {
            0
        } else {
            file_len.saturating_sub(valid_end)
        };
        let mut final_len = if tail == 0 { valid_end } else { file_len };
        if tail > 0 && is_last {
            tracing::warn!(path = %path.display(), offset = valid_end, bytes = tail,
                data_bytes = data_end, "truncating torn tail of the last segment");
            truncate(path, valid_end)?;
            stats.bytes_truncated += tail;
            final_len = valid_end;
        } else if tail > 0 {
            tracing::warn!(path = %path.display(), offset = valid_end, bytes = tail,
                "damaged data at the end of a sealed segment; skipping the rest of it");
            stats.corrupt_records_skipped += u64::try_from(result.tail_frames.max(1)).unwrap_or(1);
            stats.bytes_skipped += tail;
        }
        self.index.set_segment_size(id, final_len);
        // The close marker counts only as the last bytes of the newest segment: anything
        // after it, even damage, means the writer went on (or the file was hurt) after close.
        let ends_with_marker = matches!(result.last_valid, Some((_, KIND_CLOSE)));
        self.clean_shutdown = ends_with_marker && tail == 0 && is_last;
        // Appending after damaged bytes would put new records where the next replay stops
        // reading (a damaged length ends the segment), so only a cleanly ending segment may
        // be continued. A sealed segment can end up last when the real last one is set
        // aside or deleted above.
        self.last = (final_len == valid_end).then_some(LastSegment {
            id,
            len: final_len,
            ends_with_marker,
        });
        Ok(())
    }
}

/// How many bytes at the end of `bytes` are zero.
fn zero_suffix(bytes: &[u8]) -> usize {
    // Whole blocks first, with a fold the compiler turns into wide compares: the unused
    // end of a preallocated segment is tens of MiB.
    const BLOCK: usize = 4096;
    let mut end = bytes.len();
    while end >= BLOCK && bytes[end - BLOCK..end].iter().fold(0, |acc, b| acc | b) == 0 {
        end -= BLOCK;
    }
    while end > 0 && bytes[end - 1] == 0 {
        end -= 1;
    }
    bytes.len() - end
}

/// Cuts `path` to `len` bytes, durably.
fn truncate(path: &Path, len: u64) -> Result<(), JournalError> {
    OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|file| {
            file.set_len(len)?;
            file.sync_all()
        })
        .map_err(io_err("truncate segment", path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{begin_frame, finish_frame};
    use proptest::prelude::*;

    fn body(records: &[&[u8]]) -> (Vec<u8>, Vec<usize>) {
        let mut out = Vec::new();
        let mut starts = Vec::new();
        for payload in records {
            starts.push(out.len());
            let start = begin_frame(&mut out, KIND_BATCH);
            out.extend_from_slice(payload);
            assert!(finish_frame(&mut out, start));
        }
        (out, starts)
    }

    fn offsets(body: &[u8]) -> (Scan, Vec<usize>) {
        let mut seen = Vec::new();
        let scan = scan(body, |offset, _, _| seen.push(offset));
        (scan, seen)
    }

    #[test]
    fn middle_damage_is_skipped_and_tail_damage_is_reported() {
        let (mut bytes, starts) = body(&[b"one", b"two", b"three"]);
        bytes[starts[1] + 9] ^= 0x10;
        let (result, seen) = offsets(&bytes);
        assert_eq!(seen, vec![starts[0], starts[2]]);
        assert_eq!(result.skipped, vec![(starts[1], starts[2] - starts[1])]);
        assert_eq!(result.valid_end, bytes.len());

        let last = bytes.len() - 1;
        bytes[last] ^= 0x10;
        let (result, seen) = offsets(&bytes);
        assert_eq!(seen, vec![starts[0]]);
        assert_eq!(result.valid_end, starts[1]);
        assert_eq!(result.tail_frames, 2);
    }

    #[test]
    fn bad_length_stops_the_scan() {
        let (mut bytes, starts) = body(&[b"one", b"two"]);
        bytes[starts[1]..starts[1] + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        let (result, seen) = offsets(&bytes);
        assert_eq!(seen, vec![0]);
        assert_eq!(result.valid_end, starts[1]);
        assert_eq!(result.tail_frames, 1);
    }

    #[test]
    fn zero_suffix_counts_across_blocks() {
        assert_eq!(zero_suffix(&[]), 0);
        let mut bytes = vec![0u8; 3 * 4096 + 5];
        assert_eq!(zero_suffix(&bytes), bytes.len());
        bytes[4096 + 7] = 1;
        assert_eq!(zero_suffix(&bytes), bytes.len() - 4096 - 8);
        let last = bytes.len() - 1;
        bytes[last] = 9;
        assert_eq!(zero_suffix(&bytes), 0);
    }

    proptest! {
        #[test]
        fn arbitrary_bodies_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let (result, _) = offsets(&bytes);
            prop_assert!(result.valid_end <= bytes.len());
        }
    }
}
