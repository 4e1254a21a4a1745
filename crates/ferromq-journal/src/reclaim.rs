//! Which segments may be deleted, and which one is worth compacting. Pure: no I/O.
//!
//! # Deletion rule
//!
//! Replay is positional: a tombstone (`Remove`, `DropSpace`, `RemoveMeta`) or a newer copy of
//! a message or meta only affects records written before it, and those may sit in older
//! segments. The index remembers, per segment, which older segments still on disk hold a
//! record that one of its records killed (its `deps`). So:
//!
//! > A segment is deleted only when it holds no live Put and no live meta, it is not the
//! > segment being written, and none of its `deps` is still on disk. Deletions are made
//! > durable one at a time.
//!
//! Every record a deleted segment killed is then gone too, and its own records were dead, so
//! replaying what is left finds the same live state: each deletion keeps the rule true for
//! the segments left, whatever prefix of the deletions a crash lets reach the disk. The
//! newest segment is never deleted, so its header's seq floor keeps `next_seq` from going
//! backwards. Unlike deleting strictly oldest first, a dead segment does not wait for older
//! segments that it never touched, so one old message does not pin the whole log.
//!
//! # Compaction choice
//!
//! A segment with live records is freed by rewriting them forward (see `rewrite`). That is
//! only safe when the segment can be deleted right after, i.e. its `deps` are gone (a
//! *root*). Compaction runs only while the dead bytes of sealed segments exceed the live
//! bytes (and half a segment), which bounds the store at about twice the live data plus a
//! few segments. It then takes the root with the best net gain: the dead bytes of the
//! root plus the sizes of the dead segments that wait only for it, minus the live bytes
//! it must rewrite. When no root gains (dead segments that wait for several roots), it
//! rewrites the oldest root: going round the log frees every dead byte at the cost of
//! copying the live data once, and the trigger stops it once dead falls below live.

use std::collections::{BTreeMap, BTreeSet};

use crate::index::{Index, SegmentUsage};

/// Whether `usage` (of a segment other than the active one) may be deleted now.
pub(crate) fn deletable(usage: &SegmentUsage) -> bool {
    !usage.holds_live() && usage.deps.is_empty()
}

/// Dead bytes of the sealed segments (every segment older than `active`).
pub(crate) fn sealed_dead_bytes(index: &Index, active: u64) -> u64 {
    index
        .segments()
        .filter(|(id, _)| *id < active)
        .map(|(_, usage)| usage.size.saturating_sub(usage.live_bytes))
        .fold(0u64, u64::saturating_add)
}

/// Whether enough of the store is dead to make compaction worth running.
pub(crate) fn compaction_due(index: &Index, active: u64, segment_size: u64) -> bool {
    let dead = sealed_dead_bytes(index, active);
    dead > index.live_bytes() && dead >= segment_size / 2
}

/// Whom a dead segment waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    /// Deletable once this one root is compacted.
    Root(u64),
    /// Waits for a segment that no single compaction frees.
    Blocked,
}

/// The segment to compact next, if compaction is due. `skip` holds segments that could not
/// be rewritten (a damaged record); no rotation happens while there are any, because the
/// dead bytes they pin would keep the trigger on forever.
pub(crate) fn choose(
    index: &Index,
    active: u64,
    segment_size: u64,
    skip: &BTreeSet<u64>,
) -> Option<u64> {
    if !compaction_due(index, active, segment_size) {
        return None;
    }
    let mut owner: BTreeMap<u64, Owner> = BTreeMap::new();
    // Net gain per root, in bytes (signed: a full root costs more than it frees).
    let mut gain: BTreeMap<u64, i128> = BTreeMap::new();
    let mut oldest_root = None;
    for (id, usage) in index.segments().filter(|(id, _)| *id < active) {
        let size = i128::from(usage.size);
        if usage.holds_live() {
            if usage.deps.is_empty() && !skip.contains(&id) {
                owner.insert(id, Owner::Root(id));
                gain.insert(id, size - 2 * i128::from(usage.live_bytes));
                oldest_root.get_or_insert(id);
            } else {
                owner.insert(id, Owner::Blocked);
            }
            continue;
        }
        // Dead and waiting (otherwise it would have been deleted): for whom?
        let mut roots = usage.deps.iter().map(|dep| owner.get(dep).copied());
        let first = roots.next().flatten();
        let single = match first {
            Some(Owner::Root(root)) if roots.all(|o| o == Some(Owner::Root(root))) => Some(root),
            _ => None,
        };
        match single {
            Some(root) => {
                owner.insert(id, Owner::Root(root));
                if let Some(g) = gain.get_mut(&root) {
                    *g += size;
                }
            }
            None => {
                owner.insert(id, Owner::Blocked);
            }
        }
    }
    let best = gain
        .iter()
        .filter(|(_, &g)| g > 0)
        // Highest gain; among equals the oldest (BTreeMap order, `max_by` keeps the last).
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(&id, _)| id);
    best.or(if skip.is_empty() { oldest_root } else { None })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    use crate::op::Op;

    const SIZE: u64 = 1000;

    fn put(seq: u64, len: usize) -> Op {
        Op::Put {
            key: "q".into(),
            seq,
            payload: Bytes::from(vec![0u8; len]),
        }
    }

    fn remove(seq: u64) -> Op {
        Op::Remove {
            key: "q".into(),
            seq,
        }
    }

    /// Segments 1..=n of SIZE bytes each.
    fn index(n: u64) -> Index {
        let mut index = Index::new();
        for id in 1..=n {
            index.set_segment_size(id, SIZE);
        }
        index
    }

    #[test]
    fn a_dead_segment_waits_only_for_the_segments_it_killed_in() {
        let mut index = index(4);
        index.apply(put(1, 482), 1);
        index.apply(put(2, 482), 2);
        index.apply(remove(2), 3);
        let usage = |index: &Index, id| index.segment(id).cloned().unwrap_or_default();
        assert!(!deletable(&usage(&index, 1)), "holds a live message");
        assert!(
            deletable(&usage(&index, 2)),
            "dead, and killed nothing elsewhere"
        );
        assert!(
            !deletable(&usage(&index, 3)),
            "killed a record of 2, still on disk"
        );
        index.remove_segment(2);
        assert!(deletable(&usage(&index, 3)));
        index.apply(remove(1), 4);
        assert!(deletable(&usage(&index, 1)));
        assert!(usage(&index, 4).deps == BTreeSet::from([1]));
    }

    #[test]
    fn nothing_is_compacted_while_the_store_is_mostly_live() {
        let mut index = index(3);
        index.apply(put(1, 882), 1);
        index.apply(put(2, 882), 2);
        assert_eq!(choose(&index, 3, SIZE, &BTreeSet::new()), None);
    }

    #[test]
    fn the_root_freeing_most_is_chosen() {
        let mut index = index(4);
        index.apply(put(1, 882), 1); // old and full
        index.apply(put(2, 2), 2); // a few live bytes in an otherwise dead segment
        index.apply(put(3, 882), 2);
        index.apply(put(4, 882), 3);
        index.apply(remove(3), 3); // 3 waits for 2 only
        index.apply(remove(4), 3);
        assert!(compaction_due(&index, 4, SIZE));
        assert_eq!(choose(&index, 4, SIZE, &BTreeSet::new()), Some(2));
        // 1 costs more than it frees, and no rotation while a segment is skipped.
        assert_eq!(choose(&index, 4, SIZE, &BTreeSet::from([2])), None);
    }

    #[test]
    fn with_no_gaining_root_the_oldest_is_rotated() {
        let mut index = index(4);
        index.set_segment_size(3, 3 * SIZE);
        index.apply(put(1, 482), 1);
        index.apply(put(3, 382), 1);
        index.apply(put(2, 482), 2);
        index.apply(put(4, 382), 2);
        // Segment 3 killed a record in both 1 and 2: no single compaction frees it.
        index.apply(remove(3), 3);
        index.apply(remove(4), 3);
        assert!(compaction_due(&index, 4, SIZE));
        assert_eq!(choose(&index, 4, SIZE, &BTreeSet::new()), Some(1));
    }
}
