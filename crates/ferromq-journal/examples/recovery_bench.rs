//! How long `Journal::open` takes with a deep backlog, without a broker around it.
//!
//! `cargo run --release -p ferromq-journal --example recovery_bench -- [COUNT] [SIZE] [DIR]`
//! writes COUNT (default 1,000,000) messages of SIZE bytes (default 450, about what the
//! broker stores for a 256 B body), one per record as the broker writes them, then closes
//! and opens the journal three times and prints how long each open took. DIR defaults to a
//! fresh directory under the system temp dir, removed at the end.

use std::time::Instant;

use bytes::Bytes;
use ferromq_journal::{Journal, JournalConfig, Op, SyncMode};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let count: u64 = args.next().map_or(Ok(1_000_000), |a| a.parse())?;
    let size: usize = args.next().map_or(Ok(450), |a| a.parse())?;
    let dir = match args.next() {
        Some(dir) => std::path::PathBuf::from(dir),
        None => std::env::temp_dir().join(format!("ferromq-recovery-bench-{}", std::process::id())),
    };
    let config = JournalConfig::new(&dir).with_sync(SyncMode::Never);
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let (journal, _) = Journal::open(config.clone())?;
        let payload = Bytes::from(vec![0x5a; size]);
        let started = Instant::now();
        let mut durables = Vec::with_capacity(1024);
        for seq in 1..=count {
            let op = Op::Put {
                key: "queue://restart".into(),
                seq,
                payload: payload.clone(),
            };
            durables.push(journal.append(vec![op]).await?);
            if durables.len() == 1024 {
                for durable in durables.drain(..) {
                    durable.await?;
                }
            }
        }
        for durable in durables {
            durable.await?;
        }
        journal.close().await?;
        let stats = journal.stats();
        println!(
            "wrote {count} x {size} B in {:?}: {} segments, {} MiB",
            started.elapsed(),
            stats.segments,
            stats.disk_bytes >> 20
        );
        Ok::<_, Box<dyn std::error::Error>>(())
    })?;
    for round in 1..=3 {
        let started = Instant::now();
        let (journal, recovered) = Journal::open(config.clone())?;
        let opened = started.elapsed();
        let messages: u64 = recovered.spaces.values().map(|space| space.messages).sum();
        let clean = recovered.clean_shutdown;
        drop(recovered);
        println!(
            "open {round}: {messages} messages in {opened:?} (clean shutdown: {clean}), \
             dropped after {:?}",
            started.elapsed()
        );
        runtime.block_on(journal.close())?;
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
