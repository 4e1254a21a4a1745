//! Which messages and meta entries are live, and which segment each lives in.
//!
//! The index replays ops in the order they were written ("positional" semantics): a
//! `Remove`, `DropSpace` or `RemoveMeta` affects only what was written before it. Recovery
//! and the writer both drive the same [`Index::apply`], so what the writer believes is live
//! is exactly what a replay would find.
//!
//! It also counts, per segment, the live Puts and live metas in it. That is what the deletion
//! rule in `writer` reads. It does no I/O.

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;

use crate::op::{encoded_len, Op};

/// What the index keeps of a live Put besides its segment: the payload during recovery,
/// nothing in the writer (payloads stay on disk and in the core's memory).
pub(crate) trait PutPayload: Sized {
    fn keep(payload: Bytes) -> Self;
}

impl PutPayload for () {
    fn keep(_: Bytes) -> Self {}
}

impl PutPayload for Bytes {
    fn keep(payload: Bytes) -> Self {
        payload
    }
}

/// A live Put.
#[derive(Debug, Clone)]
pub(crate) struct PutEntry<P> {
    pub(crate) segment: u64,
    /// Encoded size of the op, counted in live bytes.
    pub(crate) bytes: u64,
    pub(crate) payload: P,
}

/// A live meta entry. Its payload is always kept: metas are few and small, and the writer
/// rewrites them forward to free old segments (see `writer`).
#[derive(Debug, Clone)]
pub(crate) struct MetaEntry {
    pub(crate) segment: u64,
    pub(crate) bytes: u64,
    pub(crate) payload: Bytes,
}

/// Per-segment accounting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SegmentUsage {
    pub(crate) live_puts: u64,
    pub(crate) live_metas: u64,
    /// Size of the file on disk.
    pub(crate) size: u64,
}

/// The live state, keyed the way the core addresses it.
#[derive(Debug)]
pub(crate) struct Index<P> {
    spaces: HashMap<String, BTreeMap<u64, PutEntry<P>>>,
    metas: HashMap<String, MetaEntry>,
    segments: BTreeMap<u64, SegmentUsage>,
    live_bytes: u64,
    /// `1 + the highest seq seen`, also raised by segment headers' seq floors.
    next_seq: u64,
}

impl<P: PutPayload> Index<P> {
    pub(crate) fn new() -> Self {
        Self {
            spaces: HashMap::new(),
            metas: HashMap::new(),
            segments: BTreeMap::new(),
            live_bytes: 0,
            next_seq: 1,
        }
    }

    /// Registers a segment (or updates its size).
    pub(crate) fn set_segment_size(&mut self, segment: u64, size: u64) {
        self.segments.entry(segment).or_default().size = size;
    }

    /// Forgets a deleted segment. Callers only do this when it holds nothing live.
    pub(crate) fn remove_segment(&mut self, segment: u64) {
        self.segments.remove(&segment);
    }

    pub(crate) fn raise_next_seq(&mut self, floor: u64) {
        self.next_seq = self.next_seq.max(floor);
    }

    pub(crate) fn next_seq(&self) -> u64 {
        self.next_seq
    }

    pub(crate) fn live_bytes(&self) -> u64 {
        self.live_bytes
    }

    pub(crate) fn disk_bytes(&self) -> u64 {
        self.segments.values().map(|usage| usage.size).sum()
    }

    pub(crate) fn segment_count(&self) -> usize {
        self.segments.len()
    }

    pub(crate) fn segments(&self) -> impl Iterator<Item = (u64, SegmentUsage)> + '_ {
        self.segments.iter().map(|(&id, &usage)| (id, usage))
    }

    /// The oldest segment still on disk.
    pub(crate) fn oldest_segment(&self) -> Option<(u64, SegmentUsage)> {
        self.segments
            .first_key_value()
            .map(|(&id, &usage)| (id, usage))
    }

    /// The live metas stored in `segment`, as ops that rewrite them.
    pub(crate) fn metas_in(&self, segment: u64) -> Vec<Op> {
        let mut ops: Vec<Op> = self
            .metas
            .iter()
            .filter(|(_, entry)| entry.segment == segment)
            .map(|(key, entry)| Op::PutMeta {
                key: key.clone(),
                payload: entry.payload.clone(),
            })
            .collect();
        // A stable order makes the rewritten record reproducible, which helps debugging.
        ops.sort_by(|a, b| a.key().cmp(b.key()));
        ops
    }

    /// Applies one op written to `segment`.
    pub(crate) fn apply(&mut self, op: Op, segment: u64) {
        if let Some(seq) = op.seq() {
            self.next_seq = self.next_seq.max(seq.saturating_add(1));
        }
        let bytes = encoded_len(&op);
        match op {
            Op::Put { key, seq, payload } => {
                let entry = PutEntry {
                    segment,
                    bytes,
                    payload: P::keep(payload),
                };
                let replaced = self.spaces.entry(key).or_default().insert(seq, entry);
                // A replaced entry is the same message written twice (compaction copies
                // live Puts forward before the old segments are gone).
                if let Some(old) = replaced {
                    self.forget_put(old.segment, old.bytes);
                }
                self.segments.entry(segment).or_default().live_puts += 1;
                self.live_bytes = self.live_bytes.saturating_add(bytes);
            }
            Op::Remove { key, seq } => {
                let Some(space) = self.spaces.get_mut(&key) else {
                    return;
                };
                let removed = space.remove(&seq);
                if space.is_empty() {
                    self.spaces.remove(&key);
                }
                if let Some(old) = removed {
                    self.forget_put(old.segment, old.bytes);
                }
            }
            Op::DropSpace { key } => {
                if let Some(space) = self.spaces.remove(&key) {
                    for old in space.into_values() {
                        self.forget_put(old.segment, old.bytes);
                    }
                }
            }
            Op::PutMeta { key, payload } => {
                let entry = MetaEntry {
                    segment,
                    bytes,
                    payload,
                };
                if let Some(old) = self.metas.insert(key, entry) {
                    self.forget_meta(old.segment, old.bytes);
                }
                self.segments.entry(segment).or_default().live_metas += 1;
                self.live_bytes = self.live_bytes.saturating_add(bytes);
            }
            Op::RemoveMeta { key } => {
                if let Some(old) = self.metas.remove(&key) {
                    self.forget_meta(old.segment, old.bytes);
                }
            }
        }
    }

    fn forget_put(&mut self, segment: u64, bytes: u64) {
        if let Some(usage) = self.segments.get_mut(&segment) {
            usage.live_puts = usage.live_puts.saturating_sub(1);
        }
        self.live_bytes = self.live_bytes.saturating_sub(bytes);
    }

    fn forget_meta(&mut self, segment: u64, bytes: u64) {
        if let Some(usage) = self.segments.get_mut(&segment) {
            usage.live_metas = usage.live_metas.saturating_sub(1);
        }
        self.live_bytes = self.live_bytes.saturating_sub(bytes);
    }

    /// Every live op, metas first, then each space in seq order: what compaction rewrites.
    pub(crate) fn live_ops(&self) -> Vec<Op>
    where
        P: Clone + Into<Bytes>,
    {
        let mut ops = Vec::with_capacity(self.metas.len());
        let mut meta_keys: Vec<&String> = self.metas.keys().collect();
        meta_keys.sort();
        for key in meta_keys {
            if let Some(entry) = self.metas.get(key) {
                ops.push(Op::PutMeta {
                    key: key.clone(),
                    payload: entry.payload.clone(),
                });
            }
        }
        let mut space_keys: Vec<&String> = self.spaces.keys().collect();
        space_keys.sort();
        for key in space_keys {
            for (&seq, entry) in self.spaces.get(key).into_iter().flatten() {
                ops.push(Op::Put {
                    key: key.clone(),
                    seq,
                    payload: entry.payload.clone().into(),
                });
            }
        }
        ops
    }
}

/// What recovery hands to the core, split from the index the writer keeps.
pub(crate) type SpacesOut = BTreeMap<String, Vec<(u64, Bytes)>>;
pub(crate) type MetaOut = BTreeMap<String, Bytes>;

impl Index<Bytes> {
    /// Splits a recovery index into the payload-free index for the writer and the payloads
    /// for the core.
    pub(crate) fn split(self) -> (Index<()>, SpacesOut, MetaOut) {
        let mut spaces_out = SpacesOut::new();
        let mut spaces = HashMap::with_capacity(self.spaces.len());
        for (key, space) in self.spaces {
            let mut messages = Vec::with_capacity(space.len());
            let mut slim = BTreeMap::new();
            for (seq, entry) in space {
                messages.push((seq, entry.payload));
                slim.insert(
                    seq,
                    PutEntry {
                        segment: entry.segment,
                        bytes: entry.bytes,
                        payload: (),
                    },
                );
            }
            spaces_out.insert(key.clone(), messages);
            spaces.insert(key, slim);
        }
        let meta_out = self
            .metas
            .iter()
            .map(|(key, entry)| (key.clone(), entry.payload.clone()))
            .collect();
        let index = Index {
            spaces,
            metas: self.metas,
            segments: self.segments,
            live_bytes: self.live_bytes,
            next_seq: self.next_seq,
        };
        (index, spaces_out, meta_out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(key: &str, seq: u64) -> Op {
        Op::Put {
            key: key.into(),
            seq,
            payload: Bytes::from_static(b"x"),
        }
    }

    #[test]
    fn counts_follow_positional_semantics() {
        let mut index = Index::<()>::new();
        index.set_segment_size(1, 100);
        index.set_segment_size(2, 100);
        index.apply(put("q", 1), 1);
        index.apply(put("q", 2), 1);
        index.apply(
            Op::PutMeta {
                key: "m".into(),
                payload: Bytes::new(),
            },
            1,
        );
        index.apply(
            Op::Remove {
                key: "q".into(),
                seq: 1,
            },
            2,
        );
        assert_eq!(index.oldest_segment().map(|(_, u)| u.live_puts), Some(1));
        index.apply(Op::DropSpace { key: "q".into() }, 2);
        index.apply(put("q", 3), 2);
        let usage: Vec<_> = index.segments().collect();
        assert_eq!(usage[0].1.live_puts, 0);
        assert_eq!(usage[0].1.live_metas, 1);
        assert_eq!(usage[1].1.live_puts, 1);
        assert_eq!(index.metas_in(1).len(), 1);
        index.apply(Op::RemoveMeta { key: "m".into() }, 2);
        assert_eq!(index.oldest_segment().map(|(_, u)| u.live_metas), Some(0));
        assert_eq!(index.next_seq(), 4);
        assert_eq!(index.live_bytes(), encoded_len(&put("q", 3)));
    }
}
