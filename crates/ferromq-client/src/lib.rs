//! An async STOMP client over tokio, for FerroMQ's command-line tools and tests, and for any
//! STOMP 1.0–1.2 broker (Apache ActiveMQ included).
//!
//! [`Client::connect`] returns a cloneable [`Client`] handle for sending and a [`Messages`]
//! stream of MESSAGE frames. Each connection runs two tasks: a writer (frames and heart-beats
//! out) and a reader (frames in, receipts matched, dead brokers detected). Every queue is
//! bounded: a slow `Messages` reader stops socket reads so TCP pushes back on the broker, and a
//! producer faster than the socket waits in `send`.
//!
//! This crate owns the client side of the protocol only; the wire format is `ferromq-stomp`'s.

mod client;
mod error;
mod handshake;
mod options;
mod reader;
mod shared;
mod writer;

pub use client::{Client, Messages, ReceiptFuture};
pub use error::ClientError;
pub use ferromq_stomp::{Command, Frame, Version};
pub use options::{AckMode, ConnectOptions};
