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

use crate::op::{encoded_len, encoded_len_ref, op_len, payload_offsets, Op, OpRef};

/// A live Put: where its payload lies on disk. The payload itself stays there; the writer
/// reads it back when the core pages it in or a compaction copies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PutEntry {
    pub(crate) segment: u64,
    /// Offset of the payload in the segment file. Segments stay below 4 GiB: the segment size
    /// is at most 1 GiB and a segment holding a record takes no record that would overflow it,
    /// except its first.
    pub(crate) at: u32,
    pub(crate) len: u32,
}

impl PutEntry {
    /// Encoded size of the Put op, counted in live bytes.
    fn op_bytes(&self, key: &str) -> u64 {
        op_len(key.len(), true, Some(self.len as usize))
    }
}

/// Where the payload of a Put lies, as handed to [`Index::locate`]'s callers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Location {
    pub(crate) seq: u64,
    pub(crate) segment: u64,
    pub(crate) at: u64,
    pub(crate) len: u32,
}

/// What recovery reports of one space: enough for the core to know what waits on disk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoredSpace {
    /// Live messages.
    pub messages: u64,
    /// Bytes of their payloads.
    pub bytes: u64,
    /// Lowest and highest live seq.
    pub first_seq: u64,
    pub last_seq: u64,
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
pub(crate) struct Index {
    spaces: HashMap<String, BTreeMap<u64, PutEntry>>,
    metas: HashMap<String, MetaEntry>,
    segments: BTreeMap<u64, SegmentUsage>,
    live_bytes: u64,
    /// `1 + the highest seq seen`, also raised by segment headers' seq floors.
    next_seq: u64,
}

impl Index {
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
        self.meta_ops_where(|entry| entry.segment == segment)
    }

    /// The live metas accepted by `keep`, as ops that rewrite them, in key order (a stable
    /// order makes a rewritten record reproducible, which helps debugging).
    fn meta_ops_where(&self, keep: impl Fn(&MetaEntry) -> bool) -> Vec<Op> {
        let mut ops: Vec<Op> = self
            .metas
            .iter()
            .filter(|(_, entry)| keep(entry))
            .map(|(key, entry)| Op::PutMeta {
                key: key.clone(),
                payload: entry.payload.clone(),
            })
            .collect();
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

    /// Applies the ops of one batch written to `segment`, whose batch payload (after the
    /// record's prefix and kind byte) starts at file offset `batch_at`.
    pub(crate) fn apply_batch(&mut self, ops: &[Op], segment: u64, batch_at: u64) {
        for (op, at) in ops.iter().zip(payload_offsets(ops)) {
            self.apply_at(op, segment, batch_at.saturating_add(at));
        }
    }

    /// Applies one op as if its payload were at offset 0 (tests of the accounting only).
    #[cfg(test)]
    pub(crate) fn apply(&mut self, op: Op, segment: u64) {
        self.apply_at(&op, segment, 0);
    }

    /// Applies one op written to `segment`; `payload_at` is where a Put's payload starts.
    pub(crate) fn apply_at(&mut self, op: &Op, segment: u64, payload_at: u64) {
        let bytes = encoded_len(op);
        match op {
            Op::Put { key, seq, payload } => {
                self.put(key, *seq, payload.len(), payload_at, segment);
            }
            Op::Remove { key, seq } => self.remove(key, *seq, segment),
            Op::DropSpace { key } => self.drop_space(key, segment),
            Op::PutMeta { key, payload } => self.put_meta(key, payload.clone(), bytes, segment),
            Op::RemoveMeta { key } => self.remove_meta(key, segment),
        }
    }

    /// Applies one op decoded out of `source` (the whole segment file) written to `segment`.
    /// Metas are copied; of a Put only its place in the file is kept.
    pub(crate) fn apply_ref(&mut self, op: &OpRef<'_>, segment: u64, source: &[u8]) {
        let bytes = encoded_len_ref(op);
        match *op {
            OpRef::Put { key, seq, payload } => {
                // `payload` was decoded out of `source`, so it lies inside it.
                let at = (payload.as_ptr() as usize).saturating_sub(source.as_ptr() as usize);
                self.put(key, seq, payload.len(), at as u64, segment);
            }
            OpRef::Remove { key, seq } => self.remove(key, seq, segment),
            OpRef::DropSpace { key } => self.drop_space(key, segment),
            OpRef::PutMeta { key, payload } => {
                self.put_meta(key, Bytes::copy_from_slice(payload), bytes, segment);
            }
            OpRef::RemoveMeta { key } => self.remove_meta(key, segment),
        }
    }

    fn put(&mut self, key: &str, seq: u64, len: usize, at: u64, segment: u64) {
        self.next_seq = self.next_seq.max(seq.saturating_add(1));
        let entry = PutEntry {
            segment,
            at: u32::try_from(at).unwrap_or(u32::MAX),
            len: u32::try_from(len).unwrap_or(u32::MAX),
        };
        let bytes = entry.op_bytes(key);
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
            self.kill_put(old.segment, old.op_bytes(key), segment);
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
            self.kill_put(old.segment, old.op_bytes(key), segment);
        }
    }

    fn drop_space(&mut self, key: &str, segment: u64) {
        if let Some(space) = self.spaces.remove(key) {
            for old in space.into_values() {
                self.kill_put(old.segment, old.op_bytes(key), segment);
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

    /// The live metas, as ops that rewrite them, in key order.
    pub(crate) fn meta_ops(&self) -> Vec<Op> {
        self.meta_ops_where(|_| true)
    }

    /// Keys of the spaces holding live messages, sorted.
    pub(crate) fn space_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.spaces.keys().cloned().collect();
        keys.sort();
        keys
    }

    /// The live messages of `key` with a seq above `after`, in seq order: at most `max_count`
    /// of them and, past the first, no more than `max_bytes` of payload.
    pub(crate) fn locate(
        &self,
        key: &str,
        after: u64,
        max_count: usize,
        max_bytes: u64,
    ) -> Vec<Location> {
        let mut out = Vec::new();
        let Some(space) = self.spaces.get(key) else {
            return out;
        };
        let mut bytes = 0u64;
        for (&seq, entry) in space.range(after.saturating_add(1)..) {
            let len = u64::from(entry.len);
            if out.len() >= max_count || (!out.is_empty() && bytes.saturating_add(len) > max_bytes)
            {
                break;
            }
            bytes = bytes.saturating_add(len);
            out.push(Location {
                seq,
                segment: entry.segment,
                at: u64::from(entry.at),
                len: entry.len,
            });
        }
        out
    }

    /// Per space, what is stored: what `open` reports to the core.
    pub(crate) fn summary(&self) -> BTreeMap<String, StoredSpace> {
        self.spaces
            .iter()
            .map(|(key, space)| {
                let summary = StoredSpace {
                    messages: space.len() as u64,
                    bytes: space.values().map(|entry| u64::from(entry.len)).sum(),
                    first_seq: space.keys().next().copied().unwrap_or(0),
                    last_seq: space.keys().next_back().copied().unwrap_or(0),
                };
                (key.clone(), summary)
            })
            .collect()
    }

    /// The live metas and their payloads.
    pub(crate) fn metas(&self) -> BTreeMap<String, Bytes> {
        self.metas
            .iter()
            .map(|(key, entry)| (key.clone(), entry.payload.clone()))
            .collect()
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
        let mut index = Index::new();
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
        let mut index = Index::new();
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
    fn locations_follow_the_batch_layout_and_limits() {
        let ops = vec![put("q", 1), remove("q", 9), put("q", 2), put("q", 3)];
        let mut payload = Vec::new();
        assert!(crate::op::encode_batch(&ops, &mut payload));
        let mut index = Index::new();
        index.apply_batch(&ops, 7, 100);
        let found = index.locate("q", 0, 10, u64::MAX);
        assert_eq!(found.iter().map(|l| l.seq).collect::<Vec<_>>(), [1, 2, 3]);
        for location in &found {
            let at = usize::try_from(location.at - 100).unwrap_or(usize::MAX);
            assert_eq!(location.segment, 7);
            assert_eq!(payload.get(at..at + 1), Some(&b"x"[..]));
        }
        assert_eq!(index.locate("q", 1, 10, u64::MAX).len(), 2);
        assert_eq!(index.locate("q", 0, 2, u64::MAX).len(), 2);
        // The byte limit stops after the first message, never before it.
        assert_eq!(index.locate("q", 0, 10, 0).len(), 1);
        assert!(index.locate("other", 0, 10, u64::MAX).is_empty());
        let summary = index.summary();
        assert_eq!(summary["q"].messages, 3);
        assert_eq!((summary["q"].first_seq, summary["q"].last_seq), (1, 3));
    }
}
