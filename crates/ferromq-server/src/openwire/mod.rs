//! One task per OpenWire connection, so the genuine ActiveMQ Java client (and any OpenWire v12
//! client) works unchanged: WireFormatInfo negotiation (loose encoding, no cache), BrokerInfo,
//! the connection/session/producer/consumer state the client builds, sends, dispatches, acks,
//! pulls, transactions, temporary destinations and advisories, keep-alives both ways.
//!
//! The wire format is `ferromq-openwire`'s; broker semantics are the core's. This module only
//! translates and keeps the per-connection bookkeeping the protocol needs.

mod connection;
mod convert;
mod handlers;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ferromq_core::BrokerHandle;
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use crate::config::ConnectorConfig;

/// How long a client has to send its WireFormatInfo (ActiveMQ waits up to 30 s).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
/// Sends awaiting their answer before the connection stops reading.
const MAX_PENDING_SENDS: usize = 256;
/// Deliveries waiting to be written per connection.
const OUTBOUND_CAPACITY: usize = 1024;
/// Deliveries written per socket write.
const DELIVERIES_PER_WRITE: usize = 256;
/// Messages a queue browser is shown at most.
const MAX_BROWSE: usize = 10_000;

/// Shared by all connections of one OpenWire connector.
#[derive(Debug)]
pub(crate) struct OpenWireContext {
    broker: BrokerHandle,
    config: ferromq_openwire::Config,
    broker_name: String,
    broker_id: String,
    broker_url: String,
    connector: String,
}

impl OpenWireContext {
    pub fn new(
        connector: &ConnectorConfig,
        broker: BrokerHandle,
        broker_name: &str,
        bound: SocketAddr,
    ) -> Self {
        let mut config = ferromq_openwire::Config::default();
        config.limits.max_frame_size = connector.max_frame_size;
        config.provider_name = "FerroMQ".to_owned();
        config.provider_version = env!("CARGO_PKG_VERSION").to_owned();
        let instance = ferromq_core::message::now_millis();
        OpenWireContext {
            broker,
            config,
            broker_name: broker_name.to_owned(),
            broker_id: format!("ID:{broker_name}-{instance}"),
            broker_url: format!("tcp://{bound}"),
            connector: connector.name.clone(),
        }
    }
}

/// Serves one accepted socket until the client leaves, misbehaves, or the broker stops.
pub(crate) async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    context: Arc<OpenWireContext>,
    stop: CancellationToken,
) {
    let outcome = tokio::select! {
        _ = stop.cancelled() => return,
        outcome = tokio::time::timeout(HANDSHAKE_TIMEOUT, connection::handshake(stream, peer, &context)) => outcome,
    };
    match outcome {
        Ok(Some(connection)) => connection.run(stop).await,
        Ok(None) => {}
        Err(_) => {
            tracing::debug!(%peer, "no WireFormatInfo within {} s; closing", HANDSHAKE_TIMEOUT.as_secs())
        }
    }
}
