//! Helpers shared by the journal tests: configs, op builders, a reference model.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use bytes::Bytes;
use ferromq_journal::{Journal, JournalConfig, LockMode, Op, Recovered, SyncMode};

#[path = "expected.rs"]
mod expected;
pub use expected::Model;

/// Bytes of the close marker `close` appends: length, crc and kind, no payload.
pub const CLOSE_MARKER_LEN: u64 = 9;
/// Bytes of the empty batch `open` writes after a close marker: a record holding an op
/// count of zero.
pub const OPEN_RECORD_LEN: u64 = 13;

/// Runs this test binary again as a second process that runs only the ignored helper test
/// `name` (the crash and lock tests kill it), with `env` added and its stdout piped.
pub fn spawn_helper(name: &str, env: &[(&str, &OsStr)]) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--ignored", "--nocapture"])
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Whether the helper printed a line containing `marker` before its stdout ended.
pub fn helper_printed(child: &mut Child, marker: &str) -> bool {
    let Some(stdout) = child.stdout.take() else {
        return false;
    };
    BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .any(|line| line.contains(marker))
}

/// A config that skips fsync (tests check logic, not the disk).
///
/// It waits for the lock rather than failing: while another test thread spawns a child
/// process, the child briefly holds copies of every descriptor (until its `exec` closes
/// them), which can delay the release of a lock that `close` has already dropped. Tests of
/// `LockMode::Fail` set it explicitly.
///
/// Segments are not preallocated, so a segment file ends where its last record does and
/// tests can cut and damage records by file offset; `prealloc.rs` covers preallocation.
pub fn fast_config(dir: &Path) -> JournalConfig {
    JournalConfig::new(dir)
        .with_sync(SyncMode::Never)
        .with_lock(LockMode::Wait)
        .with_preallocate(false)
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

/// Copies every file of `from` into `to`: what a crash would leave, without a close.
pub fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
    }
}

pub fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().len()
}

impl Model {
    pub async fn assert_stored(&self, journal: &Journal, recovered: &Recovered) {
        assert_eq!(&Model::from_journal(journal, recovered).await, self);
    }
}

/// Every live message of space `key`, in seq order.
pub async fn read_all(journal: &Journal, key: &str) -> Vec<(u64, Bytes)> {
    journal
        .read(key, 0, usize::MAX, usize::MAX)
        .await
        .expect("read back")
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

/// A deterministic workload that keeps the journal busy reclaiming: a stream of short-lived
/// messages, a few long-lived ones that pin old segments until compaction moves them, and a
/// meta rewritten now and then. The same seed yields the same batches, so a test can replay
/// in its model what a child process wrote before it was killed.
#[derive(Debug, Clone)]
pub struct Workload {
    rng: Rng,
    next_seq: u64,
    fast: std::collections::VecDeque<u64>,
    slow: Vec<u64>,
    batches: u64,
}

impl Workload {
    pub fn new(seed: u64) -> Self {
        Self {
            rng: Rng::new(seed),
            next_seq: 1,
            fast: std::collections::VecDeque::new(),
            slow: Vec::new(),
            batches: 0,
        }
    }

    pub fn next_batch(&mut self) -> Vec<Op> {
        self.batches += 1;
        let mut batch = Vec::new();
        for _ in 0..=self.rng.below(3) {
            let seq = self.next_seq;
            self.next_seq += 1;
            let len = usize::try_from(50 + self.rng.below(300)).unwrap();
            let fill = u8::try_from(seq % 251).unwrap();
            if self.rng.below(40) == 0 {
                batch.push(put("queue://slow", seq, &vec![fill; len]));
                self.slow.push(seq);
            } else {
                batch.push(put("queue://fast", seq, &vec![fill; len]));
                self.fast.push_back(seq);
            }
        }
        while self.fast.len() > 6 {
            if let Some(seq) = self.fast.pop_front() {
                batch.push(remove("queue://fast", seq));
            }
        }
        if self.slow.len() > 8 || (!self.slow.is_empty() && self.rng.below(60) == 0) {
            let at = usize::try_from(self.rng.below(self.slow.len() as u64)).unwrap();
            let seq = self.slow.swap_remove(at);
            batch.push(remove("queue://slow", seq));
        }
        if self.rng.below(97) == 0 {
            let n = self.batches.to_le_bytes();
            batch.push(put_meta("sub://client:durable", &n));
        }
        batch
    }
}
