//! Replays the segments at open and repairs what a crash can leave behind.
//!
//! Rules, from most to least common:
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
//! Nothing here panics on file content; every length is checked before use.

use std::fs::{self, OpenOptions};
use std::path::Path;

use bytes::Bytes;

use crate::error::{io_err, JournalError};
use crate::index::Index;
use crate::op::decode_batch;
use crate::record::{
    check_frame, check_header, Frame, HeaderCheck, FORMAT_VERSION, HEADER_LEN, KIND_BATCH,
};
use crate::segment::{corrupt_path, delete_segment, list_segments, sync_dir};
use crate::stats::RecoveryStats;

/// The replayed state of a directory.
#[derive(Debug)]
pub(crate) struct Replayed {
    pub(crate) index: Index<Bytes>,
    pub(crate) stats: RecoveryStats,
    /// The newest segment, and its length after repair, if appending to it is safe.
    pub(crate) last: Option<(u64, u64)>,
    /// The id for the next segment created.
    pub(crate) next_id: u64,
}

/// Where the valid records of one segment body end, and what was wrong with the rest.
#[derive(Debug, Default, PartialEq, Eq)]
struct Scan {
    /// End of the last valid record, relative to the body.
    valid_end: usize,
    /// Damaged records followed by a valid one: `(offset, length)` relative to the body.
    skipped: Vec<(usize, usize)>,
    /// Damaged frames after `valid_end` (a stop on a bad length counts as one).
    tail_frames: usize,
}

/// Walks the records of a segment body, calling `visit(offset, kind, payload)` for every
/// record whose checksum matches.
fn scan(body: &[u8], mut visit: impl FnMut(usize, u8, &[u8])) -> Scan {
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

/// Replays every segment of `dir` in order.
pub(crate) fn replay(dir: &Path) -> Result<Replayed, JournalError> {
    let listing = list_segments(dir)?;
    let mut index = Index::<Bytes>::new();
    let mut stats = RecoveryStats::default();
    let mut last = None;
    let count = listing.segments.len();
    for (position, (id, path)) in listing.segments.into_iter().enumerate() {
        let is_last = position + 1 == count;
        let bytes = fs::read(&path).map_err(io_err("read segment", &path))?;
        let file_len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        match check_header(&bytes) {
            HeaderCheck::Valid(header) => {
                if header.segment_id != id {
                    tracing::warn!(path = %path.display(), header_id = header.segment_id,
                        "segment header names another id; trusting the file name");
                }
                index.raise_next_seq(header.seq_floor);
            }
            HeaderCheck::Torn if is_last => {
                tracing::warn!(path = %path.display(), bytes = file_len,
                    "deleting last segment with a torn header (crash while it was created)");
                delete_segment(dir, &path)?;
                stats.bytes_truncated += file_len;
                continue;
            }
            HeaderCheck::Torn | HeaderCheck::Damaged => {
                let aside = corrupt_path(dir, id);
                tracing::warn!(path = %path.display(), aside = %aside.display(), bytes = file_len,
                    "segment header is damaged; setting the segment aside, its records are lost");
                fs::rename(&path, &aside).map_err(io_err("set aside segment", &path))?;
                sync_dir(dir)?;
                stats.corrupt_records_skipped += 1;
                stats.bytes_skipped += file_len;
                continue;
            }
            HeaderCheck::Unsupported(found) => {
                return Err(JournalError::UnsupportedVersion {
                    path,
                    found,
                    supported: FORMAT_VERSION,
                });
            }
        }
        stats.segments += 1;
        index.set_segment_size(id, file_len);
        let body = bytes.get(HEADER_LEN..).unwrap_or_default();
        let result = scan(body, |offset, kind, payload| {
            let offset = offset + HEADER_LEN;
            if kind != KIND_BATCH {
                tracing::warn!(path = %path.display(), offset, kind, "skipping record of unknown kind");
                stats.corrupt_records_skipped += 1;
                return;
            }
            match decode_batch(payload) {
                Ok(ops) => {
                    for op in ops {
                        index.apply(op, id);
                    }
                    stats.records += 1;
                }
                Err(error) => {
                    tracing::warn!(path = %path.display(), offset, %error,
                        "skipping record whose batch cannot be decoded");
                    stats.corrupt_records_skipped += 1;
                }
            }
        });
        for &(offset, len) in &result.skipped {
            tracing::warn!(path = %path.display(), offset = offset + HEADER_LEN, bytes = len,
                "skipping damaged record (checksum mismatch)");
            stats.corrupt_records_skipped += 1;
            stats.bytes_skipped += u64::try_from(len).unwrap_or(u64::MAX);
        }
        let valid_end = u64::try_from(HEADER_LEN + result.valid_end).unwrap_or(u64::MAX);
        let tail = file_len.saturating_sub(valid_end);
        let mut final_len = file_len;
        if tail > 0 && is_last {
            tracing::warn!(path = %path.display(), offset = valid_end, bytes = tail,
                "truncating torn tail of the last segment");
            OpenOptions::new()
                .write(true)
                .open(&path)
                .and_then(|file| {
                    file.set_len(valid_end)?;
                    file.sync_all()
                })
                .map_err(io_err("truncate segment", &path))?;
            stats.bytes_truncated += tail;
            final_len = valid_end;
        } else if tail > 0 {
            tracing::warn!(path = %path.display(), offset = valid_end, bytes = tail,
                "damaged data at the end of a sealed segment; skipping the rest of it");
            stats.corrupt_records_skipped += u64::try_from(result.tail_frames.max(1)).unwrap_or(1);
            stats.bytes_skipped += tail;
        }
        index.set_segment_size(id, final_len);
        // Appending after damaged bytes would put new records where the next replay stops
        // reading (a damaged length ends the segment), so only a cleanly ending segment may
        // be continued. A sealed segment can end up last when the real last one is set
        // aside or deleted above.
        last = (final_len == valid_end).then_some((id, final_len));
    }
    Ok(Replayed {
        index,
        stats,
        last,
        next_id: listing.next_id,
    })
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

    proptest! {
        #[test]
        fn arbitrary_bodies_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let (result, _) = offsets(&bytes);
            prop_assert!(result.valid_end <= bytes.len());
        }
    }
}
