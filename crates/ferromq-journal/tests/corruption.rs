//! Crash and damage recovery: torn tails at every offset, flipped bits, damaged lengths and
//! headers, and arbitrary bytes, none of which may panic or lose an intact record.

use std::fs;
use std::path::PathBuf;

use ferromq_journal::{Journal, JournalConfig, JournalError, Op};
use proptest::prelude::*;

use crate::common::*;

/// Size of a segment header, from the documented format.
const HEADER_LEN: u64 = 36;

/// Writes `batches` one record each and returns, per record, its segment and end offset.
async fn write_records(config: &JournalConfig, batches: &[Vec<Op>]) -> Vec<(PathBuf, u64)> {
    let (journal, _) = open(config);
    let mut ends = Vec::new();
    for batch in batches {
        commit(&journal, batch.clone()).await;
        // The write happens before the batch is acknowledged, so the file already has it.
        let path = last_segment(&config.dir);
        let len = file_len(&path);
        ends.push((path, len));
    }
    journal.close().await.unwrap();
    ends
}

fn sample_batches(count: u64) -> Vec<Vec<Op>> {
    (1..=count)
        .map(|seq| match seq % 4 {
            0 => vec![put("q", seq, &[5u8; 40]), remove("q", seq - 1)],
            1 => vec![put("q", seq, b"short")],
            2 => vec![
                put("q", seq, &[6u8; 90]),
                put_meta(&format!("m{seq}"), b"meta"),
            ],
            _ => vec![put("r", seq, b""), drop_space("nothing")],
        })
        .collect()
}

fn expected(batches: &[Vec<Op>]) -> Model {
    let mut model = Model::default();
    for batch in batches {
        model.apply_all(batch);
    }
    model
}

/// 60 sample batches written into 4 KiB segments (so earlier records sit in sealed segments
/// and the last one is short), and where the records of the last segment lie.
struct Written {
    dir: tempfile::TempDir,
    batches: Vec<Vec<Op>>,
    ends: Vec<(PathBuf, u64)>,
    last_path: PathBuf,
    last_len: u64,
    /// The first of the last six records, all in the last segment.
    first: usize,
}

impl Written {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = fast_config(dir.path()).with_segment_size(4096);
        let batches = sample_batches(60);
        let ends = write_records(&config, &batches).await;
        let (last_path, last_len) = ends.last().cloned().unwrap();
        let in_last: Vec<usize> = (0..ends.len())
            .filter(|&i| ends[i].0 == last_path)
            .collect();
        assert!(
            in_last.len() >= 6,
            "test needs several records in the last segment"
        );
        let first = in_last[in_last.len() - 6];
        Written {
            dir,
            batches,
            ends,
            last_path,
            last_len,
            first,
        }
    }

    /// A copy of the journal to damage, and the path of its last segment there.
    fn copy(&self) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(self.dir.path(), dir.path());
        let path = dir.path().join(self.last_path.file_name().unwrap());
        (dir, path)
    }

    /// The end of record `i` in the last segment, or where its records start.
    fn end_in_last(&self, i: usize) -> u64 {
        if self.ends[i].0 == self.last_path {
            self.ends[i].1
        } else {
            HEADER_LEN
        }
    }
}

/// A repaired journal holding `batches` takes a new record and keeps it with them across a
/// clean restart, with nothing left to repair.
async fn takes_new_records(journal: Journal, config: &JournalConfig, batches: &[Vec<Op>]) {
    let extra = vec![put("after", 1000, b"new")];
    commit(&journal, extra.clone()).await;
    journal.close().await.unwrap();
    let (journal, again) = open(config);
    let mut model = expected(batches);
    model.apply_all(&extra);
    model.assert_stored(&journal, &again).await;
    assert_eq!(again.stats.bytes_truncated, 0);
    assert_eq!(again.stats.corrupt_records_skipped, 0);
    journal.close().await.unwrap();
}

#[tokio::test]
async fn truncating_the_last_segment_anywhere_keeps_every_intact_record() {
    let written = Written::new().await;
    // Cuts through the last segment's header (a crash while it was created), then through
    // each byte of its last six records.
    let cuts = (0..=HEADER_LEN + 8).chain(written.ends[written.first - 1].1..written.last_len);

    for cut in cuts {
        let (dir, path) = written.copy();
        fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(cut)
            .unwrap();
        let intact = written
            .ends
            .iter()
            .filter(|(p, end)| *p != written.last_path || *end <= cut)
            .count();
        let truncated = if cut < HEADER_LEN {
            cut // a torn header: the whole file goes
        } else {
            cut - written.end_in_last(intact - 1)
        };

        let config = fast_config(dir.path()).with_segment_size(4096);
        let (journal, recovered) = open(&config);
        expected(&written.batches[..intact])
            .assert_stored(&journal, &recovered)
            .await;
        assert_eq!(recovered.stats.bytes_truncated, truncated, "cut at {cut}");
        assert_eq!(recovered.stats.corrupt_records_skipped, 0, "cut at {cut}");
        takes_new_records(journal, &config, &written.batches[..intact]).await;
    }
}

/// A crash while writing into preallocated space leaves the start of a group commit and
/// zeros where the rest did not reach the disk. Simulated on a journal written without
/// preallocation, whose last segment is then extended with zeros as a spare would be, and
/// zeroed from every offset of its last six records.
#[tokio::test]
async fn torn_writes_into_preallocated_space_keep_every_intact_record() {
    const CAPACITY: u64 = 16 * 1024;
    let written = Written::new().await;

    for cut in written.end_in_last(written.first - 1)..=written.last_len {
        let (dir, path) = written.copy();
        let mut bytes = fs::read(&path).unwrap();
        bytes.resize(usize::try_from(CAPACITY).unwrap(), 0);
        let cut_at = usize::try_from(cut).unwrap();
        // A record whose last bytes were zeros anyway (a sequence number's high bytes)
        // survives zeroing them.
        let unchanged = |end: u64| {
            let end = usize::try_from(end).unwrap();
            end <= cut_at || bytes[cut_at..end].iter().all(|b| *b == 0)
        };
        let intact = written
            .ends
            .iter()
            .filter(|(p, end)| *p != written.last_path || unchanged(*end))
            .count();
        bytes[cut_at..].fill(0);
        fs::write(&path, &bytes).unwrap();
        let valid_end = usize::try_from(written.end_in_last(intact - 1)).unwrap();
        // Bytes of a torn record that did reach the disk make a torn tail; a cut on a record
        // boundary leaves only preallocated zeros.
        let torn = bytes[valid_end.min(cut_at)..cut_at].iter().any(|b| *b != 0);

        let config = fast_config(dir.path())
            .with_segment_size(4096)
            .with_preallocate(true);
        let (journal, recovered) = open(&config);
        expected(&written.batches[..intact])
            .assert_stored(&journal, &recovered)
            .await;
        assert_eq!(recovered.stats.corrupt_records_skipped, 0, "cut at {cut}");
        if torn {
            assert_eq!(
                recovered.stats.bytes_truncated,
                CAPACITY - written.end_in_last(intact - 1),
                "cut at {cut}"
            );
        } else {
            assert_eq!(recovered.stats.bytes_truncated, 0, "cut at {cut}");
            assert_eq!(file_len(&path), CAPACITY, "zeros are kept, cut at {cut}");
        }
        takes_new_records(journal, &config, &written.batches[..intact]).await;
    }
}

/// Non-zero bytes anywhere in the zeros after the last record were never a record the
/// journal acknowledged: cut, and every record before them kept.
#[tokio::test]
async fn garbage_in_preallocated_space_is_cut() {
    let original = tempfile::tempdir().unwrap();
    let config = fast_config(original.path()).with_segment_size(4096);
    let batches = sample_batches(20);
    let ends = write_records(&config, &batches).await;
    let last_path = ends.last().cloned().unwrap().0;
    let mut bytes = fs::read(&last_path).unwrap();
    // The close marker is the last record.
    let records_end = bytes.len() as u64;
    bytes.resize(40_000, 0);
    bytes[30_000] = 0x5a;
    fs::write(&last_path, &bytes).unwrap();

    let (journal, recovered) = open(&config.clone().with_preallocate(true));
    expected(&batches).assert_stored(&journal, &recovered).await;
    assert_eq!(recovered.stats.bytes_truncated, 40_000 - records_end);
    assert_eq!(recovered.stats.corrupt_records_skipped, 0);
    assert!(
        !recovered.clean_shutdown,
        "the close marker is no longer the end"
    );
    journal.close().await.unwrap();
}

/// Flips one bit in the last payload byte of record `victim`.
fn flip_last_byte(ends: &[(PathBuf, u64)], victim: usize) {
    let (path, end) = &ends[victim];
    let mut bytes = fs::read(path).unwrap();
    let at = usize::try_from(*end).unwrap() - 1;
    bytes[at] ^= 0x04;
    fs::write(path, bytes).unwrap();
}

#[tokio::test]
async fn a_flipped_bit_in_a_middle_record_skips_only_that_record() {
    for in_sealed_segment in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let config = fast_config(dir.path()).with_segment_size(4096);
        let batches = sample_batches(if in_sealed_segment { 80 } else { 10 });
        let ends = write_records(&config, &batches).await;
        let victim = if in_sealed_segment { 5 } else { 6 };
        assert_eq!(ends[victim].0 != ends.last().unwrap().0, in_sealed_segment);
        // Open follows the close marker with an empty batch, and changes nothing else.
        let grown = if in_sealed_segment {
            0
        } else {
            OPEN_RECORD_LEN
        };
        let size_before = file_len(&ends[victim].0) + grown;
        flip_last_byte(&ends, victim);

        let (journal, recovered) = open(&config);
        let mut survivors = batches.clone();
        survivors.remove(victim);
        expected(&survivors)
            .assert_stored(&journal, &recovered)
            .await;
        assert_eq!(recovered.stats.corrupt_records_skipped, 1);
        assert_eq!(recovered.stats.bytes_truncated, 0);
        assert_eq!(file_len(&ends[victim].0), size_before, "nothing is cut");
    }
}

#[tokio::test]
async fn a_damaged_length_in_a_sealed_segment_skips_the_rest_of_that_segment_only() {
    let dir = tempfile::tempdir().unwrap();
    let config = fast_config(dir.path()).with_segment_size(4096);
    let batches = sample_batches(80);
    let ends = write_records(&config, &batches).await;
    let victim = 5;
    let segment = ends[victim].0.clone();
    assert_ne!(segment, ends.last().unwrap().0);
    let start = usize::try_from(ends[victim - 1].1).unwrap();
    let mut bytes = fs::read(&segment).unwrap();
    bytes[start..start + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    fs::write(&segment, bytes).unwrap();

    let (journal, recovered) = open(&config);
    // Lost: the victim and every later record of the same segment.
    let survivors: Vec<Vec<Op>> = batches
        .iter()
        .zip(&ends)
        .enumerate()
        .filter(|(i, (_, (path, _)))| *i < victim || *path != segment)
        .map(|(_, (batch, _))| batch.clone())
        .collect();
    assert!(survivors.len() < batches.len() - 1);
    expected(&survivors)
        .assert_stored(&journal, &recovered)
        .await;
    assert_eq!(recovered.stats.corrupt_records_skipped, 1);
    assert_eq!(recovered.stats.bytes_truncated, 0);
}

#[tokio::test]
async fn a_torn_header_on_the_last_segment_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let config = fast_config(dir.path());
    let batches = sample_batches(3);
    write_records(&config, &batches).await;
    // A crash while creating the next segment leaves a few bytes of its header.
    let next = dir.path().join("journal-00000000000000ff.log");
    fs::write(&next, b"FMQJ").unwrap();
    let (journal, recovered) = open(&config);
    expected(&batches).assert_stored(&journal, &recovered).await;
    assert_eq!(recovered.stats.bytes_truncated, 4);
    assert!(!next.exists());
}

#[tokio::test]
async fn a_damaged_header_sets_the_segment_aside() {
    let dir = tempfile::tempdir().unwrap();
    let config = fast_config(dir.path()).with_segment_size(4096);
    let batches = sample_batches(80);
    let ends = write_records(&config, &batches).await;
    let first = ends[0].0.clone();
    let mut bytes = fs::read(&first).unwrap();
    bytes[0] ^= 0xFF;
    fs::write(&first, bytes).unwrap();

    let (journal, recovered) = open(&config);
    assert_eq!(recovered.stats.corrupt_records_skipped, 1);
    assert!(!first.exists());
    assert!(first.with_extension("corrupt").exists());
    let in_first = ends.iter().filter(|(p, _)| *p == first).count();
    expected(&batches[in_first..])
        .assert_stored(&journal, &recovered)
        .await;
    // New segments never reuse the id that was set aside.
    commit(&journal, vec![put("q", 999, b"x")]).await;
    journal.close().await.unwrap();
    let (_journal, again) = open(&config);
    assert_eq!(again.stats.corrupt_records_skipped, 0);
}

#[tokio::test]
async fn new_records_never_follow_damaged_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let config = fast_config(dir.path()).with_segment_size(4096);
    let batches = sample_batches(80);
    let ends = write_records(&config, &batches).await;
    let files = segment_files(dir.path());
    let (before_last, last) = (&files[files.len() - 2], &files[files.len() - 1]);
    // The second-to-last segment gets a damaged length in its middle...
    let victim = ends.iter().position(|(p, _)| p == before_last).unwrap() + 2;
    let start = usize::try_from(ends[victim - 1].1).unwrap();
    let mut bytes = fs::read(before_last).unwrap();
    bytes[start..start + 4].copy_from_slice(&0u32.to_le_bytes());
    fs::write(before_last, bytes).unwrap();
    // ...and the last segment a damaged header, so the damaged one becomes the newest.
    let mut bytes = fs::read(last).unwrap();
    bytes[3] ^= 0xFF;
    fs::write(last, bytes).unwrap();

    let (journal, first) = open(&config);
    assert_eq!(first.stats.corrupt_records_skipped, 2);
    commit(&journal, vec![put("fresh", 5000, b"must survive")]).await;
    journal.close().await.unwrap();
    let (journal, again) = open(&config);
    assert_eq!(again.spaces["fresh"].messages, 1);
    assert_eq!(
        read_all(&journal, "fresh").await,
        vec![(5000, bytes::Bytes::from_static(b"must survive"))]
    );
    // The damaged segment is still there (1), unless the writer compacted it meanwhile:
    // its damaged tail counts as dead space, and rewriting its live records drops it (0).
    assert!(
        again.stats.corrupt_records_skipped <= 1,
        "{:?}",
        again.stats
    );
    assert_eq!(again.stats.bytes_truncated, 0);
}

#[tokio::test]
async fn a_segment_from_a_newer_format_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = fast_config(dir.path());
    write_records(&config, &sample_batches(2)).await;
    let path = last_segment(dir.path());
    let mut bytes = fs::read(&path).unwrap();
    bytes[8..12].copy_from_slice(&2u32.to_le_bytes());
    let crc = crc32c_of(&bytes[0..32]);
    bytes[32..36].copy_from_slice(&crc.to_le_bytes());
    fs::write(&path, bytes).unwrap();
    match ferromq_journal::Journal::open(config) {
        Err(JournalError::UnsupportedVersion {
            found: 2, path: p, ..
        }) => assert_eq!(p, path),
        other => panic!("expected UnsupportedVersion, got {other:?}"),
    }
}

/// CRC-32C (Castagnoli), bit by bit: the test's own check of the documented header layout.
fn crc32c_of(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0x82F6_3B78 & mask);
        }
    }
    !crc
}

/// The bytes of a freshly created, empty segment (just its header).
fn empty_segment() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let (journal, _) = open(&fast_config(dir.path()));
    drop(journal);
    // Dropping the handle closes the segment asynchronously; the header was synced at creation.
    fs::read(last_segment(dir.path())).unwrap()
}

fn open_never_panics(segments: &[Vec<u8>]) {
    let dir = tempfile::tempdir().unwrap();
    for (i, bytes) in segments.iter().enumerate() {
        fs::write(
            dir.path().join(format!("journal-{:016x}.log", i + 1)),
            bytes,
        )
        .unwrap();
    }
    let config = fast_config(dir.path());
    // Ok or a clean error, never a panic; and whatever open repaired must reopen cleanly.
    if let Ok((journal, _)) = ferromq_journal::Journal::open(config.clone()) {
        drop(journal);
        let (_journal, again) = ferromq_journal::Journal::open(config).unwrap();
        assert_eq!(again.stats.bytes_truncated, 0);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn arbitrary_bytes_as_a_segment_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        open_never_panics(&[bytes]);
    }

    #[test]
    fn arbitrary_records_after_a_valid_header_never_panic(
        body in proptest::collection::vec(any::<u8>(), 0..600),
        sealed in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let header = empty_segment();
        let mut first = header.clone();
        first.extend_from_slice(&sealed);
        let mut last = header;
        last.extend_from_slice(&body);
        open_never_panics(&[first, last]);
    }
}
