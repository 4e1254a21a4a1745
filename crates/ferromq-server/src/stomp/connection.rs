//! The state of one STOMP connection and its event loop.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use ferromq_core::{
    AckMode, ConnectRequest, ConsumerId, CoreError, LastDelivered, Outbound, Session,
};
use ferromq_stomp::{Codec, Command, Frame, Item, Version};
use tokio::io::AsyncReadExt;
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::outgoing::Outgoing;
use crate::pending::PendingSends;

use super::{convert, StompContext, DELIVERIES_PER_WRITE, MAX_PENDING_SENDS, OUTBOUND_CAPACITY};

/// What the server tells clients it is.
const SERVER_HEADER: &str = concat!("FerroMQ/", env!("CARGO_PKG_VERSION"));
/// A client may be this many times its declared heart-beat interval late before it is
/// considered dead (ActiveMQ is similarly lenient).
const HEARTBEAT_GRACE: u32 = 2;
/// Heart-beat checks per shortest interval; the finer, the closer to on time.
const HEARTBEAT_TICKS: u32 = 4;

/// One subscription of this connection, by its STOMP id.
#[derive(Debug)]
pub(super) struct Subscription {
    pub consumer: ConsumerId,
    pub ack: AckMode,
    /// Deliveries awaiting an ACK/NACK, in delivery order: (tag, message id).
    pub unacked: VecDeque<(u64, String)>,
}

/// Whether the connection goes on after a frame.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Flow {
    Continue,
    Close,
}

/// A problem to report to the client in an ERROR frame.
#[derive(Debug)]
pub(super) struct StompFailure {
    pub message: String,
    pub receipt: Option<String>,
    /// Close the connection after the ERROR (protocol errors); resource errors keep it open.
    pub fatal: bool,
}

impl StompFailure {
    pub fn fatal(message: impl Into<String>, frame: &Frame) -> Self {
        StompFailure {
            message: message.into(),
            receipt: frame.get("receipt").map(str::to_owned),
            fatal: true,
        }
    }

    pub fn from_core(err: &CoreError, receipt: Option<String>) -> Self {
        let fatal = !matches!(err, CoreError::NoSpace(_));
        StompFailure {
            message: err.to_string(),
            receipt,
            fatal,
        }
    }
}

pub(super) struct Connection {
    pub peer: SocketAddr,
    pub codec: Codec,
    pub session: Session,
    reader: OwnedReadHalf,
    read_buf: BytesMut,
    out: Outgoing,
    pub subscriptions: HashMap<String, Subscription>,
    pub consumers: HashMap<ConsumerId, String>,
    /// Per consumer, the tag of the last delivery taken to be written. Deliveries still
    /// queued for this connection when it ends never left the broker: they go back without
    /// counting as delivered (no `redelivered` flag, no step towards `max_redeliveries`).
    /// One taken but perhaps not fully written counts, as the client may have seen it.
    last_taken: HashMap<ConsumerId, u64>,
    pub pending: PendingSends<Option<String>>,
    pub temp_prefix: String,
    /// How often we must send something (0: never).
    send_interval: Duration,
    /// How long the client may stay silent (0: forever).
    receive_timeout: Duration,
    last_read: Instant,
    /// How often heart-beats are checked (set when the loop starts).
    tick: Duration,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("peer", &self.peer)
            .field("session", &self.session.id())
            .finish_non_exhaustive()
    }
}

enum Event {
    Read(std::io::Result<usize>),
    Outbound(Option<Outbound>),
    SendDone(Option<String>, Result<(), CoreError>),
    Tick,
    Stop,
}

/// Reads the CONNECT frame, negotiates, registers with the core and answers CONNECTED.
pub(super) async fn handshake(
    stream: TcpStream,
    peer: SocketAddr,
    context: &Arc<StompContext>,
) -> Option<Connection> {
    let (mut reader, writer) = stream.into_split();
    let mut out = Outgoing::new(writer, 8 * 1024);
    let mut codec = Codec::new(context.limits.clone());
    let mut read_buf = BytesMut::with_capacity(8 * 1024);
    let frame = loop {
        match codec.decode(&mut read_buf) {
            Ok(Some(Item::Frame(frame))) => break frame,
            Ok(Some(Item::HeartBeat)) => continue,
            Ok(None) => {}
            Err(err) => {
                reject(&mut out, &codec, &err.to_string(), None).await;
                return None;
            }
        }
        match reader.read_buf(&mut read_buf).await {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
    };
    if !matches!(frame.command, Command::Connect | Command::Stomp) {
        let message = format!(
            "expected a CONNECT or STOMP frame first, got {}",
            frame.command.as_str()
        );
        reject(&mut out, &codec, &message, frame.get("receipt")).await;
        return None;
    }
    let Some(version) = Version::negotiate(frame.get("accept-version")) else {
        let message = "Supported protocol versions are 1.0,1.1,1.2";
        reject(&mut out, &codec, message, None).await;
        return None;
    };
    codec.set_version(version);
    let (client_send, client_receive) = parse_heart_beat(frame.get("heart-beat"));
    let temp_prefix = context.temp_prefix();
    let request = ConnectRequest {
        client_id: frame.get("client-id").map(str::to_owned),
        temp_prefix: temp_prefix.clone(),
        outbound_capacity: OUTBOUND_CAPACITY,
        peer: peer.to_string(),
        // ActiveMQ's STOMP refuses a second connection with the same client id.
        take_over: false,
    };
    let session = match context.broker.connect(request).await {
        Ok(session) => session,
        Err(err) => {
            reject(&mut out, &codec, &err.to_string(), None).await;
            return None;
        }
    };
    // We send as often as the client wants to hear from us, and expect to hear from the client
    // as often as it says it will send.
    let heart_beat = format!("{client_receive},{client_send}");
    let mut connected = Frame::new(Command::Connected)
        .header("version", version.as_str())
        .header("server", SERVER_HEADER)
        .header(
            "session",
            format!("{}-{}", context.broker_name, session.id()),
        )
        .header("heart-beat", heart_beat);
    // A plain 1.0 client (no accept-version, no heart-beat) gets a plain 1.0 answer.
    if frame.get("accept-version").is_none() {
        connected.headers.retain(|(name, _)| name != "version");
    }
    if frame.get("heart-beat").is_none() {
        connected.headers.retain(|(name, _)| name != "heart-beat");
    }
    codec.encode(&connected, out.buf());
    if out.flush().await.is_err() {
        session.close().await;
        return None;
    }
    tracing::debug!(%peer, connector = %context.connector, version = version.as_str(), conn = session.id(), "STOMP client connected");
    let now = Instant::now();
    Some(Connection {
        peer,
        codec,
        session,
        reader,
        read_buf,
        out,
        subscriptions: HashMap::new(),
        consumers: HashMap::new(),
        last_taken: HashMap::new(),
        pending: PendingSends::default(),
        temp_prefix,
        send_interval: Duration::from_millis(u64::from(client_receive)),
        receive_timeout: Duration::from_millis(u64::from(client_send)) * HEARTBEAT_GRACE,
        last_read: now,
        tick: Duration::ZERO,
    })
}

/// `heart-beat: cx,cy` → (client sends every cx ms, client wants to receive every cy ms).
fn parse_heart_beat(header: Option<&str>) -> (u32, u32) {
    let Some((send, receive)) = header.and_then(|h| h.split_once(',')) else {
        return (0, 0);
    };
    (
        send.trim().parse().unwrap_or(0),
        receive.trim().parse().unwrap_or(0),
    )
}

async fn reject(out: &mut Outgoing, codec: &Codec, message: &str, receipt: Option<&str>) {
    codec.encode(&error_frame(message, receipt), out.buf());
    // The peer may already be gone; there is nobody else to tell.
    let _ = out.flush().await;
    out.shutdown().await;
}

fn error_frame(message: &str, receipt: Option<&str>) -> Frame {
    let mut frame = Frame::new(Command::Error)
        .header("message", message)
        .header("content-type", "text/plain");
    if let Some(receipt) = receipt {
        frame.push_header("receipt-id", receipt);
    }
    frame.with_body(format!("{message}\n"))
}

impl Connection {
    /// The event loop.
    pub async fn run(mut self, stop: CancellationToken) {
        // Frames that came in the same packet as CONNECT must not wait for the next read.
        if self.handle_buffered().await == Flow::Close || self.out.flush().await.is_err() {
            self.finish().await;
            return;
        }
        let tick = [self.send_interval, self.receive_timeout]
            .into_iter()
            .filter(|d| !d.is_zero())
            .min()
            .map_or(Duration::from_secs(3600), |d| {
                (d / HEARTBEAT_TICKS).max(Duration::from_millis(10))
            });
        self.tick = tick;
        let mut ticker = tokio::time::interval(tick);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let reading = self.pending.len() < MAX_PENDING_SENDS;
            let event = tokio::select! {
                _ = stop.cancelled() => Event::Stop,
                read = self.reader.read_buf(&mut self.read_buf), if reading => Event::Read(read),
                outbound = self.session.next_outbound() => Event::Outbound(outbound),
                (receipt, result) = self.pending.next_done() => Event::SendDone(receipt, result),
                _ = ticker.tick() => Event::Tick,
            };
            let flow = match event {
                Event::Read(read) => self.on_read(read).await,
                Event::Outbound(Some(outbound)) => self.on_outbound(outbound).await,
                Event::Outbound(None) => Flow::Close,
                Event::SendDone(receipt, result) => self.on_send_done(receipt, result),
                Event::Tick => self.on_tick(),
                Event::Stop => {
                    self.drain_sends().await;
                    self.queue_error(&StompFailure {
                        message: "the broker is shutting down".to_owned(),
                        receipt: None,
                        fatal: true,
                    });
                    Flow::Close
                }
            };
            let flushed = self.out.flush().await;
            if flow == Flow::Close || flushed.is_err() {
                break;
            }
        }
        self.finish().await;
    }

    async fn finish(mut self) {
        self.out.shutdown().await;
        tracing::debug!(peer = %self.peer, conn = self.session.id(), "STOMP connection closed");
        let seen = self.seen_by_consumers();
        self.session.close_after(seen).await;
    }

    /// Forgets a consumer being unsubscribed; returns what its client saw.
    pub fn forget_consumer(&mut self, consumer: ConsumerId) -> LastDelivered {
        let seen = self.seen(consumer);
        self.consumers.remove(&consumer);
        self.last_taken.remove(&consumer);
        seen
    }

    /// What the client has seen of consumer `consumer`'s deliveries.
    fn seen(&self, consumer: ConsumerId) -> LastDelivered {
        self.last_taken
            .get(&consumer)
            .map_or(LastDelivered::Nothing, |tag| LastDelivered::UpTo(*tag))
    }

    /// [`Connection::seen`] for every consumer of the connection.
    pub fn seen_by_consumers(&self) -> Vec<(ConsumerId, LastDelivered)> {
        self.consumers
            .keys()
            .map(|consumer| (*consumer, self.seen(*consumer)))
            .collect()
    }

    async fn on_read(&mut self, read: std::io::Result<usize>) -> Flow {
        match read {
            Ok(0) => {
                if !self.read_buf.is_empty() {
                    tracing::debug!(peer = %self.peer, bytes = self.read_buf.len(), "client hung up in the middle of a frame");
                }
                return Flow::Close;
            }
            Ok(_) => self.last_read = Instant::now(),
            Err(err) => {
                tracing::debug!(peer = %self.peer, %err, "read failed");
                return Flow::Close;
            }
        }
        self.handle_buffered().await
    }

    /// Handles every complete frame already in the read buffer.
    async fn handle_buffered(&mut self) -> Flow {
        loop {
            match self.codec.decode(&mut self.read_buf) {
                Ok(Some(Item::Frame(frame))) => {
                    if let Err(failure) = self.handle_frame(frame).await.and_then(|flow| match flow
                    {
                        Flow::Continue => Ok(()),
                        Flow::Close => Err(None),
                    }) {
                        match failure {
                            None => return Flow::Close,
                            Some(failure) => {
                                let fatal = failure.fatal;
                                self.queue_error(&failure);
                                if fatal {
                                    return Flow::Close;
                                }
                            }
                        }
                    }
                }
                Ok(Some(Item::HeartBeat)) => {}
                Ok(None) => return Flow::Continue,
                Err(err) => {
                    tracing::info!(peer = %self.peer, %err, "closing connection after a bad frame");
                    self.queue_error(&StompFailure {
                        message: err.to_string(),
                        receipt: None,
                        fatal: true,
                    });
                    return Flow::Close;
                }
            }
        }
    }

    async fn on_outbound(&mut self, first: Outbound) -> Flow {
        crate::outbound::let_others_go_first().await;
        let mut auto_acks: Vec<(ConsumerId, u64)> = Vec::new();
        let mut next = Some(first);
        let mut written = 0;
        while let Some(outbound) = next.take() {
            match outbound {
                Outbound::Deliver(delivery) => {
                    if self.consumers.contains_key(&delivery.consumer) {
                        self.last_taken.insert(delivery.consumer, delivery.tag);
                    }
                    if let Some(auto) = self.encode_delivery(&delivery) {
                        match auto_acks
                            .iter_mut()
                            .find(|(consumer, _)| *consumer == auto.0)
                        {
                            Some(entry) => entry.1 = auto.1,
                            None => auto_acks.push(auto),
                        }
                    }
                }
                // STOMP has no pull consumers.
                Outbound::PullEmpty { .. } => {}
                Outbound::Close { reason } => {
                    self.queue_error(&StompFailure {
                        message: reason,
                        receipt: None,
                        fatal: true,
                    });
                    return Flow::Close;
                }
            }
            written += 1;
            if written < DELIVERIES_PER_WRITE {
                next = self.session.try_next_outbound();
            }
        }
        if self.out.flush().await.is_err() {
            return Flow::Close;
        }
        for (consumer, tag) in auto_acks {
            if self.session.auto_ack(consumer, tag).await.is_err() {
                return Flow::Close;
            }
        }
        if self.session.drained().await.is_err() {
            return Flow::Close;
        }
        Flow::Continue
    }

    /// Encodes a MESSAGE frame; returns (consumer, tag) when the consumer auto-acks.
    fn encode_delivery(&mut self, delivery: &ferromq_core::Delivery) -> Option<(ConsumerId, u64)> {
        let Some(sub_id) = self.consumers.get(&delivery.consumer) else {
            // Unsubscribed while the delivery was queued; the core has already taken it back.
            return None;
        };
        let subscription = self.subscriptions.get_mut(sub_id)?;
        let client_acks = subscription.ack != AckMode::Auto;
        let ack_header = (client_acks && self.codec.version() == Version::V1_2)
            .then(|| format!("{}:{}", delivery.consumer, delivery.tag));
        let frame = convert::message_frame(delivery, sub_id, ack_header, &self.temp_prefix);
        self.codec.encode(&frame, self.out.buf());
        if client_acks {
            subscription
                .unacked
                .push_back((delivery.tag, delivery.message.id.clone()));
            None
        } else {
            Some((delivery.consumer, delivery.tag))
        }
    }

    fn on_send_done(&mut self, receipt: Option<String>, result: Result<(), CoreError>) -> Flow {
        match result {
            Ok(()) => {
                if let Some(receipt) = receipt {
                    self.queue_receipt(&receipt);
                }
                Flow::Continue
            }
            Err(err) => {
                let failure = StompFailure::from_core(&err, receipt);
                let fatal = failure.fatal;
                self.queue_error(&failure);
                if fatal {
                    Flow::Close
                } else {
                    Flow::Continue
                }
            }
        }
    }

    fn on_tick(&mut self) -> Flow {
        let now = Instant::now();
        if !self.receive_timeout.is_zero()
            && now.duration_since(self.last_read) > self.receive_timeout
        {
            tracing::info!(peer = %self.peer, timeout_ms = self.receive_timeout.as_millis() as u64, "client missed its heart-beats; closing");
            return Flow::Close;
        }
        // Send when the next tick would be too late, so a heart-beat is never later than the
        // negotiated interval (clients allow little slack: stomp.py 1.5x).
        let due = self.send_interval.saturating_sub(self.tick);
        if !self.send_interval.is_zero() && self.out.silent_for(due, now) {
            Codec::encode_heartbeat(self.out.buf());
        }
        Flow::Continue
    }

    /// Waits for every pending send and queues its receipt or error, so that a frame handled
    /// next (a DISCONNECT's receipt, a COMMIT) is answered after everything sent before it.
    pub(super) async fn drain_sends(&mut self) -> Flow {
        while !self.pending.is_empty() {
            let (receipt, result) = self.pending.next_done().await;
            if self.on_send_done(receipt, result) == Flow::Close {
                return Flow::Close;
            }
        }
        Flow::Continue
    }

    pub(super) fn queue_frame(&mut self, frame: &Frame) {
        self.codec.encode(frame, self.out.buf());
    }

    pub(super) fn queue_receipt(&mut self, receipt: &str) {
        let frame = Frame::new(Command::Receipt).header("receipt-id", receipt);
        self.queue_frame(&frame);
    }

    pub(super) fn queue_error(&mut self, failure: &StompFailure) {
        tracing::debug!(peer = %self.peer, message = %failure.message, "sending ERROR frame");
        let frame = error_frame(&failure.message, failure.receipt.as_deref());
        self.queue_frame(&frame);
    }
}
