//! The operations a batch holds and their encoding inside one record. Sans-IO.
//!
//! Batch payload (little-endian): `op count u32`, then per op `tag u8 | key length u32 |
//! key (UTF-8)` followed by `seq u64` (Put, Remove) and `payload length u32 | payload`
//! (Put, PutMeta). A batch is decoded whole or not at all, which is what makes it atomic.

use bytes::Bytes;

/// One change to the stored state. Ops of one `append` are applied together or not at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Stores a message payload in the space `key`. `seq` is unique within the journal,
    /// assigned by the core in increasing order.
    Put {
        key: String,
        seq: u64,
        payload: Bytes,
    },
    /// Forgets the message `seq` of space `key` (consumed or acknowledged).
    Remove { key: String, seq: u64 },
    /// Creates or replaces the meta entry `key` (durable subscription definitions etc.).
    PutMeta { key: String, payload: Bytes },
    /// Deletes the meta entry `key`. It does not touch the space of the same name; send
    /// `DropSpace` for that.
    RemoveMeta { key: String },
    /// Forgets every message of the space `key` written before this op.
    DropSpace { key: String },
}

impl Op {
    /// The key the op is about.
    pub fn key(&self) -> &str {
        match self {
            Op::Put { key, .. }
            | Op::Remove { key, .. }
            | Op::PutMeta { key, .. }
            | Op::RemoveMeta { key }
            | Op::DropSpace { key } => key,
        }
    }

    /// The message seq the op names, if any.
    pub fn seq(&self) -> Option<u64> {
        match self {
            Op::Put { seq, .. } | Op::Remove { seq, .. } => Some(*seq),
            _ => None,
        }
    }
}

const TAG_PUT: u8 = 1;
const TAG_REMOVE: u8 = 2;
const TAG_PUT_META: u8 = 3;
const TAG_REMOVE_META: u8 = 4;
const TAG_DROP_SPACE: u8 = 5;
/// Smallest encoded op (tag and key length); bounds preallocation while decoding.
const MIN_OP_LEN: usize = 5;

/// Bytes `op` takes inside a batch payload. Saturates rather than overflows, so an absurd
/// op is caught by the record size limit.
pub(crate) fn encoded_len(op: &Op) -> u64 {
    match op {
        Op::Put { key, payload, .. } => op_len(key.len(), true, Some(payload.len())),
        Op::Remove { key, .. } => op_len(key.len(), true, None),
        Op::PutMeta { key, payload } => op_len(key.len(), false, Some(payload.len())),
        Op::RemoveMeta { key } | Op::DropSpace { key } => op_len(key.len(), false, None),
    }
}

/// [`encoded_len`] of a borrowed op.
pub(crate) fn encoded_len_ref(op: &OpRef<'_>) -> u64 {
    match op {
        OpRef::Put { key, payload, .. } => op_len(key.len(), true, Some(payload.len())),
        OpRef::Remove { key, .. } => op_len(key.len(), true, None),
        OpRef::PutMeta { key, payload } => op_len(key.len(), false, Some(payload.len())),
        OpRef::RemoveMeta { key } | OpRef::DropSpace { key } => op_len(key.len(), false, None),
    }
}

/// Tag and key (with its length), then the seq and the payload (with its length) if any.
pub(crate) fn op_len(key: usize, seq: bool, payload: Option<usize>) -> u64 {
    let len = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
    let mut total = 5u64.saturating_add(len(key));
    if seq {
        total = total.saturating_add(8);
    }
    if let Some(payload) = payload {
        total = total.saturating_add(4).saturating_add(len(payload));
    }
    total
}

/// For each op of a batch, the offset inside the batch payload where its payload would
/// start (meaningful for Puts): the writer's index records where each message lies without
/// the encoder having to report it.
pub(crate) fn payload_offsets(ops: &[Op]) -> impl Iterator<Item = u64> + '_ {
    // The op count comes first.
    let mut at = 4u64;
    ops.iter().map(move |op| {
        let start = at;
        at = at.saturating_add(encoded_len(op));
        // Everything of the op but the payload itself precedes the payload.
        let payload = match op {
            Op::Put { payload, .. } | Op::PutMeta { payload, .. } => payload.len() as u64,
            _ => 0,
        };
        start
            .saturating_add(encoded_len(op))
            .saturating_sub(payload)
    })
}

/// Bytes of the whole batch payload.
pub(crate) fn batch_len(ops: &[Op]) -> u64 {
    ops.iter()
        .fold(4u64, |sum, op| sum.saturating_add(encoded_len(op)))
}

/// Appends the batch payload to `out`.
///
/// Returns `false` (leaving `out` partly written) if a count or length does not fit in 32
/// bits; callers reject such batches earlier through [`batch_len`].
pub(crate) fn encode_batch(ops: &[Op], out: &mut Vec<u8>) -> bool {
    fn put_u32(out: &mut Vec<u8>, n: usize) -> bool {
        match u32::try_from(n) {
            Ok(n) => {
                out.extend_from_slice(&n.to_le_bytes());
                true
            }
            Err(_) => false,
        }
    }
    fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) -> bool {
        let ok = put_u32(out, bytes.len());
        out.extend_from_slice(bytes);
        ok
    }
    if !put_u32(out, ops.len()) {
        return false;
    }
    for op in ops {
        let tag = match op {
            Op::Put { .. } => TAG_PUT,
            Op::Remove { .. } => TAG_REMOVE,
            Op::PutMeta { .. } => TAG_PUT_META,
            Op::RemoveMeta { .. } => TAG_REMOVE_META,
            Op::DropSpace { .. } => TAG_DROP_SPACE,
        };
        out.push(tag);
        if !put_bytes(out, op.key().as_bytes()) {
            return false;
        }
        match op {
            Op::Put { seq, payload, .. } => {
                out.extend_from_slice(&seq.to_le_bytes());
                if !put_bytes(out, payload) {
                    return false;
                }
            }
            Op::Remove { seq, .. } => out.extend_from_slice(&seq.to_le_bytes()),
            Op::PutMeta { payload, .. } => {
                if !put_bytes(out, payload) {
                    return false;
                }
            }
            Op::RemoveMeta { .. } | Op::DropSpace { .. } => {}
        }
    }
    true
}

/// Why a batch payload with a valid checksum still could not be decoded (a bug in the
/// writer of that record, or a record kind this build misreads).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DecodeError {
    #[error("batch ends early at byte {at}")]
    Truncated { at: usize },
    #[error("unknown op tag {tag} at byte {at}")]
    UnknownTag { tag: u8, at: usize },
    #[error("key at byte {at} is not UTF-8")]
    BadKey { at: usize },
    #[error("{extra} unexpected bytes after the last op")]
    TrailingBytes { extra: usize },
}

/// A bounds-checked reader over a batch payload.
struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self
            .at
            .checked_add(n)
            .ok_or(DecodeError::Truncated { at: self.at })?;
        let bytes = self
            .buf
            .get(self.at..end)
            .ok_or(DecodeError::Truncated { at: self.at })?;
        self.at = end;
        Ok(bytes)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<usize, DecodeError> {
        let at = self.at;
        let mut array = [0u8; 4];
        array.copy_from_slice(self.take(4)?);
        usize::try_from(u32::from_le_bytes(array)).map_err(|_| DecodeError::Truncated { at })
    }

    fn u64(&mut self) -> Result<u64, DecodeError> {
        let mut array = [0u8; 8];
        array.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(array))
    }

    fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = self.u32()?;
        self.take(len)
    }

    fn key(&mut self) -> Result<&'a str, DecodeError> {
        let at = self.at;
        let bytes = self.bytes()?;
        std::str::from_utf8(bytes).map_err(|_| DecodeError::BadKey { at })
    }
}

/// One op borrowed from a batch payload, so recovery can look keys up and slice payloads
/// out of the segment buffer without allocating per op.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpRef<'a> {
    Put {
        key: &'a str,
        seq: u64,
        payload: &'a [u8],
    },
    Remove {
        key: &'a str,
        seq: u64,
    },
    PutMeta {
        key: &'a str,
        payload: &'a [u8],
    },
    RemoveMeta {
        key: &'a str,
    },
    DropSpace {
        key: &'a str,
    },
}

impl<'a> OpRef<'a> {
    /// The same op, owning its key and a copy of its payload.
    pub(crate) fn to_op(self) -> Op {
        match self {
            OpRef::Put { key, seq, payload } => Op::Put {
                key: key.to_owned(),
                seq,
                payload: Bytes::copy_from_slice(payload),
            },
            OpRef::Remove { key, seq } => Op::Remove {
                key: key.to_owned(),
                seq,
            },
            OpRef::PutMeta { key, payload } => Op::PutMeta {
                key: key.to_owned(),
                payload: Bytes::copy_from_slice(payload),
            },
            OpRef::RemoveMeta { key } => Op::RemoveMeta {
                key: key.to_owned(),
            },
            OpRef::DropSpace { key } => Op::DropSpace {
                key: key.to_owned(),
            },
        }
    }
}

/// Decodes a whole batch payload into `out` (cleared first), borrowing from `buf`. On an
/// error `out` may hold a prefix of the ops; callers must then drop it, since a batch is
/// applied whole or not at all.
pub(crate) fn decode_refs<'a>(buf: &'a [u8], out: &mut Vec<OpRef<'a>>) -> Result<(), DecodeError> {
    out.clear();
    let mut reader = Reader { buf, at: 0 };
    let count = reader.u32()?;
    // Trust the declared count only as far as the remaining bytes could hold.
    out.reserve(count.min(buf.len() / MIN_OP_LEN));
    for _ in 0..count {
        let at = reader.at;
        let tag = reader.u8()?;
        let key = reader.key()?;
        let op = match tag {
            TAG_PUT => OpRef::Put {
                key,
                seq: reader.u64()?,
                payload: reader.bytes()?,
            },
            TAG_REMOVE => OpRef::Remove {
                key,
                seq: reader.u64()?,
            },
            TAG_PUT_META => OpRef::PutMeta {
                key,
                payload: reader.bytes()?,
            },
            TAG_REMOVE_META => OpRef::RemoveMeta { key },
            TAG_DROP_SPACE => OpRef::DropSpace { key },
            tag => return Err(DecodeError::UnknownTag { tag, at }),
        };
        out.push(op);
    }
    let extra = buf.len() - reader.at;
    if extra != 0 {
        return Err(DecodeError::TrailingBytes { extra });
    }
    Ok(())
}

/// Decodes a whole batch payload into owned ops (payloads copied).
#[cfg(test)]
pub(crate) fn decode_batch(buf: &[u8]) -> Result<Vec<Op>, DecodeError> {
    let mut refs = Vec::new();
    decode_refs(buf, &mut refs)?;
    Ok(refs.into_iter().map(OpRef::to_op).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn arb_op() -> impl Strategy<Value = Op> {
        let key = "[a-z:/é-]{0,12}";
        let payload = proptest::collection::vec(any::<u8>(), 0..64).prop_map(Bytes::from);
        prop_oneof![
            (key, any::<u64>(), payload.clone()).prop_map(|(key, seq, payload)| Op::Put {
                key,
                seq,
                payload
            }),
            (key, any::<u64>()).prop_map(|(key, seq)| Op::Remove { key, seq }),
            (key, payload).prop_map(|(key, payload)| Op::PutMeta { key, payload }),
            key.prop_map(|key| Op::RemoveMeta { key }),
            key.prop_map(|key| Op::DropSpace { key }),
        ]
    }

    proptest! {
        #[test]
        fn batch_round_trips(ops in proptest::collection::vec(arb_op(), 0..20)) {
            let mut out = Vec::new();
            prop_assert!(encode_batch(&ops, &mut out));
            prop_assert_eq!(u64::try_from(out.len()).ok(), Some(batch_len(&ops)));
            let mut refs = Vec::new();
            prop_assert!(decode_refs(&out, &mut refs).is_ok());
            for (op, borrowed) in ops.iter().zip(&refs) {
                prop_assert_eq!(encoded_len(op), encoded_len_ref(borrowed));
            }
            for (op, at) in ops.iter().zip(payload_offsets(&ops)) {
                if let Op::Put { payload, .. } | Op::PutMeta { payload, .. } = op {
                    let at = usize::try_from(at).unwrap_or(usize::MAX);
                    prop_assert_eq!(out.get(at..at + payload.len()), Some(&payload[..]));
                }
            }
            prop_assert_eq!(decode_batch(&out), Ok(ops));
        }

        #[test]
        fn every_cut_of_a_batch_fails_cleanly(ops in proptest::collection::vec(arb_op(), 1..6)) {
            let mut out = Vec::new();
            prop_assert!(encode_batch(&ops, &mut out));
            for cut in 0..out.len() {
                prop_assert!(decode_batch(&out[..cut]).is_err());
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = decode_batch(&bytes);
        }
    }

    #[test]
    fn huge_declared_count_does_not_preallocate() {
        let bytes = u32::MAX.to_le_bytes();
        assert_eq!(decode_batch(&bytes), Err(DecodeError::Truncated { at: 4 }));
    }
}
