//! Random workloads checked against a reference model across reopens: catches any order of
//! rolls, deletions, carry-forwards and compactions that would lose or resurrect data.

use ferromq_journal::Op;

use crate::common::*;

async fn run_workload(seed: u64, steps: usize) {
    let dir = tempfile::tempdir().unwrap();
    let config = fast_config(dir.path()).with_segment_size(4096);
    let (mut journal, _) = open(&config);
    let mut reclaimed = 0u64;
    let mut rng = Rng::new(seed);
    let mut model = Model::default();
    let mut next_seq = 1u64;
    let keys = ["queue://a", "queue://b", "durable://c:s1", "durable://c:s2"];
    for step in 0..steps {
        let mut batch = Vec::new();
        for _ in 0..=rng.below(3) {
            let key = keys[usize::try_from(rng.below(4)).unwrap()];
            let op = match rng.below(20) {
                0..=8 => {
                    let len = usize::try_from(rng.below(400)).unwrap();
                    next_seq += 1;
                    put(
                        key,
                        next_seq - 1,
                        &vec![u8::try_from(step % 251).unwrap(); len],
                    )
                }
                9..=15 => {
                    // Remove a live message if there is one, else a made-up seq.
                    let live = model.spaces.get(key).and_then(|space| {
                        let index = usize::try_from(rng.below(8)).unwrap();
                        space.keys().nth(index.min(space.len() - 1)).copied()
                    });
                    remove(key, live.unwrap_or(rng.below(next_seq)))
                }
                16 => put_meta(key, &vec![7u8; usize::try_from(rng.below(100)).unwrap()]),
                17 => remove_meta(key),
                _ if rng.below(4) == 0 => drop_space(key),
                _ => put_meta(key, b"def"),
            };
            batch.push(op);
        }
        model.apply_all(&batch);
        commit(&journal, batch).await;

        if rng.below(150) == 0 {
            journal.close().await.unwrap();
            reclaimed += journal.stats().segments_deleted;
            let (reopened, recovered) = open(&config);
            model.assert_stored(&reopened, &recovered).await;
            assert_eq!(recovered.next_seq, next_seq, "seed {seed} step {step}");
            journal = reopened;
        }
    }
    journal.close().await.unwrap();
    let stats = journal.stats();
    reclaimed += stats.segments_deleted;
    let (journal, recovered) = open(&config);
    model.assert_stored(&journal, &recovered).await;
    // The workload keeps little alive, so the journal must have reclaimed space, and disk
    // use stays proportional to live data (compaction's trigger: dead <= live, plus the
    // active segment and the one being compacted).
    assert!(reclaimed > 0, "{stats:?}");
    assert!(
        stats.disk_bytes <= 2 * stats.live_bytes + 4 * 4096,
        "seed {seed}: {stats:?}"
    );
}

#[tokio::test]
async fn random_workloads_match_the_model() {
    for seed in 1..=6 {
        run_workload(seed, 1500).await;
    }
}

#[test]
fn model_follows_write_order() {
    // A Remove only affects what came before it: a later Put of the same seq is live.
    let mut model = Model::default();
    let ops: Vec<Op> = vec![put("q", 1, b"a"), remove("q", 1), put("q", 1, b"b")];
    model.apply_all(&ops);
    assert_eq!(model.spaces["q"][&1], bytes::Bytes::from_static(b"b"));
}
