//! The send loop shared by `producer` and `bench`: numbered SENDs with receipts every K messages
//! and a bounded number of receipts outstanding.
//!
//! With the default window of one receipt, a persistent producer behaves like a JMS producer
//! doing synchronous sends, which is what ActiveMQ benchmarks usually measure.

use std::collections::VecDeque;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use ferromq_client::Client;

use super::message::{SendTemplate, SENT_HEADER, WARMUP_HEADER};
use super::stats::Latency;

/// How a run asks for receipts.
#[derive(Debug, Clone, Copy)]
pub struct ReceiptPolicy {
    /// Request a receipt on every K-th message; 0 means never (the DISCONNECT receipt still
    /// confirms everything at the end).
    pub every: u64,
    /// How many receipts may be outstanding before the loop waits for the oldest.
    pub window: usize,
}

impl ReceiptPolicy {
    /// Whether the message at position `index` (0-based within this loop) asks for a receipt.
    pub fn wants_receipt(&self, index: u64) -> bool {
        self.every > 0 && index % self.every == self.every - 1
    }
}

/// Extra stamping and pacing done by the bench.
#[derive(Debug, Clone, Copy)]
pub struct Stamp {
    /// Time zero of the bench; sends carry microseconds since it.
    pub epoch: Instant,
    /// Marks the messages as warm-up.
    pub warmup: bool,
    /// Time between two sends of this producer; `None` sends as fast as the broker takes them.
    pub pace: Option<Duration>,
}

/// Sends `seqs` and waits for every receipt requested along the way.
///
/// Returns the receipt round-trip latencies. With a window above one, a receipt's latency is
/// measured when the loop gets round to waiting for it, so it is an upper bound.
/// `sent` is bumped after each SEND is handed to the client, for progress reports.
///
/// # Errors
/// Fails on the first send or receipt error; the caller owns the connection and closes it.
pub async fn send_range(
    client: &Client,
    template: &SendTemplate,
    seqs: Range<u64>,
    receipts: ReceiptPolicy,
    stamp: Option<Stamp>,
    sent: &AtomicU64,
) -> anyhow::Result<Latency> {
    let mut latency = Latency::new();
    let mut pending = VecDeque::with_capacity(receipts.window.min(1024));
    let first = seqs.start;
    let loop_start = tokio::time::Instant::now();
    for seq in seqs {
        if let Some(pace) = stamp.and_then(|s| s.pace) {
            // Sends are scheduled from the loop's start rather than from the previous send,
            // so a late send is followed by catch-up sends instead of shifting the schedule.
            let offset = u64::try_from(pace.as_nanos())
                .unwrap_or(u64::MAX)
                .saturating_mul(seq - first);
            let due = loop_start
                .checked_add(Duration::from_nanos(offset))
                .context("the send rate is too low to schedule")?;
            tokio::time::sleep_until(due).await;
        }
        let mut frame = template.frame(seq);
        if let Some(stamp) = stamp {
            let micros = u64::try_from(stamp.epoch.elapsed().as_micros()).unwrap_or(u64::MAX);
            frame.push_header(SENT_HEADER, micros.to_string());
            if stamp.warmup {
                frame.push_header(WARMUP_HEADER, "true");
            }
        }
        if receipts.wants_receipt(seq - first) {
            while pending.len() >= receipts.window.max(1) {
                wait_oldest(&mut pending, &mut latency).await?;
            }
            let started = Instant::now();
            let receipt = client
                .start_receipt(frame)
                .await
                .with_context(|| format!("sending message {seq}"))?;
            pending.push_back((seq, started, receipt));
        } else {
            client
                .send(frame)
                .await
                .with_context(|| format!("sending message {seq}"))?;
        }
        sent.fetch_add(1, Ordering::Relaxed);
    }
    while !pending.is_empty() {
        wait_oldest(&mut pending, &mut latency).await?;
    }
    Ok(latency)
}

async fn wait_oldest(
    pending: &mut VecDeque<(u64, Instant, ferromq_client::ReceiptFuture)>,
    latency: &mut Latency,
) -> anyhow::Result<()> {
    if let Some((seq, started, receipt)) = pending.pop_front() {
        receipt
            .await
            .with_context(|| format!("waiting for the receipt of message {seq}"))?;
        latency.record(started.elapsed());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipt_positions() {
        let never = ReceiptPolicy {
            every: 0,
            window: 1,
        };
        assert!(!(0..10).any(|i| never.wants_receipt(i)));
        let each = ReceiptPolicy {
            every: 1,
            window: 1,
        };
        assert!((0..10).all(|i| each.wants_receipt(i)));
        let third = ReceiptPolicy {
            every: 3,
            window: 4,
        };
        let asked: Vec<u64> = (0..10).filter(|&i| third.wants_receipt(i)).collect();
        assert_eq!(asked, vec![2, 5, 8]);
    }
}
