//! The [`Client`] handle: connects, then turns method calls into frames for the writer task.
//!
//! Owns request-building (SUBSCRIBE, ACK, ...) and receipt bookkeeping from the caller's side.
//! It never touches the socket: the writer task owns writing and the reader task reading.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use ferromq_stomp::{Codec, Command, Frame, Version};
use tokio::sync::{mpsc, oneshot};

use crate::handshake::establish;
use crate::reader::{Delivery, Reader};
use crate::shared::{wait_closed, ReceiptResult, Shared};
use crate::writer::Writer;
use crate::{AckMode, ClientError, ConnectOptions};

/// Frames queued for the writer; a full queue makes `send` wait (producer backpressure).
const OUTBOUND_QUEUE: usize = 256;
/// MESSAGE frames queued for `Messages`; a full queue stops socket reads (broker backpressure).
const MESSAGE_QUEUE: usize = 256;

/// A cheap-to-clone handle to one STOMP connection. The connection ends on
/// [`Client::disconnect`], on an error, or once every handle and the [`Messages`] are dropped.
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    outbound: mpsc::Sender<Frame>,
    shared: Arc<Shared>,
    version: Version,
    connected_headers: Vec<(String, String)>,
    next_receipt: AtomicU64,
    close_timeout: Duration,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.shared.handles_dropped();
    }
}

/// The MESSAGE frames of every subscription on the connection, in arrival order (tell them
/// apart by their `subscription` header).
#[derive(Debug)]
pub struct Messages {
    rx: mpsc::Receiver<Delivery>,
    shared: Arc<Shared>,
}

impl Messages {
    /// The next MESSAGE frame. `Some(Err(_))` reports how the connection ended and is followed
    /// by `None`: an ERROR frame not answering a request arrives as [`ClientError::Broker`]
    /// (one answering a request fails that request instead, and ends the stream only if the
    /// broker then closes the connection). After [`Client::disconnect`] the stream just ends.
    pub async fn recv(&mut self) -> Option<Result<Frame, ClientError>> {
        self.rx.recv().await
    }
}

impl Drop for Messages {
    fn drop(&mut self) {
        self.shared.messages_dropped();
    }
}

/// A RECEIPT being awaited; resolves to `Ok(())` on RECEIPT and to an error on a matching
/// ERROR frame or a lost connection. Dropping it just stops waiting.
#[derive(Debug)]
pub struct ReceiptFuture {
    receipt_id: String,
    rx: oneshot::Receiver<ReceiptResult>,
}

impl ReceiptFuture {
    /// The `receipt` header value the frame was sent with.
    pub fn receipt_id(&self) -> &str {
        &self.receipt_id
    }
}

impl Future for ReceiptFuture {
    type Output = Result<(), ClientError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.rx)
            .poll(cx)
            .map(|received| received.unwrap_or(Err(ClientError::Closed)))
    }
}

/// Unregisters a receipt waiter if the frame never made it into the outbound queue (an error,
/// or the caller dropping `start_receipt` midway).
struct WaiterGuard<'a> {
    shared: &'a Shared,
    receipt_id: &'a str,
    armed: bool,
}

impl Drop for WaiterGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.shared.unregister(self.receipt_id);
        }
    }
}

impl Client {
    /// Opens a TCP connection to `addr` (`"host:port"`), performs the CONNECT handshake and
    /// starts the connection's reader and writer tasks. Must be called inside a tokio runtime.
    ///
    /// # Errors
    /// [`ClientError::Timeout`] if connecting and handshaking take longer than
    /// `opts.connect_timeout`; [`ClientError::Broker`] if the broker answers with ERROR (bad
    /// credentials, say); [`ClientError::Io`] for network failures.
    pub async fn connect(
        addr: &str,
        opts: ConnectOptions,
    ) -> Result<(Client, Messages), ClientError> {
        let established = establish(addr, &opts).await?;
        let version = established.codec.version();
        let (read_half, write_half) = established.stream.into_split();
        let shared = Arc::new(Shared::new());
        let (outbound_tx, outbound_rx) = mpsc::channel(OUTBOUND_QUEUE);
        let (messages_tx, messages_rx) = mpsc::channel(MESSAGE_QUEUE);

        let mut write_codec = Codec::new(established.codec.limits().clone());
        write_codec.set_version(version);
        tokio::spawn(
            Writer {
                socket: write_half,
                codec: write_codec,
                outbound: outbound_rx,
                shared: Arc::clone(&shared),
                send_every: established.send_every,
            }
            .run(),
        );
        tokio::spawn(
            Reader {
                socket: read_half,
                buf: established.leftover,
                codec: established.codec,
                shared: Arc::clone(&shared),
                messages: messages_tx,
                expect_every: established.expect_every,
                last_error: None,
            }
            .run(),
        );
        tracing::debug!(addr, %version, "STOMP connection established");

        let client = Client {
            inner: Arc::new(Inner {
                outbound: outbound_tx,
                shared: Arc::clone(&shared),
                version,
                connected_headers: established.connected.headers,
                next_receipt: AtomicU64::new(1),
                close_timeout: opts.connect_timeout,
            }),
        };
        Ok((
            client,
            Messages {
                rx: messages_rx,
                shared,
            },
        ))
    }

    /// The STOMP version the broker chose.
    pub fn version(&self) -> Version {
        self.inner.version
    }

    /// The CONNECTED frame's headers (`server`, `session`, `heart-beat`, ...).
    pub fn connected_headers(&self) -> &[(String, String)] {
        &self.inner.connected_headers
    }

    /// Queues any frame for sending. Returns once it is queued, not when the broker has it.
    ///
    /// # Errors
    /// The connection's end reason (at least [`ClientError::Closed`]) if it has ended.
    pub async fn send(&self, frame: Frame) -> Result<(), ClientError> {
        let mut closed = self.inner.shared.closed_signal();
        tokio::select! {
            biased;
            () = wait_closed(&mut closed) => Err(self.inner.shared.closed_error()),
            sent = self.inner.outbound.send(frame) => {
                sent.map_err(|_| self.inner.shared.closed_error())
            }
        }
    }

    /// Sends `frame` with a `receipt` header and waits for the broker's RECEIPT.
    ///
    /// # Errors
    /// [`ClientError::Broker`] if the broker answers with ERROR; otherwise as [`Client::send`].
    pub async fn send_with_receipt(&self, frame: Frame) -> Result<(), ClientError> {
        self.start_receipt(frame).await?.await
    }

    /// Sends `frame` with a `receipt` header now and returns a future for the RECEIPT, so that
    /// many requests can be in flight at once. A `receipt` header already on the frame is used
    /// as is (it must be unique among those awaited); otherwise a unique one is added.
    ///
    /// # Errors
    /// As [`Client::send`], or [`ClientError::Unsupported`] for a receipt id already awaited.
    pub async fn start_receipt(&self, mut frame: Frame) -> Result<ReceiptFuture, ClientError> {
        let receipt_id = match frame.get("receipt") {
            Some(id) => id.to_owned(),
            None => {
                let n = self.inner.next_receipt.fetch_add(1, Ordering::Relaxed);
                let id = format!("ferromq-{n}");
                frame.push_header("receipt", id.as_str());
                id
            }
        };
        let rx = self.inner.shared.register(&receipt_id)?;
        let mut guard = WaiterGuard {
            shared: &self.inner.shared,
            receipt_id: &receipt_id,
            armed: true,
        };
        self.send(frame).await?;
        guard.armed = false;
        drop(guard);
        Ok(ReceiptFuture { receipt_id, rx })
    }

    /// Subscribes and waits for the broker to confirm. `extra` carries broker-specific headers
    /// such as `selector` or `activemq.prefetchSize`.
    ///
    /// # Errors
    /// As [`Client::send_with_receipt`].
    pub async fn subscribe(
        &self,
        destination: &str,
        id: &str,
        ack: AckMode,
        extra: &[(&str, &str)],
    ) -> Result<(), ClientError> {
        let mut frame = Frame::new(Command::Subscribe)
            .header("destination", destination)
            .header("id", id)
            .header("ack", ack.as_str());
        for (name, value) in extra {
            frame.push_header(*name, *value);
        }
        self.send_with_receipt(frame).await
    }

    /// Ends the subscription `id` and waits for the broker to confirm.
    ///
    /// # Errors
    /// As [`Client::send_with_receipt`].
    pub async fn unsubscribe(&self, id: &str) -> Result<(), ClientError> {
        self.send_with_receipt(Frame::new(Command::Unsubscribe).header("id", id))
            .await
    }

    /// Acknowledges `message` (a MESSAGE frame from [`Messages`]), optionally inside a
    /// transaction. Fire and forget: a failed ACK comes back as an ERROR on [`Messages`].
    ///
    /// # Errors
    /// [`ClientError::Unsupported`] if the frame lacks the headers an ACK needs; otherwise as
    /// [`Client::send`].
    pub async fn ack(&self, message: &Frame, transaction: Option<&str>) -> Result<(), ClientError> {
        let frame = ack_frame(self.version(), Command::Ack, message, transaction)?;
        self.send(frame).await
    }

    /// Rejects `message`, as [`Client::ack`] accepts it. STOMP 1.0 has no NACK.
    ///
    /// # Errors
    /// [`ClientError::Unsupported`] on a 1.0 connection; otherwise as [`Client::ack`].
    pub async fn nack(
        &self,
        message: &Frame,
        transaction: Option<&str>,
    ) -> Result<(), ClientError> {
        if self.version() == Version::V1_0 {
            return Err(ClientError::Unsupported(
                "NACK needs STOMP 1.1 or later; this connection speaks 1.0".to_owned(),
            ));
        }
        let frame = ack_frame(self.version(), Command::Nack, message, transaction)?;
        self.send(frame).await
    }

    /// Starts transaction `tx` and waits for the broker to confirm.
    ///
    /// # Errors
    /// As [`Client::send_with_receipt`].
    pub async fn begin(&self, tx: &str) -> Result<(), ClientError> {
        self.transaction(Command::Begin, tx).await
    }

    /// Commits transaction `tx`; once this returns `Ok`, the broker has applied it.
    ///
    /// # Errors
    /// As [`Client::send_with_receipt`].
    pub async fn commit(&self, tx: &str) -> Result<(), ClientError> {
        self.transaction(Command::Commit, tx).await
    }

    /// Rolls back transaction `tx` and waits for the broker to confirm.
    ///
    /// # Errors
    /// As [`Client::send_with_receipt`].
    pub async fn abort(&self, tx: &str) -> Result<(), ClientError> {
        self.transaction(Command::Abort, tx).await
    }

    /// Sends DISCONNECT, waits (up to the connect timeout) for its receipt, then closes the
    /// connection for every handle. [`Messages`] then ends with `None` after any frames that
    /// had already arrived.
    ///
    /// # Errors
    /// [`ClientError::Timeout`] if no receipt came in time, [`ClientError::Broker`] if the
    /// broker answered with ERROR, or the reason the connection had already ended (other than
    /// a plain close). The connection is closed either way.
    pub async fn disconnect(self) -> Result<(), ClientError> {
        let shared = Arc::clone(&self.inner.shared);
        shared.mark_graceful();
        let receipt = tokio::time::timeout(
            self.inner.close_timeout,
            self.send_with_receipt(Frame::new(Command::Disconnect)),
        )
        .await;
        shared.close(ClientError::Closed);
        match receipt {
            Err(_) => Err(ClientError::Timeout),
            // A broker may close the socket instead of answering; either way we are done.
            Ok(Ok(()) | Err(ClientError::Closed)) => Ok(()),
            Ok(Err(e)) => Err(e),
        }
    }

    async fn transaction(&self, command: Command, tx: &str) -> Result<(), ClientError> {
        self.send_with_receipt(Frame::new(command).header("transaction", tx))
            .await
    }
}

/// ACK/NACK headers differ by version: 1.2 echoes the MESSAGE's `ack` header as `id`;
/// 1.0/1.1 name the `message-id` (and, from 1.1, the `subscription`).
fn ack_frame(
    version: Version,
    command: Command,
    message: &Frame,
    transaction: Option<&str>,
) -> Result<Frame, ClientError> {
    let missing = |header: &str| {
        ClientError::Unsupported(format!(
            "cannot {command} a frame without a `{header}` header"
        ))
    };
    let mut frame = Frame::new(command);
    if version == Version::V1_2 {
        let id = message
            .get("ack")
            .or_else(|| message.get("message-id"))
            .ok_or_else(|| missing("ack"))?;
        frame.push_header("id", id);
    } else {
        let id = message
            .get("message-id")
            .ok_or_else(|| missing("message-id"))?;
        frame.push_header("message-id", id);
        if let Some(subscription) = message.get("subscription") {
            frame.push_header("subscription", subscription);
        }
    }
    if let Some(tx) = transaction {
        frame.push_header("transaction", tx);
    }
    Ok(frame)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn message() -> Frame {
        Frame::new(Command::Message)
            .header("message-id", "m-1")
            .header("subscription", "s-1")
            .header("ack", "a-1")
    }

    #[test]
    fn stomp_1_2_acks_by_the_ack_header() {
        let f = ack_frame(Version::V1_2, Command::Ack, &message(), Some("tx")).unwrap();
        assert_eq!(f.command, Command::Ack);
        assert_eq!(f.get("id"), Some("a-1"));
        assert_eq!(f.get("message-id"), None);
        assert_eq!(f.get("transaction"), Some("tx"));
    }

    #[test]
    fn older_versions_ack_by_message_id_and_subscription() {
        for v in [Version::V1_0, Version::V1_1] {
            let f = ack_frame(v, Command::Nack, &message(), None).unwrap();
            assert_eq!(f.command, Command::Nack);
            assert_eq!(f.get("message-id"), Some("m-1"));
            assert_eq!(f.get("subscription"), Some("s-1"));
            assert_eq!(f.get("id"), None);
            assert_eq!(f.get("transaction"), None);
        }
    }

    #[test]
    fn a_frame_without_ids_cannot_be_acked() {
        let bare = Frame::new(Command::Message);
        assert!(matches!(
            ack_frame(Version::V1_1, Command::Ack, &bare, None),
            Err(ClientError::Unsupported(_))
        ));
        assert!(ack_frame(Version::V1_2, Command::Ack, &bare, None).is_err());
    }
}
