//! The test messages the tools exchange: which headers they carry, how they are built and how a
//! receiver reads them back.
//!
//! Header names are part of the tools' contract (a consumer from one build must understand a
//! producer from another), so they live here once.

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use ferromq_stomp::{Command, Frame};

use super::seq::parse_seq;
use super::target::Destination;

/// Message property with the producer's sequence number, `0..count`.
pub const SEQ_HEADER: &str = "ferromq-seq";
/// Message property naming the run, so a consumer can skip leftovers of earlier runs.
pub const RUN_HEADER: &str = "ferromq-run";
/// Bench only: microseconds since the bench started, taken just before the SEND is written.
pub const SENT_HEADER: &str = "ferromq-sent-us";
/// Bench only: marks warm-up messages, which are counted but not measured.
pub const WARMUP_HEADER: &str = "ferromq-warmup";

/// A run id unique enough to tell runs apart on one broker: start time and process id.
pub fn new_run_id() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{:x}-{:x}", nanos, std::process::id())
}

/// A body of `size` printable bytes. The content is irrelevant to the tests; printable ASCII
/// avoids NUL, which a STOMP 1.0 peer ignoring `content-length` would take as the frame end.
pub fn body(size: usize) -> Bytes {
    let pattern = b"ferromq-payload-";
    Bytes::from(
        (0..size)
            .map(|i| pattern[i % pattern.len()])
            .collect::<Vec<u8>>(),
    )
}

/// The SEND settings that are the same for every message of a run.
#[derive(Debug, Clone)]
pub struct SendTemplate {
    /// Destination header value.
    pub destination: Destination,
    /// Run id.
    pub run: String,
    /// Adds `persistent:true` (ActiveMQ stores such messages before acknowledging).
    pub persistent: bool,
    /// JMS priority 0..=9.
    pub priority: Option<u8>,
    /// Time to live; sent as the absolute `expires` time in ms since the epoch, as ActiveMQ
    /// expects.
    pub ttl_ms: Option<u64>,
    /// Payload shared by every message (cloning `Bytes` does not copy).
    pub body: Bytes,
}

impl SendTemplate {
    /// The SEND frame for sequence number `seq`, without a receipt request.
    pub fn frame(&self, seq: u64) -> Frame {
        let mut frame = Frame::new(Command::Send)
            .header("destination", self.destination.stomp())
            .header(SEQ_HEADER, seq.to_string())
            .header(RUN_HEADER, self.run.as_str());
        if self.persistent {
            frame.push_header("persistent", "true");
        }
        if let Some(priority) = self.priority {
            frame.push_header("priority", priority.to_string());
        }
        if let Some(ttl) = self.ttl_ms {
            frame.push_header("expires", epoch_ms().saturating_add(ttl).to_string());
        }
        frame.with_body(self.body.clone())
    }
}

fn epoch_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default()
}

/// What a receiver learns from one MESSAGE frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received<'a> {
    /// The `ferromq-run` value, if any.
    pub run: Option<&'a str>,
    /// The sequence number, if present and well formed.
    pub seq: Option<u64>,
    /// The broker flagged the message as delivered before.
    pub redelivered: bool,
    /// Bench send stamp, in microseconds since the bench started.
    pub sent_us: Option<u64>,
    /// Bench warm-up message.
    pub warmup: bool,
}

impl<'a> Received<'a> {
    /// Reads the tool headers of a MESSAGE frame; malformed values read as absent.
    pub fn of(frame: &'a Frame) -> Self {
        Self {
            run: frame.get(RUN_HEADER),
            seq: frame.get(SEQ_HEADER).and_then(parse_seq),
            redelivered: frame.get("redelivered") == Some("true"),
            sent_us: frame.get(SENT_HEADER).and_then(parse_seq),
            warmup: frame.get(WARMUP_HEADER) == Some("true"),
        }
    }

    /// Whether the message belongs to `wanted` (any run when `None`).
    pub fn is_from(&self, wanted: Option<&str>) -> bool {
        match wanted {
            Some(run) => self.run == Some(run),
            None => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template() -> anyhow::Result<SendTemplate> {
        Ok(SendTemplate {
            destination: Destination::parse("queue://orders")?,
            run: "r1".to_owned(),
            persistent: true,
            priority: Some(7),
            ttl_ms: Some(60_000),
            body: body(10),
        })
    }

    #[test]
    fn send_frame_carries_the_tool_headers() -> anyhow::Result<()> {
        let frame = template()?.frame(41);
        assert_eq!(frame.command, Command::Send);
        assert_eq!(frame.get("destination"), Some("/queue/orders"));
        assert_eq!(frame.get(SEQ_HEADER), Some("41"));
        assert_eq!(frame.get(RUN_HEADER), Some("r1"));
        assert_eq!(frame.get("persistent"), Some("true"));
        assert_eq!(frame.get("priority"), Some("7"));
        let expires: u64 = frame.get("expires").unwrap_or("0").parse()?;
        assert!(expires > epoch_ms());
        assert_eq!(&frame.body[..], b"ferromq-pa");
        Ok(())
    }

    #[test]
    fn plain_template_adds_no_optional_headers() -> anyhow::Result<()> {
        let mut plain = template()?;
        plain.persistent = false;
        plain.priority = None;
        plain.ttl_ms = None;
        let frame = plain.frame(0);
        for name in ["persistent", "priority", "expires"] {
            assert_eq!(frame.get(name), None, "{name}");
        }
        Ok(())
    }

    #[test]
    fn reads_back_what_was_stamped() -> anyhow::Result<()> {
        let frame = template()?
            .frame(3)
            .header(SENT_HEADER, "1234")
            .header("redelivered", "true");
        let got = Received::of(&frame);
        assert_eq!(got.seq, Some(3));
        assert_eq!(got.sent_us, Some(1234));
        assert!(got.redelivered && !got.warmup);
        assert!(got.is_from(Some("r1")) && got.is_from(None) && !got.is_from(Some("r2")));
        let garbled = Frame::new(Command::Message).header(SEQ_HEADER, "x");
        assert_eq!(Received::of(&garbled).seq, None);
        assert!(!Received::of(&garbled).is_from(Some("r1")));
        Ok(())
    }

    #[test]
    fn run_ids_differ_and_bodies_have_the_asked_size() {
        assert_ne!(new_run_id(), {
            std::thread::sleep(std::time::Duration::from_millis(1));
            new_run_id()
        });
        assert_eq!(body(0).len(), 0);
        assert_eq!(body(1000).len(), 1000);
    }
}
