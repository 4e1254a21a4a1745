//! The sending half of a client connection: frames are encoded into a buffer as the
//! connection decides what to say, and the buffer goes out in one write when the event
//! that produced them is handled, so a burst of answers and deliveries costs one syscall.

use bytes::BytesMut;
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::time::{Duration, Instant};

#[derive(Debug)]
pub(crate) struct Outgoing {
    writer: OwnedWriteHalf,
    buf: BytesMut,
    last_write: Instant,
}

impl Outgoing {
    /// Takes over the socket's sending half, with a buffer of `capacity` bytes to start.
    pub(crate) fn new(writer: OwnedWriteHalf, capacity: usize) -> Self {
        Outgoing {
            writer,
            buf: BytesMut::with_capacity(capacity),
            last_write: Instant::now(),
        }
    }

    /// Where the connection encodes what it will send next.
    pub(crate) fn buf(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    /// Whether the connection has been silent for `interval` with nothing waiting to be
    /// written: the moment for a heart-beat or keep-alive.
    pub(crate) fn silent_for(&self, interval: Duration, now: Instant) -> bool {
        self.buf.is_empty() && now.duration_since(self.last_write) >= interval
    }

    /// Writes everything encoded so far. The buffer is emptied even when the write fails:
    /// the connection is over then.
    pub(crate) async fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let result = self.writer.write_all(&self.buf).await;
        self.buf.clear();
        self.last_write = Instant::now();
        result
    }

    /// Ends the sending direction (the peer reads end of stream after what was written).
    pub(crate) async fn shutdown(&mut self) {
        // The peer may already be gone; there is nobody left to tell.
        let _ = self.writer.shutdown().await;
    }
}
