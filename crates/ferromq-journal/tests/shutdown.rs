//! The clean-shutdown marker and the fsync latency histogram.

use ferromq_journal::{JournalConfig, LatencyHistogram, LockMode};

use crate::common::*;

const CHILD_DIR_VAR: &str = "FERROMQ_JOURNAL_TEST_SHUTDOWN_CHILD_DIR";
const CHILD_READY: &str = "ferromq-journal-test: child appended";

#[tokio::test]
async fn only_close_marks_a_clean_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let config = fast_config(dir.path());
    let (journal, recovered) = open(&config);
    assert!(!recovered.clean_shutdown, "a new store was never closed");
    commit(&journal, vec![put("q", 1, b"x")]).await;
    journal.close().await.unwrap();
    let closed_len = file_len(&last_segment(dir.path()));

    let (journal, recovered) = open(&config);
    assert!(recovered.clean_shutdown);
    assert_eq!(recovered.spaces["q"].messages, 1);
    assert_eq!(recovered.stats.corrupt_records_skipped, 0);
    // Open put a record after the marker before returning, so a crash now is not a clean
    // shutdown.
    assert_eq!(
        file_len(&last_segment(dir.path())),
        closed_len + OPEN_RECORD_LEN
    );
    drop(journal); // every handle gone without close: flushed and unlocked, but no marker

    let (journal, recovered) = tokio::task::spawn_blocking({
        let config = config.clone();
        move || open(&config)
    })
    .await
    .unwrap();
    assert!(!recovered.clean_shutdown, "drop without close is not clean");
    assert_eq!(recovered.spaces["q"].messages, 1);
    // Closing with nothing appended since open is clean again; each restart costs the
    // marker and the record after it.
    journal.close().await.unwrap();
    let mut len = file_len(&last_segment(dir.path()));
    for _ in 0..3 {
        let (journal, recovered) = open(&config);
        assert!(recovered.clean_shutdown);
        assert_eq!(recovered.stats.corrupt_records_skipped, 0);
        journal.close().await.unwrap();
        let now = file_len(&last_segment(dir.path()));
        assert_eq!(now, len + OPEN_RECORD_LEN + CLOSE_MARKER_LEN);
        len = now;
    }
}

#[tokio::test]
async fn a_damaged_record_before_the_marker_stays_skipped_not_cut() {
    // Found by the journal_recovery fuzz target: a record damaged at rest just before the
    // close marker is skipped because a valid record (the marker) follows it; whatever
    // open does about the marker must keep it that way, so the next open finds nothing
    // new to repair.
    let dir = tempfile::tempdir().unwrap();
    let config = fast_config(dir.path());
    let (journal, _) = open(&config);
    commit(&journal, vec![put("q", 1, b"kept")]).await;
    let start = file_len(&last_segment(dir.path()));
    commit(&journal, vec![put("q", 2, b"damaged")]).await;
    journal.close().await.unwrap();
    let path = last_segment(dir.path());
    let mut bytes = std::fs::read(&path).unwrap();
    let crc = usize::try_from(start).unwrap() + 4;
    bytes[crc] ^= 0xFF;
    std::fs::write(&path, bytes).unwrap();

    let (journal, first) = open(&config);
    assert!(first.clean_shutdown);
    assert_eq!(first.stats.corrupt_records_skipped, 1);
    assert_eq!(first.spaces["q"].messages, 1);
    drop(journal);
    let (_journal, again) = tokio::task::spawn_blocking(move || open(&config))
        .await
        .unwrap();
    assert!(!again.clean_shutdown);
    assert_eq!(again.stats.bytes_truncated, 0);
    assert_eq!(again.stats.corrupt_records_skipped, 1);
    assert_eq!(again.spaces, first.spaces);
}

#[tokio::test]
async fn the_marker_counts_only_at_the_very_end() {
    let dir = tempfile::tempdir().unwrap();
    let config = fast_config(dir.path());
    let (journal, _) = open(&config);
    commit(&journal, vec![put("q", 1, b"x")]).await;
    journal.close().await.unwrap();
    // Bytes after the marker (a later writer's torn record, or damage) mean it is not the
    // end of the log: not clean, and the marker itself is harmless in the middle.
    let path = last_segment(dir.path());
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(&[0x20, 0, 0, 0, 1, 2]);
    std::fs::write(&path, bytes).unwrap();
    let (journal, recovered) = open(&config);
    assert!(!recovered.clean_shutdown);
    assert_eq!(recovered.stats.bytes_truncated, 6);
    assert_eq!(recovered.stats.corrupt_records_skipped, 0);
    assert_eq!(recovered.spaces["q"].messages, 1);
    // Cutting the tail left the marker last again: open must still have followed it, so a
    // crash now (a drop without close) is not clean either.
    drop(journal);
    let (journal, recovered) = tokio::task::spawn_blocking(move || open(&config))
        .await
        .unwrap();
    assert!(!recovered.clean_shutdown);
    assert_eq!(recovered.stats.bytes_truncated, 0);
    journal.close().await.unwrap();
}

#[tokio::test]
async fn a_close_that_rolls_puts_the_marker_in_a_new_segment() {
    let dir = tempfile::tempdir().unwrap();
    let config = fast_config(dir.path()).with_segment_size(4096);
    let (journal, _) = open(&config);
    // Fill the segment to its last byte, so the marker does not fit.
    let room = 4096 - 36 - 9 - 4 - (5 + 1 + 8 + 4);
    commit(&journal, vec![put("q", 1, &vec![1u8; room])]).await;
    assert_eq!(file_len(&last_segment(dir.path())), 4096);
    journal.close().await.unwrap();
    assert_eq!(segment_files(dir.path()).len(), 2);
    let (journal, recovered) = open(&config);
    assert!(recovered.clean_shutdown);
    assert_eq!(read_all(&journal, "q").await[0].1.len(), room);
    journal.close().await.unwrap();
}

/// Runs only as the child of `sigkill_is_not_a_clean_shutdown` (ignored otherwise): closes a
/// journal cleanly once, reopens it, appends, says so, and waits to be killed.
#[test]
#[ignore = "helper process for sigkill_is_not_a_clean_shutdown"]
fn child_appends_after_a_clean_close() {
    let Some(dir) = std::env::var_os(CHILD_DIR_VAR) else {
        return;
    };
    let config = JournalConfig::new(std::path::Path::new(&dir)).with_lock(LockMode::Wait);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (journal, _) = open(&config);
        commit(&journal, vec![put("q", 1, b"before")]).await;
        journal.close().await.unwrap();
        let (journal, recovered) = open(&config);
        assert!(recovered.clean_shutdown);
        commit(&journal, vec![put("q", 2, b"after")]).await;
        println!("{CHILD_READY}");
        // Bounded, so a parent that dies first does not leave this process behind for long.
        std::thread::sleep(std::time::Duration::from_secs(60));
        drop(journal);
    });
}

#[test]
fn sigkill_is_not_a_clean_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn_helper(
        "shutdown::child_appends_after_a_clean_close",
        &[(CHILD_DIR_VAR, dir.path().as_os_str())],
    );
    assert!(
        helper_printed(&mut child, CHILD_READY),
        "child never appended"
    );
    child.kill().unwrap(); // SIGKILL: no destructor, no close
    child.wait().unwrap();
    let (_journal, recovered) = open(&fast_config(dir.path()));
    assert!(!recovered.clean_shutdown);
    assert_eq!(
        recovered.spaces["q"].messages, 2,
        "receipted batches survive"
    );
}

#[tokio::test]
async fn every_fsync_is_in_the_latency_histogram() {
    let dir = tempfile::tempdir().unwrap();
    let config = JournalConfig::new(dir.path()).with_lock(LockMode::Wait); // SyncMode::Always
    let (journal, _) = open(&config);
    assert_eq!(journal.stats().fsync_latency.count(), 0);
    for seq in 1..=20 {
        commit(&journal, vec![put("q", seq, b"payload")]).await;
    }
    let stats = journal.stats();
    let histogram = stats.fsync_latency;
    assert!(stats.fsyncs >= 20, "{stats:?}");
    assert_eq!(histogram.count(), stats.fsyncs);
    let cumulative = histogram.cumulative();
    assert_eq!(cumulative.len(), LatencyHistogram::BOUNDS_SECONDS.len() + 1);
    assert_eq!(
        cumulative[cumulative.len() - 1],
        (f64::INFINITY, stats.fsyncs)
    );
    assert!(cumulative
        .windows(2)
        .all(|w| w[0].1 <= w[1].1 && w[0].0 < w[1].0));
    // An fsync takes some time, and 20 of them far less than a minute.
    assert!(histogram.sum_seconds() > 0.0 && histogram.sum_seconds() < 60.0);
    journal.close().await.unwrap();
    // Close syncs once more.
    assert_eq!(journal.stats().fsync_latency.count(), stats.fsyncs + 1);
}
