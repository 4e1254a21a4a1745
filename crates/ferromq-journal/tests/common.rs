//! Helpers shared by the journal tests: configs, op builders, a reference model.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use ferromq_journal::{Journal, JournalConfig, LockMode, Op, Recovered, SyncMode};

/// A config that skips fsync (tests check logic, not the disk).
///
/// It waits for the lock rather than failing: while another test thread spawns a child
/// process, the child briefly holds copies of every descriptor (until its `exec` closes
/// them), which can delay the release of a lock that `close` has already dropped. Tests of
/// `LockMode::Fail` set it explicitly.
pub fn fast_config(dir: &Path) -> JournalConfig {
    JournalConfig::new(dir)
        .with_sync(SyncMode::Never)
        .with_lock(LockMode::Wait)
}

pub fn put(key: &str, seq: u64, payload: &[u8]) -> Op {
    Op::Put {
        key: key.into(),
        seq,
        payload: Bytes::copy_from_slice(payload),
    }
}

pub fn remove(key: &str, seq: u64) -> Op {
    Op::Remove {
        key: key.into(),
        seq,
    }
}

pub fn put_meta(key: &str, payload: &[u8]) -> Op {
    Op::PutMeta {
        key: key.into(),
        payload: Bytes::copy_from_slice(payload),
    }
}

pub fn remove_meta(key: &str) -> Op {
    Op::RemoveMeta { key: key.into() }
}

pub fn drop_space(key: &str) -> Op {
    Op::DropSpace { key: key.into() }
}

/// Appends a batch and waits until it is durable.
pub async fn commit(journal: &Journal, ops: Vec<Op>) {
    journal.append(ops).await.unwrap().await.unwrap();
}

pub fn open(config: &JournalConfig) -> (Journal, Recovered) {
    Journal::open(config.clone()).unwrap()
}

/// The segment files of `dir`, oldest first.
pub fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.starts_with("journal-") && name.ends_with(".log")
        })
        .collect();
    files.sort();
    files
}

pub fn last_segment(dir: &Path) -> PathBuf {
    segment_files(dir).pop().unwrap()
}

pub fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().len()
}

/// What the journal should hold, computed the obvious way.
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

    pub fn from_recovered(recovered: &Recovered) -> Self {
        let spaces = recovered
            .spaces
            .iter()
            .map(|(key, messages)| {
                let mut sorted = messages.clone();
                sorted.sort_by_key(|(seq, _)| *seq);
                assert_eq!(&sorted, messages, "space {key} is not sorted by seq");
                (key.clone(), messages.iter().cloned().collect())
            })
            .collect();
        Self {
            spaces,
            meta: recovered.meta.clone(),
        }
    }

    pub fn assert_recovered(&self, recovered: &Recovered) {
        assert_eq!(&Model::from_recovered(recovered), self);
    }
}

/// A small deterministic generator, so failures reproduce without a seed file.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
