//! A child process writing a reclaim-heavy workload is killed with SIGKILL at random
//! moments (often in the middle of deleting or compacting segments): the journal must
//! recover exactly the batches it acknowledged, plus at most the one in flight.

use std::io::{BufRead, BufReader};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use ferromq_journal::{JournalConfig, LockMode};

use crate::common::*;

const CHILD_DIR_VAR: &str = "FERROMQ_JOURNAL_TEST_CRASH_CHILD_DIR";
const CHILD_SEED_VAR: &str = "FERROMQ_JOURNAL_TEST_CRASH_CHILD_SEED";
const SEGMENT: u64 = 4096;

/// Runs only as the child of `sigkill_during_reclaim_keeps_every_acknowledged_batch`:
/// writes the seed's workload one durable batch at a time and reports each acknowledgement
/// (and how many segments were compacted so far) on stdout until it is killed.
#[test]
#[ignore = "helper process for sigkill_during_reclaim_keeps_every_acknowledged_batch"]
fn child_writes_workload() {
    let (Some(dir), Some(seed)) = (
        std::env::var_os(CHILD_DIR_VAR),
        std::env::var(CHILD_SEED_VAR).ok(),
    ) else {
        return;
    };
    let seed: u64 = seed.parse().unwrap();
    // SyncMode::Always, as the broker runs: an acknowledged batch is on disk.
    let config = JournalConfig::new(std::path::Path::new(&dir))
        .with_lock(LockMode::Wait)
        .with_segment_size(SEGMENT);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (journal, _) = open(&config);
        let mut workload = Workload::new(seed);
        let started = Instant::now();
        let mut acked = 0u64;
        // Bounded, so a parent that dies first does not leave this process behind for long.
        while started.elapsed() < Duration::from_secs(60) {
            commit(&journal, workload.next_batch()).await;
            acked += 1;
            let stats = journal.stats();
            println!(
                "acked {acked} compacted {} deleted {}",
                stats.segments_compacted, stats.segments_deleted
            );
        }
    });
}

/// What the child reported last before it died.
#[derive(Debug, Default, Clone, Copy)]
struct Report {
    acked: u64,
    compacted: u64,
    deleted: u64,
}

fn parse(line: &str) -> Option<Report> {
    let mut words = line.split_whitespace();
    let mut field = |name: &str| {
        (words.next() == Some(name))
            .then(|| words.next())
            .flatten()
            .and_then(|n| n.parse().ok())
    };
    Some(Report {
        acked: field("acked")?,
        compacted: field("compacted")?,
        deleted: field("deleted")?,
    })
}

/// Runs the child on `dir` and kills it `after` its first acknowledgement.
fn run_and_kill(dir: &std::path::Path, seed: u64, after: Duration) -> Report {
    let seed = seed.to_string();
    let mut child = spawn_helper(
        "crash::child_writes_workload",
        &[
            (CHILD_DIR_VAR, dir.as_os_str()),
            (CHILD_SEED_VAR, std::ffi::OsStr::new(&seed)),
        ],
    );
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(report) = parse(&line) {
                if tx.send(report).is_err() {
                    break;
                }
            }
        }
    });
    let first = rx.recv_timeout(Duration::from_secs(30));
    assert!(first.is_ok(), "child never acknowledged a batch");
    std::thread::sleep(after);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    reader.join().unwrap();
    // Lines written before the kill are still in the pipe: the last one is the truth.
    rx.try_iter().last().or(first.ok()).unwrap_or_default()
}

#[test]
fn sigkill_during_reclaim_keeps_every_acknowledged_batch() {
    let soak = std::env::var_os("FERROMQ_SOAK").is_some();
    let rounds = if soak { 60 } else { 8 };
    let mut rng = Rng::new(0xC0FFEE);
    let (mut compactions, mut deletions, mut batches) = (0, 0, 0);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for round in 0..rounds {
        let dir = tempfile::tempdir().unwrap();
        let seed = 1000 + round;
        let after = Duration::from_millis(100 + rng.below(700));
        let report = run_and_kill(dir.path(), seed, after);
        compactions += report.compacted;
        deletions += report.deleted;
        batches += report.acked;

        let (journal, recovered) = open(&fast_config(dir.path()).with_segment_size(SEGMENT));
        assert!(!recovered.clean_shutdown);
        let mut workload = Workload::new(seed);
        let mut model = Model::default();
        for _ in 0..report.acked {
            model.apply_all(&workload.next_batch());
        }
        let stored = runtime.block_on(Model::from_journal(&journal, &recovered));
        if model != stored {
            // The batch in flight at the kill may have reached the disk too.
            model.apply_all(&workload.next_batch());
            assert_eq!(
                model, stored,
                "round {round}: state after {} acknowledged batches ({report:?})",
                report.acked
            );
        }
        drop(journal);
    }
    eprintln!(
        "{rounds} kills after {batches} batches, {deletions} deletions, {compactions} compactions"
    );
    // The workload must have exercised reclaiming, or this test proves little.
    assert!(
        compactions > 0 && deletions > 0,
        "{compactions} compactions, {deletions} deletions"
    );
}
