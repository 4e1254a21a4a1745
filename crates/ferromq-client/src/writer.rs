//! The writer task: queued frames and heart-beats → the socket.
//!
//! Owns the write half of the socket and the outbound heart-beat timer. Frames are batched
//! (everything already queued goes out in one write) and encoded with the negotiated version.
//! When the socket fails it closes the connection for everyone; it never reads.

use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use ferromq_stomp::{Codec, Frame};
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::shared::{sleep_until_opt, wait_closed, Shared};
use crate::ClientError;

/// Stop batching once this much is encoded, so one write never holds an unbounded buffer.
const BATCH_BYTES: usize = 64 * 1024;

#[derive(Debug)]
pub(crate) struct Writer {
    pub(crate) socket: OwnedWriteHalf,
    pub(crate) codec: Codec,
    pub(crate) outbound: mpsc::Receiver<Frame>,
    pub(crate) shared: Arc<Shared>,
    /// The negotiated outbound heart-beat interval.
    pub(crate) send_every: Option<Duration>,
}

impl Writer {
    pub(crate) async fn run(mut self) {
        if let Err(e) = self.write_loop().await {
            self.shared.close(ClientError::Io(e));
        }
        if let Err(e) = self.socket.shutdown().await {
            tracing::debug!(error = %e, "shutting down the socket's write side failed");
        }
    }

    async fn write_loop(&mut self) -> std::io::Result<()> {
        let mut closed = self.shared.closed_signal();
        let mut buf = BytesMut::with_capacity(BATCH_BYTES);
        let mut last_write = Instant::now();
        let mut handles_alive = true;
        loop {
            if *closed.borrow_and_update() {
                return Ok(());
            }
            let next_beat = self.send_every.map(|d| last_write + d);
            tokio::select! {
                biased;
                _ = closed.changed() => {}
                frame = self.outbound.recv(), if handles_alive => match frame {
                    Some(frame) => {
                        self.codec.encode(&frame, &mut buf);
                        while buf.len() < BATCH_BYTES {
                            match self.outbound.try_recv() {
                                Ok(frame) => self.codec.encode(&frame, &mut buf),
                                Err(_) => break,
                            }
                        }
                        write_or_close(&mut self.socket, &buf, &mut closed).await?;
                        buf.clear();
                        last_write = Instant::now();
                    }
                    // Every handle is gone, but a `Messages` reader may still need the
                    // connection alive, heart-beats included; `Shared` decides when it ends.
                    None => handles_alive = false,
                },
                () = sleep_until_opt(next_beat) => {
                    Codec::encode_heartbeat(&mut buf);
                    write_or_close(&mut self.socket, &buf, &mut closed).await?;
                    buf.clear();
                    last_write = Instant::now();
                }
            }
        }
    }
}

/// Writes `buf`, giving up if the connection is closed meanwhile: a broker that stopped reading
/// must not pin this task (and, through the full queue, every sender) forever.
async fn write_or_close(
    socket: &mut OwnedWriteHalf,
    buf: &[u8],
    closed: &mut tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    tokio::select! {
        written = socket.write_all(buf) => written,
        () = wait_closed(closed) => Ok(()),
    }
}
