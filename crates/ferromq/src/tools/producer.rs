//! `ferromq producer`: sends `count` numbered messages to one destination and exits only once the
//! broker has confirmed them, so that a following `ferromq consumer` can check nothing was lost.
//!
//! It never retries or reconnects: any failure ends the run with a non-zero exit code.

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;

use super::conn;
use super::message::{body, new_run_id, SendTemplate};
use super::send::{send_range, ReceiptPolicy};
use super::stats::{megabytes_per_second, per_second};
use super::target::{BrokerUrl, ConnectArgs, Destination};

/// Largest body the tools will build (they hold one copy in memory).
pub(super) const MAX_BODY: u64 = 64 * 1024 * 1024;
/// Largest message count: receivers keep one bit per message, 125 MB at this bound.
pub(super) const MAX_COUNT: u64 = 1_000_000_000;
/// Longest `--timeout` in seconds (a week), far beyond any real run but small enough that a
/// deadline computed from it cannot overflow.
pub(super) const MAX_TIMEOUT: u64 = 7 * 24 * 3600;

/// Arguments of `ferromq producer`.
#[derive(Debug, clap::Args)]
pub struct ProducerArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Where to send: `queue://NAME`, `topic://NAME`, `/queue/NAME` or `/topic/NAME`.
    #[arg(long, default_value = "queue://orders")]
    pub destination: String,
    /// Number of messages; they carry `ferromq-seq` = 0..count-1.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(0..=MAX_COUNT))]
    pub count: u64,
    /// Body size in bytes.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u64).range(0..=MAX_BODY))]
    pub size: u64,
    /// Send with `persistent:true`, so the broker stores each message before confirming it.
    #[arg(long)]
    pub persistent: bool,
    /// Ask for a receipt on every K-th message (default: 1 with --persistent, otherwise 0 =
    /// only the final DISCONNECT receipt).
    #[arg(long)]
    pub receipt_every: Option<u64>,
    /// Receipts that may be outstanding at once (1 = wait for each, like a synchronous send).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub receipt_window: u64,
    /// JMS priority, 0 (lowest) to 9.
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=9))]
    pub priority: Option<u8>,
    /// Time to live in milliseconds (sent as the absolute `expires` header).
    #[arg(long)]
    pub ttl: Option<u64>,
    /// Run id put in `ferromq-run` (default: generated and printed).
    #[arg(long)]
    pub run: Option<String>,
    /// Give up after this many seconds in total.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=MAX_TIMEOUT))]
    pub timeout: u64,
}

/// Runs the tool.
///
/// # Errors
/// Fails on bad arguments, a failed connection, a refused send or receipt, or the timeout.
pub async fn run(args: ProducerArgs) -> anyhow::Result<ExitCode> {
    let url = BrokerUrl::parse(&args.connect.url)?;
    let destination = Destination::parse(&args.destination)?;
    let size = usize::try_from(args.size).context("--size does not fit in memory")?;
    let run = args.run.clone().unwrap_or_else(new_run_id);
    let receipts = ReceiptPolicy {
        every: args
            .receipt_every
            .unwrap_or(if args.persistent { 1 } else { 0 }),
        window: usize::try_from(args.receipt_window).unwrap_or(1),
    };
    let template = SendTemplate {
        destination,
        run: run.clone(),
        persistent: args.persistent,
        priority: args.priority,
        ttl_ms: args.ttl,
        body: body(size),
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(args.timeout.max(1));

    let (client, messages) = conn::connect(&args.connect, &url, None).await?;
    let watcher = conn::watch_errors(messages);
    let sent = AtomicU64::new(0);
    let started = Instant::now();
    let work = async {
        let latency = send_range(&client, &template, 0..args.count, receipts, None, &sent).await?;
        // DISCONNECT with a receipt: once it returns, the broker has processed every SEND.
        client
            .clone()
            .disconnect()
            .await
            .context("waiting for the DISCONNECT receipt")?;
        anyhow::Ok(latency)
    };
    let outcome = match tokio::time::timeout_at(deadline, work).await {
        Ok(outcome) => outcome,
        Err(_) => Err(anyhow::anyhow!(
            "timed out after {} s with {} of {} messages sent",
            args.timeout,
            sent.load(Ordering::Relaxed),
            args.count
        )),
    };
    let elapsed = started.elapsed();
    let latency = match outcome {
        Ok(latency) => {
            watcher.abort();
            latency
        }
        Err(err) => return Err(conn::explain(err, watcher).await),
    };

    let sent = sent.load(Ordering::Relaxed);
    println!(
        "sent={sent} destination={} run={run} elapsed={:.3}s rate={:.0} msg/s ({:.2} MB/s)",
        template.destination,
        elapsed.as_secs_f64(),
        per_second(sent, elapsed),
        megabytes_per_second(sent, size, elapsed),
    );
    if latency.count() > 0 {
        println!("receipt round-trip: {}", latency.summary().line());
    }
    Ok(ExitCode::SUCCESS)
}
