//! Which messages and meta entries are live, and which segment each lives in.
//!
//! The index replays ops in the order they were written ("positional" semantics): a
//! `Remove`, `DropSpace` or `RemoveMeta` affects only what was written before it. Recovery
//! and the writer both drive the same code ([`Index::apply`], [`Index::apply_ref`]), so what
//! the writer believes is live is exactly what a replay would find.
//!
//! Per segment it counts the live Puts, live metas and their bytes, and remembers which older
//! segments hold records that a record of this segment killed (its `deps`, see `reclaim`
//! for why deletion needs them). It does no I/O.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bytes::Bytes;

use crate::op::{encoded_len, encoded_len_ref, Op, OpRef};

/// What the index keeps of a live Put besides its segment: the payload during recovery,
/// nothing in the writer (payloads stay on disk and in the core's memory).
pub(crate) trait PutPayload: Sized {
    fn keep(payload: Bytes) -> Self;
    /// Keeps `payload`, a slice of `source`, without copying it.
    fn keep_ref(source: &Bytes, payload: &[u8]) -> Self;
}

impl PutPayload for () {
    fn keep(_: Bytes) -> Self {}
    fn keep_ref(_: &Bytes, _: &[u8]) -> Self {}
}

impl PutPayload for Bytes {
    fn keep(payload: Bytes) -> Self {
        payload
    }
    fn keep_ref(source: &Bytes, payload: &[u8]) -> Self {
        // `payload` was decoded out of `source`, so it lies inside it.
        source.slice_ref(payload)
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

/// A live meta entry. Its payload is always kept (and owned, never a slice of a segment
/// buffer): metas are few and small, and the writer rewrites them forward.
#[derive(Debug, Clone)]
pub(crate) struct MetaEntry {
    pub(crate) segment: u64,
    pub(crate) bytes: u64,
    pub(crate) payload: Bytes,
}

/// Per-segment accounting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SegmentUsage {
    pub(crate) live_puts: u64,
    pub(crate) live_metas: u64,
    /// Encoded bytes of the live Puts and metas stored in this segment.
    pub(crate) live_bytes: u64,
    /// Size of the file on disk.
    pub(crate) size: u64,
    /// Older segments, still on disk, holding a record that a record of this segment killed
    /// (a tombstone, or a newer copy of the same message or meta). Deleting this segment
    /// before them could bring that record back.
    pub(crate) deps: BTreeSet<u64>,
}

impl SegmentUsage {
    pub(crate) fn holds_live(&self) -> bool {
        self.live_puts > 0 || self.live_metas > 0
    }
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

    /// Forgets a deleted segment and every dependency on it. Callers only do this when it
    /// holds nothing live.
    pub(crate) fn remove_segment(&mut self, segment: u64) {
        self.segments.remove(&segment);
        for usage in self.segments.values_mut() {
            usage.deps.remove(&segment);
        }
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

    /// Every segment on disk, oldest first.
    pub(crate) fn segments(&self) -> impl Iterator<Item = (u64, &SegmentUsage)> + '_ {
        self.segments.iter().map(|(&id, usage)| (id, usage))
    }

    pub(crate) fn segment(&self, id: u64) -> Option<&SegmentUsage> {
        self.segments.get(&id)
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

    /// Whether the live copy of message `seq` of `key` is the one stored in `segment`.
    pub(crate) fn is_live_in(&self, key: &str, seq: u64, segment: u64) -> bool {
        self.spaces
            .get(key)
            .and_then(|space| space.get(&seq))
            .is_some_and(|entry| entry.segment == segment)
    }

    /// Whether the live meta `key` is the one stored in `segment`.
    pub(crate) fn meta_is_in(&self, key: &str, segment: u64) -> bool {
        self.metas
            .get(key)
            .is_some_and(|entry| entry.segment == segment)
    }

    /// Applies one op written to `segment`.
    pub(crate) fn apply(&mut self, op: Op, segment: u64) {
        let bytes = encoded_len(&op);
        match op {
            Op::Put { key, seq, payload } => self.put(&key, seq, bytes, P::keep(payload), segment),
            Op::Remove { key, seq } => self.remove(&key, seq, segment),
            Op::DropSpace { key } => self.drop_space(&key, segment),
            Op::PutMeta { key, payload } => self.put_meta(&key, payload, bytes, segment),
            Op::RemoveMeta { key } => self.remove_meta(&key, segment),
        }
    }

    /// Applies one op decoded out of `source` (a segment buffer) written to `segment`.
    /// Payloads of Puts are kept as slices of `source`; metas are copied.
    pub(crate) fn apply_ref(&mut self, op: &OpRef<'_>, segment: u64, source: &Bytes) {
        let bytes = encoded_len_ref(op);
        match *op {
            OpRef::Put { key, seq, payload } => {
                self.put(key, seq, bytes, P::keep_ref(source, payload), segment);
            }
            OpRef::Remove { key, seq } => self.remove(key, seq, segment),
            OpRef::DropSpace { key } => self.drop_space(key, segment),
            OpRef::PutMeta { key, payload } => {
                self.put_meta(key, Bytes::copy_from_slice(payload), bytes, segment);
            }
            OpRef::RemoveMeta { key } => self.remove_meta(key, segment),
        }
    }

    fn put(&mut self, key: &str, seq: u64, bytes: u64, payload: P, segment: u64) {
        self.next_seq = self.next_seq.max(seq.saturating_add(1));
        let entry = PutEntry {
            segment,
            bytes,
            payload,
        };
        // Look up by `&str` first: recovery replays millions of Puts into a few spaces.
        let replaced = match self.spaces.get_mut(key) {
            Some(space) => space.insert(seq, entry),
            None => {
                let mut space = BTreeMap::new();
                space.insert(seq, entry);
                self.spaces.insert(key.to_owned(), space);
                None
            }
        };
        // A replaced entry is the same message written twice (compaction copies live Puts
        // forward before the old segment is gone): the older copy is now dead.
        if let Some(old) = replaced {
            self.kill_put(old.segment, old.bytes, segment);
        }
        let usage = self.segments.entry(segment).or_default();
        usage.live_puts += 1;
        usage.live_bytes = usage.live_bytes.saturating_add(bytes);
        self.live_bytes = self.live_bytes.saturating_add(bytes);
    }

    fn remove(&mut self, key: &str, seq: u64, segment: u64) {
        self.next_seq = self.next_seq.max(seq.saturating_add(1));
        let Some(space) = self.spaces.get_mut(key) else {
            return;
        };
        let removed = space.remove(&seq);
        if space.is_empty() {
            self.spaces.remove(key);
        }
        if let Some(old) = removed {
            self.kill_put(old.segment, old.bytes, segment);
        }
    }

    fn drop_space(&mut self, key: &str, segment: u64) {
        if let Some(space) = self.spaces.remove(key) {
            for old in space.into_values() {
                self.kill_put(old.segment, old.bytes, segment);
            }
        }
    }

    fn put_meta(&mut self, key: &str, payload: Bytes, bytes: u64, segment: u64) {
        let entry = MetaEntry {
            segment,
            bytes,
            payload,
        };
        if let Some(old) = self.metas.insert(key.to_owned(), entry) {
            self.kill_meta(old.segment, old.bytes, segment);
        }
        let usage = self.segments.entry(segment).or_default();
        usage.live_metas += 1;
        usage.live_bytes = usage.live_bytes.saturating_add(bytes);
        self.live_bytes = self.live_bytes.saturating_add(bytes);
    }

    fn remove_meta(&mut self, key: &str, segment: u64) {
        if let Some(old) = self.metas.remove(key) {
            self.kill_meta(old.segment, old.bytes, segment);
        }
    }

    /// A record of `killer` made a Put stored in `target` dead.
    fn kill_put(&mut self, target: u64, bytes: u64, killer: u64) {
        if let Some(usage) = self.segments.get_mut(&target) {
            usage.live_puts = usage.live_puts.saturating_sub(1);
            usage.live_bytes = usage.live_bytes.saturating_sub(bytes);
        }
        self.live_bytes = self.live_bytes.saturating_sub(bytes);
        self.depend(killer, target);
    }

    /// A record of `killer` made a meta stored in `target` dead.
    fn kill_meta(&mut self, target: u64, bytes: u64, killer: u64) {
        if let Some(usage) = self.segments.get_mut(&target) {
            usage.live_metas = usage.live_metas.saturating_sub(1);
            usage.live_bytes = usage.live_bytes.saturating_sub(bytes);
        }
        self.live_bytes = self.live_bytes.saturating_sub(bytes);
        self.depend(killer, target);
    }

    fn depend(&mut self, killer: u64, target: u64) {
        // Within one segment replay order does the work; a deleted target needs no guard.
        if killer != target && self.segments.contains_key(&target) {
            self.segments.entry(killer).or_default().deps.insert(target);
        }
    }

    /// Every live op, metas first, then each space in seq order: what compaction at open
    /// rewrites.
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
    ///
    /// Payloads are slices of whole segment buffers. Those of segments less than half live
    /// are copied out, so that a caller keeping a few of them does not keep whole mostly
    /// dead segments in memory: what the returned payloads pin stays below twice their size.
    pub(crate) fn split(self) -> (Index<()>, SpacesOut, MetaOut) {
        let sparse: BTreeSet<u64> = self
            .segments
            .iter()
            .filter(|(_, usage)| usage.live_bytes.saturating_mul(2) < usage.size)
            .map(|(&id, _)| id)
            .collect();
        let mut spaces_out = SpacesOut::new();
        let mut spaces = HashMap::with_capacity(self.spaces.len());
        for (key, space) in self.spaces {
            let mut messages = Vec::with_capacity(space.len());
            // `space` iterates in seq order, so the BTreeMap is built in bulk, not by insert.
            let slim: BTreeMap<u64, PutEntry<()>> = space
                .into_iter()
                .map(|(seq, entry)| {
                    let payload = if sparse.contains(&entry.segment) {
                        Bytes::copy_from_slice(&entry.payload)
                    } else {
                        entry.payload
                    };
                    messages.push((seq, payload));
                    let slim = PutEntry {
                        segment: entry.segment,
                        bytes: entry.bytes,
                        payload: (),
                    };
                    (seq, slim)
                })
                .collect();
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

    fn remove(key: &str, seq: u64) -> Op {
        Op::Remove {
            key: key.into(),
            seq,
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
        index.apply(remove("q", 1), 2);
        assert_eq!(index.segment(1).map(|u| u.live_puts), Some(1));
        index.apply(Op::DropSpace { key: "q".into() }, 2);
        index.apply(put("q", 3), 2);
        let usage: Vec<_> = index.segments().collect();
        assert_eq!(usage[0].1.live_puts, 0);
        assert_eq!(usage[0].1.live_metas, 1);
        assert_eq!(usage[1].1.live_puts, 1);
        assert_eq!(index.metas_in(1).len(), 1);
        index.apply(Op::RemoveMeta { key: "m".into() }, 2);
        assert_eq!(index.segment(1).map(|u| u.live_metas), Some(0));
        assert_eq!(index.segment(1).map(|u| u.live_bytes), Some(0));
        assert_eq!(index.next_seq(), 4);
        assert_eq!(index.live_bytes(), encoded_len(&put("q", 3)));
        assert_eq!(
            index.segment(2).map(|u| u.live_bytes),
            Some(index.live_bytes())
        );
    }

    #[test]
    fn kills_across_segments_are_dependencies() {
        let mut index = Index::<()>::new();
        for id in 1..=4 {
            index.set_segment_size(id, 100);
        }
        index.apply(put("q", 1), 1);
        index.apply(put("q", 2), 1);
        index.apply(remove("q", 2), 1); // same segment: replay order suffices
        index.apply(put("q", 3), 2);
        index.apply(remove("q", 1), 3);
        index.apply(put("q", 3), 4); // a compaction copy supersedes the one in 2
        assert!(index.segment(1).is_some_and(|u| u.deps.is_empty()));
        assert!(index
            .segment(3)
            .is_some_and(|u| u.deps == BTreeSet::from([1])));
        assert!(index
            .segment(4)
            .is_some_and(|u| u.deps == BTreeSet::from([2])));
        assert!(index.is_live_in("q", 3, 4) && !index.is_live_in("q", 3, 2));
        index.remove_segment(1);
        assert!(index.segment(3).is_some_and(|u| u.deps.is_empty()));
    }

    #[test]
    fn split_copies_payloads_of_sparse_segments_only() {
        let source = Bytes::from(vec![7u8; 1000]);
        let mut index = Index::<Bytes>::new();
        index.set_segment_size(1, 1000);
        index.set_segment_size(2, 40);
        let payload = |at: usize| OpRef::Put {
            key: "q",
            seq: u64::try_from(at).unwrap_or(0),
            payload: &source[at..at + 10],
        };
        index.apply_ref(&payload(0), 1, &source);
        index.apply_ref(&payload(500), 2, &source);
        let (_, spaces, _) = index.split();
        let messages = &spaces["q"];
        // Segment 1 is almost all dead: its payload is copied, segment 2's is shared.
        assert_ne!(messages[0].1.as_ptr(), source[0..].as_ptr());
        assert_eq!(messages[1].1.as_ptr(), source[500..].as_ptr());
        assert_eq!(messages[0].1, source.slice(0..10));
    }
}
