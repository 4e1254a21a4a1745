//! One task per STOMP connection: the CONNECT handshake, then a loop that reads frames, writes
//! deliveries, answers pipelined sends in order, and keeps heart-beats both ways.
//!
//! The loop `select!`s only over cancel-safe futures (socket reads into a buffer, channel
//! receives, a receipt queue whose state lives in the connection); writes happen after the
//! select, so a partly written frame is never abandoned.

mod connection;
mod convert;
mod handlers;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ferromq_core::BrokerHandle;
use ferromq_stomp::Limits;
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use crate::config::ConnectorConfig;

/// How long a client has to send CONNECT (ActiveMQ's `connectAttemptTimeout` is 30 s).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Sends whose answers a connection may await at once before it stops reading its socket;
/// this pipelining is what lets one producer go fast, and the bound is its flow control.
const MAX_PENDING_SENDS: usize = 256;
/// Deliveries waiting to be written per connection.
const OUTBOUND_CAPACITY: usize = 1024;
/// Deliveries written per socket write.
const DELIVERIES_PER_WRITE: usize = 256;

/// Shared by all connections of one STOMP connector.
#[derive(Debug)]
pub(crate) struct StompContext {
    broker: BrokerHandle,
    limits: Limits,
    connector: String,
    broker_name: String,
    instance: u64,
    next_connection: AtomicU64,
}

impl StompContext {
    pub fn new(connector: &ConnectorConfig, broker: BrokerHandle, broker_name: &str) -> Self {
        let limits = Limits {
            max_frame_size: connector.max_frame_size,
            ..Limits::default()
        };
        StompContext {
            broker,
            limits,
            connector: connector.name.clone(),
            broker_name: broker_name.to_owned(),
            instance: u64::try_from(ferromq_core::message::now_millis()).unwrap_or(0),
            next_connection: AtomicU64::new(1),
        }
    }

    /// Prefix of this connection's temporary destination names, unique across restarts.
    fn temp_prefix(&self) -> String {
        let n = self.next_connection.fetch_add(1, Ordering::Relaxed);
        format!("ID:{}-{}-{}:", self.broker_name, self.instance, n)
    }
}

/// Serves one accepted socket until the client leaves, misbehaves, or the broker stops.
pub(crate) async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    context: Arc<StompContext>,
    stop: CancellationToken,
) {
    let outcome = tokio::select! {
        _ = stop.cancelled() => return,
        outcome = tokio::time::timeout(CONNECT_TIMEOUT, connection::handshake(stream, peer, &context)) => outcome,
    };
    let connection = match outcome {
        Ok(Some(connection)) => connection,
        Ok(None) => return,
        Err(_) => {
            tracing::debug!(%peer, "no CONNECT frame within {} s; closing", CONNECT_TIMEOUT.as_secs());
            return;
        }
    };
    connection.run(stop).await;
}
