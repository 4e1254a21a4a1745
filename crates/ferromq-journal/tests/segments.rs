//! Segment rolls, deletion of dead segments, meta carry-forward and compaction at open.

use ferromq_journal::JournalConfig;

use crate::common::*;

const SEGMENT: u64 = 4096;

fn small_segments(dir: &std::path::Path) -> JournalConfig {
    fast_config(dir).with_segment_size(SEGMENT)
}

#[tokio::test]
async fn dead_segments_are_deleted_and_disk_usage_shrinks() {
    let dir = tempfile::tempdir().unwrap();
    let config = small_segments(dir.path());
    let (journal, _) = open(&config);
    let payload = vec![1u8; 500];
    for seq in 1..=200 {
        commit(&journal, vec![put("queue://orders", seq, &payload)]).await;
    }
    let full = journal.stats();
    assert!(full.live_bytes > 0, "{full:?}");
    assert_eq!(journal.live_bytes(), full.live_bytes);
    assert!(full.segments > 10, "{full:?}");
    assert_eq!(
        u64::try_from(segment_files(dir.path()).len()).unwrap(),
        full.segments
    );
    assert!(full.disk_bytes > 100_000, "{full:?}");

    for chunk in (1..=200u64).collect::<Vec<_>>().chunks(10) {
        let ops = chunk
            .iter()
            .map(|&seq| remove("queue://orders", seq))
            .collect();
        commit(&journal, ops).await;
    }
    assert_eq!(journal.stats().live_bytes, 0);
    assert_eq!(journal.live_bytes(), 0);
    // Dead segments are deleted right after the group commit that killed them is
    // acknowledged; close waits for that work, and the counters stay readable.
    journal.close().await.unwrap();
    let empty = journal.stats();
    assert!(empty.segments <= 2, "{empty:?}");
    assert!(empty.disk_bytes < 2 * SEGMENT, "{empty:?}");
    assert_eq!(
        u64::try_from(segment_files(dir.path()).len()).unwrap(),
        empty.segments
    );

    let (_journal, recovered) = open(&config);
    assert!(recovered.spaces.is_empty());
    assert_eq!(recovered.next_seq, 201);
}

#[tokio::test]
async fn drop_space_frees_segments_too() {
    let dir = tempfile::tempdir().unwrap();
    let config = small_segments(dir.path());
    let (journal, _) = open(&config);
    for seq in 1..=100 {
        commit(&journal, vec![put("durable://c:s", seq, &[2u8; 400])]).await;
    }
    commit(
        &journal,
        vec![drop_space("durable://c:s"), remove_meta("durable://c:s")],
    )
    .await;
    journal.close().await.unwrap();
    let stats = journal.stats();
    assert!(stats.segments <= 2, "{stats:?}");
    let (_journal, recovered) = open(&config);
    assert!(recovered.spaces.is_empty());
}

#[tokio::test]
async fn long_lived_metas_do_not_pin_old_segments() {
    let dir = tempfile::tempdir().unwrap();
    let config = small_segments(dir.path());
    let (journal, _) = open(&config);
    commit(
        &journal,
        vec![put_meta("durable://c:s1", b"first definition")],
    )
    .await;
    commit(
        &journal,
        vec![put_meta("durable://c:s2", b"second definition")],
    )
    .await;
    for seq in 1..=200 {
        // Each message is consumed right after it is stored, as on a healthy queue.
        commit(&journal, vec![put("queue://q", seq, &[3u8; 300])]).await;
        commit(&journal, vec![remove("queue://q", seq)]).await;
    }
    journal.close().await.unwrap();
    let stats = journal.stats();
    assert!(stats.segments <= 3, "metas pinned old segments: {stats:?}");
    assert!(stats.segments_deleted > 10, "{stats:?}");

    let (_journal, recovered) = open(&config);
    assert_eq!(recovered.meta.len(), 2);
    assert_eq!(&recovered.meta["durable://c:s1"][..], b"first definition");
    assert!(recovered.spaces.is_empty());
}

#[tokio::test]
async fn a_live_message_does_not_pin_later_segments() {
    let dir = tempfile::tempdir().unwrap();
    let config = small_segments(dir.path());
    let (journal, _) = open(&config);
    commit(&journal, vec![put("queue://slow", 1, b"still waiting")]).await;
    for seq in 2..=200 {
        commit(&journal, vec![put("queue://fast", seq, &[4u8; 300])]).await;
        commit(&journal, vec![remove("queue://fast", seq)]).await;
    }
    journal.close().await.unwrap();
    let stats = journal.stats();
    // The segments the slow message sat in were compacted while running (it was copied
    // forward), and the others deleted as soon as they were dead.
    assert!(stats.segments <= 3, "{stats:?}");
    assert!(stats.segments_compacted > 0, "{stats:?}");
    assert!(stats.segments_deleted > 10, "{stats:?}");
    assert!(stats.disk_bytes < 3 * SEGMENT, "{stats:?}");

    let (journal, recovered) = open(&config);
    assert!(
        !recovered.stats.compacted,
        "nothing left for open to compact"
    );
    assert_eq!(
        read_all(&journal, "queue://slow").await,
        vec![(1, bytes::Bytes::from_static(b"still waiting"))]
    );
    assert_eq!(recovered.spaces.len(), 1);
    assert_eq!(recovered.next_seq, 201);
    journal.close().await.unwrap();
}

#[tokio::test]
async fn open_compacts_a_mostly_dead_store() {
    // Compaction while running is not guaranteed to have finished (close abandons it), so
    // open still compacts when dead bytes dominate. Build such a store by hand: many
    // segments whose dead records are killed by a later segment, which waits for them all.
    let dir = tempfile::tempdir().unwrap();
    let config = small_segments(dir.path());
    let (journal, _) = open(&config);
    for seq in 1..=60 {
        commit(&journal, vec![put("queue://q", seq, &[5u8; 300])]).await;
    }
    journal.close().await.unwrap();
    // Remove all but one with compaction out of the picture: with enormous segments it is
    // never due while running (it waits for half a segment of dead bytes), so the segment
    // holding the survivor stays, mostly dead, for open to deal with.
    let big = config.clone().with_segment_size(1 << 20);
    let (journal, _) = open(&big);
    let ops = (2..=60).map(|seq| remove("queue://q", seq)).collect();
    commit(&journal, ops).await;
    journal.close().await.unwrap();
    let (journal, recovered) = open(&config);
    assert!(recovered.stats.compacted, "{:?}", recovered.stats);
    assert_eq!(recovered.spaces["queue://q"].messages, 1);
    journal.close().await.unwrap();
    assert!(journal.stats().segments <= 2, "{:?}", journal.stats());
}

#[tokio::test]
async fn an_oversized_batch_gets_a_segment_of_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let config = small_segments(dir.path());
    let (journal, _) = open(&config);
    commit(&journal, vec![put("q", 1, b"small")]).await;
    let big = vec![9u8; 3 * SEGMENT as usize];
    commit(&journal, vec![put("q", 2, &big)]).await;
    commit(&journal, vec![put("q", 3, b"small again")]).await;
    journal.close().await.unwrap();
    let (journal, recovered) = open(&config);
    assert_eq!(recovered.spaces["q"].messages, 3);
    let space = read_all(&journal, "q").await;
    assert_eq!(space.len(), 3);
    assert_eq!(space[1].1, big);
}

#[tokio::test]
async fn reads_page_through_a_space_across_segments_in_seq_order() {
    let dir = tempfile::tempdir().unwrap();
    let config = small_segments(dir.path());
    let (journal, _) = open(&config);
    // Interleave two spaces and some removals, across many small segments.
    for seq in 1..=300u64 {
        let key = if seq % 3 == 0 { "other" } else { "q" };
        let payload = format!("message {seq}");
        let mut ops = vec![put(key, seq, payload.as_bytes())];
        if seq % 10 == 0 {
            ops.push(remove("q", seq - 1));
        }
        // Not awaited: a read must see batches queued before it, durable or not.
        let _pending = journal.append(ops).await.unwrap();
    }
    let expected: Vec<u64> = (1..=300)
        .filter(|seq| seq % 3 != 0 && (seq + 1) % 10 != 0)
        .collect();
    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let page = journal.read("q", after, 7, usize::MAX).await.unwrap();
        assert!(page.len() <= 7);
        let Some(&(last, _)) = page.last() else { break };
        for (seq, payload) in &page {
            assert_eq!(payload, format!("message {seq}").as_bytes());
        }
        seen.extend(page.iter().map(|(seq, _)| *seq));
        after = last;
    }
    assert_eq!(seen, expected);
    // A byte limit still returns one message, however large.
    assert_eq!(journal.read("q", 0, 100, 1).await.unwrap().len(), 1);
    assert!(journal.read("none", 0, 100, 1000).await.unwrap().is_empty());
    journal.close().await.unwrap();
    assert!(matches!(
        journal.read("q", 0, 1, 1).await,
        Err(ferromq_journal::JournalError::Closed)
    ));

    // After a restart the same pages come back, and open shows every Put it replays.
    let mut visited = Vec::new();
    let (journal, recovered) =
        ferromq_journal::Journal::open_visiting(config, &mut |key, seq, _| {
            if key == "q" {
                visited.push(seq);
            }
        })
        .unwrap();
    assert_eq!(recovered.spaces["q"].messages, expected.len() as u64);
    let all: Vec<u64> = read_all(&journal, "q")
        .await
        .iter()
        .map(|(seq, _)| *seq)
        .collect();
    assert_eq!(all, expected);
    // Removed messages whose segments are still on disk are shown too.
    assert!(visited.len() >= expected.len());
    assert!(expected.iter().all(|seq| visited.contains(seq)));
    journal.close().await.unwrap();
}
