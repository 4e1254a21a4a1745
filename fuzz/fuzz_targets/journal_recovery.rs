//! Fuzz target: damaged and arbitrary segment files through `ferromq_journal::Journal::open`.
//!
//! The first input byte picks how the rest becomes a journal directory:
//! - 0: up to three files of raw bytes (each but the last prefixed by a u16 length);
//! - 1: the same, each behind a valid segment header, so the record scanner sees them;
//! - 2: a valid journal that the journal itself wrote (once per process: messages, metas,
//!   removals, several segments, a close marker) damaged by edit commands of six bytes
//!   each: file, operation, offset (flip a bit, cut, overwrite four bytes, delete the file).
//!
//! `open` must return a journal or an error, never panic or hang. Whatever it repaired must
//! reopen with nothing left to repair and the same live state.

#![no_main]

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Wake, Waker};

use bytes::Bytes;
use ferromq_journal::{Journal, JournalConfig, LockMode, Op, SyncMode};
use libfuzzer_sys::fuzz_target;

const HEADER_LEN: usize = 36;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let files = match mode % 3 {
        0 => split_files(rest, None),
        1 => split_files(rest, Some(&template()[0][..HEADER_LEN])),
        _ => edit_template(rest),
    };
    let dir = Scratch::new();
    for (i, bytes) in files.iter().enumerate() {
        if let Some(bytes) = bytes {
            let name = format!("journal-{:016x}.log", i + 1);
            std::fs::write(dir.0.join(name), bytes).expect("write segment");
        }
    }
    check(&dir.0);
});

/// Opens the directory twice: the second open must find nothing to repair and the same
/// live state as the first.
fn check(dir: &Path) {
    let config = config(dir);
    let Ok((journal, first)) = Journal::open(config.clone()) else {
        return;
    };
    drop(journal); // the writer releases the lock once it has finished
    let (journal, again) = Journal::open(config).expect("a repaired journal reopens");
    assert_eq!(again.stats.bytes_truncated, 0, "{:?}", again.stats);
    assert_eq!(again.spaces, first.spaces);
    assert_eq!(again.meta, first.meta);
    assert!(again.next_seq >= first.next_seq);
    assert!(!again.clean_shutdown, "the first writer was dropped, not closed");
    drop(journal);
}

fn config(dir: &Path) -> JournalConfig {
    JournalConfig::new(dir)
        .with_sync(SyncMode::Never)
        .with_lock(LockMode::Wait)
        .with_segment_size(4096)
}

/// Up to three files: each but the last takes a u16 length prefix's worth of bytes.
fn split_files(mut rest: &[u8], header: Option<&[u8]>) -> Vec<Option<Vec<u8>>> {
    let mut files = Vec::new();
    let count = 1 + rest.first().map_or(0, |b| usize::from(*b % 3));
    rest = rest.get(1..).unwrap_or_default();
    for i in 0..count {
        let take = if i + 1 == count || rest.len() < 2 {
            rest.len()
        } else {
            let len = usize::from(u16::from_le_bytes([rest[0], rest[1]]));
            rest = &rest[2..];
            len.min(rest.len())
        };
        let (body, tail) = rest.split_at(take);
        rest = tail;
        let mut file = header.map(<[u8]>::to_vec).unwrap_or_default();
        file.extend_from_slice(body);
        files.push(Some(file));
    }
    files
}

/// The template journal's files, damaged by six-byte edit commands.
fn edit_template(commands: &[u8]) -> Vec<Option<Vec<u8>>> {
    let mut files: Vec<Option<Vec<u8>>> = template().iter().cloned().map(Some).collect();
    for command in commands.chunks(6) {
        let byte = |i: usize| command.get(i).copied().unwrap_or(0);
        let which = usize::from(byte(0)) % files.len();
        let Some(file) = files[which].as_mut() else {
            continue;
        };
        let raw = u32::from_le_bytes([byte(2), byte(3), byte(4), byte(5)]);
        let offset = usize::try_from(raw).unwrap_or(0) % (file.len() + 1);
        match byte(1) % 4 {
            0 => {
                if let Some(b) = file.get_mut(offset) {
                    *b ^= 1 << (byte(1) >> 5);
                }
            }
            1 => file.truncate(offset),
            2 => {
                for (i, value) in raw.to_le_bytes().into_iter().enumerate() {
                    if let Some(b) = file.get_mut(offset + i) {
                        *b = value;
                    }
                }
            }
            _ => files[which] = None,
        }
    }
    files
}

/// Segment files of a small journal written by the journal itself, oldest first.
fn template() -> &'static Vec<Vec<u8>> {
    static TEMPLATE: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let dir = Scratch::new();
        let (journal, _) = Journal::open(config(&dir.0)).expect("open template");
        block_on(async {
            for seq in 1..=40u64 {
                let mut ops = vec![Op::Put {
                    key: format!("queue://q{}", seq % 3),
                    seq,
                    payload: Bytes::from(vec![u8::try_from(seq).unwrap_or(0); 150]),
                }];
                if seq % 4 == 0 {
                    ops.push(Op::Remove {
                        key: format!("queue://q{}", (seq - 1) % 3),
                        seq: seq - 1,
                    });
                }
                if seq % 10 == 0 {
                    ops.push(Op::PutMeta {
                        key: format!("sub://c:{seq}"),
                        payload: Bytes::from_static(b"definition"),
                    });
                    ops.push(Op::DropSpace {
                        key: "queue://q0".into(),
                    });
                }
                let durable = journal.append(ops).await.expect("append");
                durable.await.expect("durable");
            }
            journal.close().await.expect("close");
        });
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir.0)
            .expect("list template")
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "log"))
            .collect();
        paths.sort();
        paths
            .iter()
            .map(|path| std::fs::read(path).expect("read template"))
            .collect()
    })
}

/// A directory removed on drop; on tmpfs when there is one, so fsyncs cost nothing.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let base = Path::new("/dev/shm");
        let base = if base.is_dir() {
            base.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = base.join(format!("ferromq-fuzz-journal-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        Self(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs a future on this thread; the journal's futures need no runtime, only a waker.
fn block_on<F: Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::park();
    }
}
