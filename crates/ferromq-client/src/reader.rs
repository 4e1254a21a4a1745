//! The reader task: socket bytes → frames → the `Messages` stream and receipt waiters.
//!
//! Owns the read half of the socket, the read buffer and the inbound heart-beat deadline. It
//! applies backpressure by not reading while the `Messages` channel is full, except that it
//! keeps reading (parking MESSAGE frames in a bounded overflow queue) while someone awaits a
//! receipt: a receipt queued behind undelivered messages would otherwise deadlock a caller that
//! awaits, say, a COMMIT before draining its messages.
//!
//! An ERROR frame answering a request fails only that request (see `process`); any other ERROR
//! ends the connection and is the last thing the `Messages` stream yields.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use ferromq_stomp::{Codec, Command, Frame, Item};
use tokio::io::AsyncReadExt;
use tokio::net::tcp::OwnedReadHalf;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::shared::{sleep_until_opt, Shared};
use crate::ClientError;

/// MESSAGE frames parked while a receipt is awaited; past either bound we stop reading anyway.
const OVERFLOW_MAX_FRAMES: usize = 10_000;
const OVERFLOW_MAX_BYTES: usize = 64 * 1024 * 1024;
/// Room to make before each read.
const READ_CHUNK: usize = 16 * 1024;

pub(crate) type Delivery = Result<Frame, ClientError>;

#[derive(Debug)]
pub(crate) struct Reader {
    pub(crate) socket: OwnedReadHalf,
    pub(crate) buf: BytesMut,
    pub(crate) codec: Codec,
    pub(crate) shared: Arc<Shared>,
    pub(crate) messages: mpsc::Sender<Delivery>,
    /// The broker's promised heart-beat interval; silence for twice this is fatal.
    pub(crate) expect_every: Option<Duration>,
    /// An ERROR that answered a request and was the last frame received. If the connection
    /// then ends, this is why (the spec has brokers close after ERROR).
    pub(crate) last_error: Option<ClientError>,
}

/// Why reading stopped.
enum Stop {
    /// The broker closed the connection between frames.
    Eof,
    Failed(ClientError),
}

#[derive(Default)]
struct Overflow {
    frames: VecDeque<Frame>,
    bytes: usize,
    /// The user dropped `Messages`; further MESSAGE frames are discarded.
    receiver_gone: bool,
}

impl Reader {
    pub(crate) async fn run(mut self) {
        let mut overflow = Overflow::default();
        let stop = self.read_loop(&mut overflow).await;
        let Reader {
            socket,
            shared,
            messages,
            mut last_error,
            ..
        } = self;
        // Release the socket now: the stream may sit unread for a long time yet.
        drop(socket);
        let reason = match stop {
            Stop::Eof => last_error.take().unwrap_or(ClientError::Closed),
            // A reset right after an ERROR is the broker closing as the spec says it should.
            Stop::Failed(e @ ClientError::Io(_)) => last_error.take().unwrap_or(e),
            Stop::Failed(e) => e,
        };
        shared.close(reason.duplicate());
        // Frames that arrived before the end are still the user's, in order, then the reason
        // (unless they asked for the close, in which case the stream just ends).
        for frame in overflow.frames.drain(..) {
            if messages.send(Ok(frame)).await.is_err() {
                return;
            }
        }
        if !shared.is_graceful() {
            // Nobody listening any more is fine: the error also reached every receipt waiter.
            let _ = messages.send(Err(reason)).await;
        }
    }

    async fn read_loop(&mut self, overflow: &mut Overflow) -> Stop {
        let mut closed = self.shared.closed_signal();
        let mut deadline = self.expect_every.map(|d| Instant::now() + 2 * d);
        let mut was_reading = true;
        loop {
            if *closed.borrow_and_update() {
                return Stop::Failed(self.shared.closed_error());
            }
            let reading = overflow.frames.is_empty()
                || (self.shared.has_waiters()
                    && overflow.frames.len() < OVERFLOW_MAX_FRAMES
                    && overflow.bytes < OVERFLOW_MAX_BYTES);
            if reading && !was_reading {
                // We were not listening; the broker's silence meanwhile proves nothing.
                deadline = self.expect_every.map(|d| Instant::now() + 2 * d);
            }
            was_reading = reading;
            self.buf.reserve(READ_CHUNK);
            let read = tokio::select! {
                biased;
                _ = closed.changed() => continue,
                permit = self.messages.reserve(), if !overflow.frames.is_empty() => {
                    match permit {
                        Ok(permit) => {
                            if let Some(frame) = overflow.frames.pop_front() {
                                overflow.bytes = overflow.bytes.saturating_sub(frame.body.len());
                                permit.send(Ok(frame));
                            }
                        }
                        Err(_) => overflow.drop_all(),
                    }
                    continue;
                }
                _ = self.shared.waiter_added.notified(), if !reading => continue,
                read = self.socket.read_buf(&mut self.buf), if reading => read,
                () = sleep_until_opt(deadline), if reading && deadline.is_some() => {
                    let silence = self.expect_every.map_or(Duration::ZERO, |d| 2 * d);
                    return Stop::Failed(ClientError::HeartBeatTimeout(silence));
                }
            };
            match read {
                Ok(0) if self.buf.is_empty() => return Stop::Eof,
                Ok(0) => {
                    return Stop::Failed(ClientError::Io(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "broker closed the connection in the middle of a frame",
                    )))
                }
                Ok(_) => {
                    deadline = self.expect_every.map(|d| Instant::now() + 2 * d);
                    if let Err(e) = self.process(overflow) {
                        return Stop::Failed(e);
                    }
                }
                Err(e) => return Stop::Failed(ClientError::Io(e)),
            }
        }
    }

    /// Handles every complete item in the buffer.
    fn process(&mut self, overflow: &mut Overflow) -> Result<(), ClientError> {
        while let Some(item) = self.codec.decode(&mut self.buf)? {
            let Item::Frame(frame) = item else { continue };
            self.last_error = None;
            match frame.command {
                Command::Message => self.deliver(frame, overflow),
                Command::Receipt => {
                    let id = frame.get("receipt-id").unwrap_or_default();
                    if !self.shared.complete(id, Ok(())) {
                        tracing::debug!(receipt_id = id, "RECEIPT that nobody awaits");
                    }
                }
                Command::Error => {
                    let error = ClientError::from_error_frame(&frame);
                    let answered = frame
                        .get("receipt-id")
                        .is_some_and(|id| self.shared.complete(id, Err(error.duplicate())));
                    if !answered {
                        // Not tied to a request, so it concerns the whole connection.
                        return Err(error);
                    }
                    // The spec says the broker now closes the connection, but ActiveMQ keeps
                    // it open after answering a request with ERROR (an unknown transaction,
                    // say). Only the request fails; if the close does follow, the stream
                    // reports this error rather than a bare `Closed`.
                    self.last_error = Some(error);
                }
                other => tracing::warn!(command = %other, "ignoring unexpected frame from broker"),
            }
        }
        Ok(())
    }

    /// Hands a MESSAGE to the stream, or parks it behind those already waiting (order matters).
    fn deliver(&mut self, frame: Frame, overflow: &mut Overflow) {
        if overflow.receiver_gone {
            return;
        }
        if !overflow.frames.is_empty() {
            overflow.push(frame);
            return;
        }
        match self.messages.try_send(Ok(frame)) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(item)) => {
                if let Ok(frame) = item {
                    overflow.push(frame);
                }
            }
            Err(mpsc::error::TrySendError::Closed(_)) => overflow.drop_all(),
        }
    }
}

impl Overflow {
    fn push(&mut self, frame: Frame) {
        self.bytes = self.bytes.saturating_add(frame.body.len());
        self.frames.push_back(frame);
    }

    fn drop_all(&mut self) {
        if !self.receiver_gone {
            tracing::debug!("Messages was dropped; discarding incoming MESSAGE frames");
        }
        self.receiver_gone = true;
        self.frames.clear();
        self.bytes = 0;
    }
}
