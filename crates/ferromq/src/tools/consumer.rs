//! `ferromq consumer`: receives a producer's numbered messages and reports what was lost or
//! duplicated. The exit code says whether the run was clean, so scripts can use it as a check.
//!
//! Duplicates flagged `redelivered:true` are legitimate after a failover and are only counted;
//! unflagged duplicates and missing numbers fail the run.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use ferromq_client::AckMode;
use ferromq_stomp::Command;

use super::conn;
use super::message::Received;
use super::producer::{MAX_COUNT, MAX_TIMEOUT};
use super::seq::SeqTracker;
use super::stats::per_second;
use super::target::{BrokerUrl, ConnectArgs, Destination};

/// How many missing numbers the report lists.
const SHOW_MISSING: usize = 10;

/// STOMP acknowledgement mode, as spelled on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AckArg {
    /// The broker considers a message consumed once sent.
    Auto,
    /// An ACK confirms the message and every earlier one on the subscription.
    Client,
    /// An ACK confirms exactly one message.
    ClientIndividual,
}

impl AckArg {
    /// The client library's mode.
    pub fn mode(self) -> AckMode {
        match self {
            AckArg::Auto => AckMode::Auto,
            AckArg::Client => AckMode::Client,
            AckArg::ClientIndividual => AckMode::ClientIndividual,
        }
    }

    /// The STOMP spelling, for reports.
    pub fn name(self) -> &'static str {
        self.mode().as_str()
    }
}

/// Arguments of `ferromq consumer`.
#[derive(Debug, clap::Args)]
pub struct ConsumerArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Where to receive from: `queue://NAME`, `topic://NAME`, `/queue/NAME` or `/topic/NAME`.
    #[arg(long, default_value = "queue://orders")]
    pub destination: String,
    /// How many distinct sequence numbers (0..count-1) to wait for.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(0..=MAX_COUNT))]
    pub count: u64,
    /// Seconds to wait for all of them before reporting what is missing.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(0..=MAX_TIMEOUT))]
    pub timeout: u64,
    /// Acknowledgement mode; in the client modes every message is acknowledged.
    #[arg(long, value_enum, default_value_t = AckArg::Auto)]
    pub ack: AckArg,
    /// JMS message selector, e.g. "JMSPriority > 4".
    #[arg(long)]
    pub selector: Option<String>,
    /// Durable topic subscription name (ActiveMQ `activemq.subscriptionName`); needs --client-id.
    #[arg(long, requires = "client_id")]
    pub durable: Option<String>,
    /// Client id sent on CONNECT (durable subscriptions are keyed by it).
    #[arg(long)]
    pub client_id: Option<String>,
    /// ActiveMQ prefetch (`activemq.prefetchSize`); the broker's default when absent.
    #[arg(long)]
    pub prefetch: Option<u32>,
    /// Count only messages whose `ferromq-run` is this id (others are acknowledged and skipped).
    #[arg(long)]
    pub run: Option<String>,
}

/// What the consumer saw.
#[derive(Debug)]
struct Tally {
    tracker: SeqTracker,
    /// Messages from other runs, or without a sequence number (numbers outside the range are
    /// counted by the tracker).
    foreign: u64,
    /// Every MESSAGE frame, including duplicates and foreign ones.
    frames: u64,
}

/// Runs the tool.
///
/// # Errors
/// Fails on bad arguments, a failed connection or subscription, or a broker ERROR. Missing or
/// duplicated messages are not errors: they are reported and give a failing exit code.
pub async fn run(args: ConsumerArgs) -> anyhow::Result<ExitCode> {
    let url = BrokerUrl::parse(&args.connect.url)?;
    let destination = Destination::parse(&args.destination)?;
    let (client, mut messages) =
        conn::connect(&args.connect, &url, args.client_id.as_deref()).await?;

    let prefetch = args.prefetch.map(|n| n.to_string());
    let mut extra: Vec<(&str, &str)> = Vec::new();
    if let Some(selector) = &args.selector {
        extra.push(("selector", selector));
    }
    if let Some(name) = &args.durable {
        extra.push(("activemq.subscriptionName", name));
    }
    if let Some(prefetch) = &prefetch {
        extra.push(("activemq.prefetchSize", prefetch));
    }
    client
        .subscribe(
            destination.stomp(),
            "ferromq-consumer",
            args.ack.mode(),
            &extra,
        )
        .await
        .with_context(|| format!("subscribing to {destination}"))?;

    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(args.timeout);
    let mut tally = Tally {
        tracker: SeqTracker::new(args.count),
        foreign: 0,
        frames: 0,
    };
    let mut timed_out = false;
    // Bounded by the deadline and by `count`: each pass either records a frame or ends.
    while !tally.tracker.is_complete() {
        let item = match tokio::time::timeout_at(deadline, messages.recv()).await {
            Ok(Some(item)) => item,
            Ok(None) => bail!("the broker closed the connection; {}", report(&tally)),
            Err(_) => {
                timed_out = true;
                break;
            }
        };
        // An ERROR frame arrives as an error item and ends the stream.
        let frame = item.with_context(|| format!("receiving; {}", report(&tally)))?;
        if frame.command != Command::Message {
            continue;
        }
        tally.frames += 1;
        let got = Received::of(&frame);
        match got.seq {
            Some(seq) if got.is_from(args.run.as_deref()) => {
                tally.tracker.observe(seq, got.redelivered);
            }
            _ => tally.foreign += 1,
        }
        // Foreign messages are acknowledged too: leaving them unacknowledged would fill the
        // prefetch window and stall delivery of the ones this run is waiting for.
        if args.ack != AckArg::Auto {
            client
                .ack(&frame, None)
                .await
                .context("acknowledging a message")?;
        }
    }
    let elapsed = started.elapsed();
    if let Err(err) = client.disconnect().await {
        eprintln!("warning: clean disconnect failed: {err}");
    }

    println!("{}", report(&tally));
    let missing = tally.tracker.first_missing(SHOW_MISSING);
    if !missing.is_empty() {
        println!("first missing: {missing:?}");
    }
    if timed_out {
        println!("timed out after {} s", args.timeout);
    }
    println!(
        "elapsed={:.3}s rate={:.0} msg/s",
        elapsed.as_secs_f64(),
        per_second(tally.frames, elapsed)
    );
    let clean = tally.tracker.missing() == 0 && tally.tracker.duplicates() == 0;
    Ok(if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn report(tally: &Tally) -> String {
    let t = &tally.tracker;
    format!(
        "received={} duplicates={} redelivered={} missing={} foreign={}",
        t.distinct(),
        t.duplicates(),
        t.redelivered_duplicates(),
        t.missing(),
        tally.foreign + t.out_of_range(),
    )
}
