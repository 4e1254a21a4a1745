//! Group commit: one fsync covers many batches under load, and every batch still lands.

use ferromq_journal::{JournalConfig, LockMode};

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_producers_share_fsyncs() {
    let dir = tempfile::tempdir().unwrap();
    let config = JournalConfig::new(dir.path()).with_lock(LockMode::Wait); // SyncMode::Always
    let (journal, _) = open(&config);
    let tasks = 50u64;
    let per_task = 20u64;
    let mut handles = Vec::new();
    for task in 0..tasks {
        let journal = journal.clone();
        handles.push(tokio::spawn(async move {
            for i in 0..per_task {
                let seq = 1 + task * per_task + i;
                let key = format!("queue://q{}", task % 5);
                commit(&journal, vec![put(&key, seq, &seq.to_le_bytes())]).await;
            }
        }));
    }
    for handle in handles {
        handle.await.unwrap();
    }
    let stats = journal.stats();
    let batches = tasks * per_task;
    assert_eq!(stats.batches_written, batches);
    assert!(
        stats.fsyncs < batches,
        "expected fewer fsyncs than batches: {stats:?}"
    );
    assert!(stats.group_commits < batches, "{stats:?}");
    assert!(stats.batches_per_fsync() > 1.0, "{stats:?}");
    journal.close().await.unwrap();

    let (_journal, recovered) = open(&config);
    let total: u64 = recovered.spaces.values().map(|space| space.messages).sum();
    assert_eq!(total, batches);
    assert_eq!(recovered.next_seq, batches + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_burst_is_covered_by_few_fsyncs() {
    let dir = tempfile::tempdir().unwrap();
    let config = JournalConfig::new(dir.path()).with_lock(LockMode::Wait);
    let (journal, _) = open(&config);
    // Queue everything first: append returns once queued, so the writer finds a backlog.
    let mut durables = Vec::new();
    for seq in 1..=500u64 {
        durables.push(
            journal
                .append(vec![put("q", seq, b"payload")])
                .await
                .unwrap(),
        );
    }
    for durable in durables {
        durable.await.unwrap();
    }
    let stats = journal.stats();
    assert_eq!(stats.batches_written, 500);
    assert!(stats.fsyncs * 2 < 500, "{stats:?}");
    journal.close().await.unwrap();
}

#[tokio::test]
async fn max_batch_bytes_bounds_a_group() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = fast_config(dir.path());
    config.max_batch_bytes = 1; // every group holds exactly one batch
    let (journal, _) = open(&config);
    let mut durables = Vec::new();
    for seq in 1..=20u64 {
        durables.push(journal.append(vec![put("q", seq, b"x")]).await.unwrap());
    }
    for durable in durables {
        durable.await.unwrap();
    }
    assert_eq!(journal.stats().group_commits, 20);
    journal.close().await.unwrap();
}

#[tokio::test]
async fn a_full_queue_applies_backpressure_without_losing_batches() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = fast_config(dir.path());
    config.queue_capacity = 2;
    let (journal, _) = open(&config);
    let mut durables = Vec::new();
    for seq in 1..=200u64 {
        durables.push(journal.append(vec![put("q", seq, b"x")]).await.unwrap());
    }
    for durable in durables {
        durable.await.unwrap();
    }
    journal.close().await.unwrap();
    let (_journal, recovered) = open(&config);
    assert_eq!(recovered.spaces["q"].messages, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lone_producer_never_waits_for_company() {
    let dir = tempfile::tempdir().unwrap();
    let config = JournalConfig::new(dir.path()).with_lock(LockMode::Wait); // SyncMode::Always
    let (journal, _) = open(&config);
    for seq in 1..=200u64 {
        commit(&journal, vec![put("q", seq, b"alone")]).await;
    }
    let stats = journal.stats();
    assert_eq!(stats.group_holds, 0, "{stats:?}");
    assert_eq!(stats.group_commits, 200, "one group per send: {stats:?}");
    journal.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_producers_waiting_for_each_send_share_fsyncs() {
    let dir = tempfile::tempdir().unwrap();
    let config = JournalConfig::new(dir.path()).with_lock(LockMode::Wait); // SyncMode::Always
    let (journal, _) = open(&config);
    let mut handles = Vec::new();
    for producer in 0..8u64 {
        let journal = journal.clone();
        handles.push(tokio::spawn(async move {
            for i in 0..100u64 {
                let seq = 1 + producer * 100 + i;
                commit(&journal, vec![put("q", seq, b"together")]).await;
            }
        }));
    }
    for handle in handles {
        handle.await.unwrap();
    }
    let stats = journal.stats();
    assert_eq!(stats.batches_written, 800);
    // Each producer has one send in flight, so a group holds at most eight.
    assert!(stats.batches_per_fsync() >= 4.0, "{stats:?}");
    journal.close().await.unwrap();
}
