//! Crash points inside the writer, checked against a model.
//!
//! The test drives the writer step by step (a group commit, a round of deletions, one
//! compaction chunk) and, after each step, takes the directory as a crash could leave it:
//! - as it is (a process crash after the step, or power loss after its last sync);
//! - for deletions, after every prefix of them (each is made durable before the next);
//! - cut anywhere inside the record the step just wrote (power loss before its sync).
//!
//! Every such state must recover exactly the acknowledged live state; a cut inside a group
//! commit's record may instead lose that one unacknowledged batch, whole.

// A test module: a failed setup step should stop the test right there.
#![allow(clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::oneshot;

use crate::config::{JournalConfig, LockMode, SyncMode};
use crate::journal::{prepare, Journal, Recovered};
use crate::op::{batch_len, Op};
use crate::record::frame_len;
use crate::stats::Counters;
use crate::writer::{AppendRequest, Writer};

#[path = "../tests/expected.rs"]
mod expected;
use expected::Model;

/// The segment files of a directory, by name.
type Files = BTreeMap<String, Vec<u8>>;

fn config(dir: &Path) -> JournalConfig {
    JournalConfig::new(dir)
        .with_sync(SyncMode::Always)
        .with_lock(LockMode::Wait)
        .with_segment_size(4096)
}

fn read_files(dir: &Path) -> Files {
    let mut files = Files::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("journal-") {
            let bytes = std::fs::read(entry.path()).unwrap_or_default();
            files.insert(name, bytes);
        }
    }
    files
}

/// A writer on an empty `dir`, not started: the test drives it step by step.
fn unstarted_writer(dir: &Path) -> (Writer, Arc<Counters>) {
    let counters = Arc::new(Counters::default());
    let (writer, _) =
        prepare(&config(dir), Arc::clone(&counters), &mut |_, _, _| {}).expect("open");
    (writer, counters)
}

/// Writes `ops` as a group of one batch (nobody waits for its answer).
fn commit_one(writer: &mut Writer, ops: Vec<Op>) {
    let (done, _answer) = oneshot::channel();
    let size = frame_len(batch_len(&ops));
    writer.commit(vec![AppendRequest { ops, size, done }]);
}

/// Opens a copy of `files` and returns what it recovered.
fn recover(files: &Files) -> Model {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, bytes) in files {
        std::fs::write(dir.path().join(name), bytes).expect("write segment copy");
    }
    let (journal, recovered) =
        Journal::open(config(dir.path()).with_sync(SyncMode::Never)).expect("open copy");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    runtime.block_on(Model::from_journal(&journal, &recovered))
}

/// Cuts of the newest file of `files` inside `from..to` (a few, spread out).
fn cuts(files: &Files, from: u64, to: u64, rng: &mut u64) -> Vec<Files> {
    let Some((name, bytes)) = files.iter().next_back() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let span = to.saturating_sub(from);
    if span == 0 {
        return out;
    }
    for pick in [0, 1, span / 2, span - 1, next(rng) % span] {
        let cut = usize::try_from(from + pick).unwrap_or(usize::MAX);
        let mut state = files.clone();
        state.insert(name.clone(), bytes.get(..cut).unwrap_or(bytes).to_vec());
        out.push(state);
    }
    out
}

fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Runs a garbage collection, checking every prefix of its deletions.
fn collect_checked(writer: &mut Writer, dir: &Path, model: &Model) {
    let before = read_files(dir);
    writer.collect_garbage().expect("collect garbage");
    let after = read_files(dir);
    // Deletions happen oldest first (ascending names); restore any suffix of them.
    let deleted: Vec<&String> = before.keys().filter(|k| !after.contains_key(*k)).collect();
    for kept in 0..=deleted.len() {
        let mut state = after.clone();
        for name in &deleted[kept..] {
            state.insert((*name).clone(), before[*name].clone());
        }
        assert_eq!(
            &recover(&state),
            model,
            "after {kept} of {} deletions",
            deleted.len()
        );
    }
}

#[test]
fn every_crash_point_of_commits_deletions_and_compaction_recovers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut writer, counters) = unstarted_writer(dir.path());
    let mut model = Model::default();
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut slow: Vec<u64> = Vec::new();
    let mut fast: std::collections::VecDeque<u64> = std::collections::VecDeque::new();
    let mut seq = 0u64;
    for step in 0..160u64 {
        // A queue consumed in order, plus larger long-lived messages consumed in random
        // order: segments full of those stay (not worth compacting) while later segments
        // die holding tombstones of their neighbours, which must then wait for them.
        let mut ops = Vec::new();
        seq += 1;
        let fill = u8::try_from(step % 251).unwrap_or(0);
        if next(&mut rng).is_multiple_of(3) {
            let payload = Bytes::from(vec![fill; 600]);
            ops.push(Op::Put {
                key: "slow".into(),
                seq,
                payload,
            });
            slow.push(seq);
        } else {
            let payload = Bytes::from(vec![fill; 120]);
            ops.push(Op::Put {
                key: "fast".into(),
                seq,
                payload,
            });
            fast.push_back(seq);
        }
        if fast.len() > 4 {
            if let Some(old) = fast.pop_front() {
                ops.push(Op::Remove {
                    key: "fast".into(),
                    seq: old,
                });
            }
        }
        if slow.len() > 10 {
            let at = usize::try_from(next(&mut rng) % 10).unwrap_or(0);
            let old = slow.swap_remove(at);
            ops.push(Op::Remove {
                key: "slow".into(),
                seq: old,
            });
        }
        if step % 37 == 0 {
            ops.push(Op::PutMeta {
                key: "sub".into(),
                payload: Bytes::from(step.to_le_bytes().to_vec()),
            });
        }

        let before = model.clone();
        let (start_id, start_len) = writer.active_position();
        model.apply_all(&ops);
        commit_one(&mut writer, ops);
        let files = read_files(dir.path());
        assert_eq!(recover(&files), model, "step {step}: after the commit");
        let (id, len) = writer.active_position();
        let from = if id == start_id { start_len } else { 36 };
        for state in cuts(&files, from, len, &mut rng) {
            let got = recover(&state);
            assert!(
                got == before || got == model,
                "step {step}: a torn commit is all or nothing"
            );
        }

        collect_checked(&mut writer, dir.path(), &model);
        // Compact now and then only, so that dead segments also meet older live ones.
        if step % 16 == 15 {
            writer.plan_compaction();
        }
        while writer.compacting() {
            let (start_id, start_len) = writer.active_position();
            let finished = writer.compact_step().expect("compaction step");
            let files = read_files(dir.path());
            assert_eq!(
                recover(&files),
                model,
                "step {step}: after a compaction chunk"
            );
            let (id, len) = writer.active_position();
            let from = if id == start_id { start_len } else { 36 };
            for state in cuts(&files, from, len, &mut rng) {
                assert_eq!(
                    recover(&state),
                    model,
                    "step {step}: torn compaction copies"
                );
            }
            if finished {
                collect_checked(&mut writer, dir.path(), &model);
            }
        }
    }
    let stats = counters.snapshot();
    // The workload must have exercised both, or this test proves little.
    assert!(stats.segments_compacted > 3, "{stats:?}");
    assert!(stats.segments_deleted > 5, "{stats:?}");
}

#[test]
fn a_dead_segment_waits_for_the_segment_whose_records_it_killed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut writer, _) = unstarted_writer(dir.path());
    let mut model = Model::default();
    let mut commit = |writer: &mut Writer, ops: Vec<Op>| {
        model.apply_all(&ops);
        commit_one(writer, ops);
        model.clone()
    };
    let put = |key: &str, seq: u64| Op::Put {
        key: key.into(),
        seq,
        payload: Bytes::from(vec![1u8; 300]),
    };
    let remove = |key: &str, seq: u64| Op::Remove {
        key: key.into(),
        seq,
    };
    // Segment 1: mostly messages that stay, and two that will be consumed.
    let mut seq = 0;
    while writer.active_position().0 < 2 {
        seq += 1;
        let key = if seq == 3 || seq == 4 { "gone" } else { "keep" };
        commit(&mut writer, vec![put(key, seq)]);
    }
    // Segment 2: the message that did not fit in segment 1 is consumed at once, the two are
    // consumed, then only short-lived traffic until segment 2 is sealed. It is dead, but
    // its tombstones for 3 and 4 are all that keeps them dead in segment 1.
    commit(&mut writer, vec![remove("keep", seq)]);
    commit(&mut writer, vec![remove("gone", 3), remove("gone", 4)]);
    while writer.active_position().0 < 3 {
        seq += 1;
        commit(&mut writer, vec![put("fast", seq)]);
        let model = commit(&mut writer, vec![remove("fast", seq)]);
        // No compaction here: segment 1 stays, and segment 2 must not go before it.
        collect_checked(&mut writer, dir.path(), &model);
    }
    let files = read_files(dir.path());
    assert_eq!(files.len(), 3, "segment 2 is dead but waits for segment 1");
    // Compacting segment 1 frees both.
    writer.plan_compaction();
    assert!(writer.compacting());
    while !writer.compact_step().expect("compaction step") {}
    collect_checked(&mut writer, dir.path(), &model);
    let left = read_files(dir.path());
    assert!(
        left.keys()
            .all(|name| name.as_str() > "journal-0000000000000002.log"),
        "{:?}",
        left.keys()
    );
}
