//! The reference model the journal is checked against: what it should hold after a sequence
//! of ops, computed the obvious way. Shared by the integration tests and by the crash-point
//! test inside the crate (`src/crash_model.rs` includes this file).

use std::collections::BTreeMap;

use bytes::Bytes;

// The including module names `Op`: the crate's own inside it, the public one outside.
use super::Op;

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
}
