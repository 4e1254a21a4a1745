//! The state of one OpenWire connection and its event loop.
//!
//! As in the STOMP adapter, the loop `select!`s only over cancel-safe futures (buffered socket
//! reads, channel receives, the pending-send queue, timers) and writes after the select.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use ferromq_core::{ConsumerId, CoreError, Outbound, Session};
use ferromq_openwire::{self as wire, Codec, Command};
use tokio::io::AsyncReadExt;
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::outgoing::Outgoing;
use crate::pending::PendingSends;

use super::{convert, OpenWireContext, DELIVERIES_PER_WRITE, MAX_PENDING_SENDS};

/// What a pending send is answered with: a Response for a sync send (its correlation id), or
/// a ProducerAck for an async send from a producer with a window.
pub(super) type SendAnswer = (Option<i32>, Option<(wire::ProducerId, i32)>);

/// Whether the connection goes on.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Flow {
    Continue,
    Close,
}

enum Event {
    Read(std::io::Result<usize>),
    Outbound(Option<Outbound>),
    SendDone(
        Option<i32>,
        Option<(wire::ProducerId, i32)>,
        Result<(), CoreError>,
    ),
    PullExpired(ConsumerId),
    Tick,
    Stop,
}

pub(super) struct Connection {
    pub context: Arc<OpenWireContext>,
    pub peer: SocketAddr,
    pub codec: Codec,
    reader: OwnedReadHalf,
    read_buf: BytesMut,
    out: Outgoing,
    /// Set by ConnectionInfo; most commands need it.
    pub session: Option<Session>,
    pub connection_id: Option<wire::ConnectionId>,
    pub sessions: HashSet<i64>,
    /// The client's consumer ids and the core's, both ways.
    pub consumers: HashMap<wire::ConsumerId, ConsumerId>,
    pub by_core: HashMap<ConsumerId, wire::ConsumerId>,
    /// Producer window sizes and fixed destinations (for producer advisories).
    pub producers: HashMap<wire::ProducerId, (i32, Option<ferromq_core::Destination>)>,
    pub pending: PendingSends<SendAnswer>,
    /// Pulls with a timeout, soonest first.
    pub pull_deadlines: Vec<(Instant, ConsumerId)>,
    keep_alive: Option<Duration>,
    read_timeout: Option<Duration>,
    /// The client starts its own keep-alives only after `maxInactivityDurationInitalDelay`,
    /// so silence before then is no sign of death.
    read_checks_from: Instant,
    last_read: Instant,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenWireConnection")
            .field("peer", &self.peer)
            .finish_non_exhaustive()
    }
}

/// Exchanges WireFormatInfo and sends BrokerInfo.
pub(super) async fn handshake(
    stream: TcpStream,
    peer: SocketAddr,
    context: &Arc<OpenWireContext>,
) -> Option<Connection> {
    if let Err(err) = stream.set_nodelay(true) {
        tracing::debug!(%peer, %err, "cannot set TCP_NODELAY");
    }
    let (mut reader, writer) = stream.into_split();
    let mut codec = Codec::new(context.config.clone());
    let mut out = Outgoing::new(writer, 4096);
    // Both sides send their WireFormatInfo at once; ours goes first so a client that waits
    // for it is not kept waiting.
    if codec
        .encode(&codec.local_wire_format().into(), out.buf())
        .is_err()
        || out.flush().await.is_err()
    {
        return None;
    }
    let mut read_buf = BytesMut::with_capacity(8192);
    let peer_format = loop {
        match codec.decode(&mut read_buf) {
            Ok(Some(Command::WireFormatInfo(info))) => break info,
            Ok(Some(other)) => {
                tracing::info!(%peer, type_id = other.type_id(), "OpenWire client sent a command before WireFormatInfo");
                return None;
            }
            Ok(None) => {}
            Err(err) => {
                tracing::info!(%peer, %err, "bad OpenWire handshake");
                return None;
            }
        }
        match reader.read_buf(&mut read_buf).await {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
    };
    let negotiated = match codec.negotiate(&peer_format) {
        Ok(negotiated) => negotiated.clone(),
        Err(err) => {
            tracing::info!(%peer, %err, "OpenWire negotiation failed");
            return None;
        }
    };
    let broker_info = wire::BrokerInfo {
        broker_id: Some(wire::BrokerId {
            value: context.broker_id.clone(),
        }),
        broker_url: Some(context.broker_url.clone()),
        broker_name: Some(context.broker_name.clone()),
        ..wire::BrokerInfo::default()
    };
    if codec.encode(&broker_info.into(), out.buf()).is_err() || out.flush().await.is_err() {
        return None;
    }
    tracing::debug!(%peer, connector = %context.connector, version = negotiated.version, "OpenWire client connected");
    let now = Instant::now();
    Some(Connection {
        context: Arc::clone(context),
        peer,
        codec,
        reader,
        read_buf,
        out,
        session: None,
        connection_id: None,
        sessions: HashSet::new(),
        consumers: HashMap::new(),
        by_core: HashMap::new(),
        producers: HashMap::new(),
        pending: PendingSends::default(),
        pull_deadlines: Vec::new(),
        keep_alive: negotiated.keep_alive_interval(),
        read_timeout: negotiated.read_check_interval(),
        read_checks_from: now
            + Duration::from_millis(
                u64::try_from(negotiated.max_inactivity_duration_initial_delay).unwrap_or(0),
            ),
        last_read: now,
    })
}

impl Connection {
    pub async fn run(mut self, stop: CancellationToken) {
        // The client may have sent its first commands in the same packet as its
        // WireFormatInfo; they must not wait for the next read.
        if self.handle_buffered().await == Flow::Close || self.out.flush().await.is_err() {
            self.finish().await;
            return;
        }
        let tick = [self.keep_alive, self.read_timeout]
            .into_iter()
            .flatten()
            .min()
            .map_or(Duration::from_secs(3600), |d| {
                (d / 2).max(Duration::from_millis(50))
            });
        let mut ticker = tokio::time::interval(tick);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let reading = self.pending.len() < MAX_PENDING_SENDS;
            let next_pull = self.pull_deadlines.first().copied();
            let event = tokio::select! {
                _ = stop.cancelled() => Event::Stop,
                read = self.reader.read_buf(&mut self.read_buf), if reading => Event::Read(read),
                outbound = next_outbound(&mut self.session) => Event::Outbound(outbound),
                ((correlation, ack), result) = self.pending.next_done() => Event::SendDone(correlation, ack, result),
                _ = sleep_until(next_pull.map(|(at, _)| at)) => Event::PullExpired(next_pull.map_or(0, |(_, c)| c)),
                _ = ticker.tick() => Event::Tick,
            };
            let flow = match event {
                Event::Read(read) => self.on_read(read).await,
                Event::Outbound(Some(outbound)) => self.on_outbound(outbound).await,
                Event::Outbound(None) => Flow::Close,
                Event::SendDone(correlation, ack, result) => {
                    self.on_send_done(correlation, ack, result)
                }
                Event::PullExpired(consumer) => {
                    self.pull_deadlines.retain(|(_, c)| *c != consumer);
                    match &self.session {
                        Some(session) if session.cancel_pull(consumer).await.is_err() => {
                            Flow::Close
                        }
                        _ => Flow::Continue,
                    }
                }
                Event::Tick => self.on_tick(),
                Event::Stop => {
                    self.drain_sends().await;
                    self.queue(wire::ShutdownInfo::default().into());
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
        if let Some(session) = self.session.take() {
            session.close().await;
        }
        tracing::debug!(peer = %self.peer, "OpenWire connection closed");
    }

    async fn on_read(&mut self, read: std::io::Result<usize>) -> Flow {
        match read {
            Ok(0) => return Flow::Close,
            Ok(_) => self.last_read = Instant::now(),
            Err(err) => {
                tracing::debug!(peer = %self.peer, %err, "read failed");
                return Flow::Close;
            }
        }
        self.handle_buffered().await
    }

    /// Handles every complete command already in the read buffer.
    async fn handle_buffered(&mut self) -> Flow {
        loop {
            match self.codec.decode(&mut self.read_buf) {
                Ok(Some(command)) => {
                    if self.handle(command).await == Flow::Close {
                        return Flow::Close;
                    }
                }
                Ok(None) => return Flow::Continue,
                Err(err) => {
                    tracing::info!(peer = %self.peer, %err, "closing OpenWire connection after a bad command");
                    self.connection_error(&format!("invalid OpenWire data: {err}"));
                    return Flow::Close;
                }
            }
        }
    }

    async fn on_outbound(&mut self, first: Outbound) -> Flow {
        let mut next = Some(first);
        let mut written = 0;
        while let Some(outbound) = next.take() {
            match outbound {
                Outbound::Deliver(delivery) => self.dispatch(&delivery),
                Outbound::PullEmpty { consumer } => {
                    self.pull_deadlines.retain(|(_, c)| *c != consumer);
                    if let Some(wire_id) = self.by_core.get(&consumer).cloned() {
                        self.queue(
                            wire::MessageDispatch {
                                consumer_id: Some(wire_id),
                                ..wire::MessageDispatch::default()
                            }
                            .into(),
                        );
                    }
                }
                Outbound::Close { reason } => {
                    self.connection_error(&reason);
                    return Flow::Close;
                }
            }
            written += 1;
            if written < DELIVERIES_PER_WRITE {
                next = self.session.as_mut().and_then(Session::try_next_outbound);
            }
        }
        if self.out.flush().await.is_err() {
            return Flow::Close;
        }
        match &self.session {
            Some(session) if session.drained().await.is_err() => Flow::Close,
            _ => Flow::Continue,
        }
    }

    fn dispatch(&mut self, delivery: &ferromq_core::Delivery) {
        let Some(wire_id) = self.by_core.get(&delivery.consumer).cloned() else {
            return;
        };
        self.pull_deadlines.retain(|(_, c)| *c != delivery.consumer);
        match convert::message_to_wire(delivery) {
            Ok(message) => {
                let dispatch = wire::MessageDispatch {
                    consumer_id: Some(wire_id),
                    destination: message.destination.clone(),
                    redelivery_counter: message.redelivery_counter,
                    message: Some(Box::new(message)),
                    ..wire::MessageDispatch::default()
                };
                self.queue(dispatch.into());
            }
            Err(err) => {
                tracing::warn!(peer = %self.peer, %err, message_id = %delivery.message.id, "message cannot be marshalled")
            }
        }
    }

    fn on_send_done(
        &mut self,
        correlation: Option<i32>,
        producer_ack: Option<(wire::ProducerId, i32)>,
        result: Result<(), CoreError>,
    ) -> Flow {
        match (result, correlation) {
            (Ok(()), Some(id)) => self.respond(id),
            (Ok(()), None) => {
                if let Some((producer_id, size)) = producer_ack {
                    self.queue(
                        wire::ProducerAck {
                            producer_id: Some(producer_id),
                            size,
                            ..wire::ProducerAck::default()
                        }
                        .into(),
                    );
                }
            }
            (Err(err), Some(id)) => self.exception(id, "javax.jms.JMSException", &err.to_string()),
            (Err(err), None) => self.connection_error(&err.to_string()),
        }
        Flow::Continue
    }

    fn on_tick(&mut self) -> Flow {
        let now = Instant::now();
        if let Some(timeout) = self.read_timeout.filter(|_| now >= self.read_checks_from) {
            if now.duration_since(self.last_read.max(self.read_checks_from)) > timeout {
                tracing::info!(peer = %self.peer, timeout_ms = timeout.as_millis() as u64, "OpenWire client inactive; closing");
                return Flow::Close;
            }
        }
        if let Some(interval) = self.keep_alive {
            if self.out.silent_for(interval, now) {
                self.queue(wire::KeepAliveInfo::default().into());
            }
        }
        Flow::Continue
    }

    /// Waits for every pending send, so what follows is answered after them.
    pub(super) async fn drain_sends(&mut self) {
        while !self.pending.is_empty() {
            let ((correlation, ack), result) = self.pending.next_done().await;
            self.on_send_done(correlation, ack, result);
        }
    }

    pub(super) fn queue(&mut self, command: Command) {
        if let Err(err) = self.codec.encode(&command, self.out.buf()) {
            tracing::warn!(peer = %self.peer, %err, "cannot encode an OpenWire command");
        }
    }

    pub(super) fn respond(&mut self, correlation_id: i32) {
        self.queue(
            wire::Response {
                correlation_id,
                ..wire::Response::default()
            }
            .into(),
        );
    }

    /// An ExceptionResponse whose class the Java client turns into that exception type.
    pub(super) fn exception(&mut self, correlation_id: i32, class: &str, message: &str) {
        let exception = wire::Throwable {
            class_name: Some(class.to_owned()),
            message: Some(message.to_owned()),
            ..wire::Throwable::default()
        };
        self.queue(
            wire::ExceptionResponse {
                correlation_id,
                exception: Some(exception),
                ..wire::ExceptionResponse::default()
            }
            .into(),
        );
    }

    /// A ConnectionError: for failures of commands nobody waits on, and before closing.
    pub(super) fn connection_error(&mut self, message: &str) {
        let exception = wire::Throwable {
            class_name: Some("javax.jms.JMSException".to_owned()),
            message: Some(message.to_owned()),
            ..wire::Throwable::default()
        };
        let error = wire::ConnectionError {
            exception: Some(exception),
            connection_id: self.connection_id.clone(),
            ..wire::ConnectionError::default()
        };
        self.queue(error.into());
    }
}

async fn next_outbound(session: &mut Option<Session>) -> Option<Outbound> {
    match session {
        Some(session) => session.next_outbound().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
