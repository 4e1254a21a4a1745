//! Every op survives a close and reopen; batches are atomic; close behaves.

use std::fs::OpenOptions;

use ferromq_journal::{JournalConfig, JournalError, LockMode, SyncMode};

use crate::common::*;

#[tokio::test]
async fn every_op_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let config = fast_config(dir.path());
    let (journal, recovered) = open(&config);
    assert!(recovered.spaces.is_empty() && recovered.meta.is_empty());
    assert_eq!(recovered.next_seq, 1);

    let batches = vec![
        vec![
            put("queue://orders", 1, b"a"),
            put("queue://orders", 2, b"b"),
        ],
        vec![put("queue://orders", 3, b"c"), remove("queue://orders", 2)],
        vec![
            put_meta("durable://c1:s1", b"def-1"),
            put_meta("durable://c1:s2", b"def-2"),
        ],
        vec![
            put("durable://c1:s2", 4, b"d"),
            put("durable://c1:s2", 5, b"e"),
        ],
        vec![
            remove_meta("durable://c1:s2"),
            drop_space("durable://c1:s2"),
        ],
        vec![put("durable://c1:s2", 6, b"after drop")],
        vec![put_meta("durable://c1:s1", b"def-1 v2")],
    ];
    let mut model = Model::default();
    for batch in batches {
        model.apply_all(&batch);
        commit(&journal, batch).await;
    }
    journal.close().await.unwrap();

    let (journal, recovered) = open(&config);
    model.assert_stored(&journal, &recovered).await;
    assert_eq!(recovered.next_seq, 7);
    assert_eq!(recovered.stats.records, 7);
    assert_eq!(recovered.stats.corrupt_records_skipped, 0);

    // The reopened journal keeps appending after the recovered records.
    let more = vec![put("queue://orders", 7, b"f"), remove("queue://orders", 1)];
    model.apply_all(&more);
    commit(&journal, more).await;
    journal.close().await.unwrap();
    let (journal, recovered) = open(&config);
    model.assert_stored(&journal, &recovered).await;
    assert_eq!(recovered.next_seq, 8);
}

#[tokio::test]
async fn meta_and_space_of_the_same_key_are_independent() {
    let dir = tempfile::tempdir().unwrap();
    let config = fast_config(dir.path());
    let (journal, _) = open(&config);
    commit(
        &journal,
        vec![
            put_meta("durable://c:s", b"def"),
            put("durable://c:s", 1, b"m"),
        ],
    )
    .await;
    commit(&journal, vec![remove_meta("durable://c:s")]).await;
    journal.close().await.unwrap();
    let (journal, recovered) = open(&config);
    assert!(recovered.meta.is_empty());
    assert_eq!(recovered.spaces["durable://c:s"].messages, 1);
    commit(
        &journal,
        vec![
            put_meta("durable://c:s", b"def"),
            drop_space("durable://c:s"),
        ],
    )
    .await;
    journal.close().await.unwrap();
    let (_journal, recovered) = open(&config);
    assert_eq!(recovered.meta.len(), 1);
    assert!(recovered.spaces.is_empty());
}

#[tokio::test]
async fn a_torn_batch_applies_none_of_its_ops() {
    let dir = tempfile::tempdir().unwrap();
    let config = fast_config(dir.path());
    let (journal, _) = open(&config);
    let first = vec![put("q", 1, b"one"), put_meta("m", b"old")];
    commit(&journal, first.clone()).await;
    let before = file_len(&last_segment(dir.path()));
    let second = vec![
        remove("q", 1),
        put("q", 2, b"two"),
        put("other", 3, b"three"),
        put_meta("m", b"new"),
        drop_space("gone"),
    ];
    commit(&journal, second).await;
    // Measured before close, which appends the close marker after the second record.
    let path = last_segment(dir.path());
    let after = file_len(&path);
    journal.close().await.unwrap();
    assert_eq!(file_len(&path), after + CLOSE_MARKER_LEN);

    // Cut the second record short by one byte: as if the crash hit mid-write.
    OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(after - 1)
        .unwrap();

    let (journal, recovered) = open(&config);
    let mut model = Model::default();
    model.apply_all(&first);
    model.assert_stored(&journal, &recovered).await;
    assert_eq!(recovered.stats.bytes_truncated, after - 1 - before);
    assert_eq!(file_len(&path), before, "torn tail is cut off the file");
}

#[tokio::test]
async fn close_is_idempotent_and_refuses_later_appends() {
    let dir = tempfile::tempdir().unwrap();
    let (journal, _) = open(&JournalConfig::new(dir.path()).with_lock(LockMode::Wait));
    let other = journal.clone();
    commit(&journal, vec![put("q", 1, b"x")]).await;
    // An empty batch is durable at once and writes nothing.
    journal.append(Vec::new()).await.unwrap().await.unwrap();
    assert_eq!(journal.stats().batches_written, 1);

    journal.close().await.unwrap();
    journal.close().await.unwrap();
    other.close().await.unwrap();
    assert!(matches!(
        other.append(vec![put("q", 2, b"y")]).await,
        Err(JournalError::Closed)
    ));
    // The lock is free again once close returns.
    let (_journal, recovered) = open(&fast_config(dir.path()));
    assert_eq!(recovered.spaces["q"].messages, 1);
}

#[tokio::test]
async fn dropping_every_handle_flushes_and_unlocks() {
    let dir = tempfile::tempdir().unwrap();
    let config = fast_config(dir.path());
    let (journal, _) = open(&config);
    let durable = journal.append(vec![put("q", 1, b"x")]).await.unwrap();
    drop(journal);
    durable.await.unwrap();
    // The writer drains and exits on its own; a waiting open proves the lock is released.
    let (journal, recovered) = tokio::task::spawn_blocking(move || open(&config))
        .await
        .unwrap();
    assert_eq!(recovered.spaces["q"].messages, 1);
    assert_eq!(
        read_all(&journal, "q").await,
        vec![(1, bytes::Bytes::from_static(b"x"))]
    );
}

#[tokio::test]
async fn next_seq_never_goes_back_even_when_everything_is_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let config = fast_config(dir.path()).with_segment_size(4096);
    let (journal, _) = open(&config);
    let payload = vec![7u8; 1000];
    for seq in 100..120 {
        commit(&journal, vec![put("q", seq, &payload)]).await;
    }
    for seq in 100..120 {
        commit(&journal, vec![remove("q", seq)]).await;
    }
    // Roll on with records that carry no seq, so every segment that named a seq is
    // deleted; only the newest segment's header remembers the highest seq.
    for _ in 0..10 {
        commit(&journal, vec![put_meta("m", &payload)]).await;
    }
    journal.close().await.unwrap();
    let stats = journal.stats();
    assert!(stats.segments_deleted > 0, "{stats:?}");
    let (_journal, recovered) = open(&config);
    assert!(recovered.spaces.is_empty());
    assert_eq!(recovered.meta.len(), 1);
    assert_eq!(recovered.next_seq, 120);
}

#[test]
fn sync_mode_always_is_the_default() {
    assert_eq!(JournalConfig::new("/x").sync, SyncMode::Always);
}

#[test]
fn handles_and_futures_can_cross_tasks() {
    fn assert_send_sync<T: Send + Sync>(_: &T) {}
    fn assert_send<T: Send>(_: &T) {}
    let dir = tempfile::tempdir().unwrap();
    let (journal, recovered) = open(&fast_config(dir.path()));
    assert_send_sync(&journal);
    assert_send_sync(&recovered);
    let append = journal.append(Vec::new());
    assert_send(&append);
    let close = journal.close();
    assert_send(&close);
}
