//! The reference model the journal is checked against: what it should hold after a sequence
//! of ops, computed the obvious way, and what a journal actually holds, read back into the
//! same shape. Shared by the integration tests and by the crash-point test inside the crate
//! (`src/crash_model.rs` includes this file).

use std::collections::BTreeMap;

use bytes::Bytes;

// The including module names these: the crate's own inside it, the public ones outside.
use super::{Journal, Op, Recovered};

/// Live messages by space and seq, and live meta entries.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Model {
    pub spaces: BTreeMap<String, BTreeMap<u64, Bytes>>,
    pub meta: BTreeMap<String, Bytes>,
}

impl Model {
    pub fn apply(&mut self, op: &Op) {
        match op {
            Op::Put { key, seq, payload } => {
                self.spaces
                    .entry(key.clone())
                    .or_default()
                    .insert(*seq, payload.clone());
            }
            Op::Remove { key, seq } => {
                if let Some(space) = self.spaces.get_mut(key) {
                    space.remove(seq);
                    if space.is_empty() {
                        self.spaces.remove(key);
                    }
                }
            }
            Op::PutMeta { key, payload } => {
                self.meta.insert(key.clone(), payload.clone());
            }
            Op::RemoveMeta { key } => {
                self.meta.remove(key);
            }
            Op::DropSpace { key } => {
                self.spaces.remove(key);
            }
        }
    }

    pub fn apply_all<'a>(&mut self, ops: impl IntoIterator<Item = &'a Op>) {
        for op in ops {
            self.apply(op);
        }
    }

    /// What `journal` holds: the spaces `recovered` names, read back in full, each checked
    /// against its summary and for seq order.
    pub async fn from_journal(journal: &Journal, recovered: &Recovered) -> Self {
        let mut spaces = BTreeMap::new();
        for (key, summary) in &recovered.spaces {
            let messages = journal
                .read(key, 0, usize::MAX, usize::MAX)
                .await
                .expect("read back");
            assert_eq!(
                messages.len() as u64,
                summary.messages,
                "space {key}: summary and contents disagree"
            );
            let mut sorted = messages.clone();
            sorted.sort_by_key(|(seq, _)| *seq);
            assert_eq!(sorted, messages, "space {key} is not read in seq order");
            spaces.insert(key.clone(), messages.into_iter().collect());
        }
        Self {
            spaces,
            meta: recovered.meta.clone(),
        }
    }
}
