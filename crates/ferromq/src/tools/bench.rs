//! `ferromq bench`: throughput and latency of any STOMP broker (FerroMQ or ActiveMQ) with P
//! producer and C consumer connections.
//!
//! Phases: connect and subscribe every consumer (each SUBSCRIBE is confirmed by a receipt, so no
//! message can precede its subscriber), connect the producers, optionally warm up, then send the
//! measured messages while the consumers count them. Every wait is bounded by `--timeout`.

use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use ferromq_client::Client;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::bench_report::{BenchResult, Progress};
use super::bench_tasks::{
    consume, micros_since, produce, split, ConsumerOutcome, ConsumerPlan, Counters, PhaseProgress,
};
use super::conn;
use super::consumer::AckArg;
use super::message::{body, new_run_id, SendTemplate};
use super::producer::{MAX_BODY, MAX_COUNT, MAX_TIMEOUT};
use super::send::{ReceiptPolicy, Stamp};
use super::seq::SeqTracker;
use super::stats::Latency;
use super::target::{BrokerUrl, ConnectArgs, Destination};

/// How often the coordinator looks at the counters.
const POLL: Duration = Duration::from_millis(100);

/// Arguments of `ferromq bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Destination to load: `queue://NAME`, `topic://NAME`, `/queue/NAME` or `/topic/NAME`.
    #[arg(long, default_value = "queue://bench")]
    pub destination: String,
    /// Producer connections.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub producers: u64,
    /// Consumer connections (0 measures sending only).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(0..=1000))]
    pub consumers: u64,
    /// Body size in bytes.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u64).range(0..=MAX_BODY))]
    pub size: u64,
    /// Measured messages, in total over all producers.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(0..=MAX_COUNT))]
    pub count: u64,
    /// Send with `persistent:true`.
    #[arg(long)]
    pub persistent: bool,
    /// Receipt every K messages per producer (default: 1 with --persistent, otherwise 0 =
    /// only the final DISCONNECT receipt).
    #[arg(long)]
    pub receipt_every: Option<u64>,
    /// Receipts each producer may have outstanding (1 = synchronous sends).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub receipt_window: u64,
    /// Send at this many messages per second in total (0 = as fast as possible). A rate below
    /// saturation measures latency rather than queueing delay.
    #[arg(long, default_value_t = 0.0)]
    pub rate: f64,
    /// Messages sent and received before measuring, in total.
    #[arg(long, default_value_t = 0)]
    pub warmup: u64,
    /// Consumer acknowledgement mode.
    #[arg(long, value_enum, default_value_t = AckArg::Auto)]
    pub ack: AckArg,
    /// Messages per acknowledgement batch: one cumulative ACK (client) or a burst of held-back
    /// individual ACKs (client-individual). Kept at or below --prefetch, since a broker stops
    /// delivering once a consumer holds its prefetch unacknowledged.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    pub ack_batch: u64,
    /// ActiveMQ consumer prefetch (`activemq.prefetchSize`); the broker's default when absent.
    #[arg(long)]
    pub prefetch: Option<u32>,
    /// Give up after this many seconds in total.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=MAX_TIMEOUT))]
    pub timeout: u64,
    /// Print the result as one JSON line instead of text.
    #[arg(long)]
    pub json: bool,
    /// Workload name carried into the result.
    #[arg(long)]
    pub label: Option<String>,
    /// Seconds between progress lines when stdout is not a terminal.
    #[arg(long, default_value_t = 1.0)]
    pub progress_every: f64,
}

/// Runs the tool.
///
/// # Errors
/// Fails on bad arguments or when a connection or subscription cannot be set up. Failures
/// during the run are reported with the partial result and a failing exit code.
pub async fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let url = BrokerUrl::parse(&args.connect.url)?;
    let destination = Destination::parse(&args.destination)?;
    let size = usize::try_from(args.size).context("--size does not fit in memory")?;
    let receipts = ReceiptPolicy {
        every: args
            .receipt_every
            .unwrap_or(if args.persistent { 1 } else { 0 }),
        window: usize::try_from(args.receipt_window).unwrap_or(1),
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(args.timeout.max(1));
    let epoch = Instant::now();
    let run = new_run_id();
    let counters = Arc::new(Counters::default());
    let stop = CancellationToken::new();
    // Each consumer of a topic gets every message; a queue shares them out.
    let fan_out = if destination.is_topic() {
        args.consumers
    } else {
        args.consumers.min(1)
    };

    let plan = ConsumerPlan {
        epoch,
        run: run.clone(),
        count: args.count,
        ack: args.ack,
        ack_batch: args.prefetch.map_or(args.ack_batch, |prefetch| {
            args.ack_batch.min(u64::from(prefetch).max(1))
        }),
        counters: Arc::clone(&counters),
        stop: stop.clone(),
    };
    let consumers = start_consumers(&args, &url, &destination, &plan, deadline).await?;
    let producers = match connect_producers(&args, &url, deadline).await {
        Ok(producers) => producers,
        Err(err) => {
            stop.cancel();
            return Err(err);
        }
    };
    let template = Arc::new(SendTemplate {
        destination: destination.clone(),
        run,
        persistent: args.persistent,
        priority: None,
        ttl_ms: None,
        body: body(size),
    });
    // Each producer sends its share of the total rate.
    let pace = (args.rate > 0.0)
        .then(|| Duration::try_from_secs_f64(args.producers as f64 / args.rate).ok())
        .flatten();
    let clients: Vec<Client> = producers.iter().map(|(client, _)| client.clone()).collect();
    let phase = |total, warmup, progress: &Arc<PhaseProgress>| {
        let stamp = Stamp {
            epoch,
            warmup,
            pace,
        };
        let ranges = split(total, clients.len() as u64);
        clients
            .iter()
            .zip(ranges)
            .map(|(client, seqs)| {
                let task = produce(
                    client.clone(),
                    Arc::clone(&template),
                    seqs,
                    receipts,
                    stamp,
                    Arc::clone(progress),
                    !warmup,
                );
                tokio::spawn(task)
            })
            .collect::<Vec<_>>()
    };

    let mut failures = Vec::new();
    if args.warmup > 0 {
        let tasks = phase(args.warmup, true, &Arc::new(PhaseProgress::default()));
        failures.extend(join_producers(tasks, deadline).await.1);
        let expected = args.warmup * fan_out;
        let warm = &counters.warmup_received;
        // Bounded by the deadline.
        while warm.load(Ordering::Relaxed) < expected && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(POLL).await;
        }
        let arrived = warm.load(Ordering::Relaxed);
        if arrived < expected {
            failures.push(format!(
                "warm-up: only {arrived} of {expected} messages arrived"
            ));
        }
    }

    let expected = args.count * fan_out;
    let start_us = micros_since(epoch);
    let measured = Arc::new(PhaseProgress::default());
    let tasks = phase(args.count, false, &measured);
    let interval = Duration::try_from_secs_f64(args.progress_every)
        .unwrap_or(Duration::from_secs(1))
        .max(POLL);
    let mut progress = Progress::new(if expected > 0 { expected } else { args.count }, interval);
    // Bounded by the deadline; ends early once everything arrived or some task failed.
    let finished = loop {
        let sent = measured.sent.load(Ordering::Relaxed);
        let received = counters.received.load(Ordering::Relaxed);
        progress.update(sent, if expected > 0 { received } else { sent });
        let producers_done = tasks.iter().all(JoinHandle::is_finished);
        if producers_done && received >= expected {
            break true;
        }
        // Consumers only end on their own when they fail.
        let failed = measured.failed.load(Ordering::Relaxed)
            || consumers.iter().any(JoinHandle::is_finished);
        if failed || tokio::time::Instant::now() >= deadline {
            break false;
        }
        tokio::time::sleep(POLL).await;
    };
    progress.finish();
    if !finished {
        // Producers still sending after a failure may be blocked by flow control that will
        // never lift; their partial counts are already in the shared counters.
        for task in &tasks {
            task.abort();
        }
    }
    let (receipt_latency, producer_failures) = join_producers(tasks, deadline).await;
    failures.extend(producer_failures);
    for (_, watcher) in producers {
        watcher.abort();
    }
    stop.cancel();
    let grace =
        tokio::time::Instant::now() + args.connect.connect_timeout() + Duration::from_secs(5);
    let (outcomes, consumer_failures) = join_consumers(consumers, grace).await;
    failures.extend(consumer_failures);
    if tokio::time::Instant::now() >= deadline {
        failures.push(format!("timed out after {} s", args.timeout));
    }

    let send_done_us = match measured.done_us.load(Ordering::Relaxed) {
        0 => micros_since(epoch),
        done => done,
    };
    let last_receive_us = counters
        .last_receive_us
        .load(Ordering::Relaxed)
        .max(start_us);
    let result = assemble(
        &args,
        &destination,
        Measured {
            sent: measured.sent.load(Ordering::Relaxed),
            expected,
            outcomes,
            receipts: receipt_latency,
            elapsed: Duration::from_micros(if args.consumers > 0 {
                last_receive_us - start_us
            } else {
                send_done_us.saturating_sub(start_us)
            }),
            send_elapsed: Duration::from_micros(send_done_us.saturating_sub(start_us)),
            receipt_every: receipts.every,
            size,
            ok: failures.is_empty(),
        },
    );
    if args.json {
        println!("{}", result.to_json());
    } else {
        result.print_text();
    }
    for failure in &failures {
        eprintln!("error: {failure}");
    }
    Ok(if result.completed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Raw material of a result, gathered once every task has ended.
#[derive(Debug)]
struct Measured {
    sent: u64,
    expected: u64,
    outcomes: Vec<ConsumerOutcome>,
    receipts: Latency,
    elapsed: Duration,
    send_elapsed: Duration,
    receipt_every: u64,
    size: usize,
    ok: bool,
}

fn assemble(args: &BenchArgs, destination: &Destination, measured: Measured) -> BenchResult {
    let mut latency = Latency::new();
    let mut foreign = 0;
    for outcome in &measured.outcomes {
        latency.merge(&outcome.latency);
        foreign += outcome.foreign;
    }
    // A queue's consumers share one sequence space, so their views are merged (a number two
    // consumers both got is a duplicate); on a topic each consumer must see every number.
    let (received, duplicates, redelivered) = if destination.is_topic() {
        measured.outcomes.iter().fold((0, 0, 0), |(r, d, x), o| {
            (
                r + o.tracker.distinct(),
                d + o.tracker.duplicates(),
                x + o.tracker.redelivered_duplicates(),
            )
        })
    } else {
        let mut merged = SeqTracker::new(args.count);
        for outcome in &measured.outcomes {
            merged.merge(&outcome.tracker);
        }
        (
            merged.distinct(),
            merged.duplicates(),
            merged.redelivered_duplicates(),
        )
    };
    let missing = measured.expected.saturating_sub(received);
    BenchResult {
        label: args.label.clone(),
        destination: destination.stomp().to_owned(),
        producers: args.producers,
        consumers: args.consumers,
        size: measured.size,
        count: args.count,
        persistent: args.persistent,
        receipt_every: measured.receipt_every,
        ack: args.ack.name(),
        sent: measured.sent,
        expected: measured.expected,
        received,
        duplicates,
        redelivered,
        missing,
        foreign,
        elapsed: measured.elapsed,
        send_elapsed: measured.send_elapsed,
        latency: latency.summary(),
        receipts: measured.receipts.summary(),
        completed: measured.ok && missing == 0 && measured.sent == args.count,
    }
}

async fn connect_producers(
    args: &BenchArgs,
    url: &BrokerUrl,
    deadline: tokio::time::Instant,
) -> anyhow::Result<Vec<(Client, JoinHandle<Option<String>>)>> {
    let setup = async {
        let mut producers = Vec::new();
        for _ in 0..args.producers {
            let (client, messages) = conn::connect(&args.connect, url, None).await?;
            producers.push((client, conn::watch_errors(messages)));
        }
        anyhow::Ok(producers)
    };
    tokio::time::timeout_at(deadline, setup)
        .await
        .context("timed out connecting the producers")?
        .context("connecting the producers")
}

/// Connects and subscribes every consumer, then starts its task.
async fn start_consumers(
    args: &BenchArgs,
    url: &BrokerUrl,
    destination: &Destination,
    plan: &ConsumerPlan,
    deadline: tokio::time::Instant,
) -> anyhow::Result<Vec<JoinHandle<anyhow::Result<ConsumerOutcome>>>> {
    let prefetch = args.prefetch.map(|n| n.to_string());
    let mut extra: Vec<(&str, &str)> = Vec::new();
    if let Some(prefetch) = &prefetch {
        extra.push(("activemq.prefetchSize", prefetch));
    }
    let mut tasks = Vec::new();
    for index in 0..args.consumers {
        let setup = async {
            let (client, messages) = conn::connect(&args.connect, url, None).await?;
            client
                .subscribe(
                    destination.stomp(),
                    &format!("bench-{index}"),
                    args.ack.mode(),
                    &extra,
                )
                .await
                .with_context(|| format!("subscribing to {destination}"))?;
            anyhow::Ok((client, messages))
        };
        let outcome = tokio::time::timeout_at(deadline, setup).await;
        let (client, messages) = match outcome {
            Ok(Ok(pair)) => pair,
            Ok(Err(err)) => {
                plan.stop.cancel();
                return Err(err.context(format!("setting up consumer {index}")));
            }
            Err(_) => {
                plan.stop.cancel();
                anyhow::bail!("timed out setting up consumer {index}");
            }
        };
        tasks.push(tokio::spawn(consume(plan.clone(), index, client, messages)));
    }
    Ok(tasks)
}

/// Waits for producer tasks until the deadline, aborting stragglers; merges their receipt
/// latencies and collects their failures.
async fn join_producers(
    tasks: Vec<JoinHandle<anyhow::Result<Latency>>>,
    deadline: tokio::time::Instant,
) -> (Latency, Vec<String>) {
    let mut latency = Latency::new();
    let mut failures = Vec::new();
    for (index, mut task) in tasks.into_iter().enumerate() {
        match tokio::time::timeout_at(deadline, &mut task).await {
            Ok(Ok(Ok(part))) => latency.merge(&part),
            Ok(Ok(Err(err))) => failures.push(format!("producer {index}: {err:#}")),
            Ok(Err(err)) if err.is_cancelled() => {
                failures.push(format!("producer {index}: stopped before it finished"));
            }
            Ok(Err(err)) => failures.push(format!("producer {index} task: {err}")),
            Err(_) => {
                task.abort();
                failures.push(format!("producer {index}: timed out"));
            }
        }
    }
    (latency, failures)
}

/// Collects what the (already stopped) consumers saw, giving their final ACKs and
/// DISCONNECT until `grace`; a consumer still stuck then is aborted and its counts are lost.
async fn join_consumers(
    tasks: Vec<JoinHandle<anyhow::Result<ConsumerOutcome>>>,
    grace: tokio::time::Instant,
) -> (Vec<ConsumerOutcome>, Vec<String>) {
    let mut outcomes = Vec::new();
    let mut failures = Vec::new();
    for (index, mut task) in tasks.into_iter().enumerate() {
        match tokio::time::timeout_at(grace, &mut task).await {
            Ok(Ok(Ok(outcome))) => outcomes.push(outcome),
            Ok(Ok(Err(err))) => failures.push(format!("{err:#}")),
            Ok(Err(err)) => failures.push(format!("consumer {index} task: {err}")),
            Err(_) => {
                task.abort();
                failures.push(format!("consumer {index}: did not stop in time"));
            }
        }
    }
    (outcomes, failures)
}
