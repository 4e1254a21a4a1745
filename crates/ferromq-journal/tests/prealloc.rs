//! Preallocated segments as the writer makes them: it moves into zero-filled spares, seals
//! segments at their last record, keeps the zeros of the active segment across a restart,
//! and a crash copy of a preallocated journal recovers every record with nothing cut.
//! Damage inside preallocated space is in `corruption.rs`.

use std::path::Path;
use std::time::{Duration, Instant};

use ferromq_journal::{Journal, JournalConfig};

use crate::common::*;

const SEGMENT: u64 = 64 * 1024;
const SPARE: &str = "spare.segment";

fn config(dir: &Path) -> JournalConfig {
    fast_config(dir)
        .with_segment_size(SEGMENT)
        .with_preallocate(true)
}

/// A record of one Put of non-zero bytes: its segment's records end in a non-zero byte.
async fn put_one(journal: &Journal, model: &mut Model, seq: u64) {
    let batch = vec![put("q", seq, &[7u8; 500])];
    model.apply_all(&batch);
    commit(journal, batch).await;
}

fn ends_in_zeros(path: &Path) -> bool {
    std::fs::read(path).unwrap().last() == Some(&0)
}

#[tokio::test]
async fn the_writer_moves_into_spares_and_seals_segments_at_their_records() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let (journal, _) = open(&config);
    let mut model = Model::default();
    let mut seq = 0;
    // Until the newest segment came from a spare, after at least two rolls. The spare is
    // written by another thread, so this waits a little between records; bounded in time.
    let started = Instant::now();
    loop {
        seq += 1;
        put_one(&journal, &mut model, seq).await;
        let segments = segment_files(dir.path());
        let newest = segments.last().unwrap();
        if segments.len() >= 3 && file_len(newest) == SEGMENT {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no preallocated segment after {seq} records"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let segments = segment_files(dir.path());
    let (newest, sealed) = segments.split_last().unwrap();
    assert!(
        ends_in_zeros(newest),
        "the active segment ends in its spare's zeros"
    );
    for path in sealed {
        assert!(
            !ends_in_zeros(path),
            "{} was sealed at its last record",
            path.display()
        );
        assert!(file_len(path) <= SEGMENT);
    }

    // A clean restart keeps the zeros and goes on writing into them.
    journal.close().await.unwrap();
    assert!(!dir.path().join(SPARE).exists(), "close removes the spare");
    let (journal, recovered) = open(&config);
    model.assert_stored(&journal, &recovered).await;
    assert!(recovered.clean_shutdown);
    assert_eq!(recovered.stats.bytes_truncated, 0);
    assert_eq!(recovered.stats.corrupt_records_skipped, 0);
    assert_eq!(file_len(newest), SEGMENT, "still preallocated");
    for _ in 0..20 {
        seq += 1;
        put_one(&journal, &mut model, seq).await;
    }
    assert_eq!(file_len(newest), SEGMENT, "records went into the zeros");

    // What a crash leaves (no close, maybe a half-written spare): every record, nothing cut.
    let crashed = tempfile::tempdir().unwrap();
    copy_dir(dir.path(), crashed.path());
    journal.close().await.unwrap();
    let mut copy_config = config.clone();
    copy_config.dir = crashed.path().to_path_buf();
    let (copy, recovered) = open(&copy_config);
    model.assert_stored(&copy, &recovered).await;
    assert!(!recovered.clean_shutdown);
    assert_eq!(recovered.stats.bytes_truncated, 0);
    assert_eq!(recovered.stats.corrupt_records_skipped, 0);
    copy.close().await.unwrap();
}

#[tokio::test]
async fn without_preallocation_segments_grow_and_no_spare_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path()).with_preallocate(false);
    let (journal, _) = open(&config);
    let mut model = Model::default();
    for seq in 1..=300 {
        put_one(&journal, &mut model, seq).await;
        assert!(!dir.path().join(SPARE).exists());
    }
    for path in segment_files(dir.path()) {
        assert!(!ends_in_zeros(&path));
    }
    journal.close().await.unwrap();
    let (journal, recovered) = open(&config);
    model.assert_stored(&journal, &recovered).await;
    journal.close().await.unwrap();
}
