//! Online compaction: reading a sealed segment back and handing its live records to the
//! writer in chunks, so it can rewrite them forward and then delete the segment.
//!
//! The writer's index keeps no payloads, so the live Puts are read back from the file, one
//! record at a time; live metas come from the index. A chunk is re-checked against the
//! index just before it is handed out, because batches committed between two chunks may
//! have removed some of the records.
//!
//! Crash safety: a copy is an ordinary Put (or PutMeta) of exactly the value that is live,
//! appended after everything else. Replaying the old segment plus any prefix of the copies
//! finds the same live state (a later copy of the same message replaces the earlier one and
//! the index records that the new segment now depends on the old one, see `reclaim`). The
//! old segment is deleted only after the writer has synced the copies (`collect_garbage`
//! syncs in `SyncMode::Never` too) and only once the index says nothing in it is live.
//! A torn copy at the tail is cut at the next open like any torn write.
//!
//! Damage found while reading (a checksum mismatch, an impossible length) does not stop the
//! writer: the damaged records stay where they are, the segment keeps whatever it still
//! holds live, and the writer stops trying to compact it.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufReader, ErrorKind, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::error::{io_err_at, JournalError};
use crate::index::Index;
use crate::op::{decode_refs, encoded_len, Op, OpRef};
use crate::record::{check_frame, Frame, FRAME_PREFIX, HEADER_LEN_U64, KIND_BATCH, MAX_RECORD_LEN};
use crate::segment::segment_path;

/// Bytes of the file read per chunk at most, so a mostly dead segment is walked in steps
/// too, never in one long stall of the writer.
const READ_PER_CHUNK: u64 = 8 * 1024 * 1024;

/// A compaction in progress.
#[derive(Debug)]
pub(crate) struct Job {
    segment: u64,
    path: PathBuf,
    reader: BufReader<File>,
    /// Where the next record starts.
    offset: u64,
    /// Size of the segment file (sealed: it does not change).
    len: u64,
    /// Live records read but not yet handed out, and their encoded size.
    pending: VecDeque<Op>,
    pending_bytes: u64,
    /// Whether every record has been read.
    exhausted: bool,
    /// Whether a damaged record was met (its ops, if live, stay behind).
    damaged: bool,
    /// Bytes of live records handed out so far.
    pub(crate) copied: u64,
}

impl Job {
    /// Starts compacting `segment`, whose live metas `metas` come from the index.
    pub(crate) fn start(
        dir: &Path,
        segment: u64,
        len: u64,
        metas: Vec<Op>,
    ) -> Result<Job, JournalError> {
        let path = segment_path(dir, segment);
        let mut file = File::open(&path).map_err(io_err_at("open for compaction", &path, 0))?;
        file.seek(SeekFrom::Start(HEADER_LEN_U64))
            .map_err(io_err_at("seek", &path, HEADER_LEN_U64))?;
        let pending_bytes = metas
            .iter()
            .map(encoded_len)
            .fold(0u64, u64::saturating_add);
        Ok(Job {
            segment,
            path,
            reader: BufReader::with_capacity(256 * 1024, file),
            offset: HEADER_LEN_U64,
            len,
            pending: metas.into(),
            pending_bytes,
            exhausted: false,
            damaged: false,
            copied: 0,
        })
    }

    pub(crate) fn segment(&self) -> u64 {
        self.segment
    }

    /// Whether every live record has been handed out.
    pub(crate) fn is_done(&self) -> bool {
        self.exhausted && self.pending.is_empty()
    }

    pub(crate) fn met_damage(&self) -> bool {
        self.damaged
    }

    /// The next live records to copy, about `limit` bytes of them (at least one record when
    /// any is left). Empty when done, or when this step only read dead records.
    ///
    /// # Errors
    /// I/O errors reading the segment; the caller abandons the job (nothing is lost: the
    /// segment simply stays).
    pub(crate) fn next_chunk(
        &mut self,
        index: &Index,
        limit: u64,
    ) -> Result<Vec<Op>, JournalError> {
        let mut read = 0u64;
        while !self.exhausted && self.pending_bytes < limit && read < READ_PER_CHUNK {
            read = read.saturating_add(self.read_record(index)?);
        }
        let mut chunk = Vec::new();
        let mut bytes = 0u64;
        while let Some(op) = self.pending.front() {
            let len = encoded_len(op);
            if !chunk.is_empty() && bytes.saturating_add(len) > limit {
                break;
            }
            let Some(op) = self.pending.pop_front() else {
                break;
            };
            self.pending_bytes = self.pending_bytes.saturating_sub(len);
            // Batches committed since this record was read may have removed it.
            if self.still_live(index, &op) {
                bytes = bytes.saturating_add(len);
                chunk.push(op);
            }
        }
        self.copied = self.copied.saturating_add(bytes);
        Ok(chunk)
    }

    fn still_live(&self, index: &Index, op: &Op) -> bool {
        match op {
            Op::Put { key, seq, .. } => index.is_live_in(key, *seq, self.segment),
            Op::PutMeta { key, .. } => index.meta_is_in(key, self.segment),
            _ => false,
        }
    }

    /// Reads one record and queues its live Puts. Returns the bytes consumed.
    fn read_record(&mut self, index: &Index) -> Result<u64, JournalError> {
        let remaining = self.len.saturating_sub(self.offset);
        if remaining == 0 {
            self.exhausted = true;
            return Ok(0);
        }
        let mut prefix = [0u8; FRAME_PREFIX];
        if !self.read_exact(&mut prefix)? {
            return Ok(0);
        }
        let mut length = [0u8; 4];
        length.copy_from_slice(&prefix[..4]);
        let length = u32::from_le_bytes(length);
        let total = u64::from(length).saturating_add(8);
        // The same limits recovery applies: a damaged length ends the walk.
        if length == 0 || length > MAX_RECORD_LEN || total > remaining {
            self.stop_damaged("impossible record length");
            return Ok(0);
        }
        let mut record = prefix.to_vec();
        record.resize(usize::try_from(total).unwrap_or(usize::MAX), 0);
        if !self.read_exact(&mut record[FRAME_PREFIX..])? {
            return Ok(0);
        }
        let at = self.offset;
        self.offset = self.offset.saturating_add(total);
        match check_frame(&record) {
            Frame::Valid {
                kind: KIND_BATCH,
                payload,
                ..
            } => {
                let mut ops = Vec::new();
                if decode_refs(payload, &mut ops).is_err() {
                    // Recovery skipped it too, so none of its ops can be live.
                    self.note_damage(at, "undecodable batch");
                    ops.clear();
                }
                for op in ops {
                    if let OpRef::Put { key, seq, .. } = op {
                        if index.is_live_in(key, seq, self.segment) {
                            let op = op.to_op();
                            self.pending_bytes =
                                self.pending_bytes.saturating_add(encoded_len(&op));
                            self.pending.push_back(op);
                        }
                    }
                }
            }
            // Close markers and unknown kinds hold no ops.
            Frame::Valid { .. } => {}
            _ => self.note_damage(at, "checksum mismatch"),
        }
        Ok(total)
    }

    /// Fills `buf`; `false` (and the walk ends, as damaged) if the file ends first.
    fn read_exact(&mut self, buf: &mut [u8]) -> Result<bool, JournalError> {
        match self.reader.read_exact(buf) {
            Ok(()) => Ok(true),
            Err(error) if error.kind() == ErrorKind::UnexpectedEof => {
                self.stop_damaged("file shorter than expected");
                Ok(false)
            }
            Err(error) => Err(io_err_at("read for compaction", &self.path, self.offset)(
                error,
            )),
        }
    }

    fn note_damage(&mut self, offset: u64, what: &'static str) {
        tracing::warn!(path = %self.path.display(), offset, what,
            "damaged record found while compacting; it stays where it is");
        self.damaged = true;
    }

    fn stop_damaged(&mut self, what: &'static str) {
        self.note_damage(self.offset, what);
        self.exhausted = true;
    }
}
