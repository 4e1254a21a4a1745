//! The tasks `ferromq bench` runs per connection: a consumer loop and a producer phase.
//!
//! Tasks share only atomic counters with the coordinator; each keeps its own histogram and
//! sequence tracker and hands them back when it ends, so the hot path takes no lock.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};
use ferromq_client::{Client, Messages};
use ferromq_stomp::{Command, Frame};
use tokio_util::sync::CancellationToken;

use super::consumer::AckArg;
use super::message::{Received, SendTemplate};
use super::send::{send_range, ReceiptPolicy, Stamp};
use super::seq::{Observation, SeqTracker};
use super::stats::Latency;

/// Consumer-side counters the coordinator polls for progress and completion.
#[derive(Debug, Default)]
pub struct Counters {
    /// Distinct measured deliveries (per consumer).
    pub received: AtomicU64,
    /// Warm-up deliveries.
    pub warmup_received: AtomicU64,
    /// Microseconds since the bench epoch of the latest measured delivery.
    pub last_receive_us: AtomicU64,
}

/// Producer-side counters of one phase.
#[derive(Debug, Default)]
pub struct PhaseProgress {
    /// Messages handed to the clients.
    pub sent: AtomicU64,
    /// Microseconds since the bench epoch at which the last producer finished.
    pub done_us: AtomicU64,
    /// Some producer failed, so waiting for the rest of the deliveries is pointless.
    pub failed: AtomicBool,
}

/// What every consumer task needs to know.
#[derive(Debug, Clone)]
pub struct ConsumerPlan {
    /// Time zero of the bench (the producers stamp sends relative to it).
    pub epoch: Instant,
    /// Only messages of this run are counted.
    pub run: String,
    /// Measured messages in the run (sequence numbers `0..count`).
    pub count: u64,
    /// Acknowledgement mode.
    pub ack: AckArg,
    /// Messages per cumulative ACK (client) or per burst of held-back ACKs
    /// (client-individual). Must stay below the broker's prefetch, or delivery stalls.
    pub ack_batch: u64,
    /// Shared counters.
    pub counters: Arc<Counters>,
    /// Cancelled by the coordinator when the run is over.
    pub stop: CancellationToken,
}

/// What one consumer saw.
#[derive(Debug)]
pub struct ConsumerOutcome {
    /// Which measured numbers arrived.
    pub tracker: SeqTracker,
    /// Send-to-receive latency of first deliveries.
    pub latency: Latency,
    /// Messages of other runs or without a number.
    pub foreign: u64,
}

/// Acknowledgement state kept between messages.
#[derive(Debug, Default)]
struct Acker {
    /// Messages since the last flush.
    pending: u64,
    /// Messages received since the last flush; in client-individual mode their ACKs are held
    /// back and written together, in client mode only the newest is kept, since its ACK
    /// covers all earlier ones.
    held: Vec<Frame>,
}

impl Acker {
    async fn on_message(
        &mut self,
        client: &Client,
        plan: &ConsumerPlan,
        frame: Frame,
    ) -> anyhow::Result<()> {
        match plan.ack {
            AckArg::Auto => return Ok(()),
            AckArg::Client => {
                self.held.clear();
                self.held.push(frame);
            }
            AckArg::ClientIndividual => self.held.push(frame),
        }
        self.pending += 1;
        if self.pending >= plan.ack_batch {
            self.flush(client).await?;
        }
        Ok(())
    }

    /// Acknowledges whatever is held.
    async fn flush(&mut self, client: &Client) -> anyhow::Result<()> {
        for frame in self.held.drain(..) {
            client.ack(&frame, None).await.context("ACK")?;
        }
        self.pending = 0;
        Ok(())
    }
}

/// Receives until told to stop, the connection ends or the broker errs.
///
/// # Errors
/// Fails when the connection ends early or an ACK cannot be sent.
pub async fn consume(
    plan: ConsumerPlan,
    index: u64,
    client: Client,
    mut messages: Messages,
) -> anyhow::Result<ConsumerOutcome> {
    let mut tracker = SeqTracker::new(plan.count);
    let mut latency = Latency::new();
    let mut foreign = 0;
    let mut acker = Acker::default();
    // Ends on the stop token, which the coordinator cancels at the deadline at the latest.
    loop {
        let item = tokio::select! {
            () = plan.stop.cancelled() => break,
            item = messages.recv() => item,
        };
        let Some(item) = item else {
            bail!("consumer {index}: the connection closed early");
        };
        let frame = item.with_context(|| format!("consumer {index}"))?;
        if frame.command != Command::Message {
            continue;
        }
        let now_us = micros_since(plan.epoch);
        let got = Received::of(&frame);
        match got.seq {
            Some(_) if !got.is_from(Some(&plan.run)) => foreign += 1,
            Some(_) if got.warmup => {
                plan.counters
                    .warmup_received
                    .fetch_add(1, Ordering::Relaxed);
            }
            Some(seq) => match tracker.observe(seq, got.redelivered) {
                Observation::New => {
                    if let Some(sent) = got.sent_us {
                        latency.record_us(now_us.saturating_sub(sent));
                    }
                    plan.counters.received.fetch_add(1, Ordering::Relaxed);
                    plan.counters
                        .last_receive_us
                        .fetch_max(now_us, Ordering::Relaxed);
                }
                Observation::OutOfRange
                | Observation::Duplicate
                | Observation::RedeliveredDuplicate => {}
            },
            None => foreign += 1,
        }
        acker
            .on_message(&client, &plan, frame)
            .await
            .with_context(|| format!("consumer {index}"))?;
    }
    acker
        .flush(&client)
        .await
        .with_context(|| format!("consumer {index}"))?;
    if let Err(err) = client.disconnect().await {
        eprintln!("warning: consumer {index} did not disconnect cleanly: {err}");
    }
    Ok(ConsumerOutcome {
        foreign: foreign + tracker.out_of_range(),
        tracker,
        latency,
    })
}

/// Sends one producer's share of a phase; ends with DISCONNECT when `last_phase`.
///
/// # Errors
/// Fails on the first send, receipt or disconnect error (and flags the phase as failed).
pub async fn produce(
    client: Client,
    template: Arc<SendTemplate>,
    seqs: Range<u64>,
    receipts: ReceiptPolicy,
    stamp: Stamp,
    progress: Arc<PhaseProgress>,
    last_phase: bool,
) -> anyhow::Result<Latency> {
    let outcome = async {
        let latency = send_range(
            &client,
            &template,
            seqs,
            receipts,
            Some(stamp),
            &progress.sent,
        )
        .await?;
        if last_phase {
            // The DISCONNECT receipt proves the broker has taken every message of this
            // producer.
            client
                .disconnect()
                .await
                .context("waiting for the DISCONNECT receipt")?;
        }
        anyhow::Ok(latency)
    }
    .await;
    match &outcome {
        Ok(_) => {
            progress
                .done_us
                .fetch_max(micros_since(stamp.epoch), Ordering::Relaxed);
        }
        Err(_) => progress.failed.store(true, Ordering::Relaxed),
    }
    outcome
}

/// Splits `total` into `parts` contiguous ranges whose sizes differ by at most one.
pub fn split(total: u64, parts: u64) -> Vec<Range<u64>> {
    let parts = parts.max(1);
    let (share, extra) = (total / parts, total % parts);
    let mut start = 0;
    (0..parts)
        .map(|i| {
            let len = share + u64::from(i < extra);
            let range = start..start + len;
            start += len;
            range
        })
        .collect()
}

/// Microseconds elapsed since `epoch`, saturating.
pub fn micros_since(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_covers_everything_once() {
        assert_eq!(split(10, 3), vec![0..4, 4..7, 7..10]);
        assert_eq!(split(2, 4), vec![0..1, 1..2, 2..2, 2..2]);
        assert_eq!(split(5, 0), vec![0..5]);
        let ranges = split(1_000_003, 8);
        assert_eq!(
            ranges.iter().map(|r| r.end - r.start).sum::<u64>(),
            1_000_003
        );
        assert!(ranges.windows(2).all(|w| w[0].end == w[1].start));
    }
}
