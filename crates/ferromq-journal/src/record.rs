//! The byte layout of a segment file: a header, then checksummed records. Sans-IO.
//!
//! Segment header (`HEADER_LEN` bytes, little-endian):
//! `magic[8] | version u32 | flags u32 | segment id u64 | seq floor u64 | crc32c u32`,
//! the crc covering the 32 bytes before it. The seq floor is `1 + the highest seq written
//! before the segment was created`, so `next_seq` never goes backwards even after every
//! segment that mentioned the highest seq has been deleted (the newest segment is never
//! deleted).
//!
//! Record: `length u32 | crc32c u32 | kind u8 | payload`, where `length` counts the kind
//! byte and the payload, and the crc covers the same bytes. This module frames and checks
//! records; it never decides what a damaged record means for recovery (see `recovery`).

/// Bytes in a segment header.
pub(crate) const HEADER_LEN: usize = 36;
/// The same, for file-offset arithmetic.
pub(crate) const HEADER_LEN_U64: u64 = 36;
/// The only format version this build writes and reads.
pub(crate) const FORMAT_VERSION: u32 = 1;
/// Bytes before a record's kind byte: the length and the crc.
pub(crate) const FRAME_PREFIX: usize = 8;
/// Largest accepted value of a record's length field. It bounds how far a damaged length
/// can send the reader and how much one batch may hold.
pub(crate) const MAX_RECORD_LEN: u32 = 1 << 30;
/// Record kind: one atomic batch of ops (see `op`).
pub(crate) const KIND_BATCH: u8 = 1;
/// Record kind: the clean-close marker, with an empty payload. `close` writes it (durably) as
/// the last record; `open` puts a record (an empty batch) after it before anything else, so
/// only a log whose writer was closed, and not reopened since, ends with it.
pub(crate) const KIND_CLOSE: u8 = 2;

const MAGIC: [u8; 8] = *b"FMQJRNL\0";

/// What a segment header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SegmentHeader {
    pub(crate) segment_id: u64,
    pub(crate) seq_floor: u64,
}

/// The outcome of reading the first bytes of a segment file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeaderCheck {
    Valid(SegmentHeader),
    /// Shorter than a header, or all zeros: a crash while the segment was being created.
    Torn,
    /// Wrong magic or checksum: not a segment, or a damaged one.
    Damaged,
    /// A well-formed header of another format version.
    Unsupported(u32),
}

/// Encodes a segment header.
pub(crate) fn encode_header(header: SegmentHeader) -> [u8; HEADER_LEN] {
    let mut out = [0u8; HEADER_LEN];
    out[0..8].copy_from_slice(&MAGIC);
    out[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    // bytes 12..16 are flags, zero in version 1
    out[16..24].copy_from_slice(&header.segment_id.to_le_bytes());
    out[24..32].copy_from_slice(&header.seq_floor.to_le_bytes());
    let crc = crc32c::crc32c(&out[0..32]);
    out[32..36].copy_from_slice(&crc.to_le_bytes());
    out
}

/// Checks the header at the start of `file`.
pub(crate) fn check_header(file: &[u8]) -> HeaderCheck {
    let Some(head) = file.get(..HEADER_LEN) else {
        return HeaderCheck::Torn;
    };
    if head.iter().all(|&b| b == 0) {
        return HeaderCheck::Torn;
    }
    if head.get(0..8) != Some(&MAGIC[..]) {
        return HeaderCheck::Damaged;
    }
    let (Some(version), Some(segment_id), Some(seq_floor), Some(crc)) = (
        read_u32(head, 8),
        read_u64(head, 16),
        read_u64(head, 24),
        read_u32(head, 32),
    ) else {
        return HeaderCheck::Torn;
    };
    if crc32c::crc32c(&head[0..32]) != crc {
        return HeaderCheck::Damaged;
    }
    if version != FORMAT_VERSION {
        return HeaderCheck::Unsupported(version);
    }
    HeaderCheck::Valid(SegmentHeader {
        segment_id,
        seq_floor,
    })
}

/// Appends a complete record with an empty payload (the close marker).
pub(crate) fn encode_marker(out: &mut Vec<u8>, kind: u8) {
    let start = begin_frame(out, kind);
    // One byte of body cannot exceed the record limit.
    let _ = finish_frame(out, start);
}

/// Total bytes of a record whose payload is `payload_len` bytes long.
pub(crate) fn frame_len(payload_len: u64) -> u64 {
    // the length and crc fields, plus the kind byte
    const OVERHEAD: u64 = 9;
    payload_len.saturating_add(OVERHEAD)
}

/// Starts a record in `out`: reserves the prefix and writes the kind. Returns the record's
/// start, to pass to [`finish_frame`] once the payload has been appended.
pub(crate) fn begin_frame(out: &mut Vec<u8>, kind: u8) -> usize {
    let start = out.len();
    out.extend_from_slice(&[0u8; FRAME_PREFIX]);
    out.push(kind);
    start
}

/// Fills in the length and crc of the record begun at `start`.
///
/// Returns `false` (and leaves `out` as it was before `begin_frame`) if the record is longer
/// than [`MAX_RECORD_LEN`]; callers check sizes first, so this is a last line of defence
/// against writing a length the reader would reject.
pub(crate) fn finish_frame(out: &mut Vec<u8>, start: usize) -> bool {
    let body_start = start + FRAME_PREFIX;
    let length = match u32::try_from(out.len().saturating_sub(body_start)) {
        Ok(length) if length <= MAX_RECORD_LEN => length,
        _ => {
            out.truncate(start);
            return false;
        }
    };
    let crc = crc32c::crc32c(&out[body_start..]);
    out[start..start + 4].copy_from_slice(&length.to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
    true
}

/// What the bytes at a record boundary hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Frame<'a> {
    /// A record whose checksum matches; `total` counts the prefix.
    Valid {
        kind: u8,
        payload: &'a [u8],
        total: usize,
    },
    /// A plausible length but a checksum mismatch: the record's bytes were damaged.
    Corrupt { total: usize },
    /// The length is zero or above [`MAX_RECORD_LEN`]: the length itself is damaged, or
    /// this is not a record boundary (zero-filled space after a crash, for instance).
    BadLength { length: u32 },
    /// The prefix, or the record it announces, runs past the end of the bytes.
    Truncated,
}

/// Checks the record starting at `buf[0]` without copying it.
pub(crate) fn check_frame(buf: &[u8]) -> Frame<'_> {
    let (Some(length), Some(crc)) = (read_u32(buf, 0), read_u32(buf, 4)) else {
        return Frame::Truncated;
    };
    if length == 0 || length > MAX_RECORD_LEN {
        return Frame::BadLength { length };
    }
    let Ok(body_len) = usize::try_from(length) else {
        return Frame::BadLength { length };
    };
    let Some(body) = buf.get(FRAME_PREFIX..FRAME_PREFIX + body_len) else {
        return Frame::Truncated;
    };
    let total = FRAME_PREFIX + body_len;
    if crc32c::crc32c(body) != crc {
        return Frame::Corrupt { total };
    }
    match body.split_first() {
        Some((&kind, payload)) => Frame::Valid {
            kind,
            payload,
            total,
        },
        None => Frame::BadLength { length },
    }
}

fn read_u32(buf: &[u8], at: usize) -> Option<u32> {
    let bytes = buf.get(at..at.checked_add(4)?)?;
    let mut array = [0u8; 4];
    array.copy_from_slice(bytes);
    Some(u32::from_le_bytes(array))
}

fn read_u64(buf: &[u8], at: usize) -> Option<u64> {
    let bytes = buf.get(at..at.checked_add(8)?)?;
    let mut array = [0u8; 8];
    array.copy_from_slice(bytes);
    Some(u64::from_le_bytes(array))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn framed(kind: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![0xAA]; // a byte before, so offsets are not all zero
        let start = begin_frame(&mut out, kind);
        out.extend_from_slice(payload);
        assert!(finish_frame(&mut out, start));
        out.split_off(1)
    }

    #[test]
    fn header_round_trips_and_rejects_damage() {
        let header = SegmentHeader {
            segment_id: 7,
            seq_floor: 42,
        };
        let mut bytes = encode_header(header);
        assert_eq!(check_header(&bytes), HeaderCheck::Valid(header));
        assert_eq!(check_header(&bytes[..20]), HeaderCheck::Torn);
        assert_eq!(check_header(&[0u8; HEADER_LEN]), HeaderCheck::Torn);
        bytes[20] ^= 1;
        assert_eq!(check_header(&bytes), HeaderCheck::Damaged);
    }

    #[test]
    fn other_version_is_reported() {
        let mut bytes = encode_header(SegmentHeader {
            segment_id: 1,
            seq_floor: 1,
        });
        bytes[8..12].copy_from_slice(&2u32.to_le_bytes());
        let crc = crc32c::crc32c(&bytes[0..32]);
        bytes[32..36].copy_from_slice(&crc.to_le_bytes());
        assert_eq!(check_header(&bytes), HeaderCheck::Unsupported(2));
    }

    #[test]
    fn zeros_are_not_a_record() {
        assert_eq!(check_frame(&[0u8; 64]), Frame::BadLength { length: 0 });
        assert_eq!(check_frame(&[1, 0, 0]), Frame::Truncated);
    }

    proptest! {
        #[test]
        fn frame_round_trips(kind in any::<u8>(), payload in proptest::collection::vec(any::<u8>(), 0..300)) {
            let bytes = framed(kind, &payload);
            prop_assert_eq!(u64::try_from(bytes.len()).ok(), Some(frame_len(payload.len() as u64)));
            prop_assert_eq!(check_frame(&bytes), Frame::Valid { kind, payload: &payload, total: bytes.len() });
            // Every strict prefix is Truncated, never Valid.
            for cut in 0..bytes.len() {
                prop_assert_eq!(check_frame(&bytes[..cut]), Frame::Truncated);
            }
        }

        #[test]
        fn a_flipped_body_bit_is_corrupt(payload in proptest::collection::vec(any::<u8>(), 1..200), pick in any::<usize>(), bit in 0u8..8) {
            let mut bytes = framed(KIND_BATCH, &payload);
            let at = FRAME_PREFIX + pick % (bytes.len() - FRAME_PREFIX);
            bytes[at] ^= 1 << bit;
            prop_assert_eq!(check_frame(&bytes), Frame::Corrupt { total: bytes.len() });
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = check_frame(&bytes);
            let _ = check_header(&bytes);
        }
    }
}
