//! What `ferromq bench` shows: live progress while it runs and the result at the end, as text for
//! people or as one JSON line for `bench/stomp-vs-activemq.sh`.
//!
//! Progress goes to stderr so that stdout carries only the result.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use super::stats::{per_second, Summary};

/// The outcome of one bench run.
#[derive(Debug, Clone)]
pub struct BenchResult {
    /// Name given with `--label`, for tables.
    pub label: Option<String>,
    /// STOMP destination.
    pub destination: String,
    /// Producer connections.
    pub producers: u64,
    /// Consumer connections.
    pub consumers: u64,
    /// Body size in bytes.
    pub size: usize,
    /// Messages the producers were asked to send (warm-up excluded).
    pub count: u64,
    /// Messages were sent with `persistent:true`.
    pub persistent: bool,
    /// Receipt every K messages (0 = none).
    pub receipt_every: u64,
    /// Acknowledgement mode name.
    pub ack: &'static str,
    /// Messages handed to the client by the producers.
    pub sent: u64,
    /// Deliveries the consumers should see (count, times consumers for a topic).
    pub expected: u64,
    /// Distinct deliveries seen.
    pub received: u64,
    /// Repeats not flagged as redelivered.
    pub duplicates: u64,
    /// Repeats flagged `redelivered:true`.
    pub redelivered: u64,
    /// Expected deliveries never seen.
    pub missing: u64,
    /// Messages of other runs that were drained and ignored.
    pub foreign: u64,
    /// From the first measured send to the last measured delivery (or the producers' end when
    /// there are no consumers).
    pub elapsed: Duration,
    /// From the first measured send until every producer had its DISCONNECT receipt.
    pub send_elapsed: Duration,
    /// Send-to-receive latency.
    pub latency: Summary,
    /// Receipt round trip.
    pub receipts: Summary,
    /// Everything expected arrived before the timeout and no task failed.
    pub completed: bool,
}

impl BenchResult {
    /// Deliveries per second; the producers' rate when there are no consumers.
    pub fn msg_per_s(&self) -> f64 {
        if self.consumers == 0 {
            per_second(self.sent, self.send_elapsed)
        } else {
            per_second(self.received, self.elapsed)
        }
    }

    fn mb_per_s(&self) -> f64 {
        self.msg_per_s() * self.size as f64 / 1e6
    }

    /// The human report.
    pub fn print_text(&self) {
        println!(
            "bench {}: {} producers, {} consumers, {} B, {} messages, {}, ack={}",
            self.label.as_deref().unwrap_or(&self.destination),
            self.producers,
            self.consumers,
            self.size,
            self.count,
            if self.persistent {
                "persistent"
            } else {
                "non-persistent"
            },
            self.ack,
        );
        println!(
            "sent={} received={}/{} missing={} duplicates={} redelivered={} foreign={}",
            self.sent,
            self.received,
            self.expected,
            self.missing,
            self.duplicates,
            self.redelivered,
            self.foreign,
        );
        println!(
            "throughput: {:.0} msg/s, {:.2} MB/s over {:.3} s (send side {:.0} msg/s)",
            self.msg_per_s(),
            self.mb_per_s(),
            self.elapsed.as_secs_f64(),
            per_second(self.sent, self.send_elapsed),
        );
        if self.consumers > 0 {
            println!("end-to-end latency: {}", self.latency.line());
        }
        if self.receipt_every > 0 {
            println!("receipt round-trip: {}", self.receipts.line());
        }
        if !self.completed {
            println!("INCOMPLETE: not every expected message arrived");
        }
    }

    /// The one-line JSON form; latencies are in microseconds.
    pub fn to_json(&self) -> serde_json::Value {
        let round = |x: f64| (x * 100.0).round() / 100.0;
        json!({
            "label": self.label,
            "destination": self.destination,
            "producers": self.producers,
            "consumers": self.consumers,
            "size": self.size,
            "count": self.count,
            "persistent": self.persistent,
            "receipt_every": self.receipt_every,
            "ack": self.ack,
            "sent": self.sent,
            "expected": self.expected,
            "received": self.received,
            "missing": self.missing,
            "duplicates": self.duplicates,
            "redelivered": self.redelivered,
            "foreign": self.foreign,
            "elapsed_s": round(self.elapsed.as_secs_f64()),
            "send_elapsed_s": round(self.send_elapsed.as_secs_f64()),
            "msg_per_s": round(self.msg_per_s()),
            "mb_per_s": round(self.mb_per_s()),
            "send_msg_per_s": round(per_second(self.sent, self.send_elapsed)),
            "latency_us": self.latency.to_json(),
            "receipt_us": self.receipts.to_json(),
            "completed": self.completed,
        })
    }
}

/// Live progress: a bar on a terminal, a plain line every interval otherwise (logs, CI).
#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
    interval: Duration,
    started: Instant,
    last_line: Instant,
    last_done: u64,
}

impl Progress {
    /// Progress towards `total` deliveries (or sends when nothing is consumed).
    pub fn new(total: u64, interval: Duration) -> Self {
        let bar = std::io::stdout().is_terminal().then(|| {
            let bar = ProgressBar::new(total);
            if let Ok(style) = ProgressStyle::with_template(
                "{elapsed_precise} [{wide_bar}] {pos}/{len} {per_sec} {msg}",
            ) {
                bar.set_style(style);
            }
            bar
        });
        let now = Instant::now();
        Self {
            bar,
            interval,
            started: now,
            last_line: now,
            last_done: 0,
        }
    }

    /// Updates with the current counts; cheap enough to call every few hundred milliseconds.
    pub fn update(&mut self, sent: u64, done: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(done);
            bar.set_message(format!("sent={sent}"));
            return;
        }
        let since = self.last_line.elapsed();
        if since < self.interval {
            return;
        }
        let rate = per_second(done.saturating_sub(self.last_done), since);
        eprintln!(
            "[{:>7.1}s] sent={sent} done={done} rate={rate:.0} msg/s",
            self.started.elapsed().as_secs_f64()
        );
        self.last_line = Instant::now();
        self.last_done = done;
    }

    /// Removes the bar so the result prints on a clean line.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::stats::Latency;

    fn sample() -> BenchResult {
        BenchResult {
            label: Some("a".to_owned()),
            destination: "/queue/bench".to_owned(),
            producers: 1,
            consumers: 1,
            size: 1000,
            count: 2000,
            persistent: false,
            receipt_every: 0,
            ack: "auto",
            sent: 2000,
            expected: 2000,
            received: 2000,
            duplicates: 0,
            redelivered: 0,
            missing: 0,
            foreign: 0,
            elapsed: Duration::from_secs(2),
            send_elapsed: Duration::from_secs(1),
            latency: Latency::new().summary(),
            receipts: Latency::new().summary(),
            completed: true,
        }
    }

    #[test]
    fn rates_follow_the_consumers() {
        let result = sample();
        assert_eq!(result.msg_per_s(), 1000.0);
        assert_eq!(result.mb_per_s(), 1.0);
        let send_only = BenchResult {
            consumers: 0,
            ..sample()
        };
        assert_eq!(send_only.msg_per_s(), 2000.0);
    }

    #[test]
    fn json_has_the_fields_the_script_reads() {
        let value = sample().to_json();
        assert_eq!(value["msg_per_s"], 1000.0);
        assert_eq!(value["label"], "a");
        assert_eq!(value["completed"], true);
        assert!(value["latency_us"].is_null());
        let line = value.to_string();
        assert!(!line.contains('\n'));
    }
}
