//! Accept loops: one per connector. A connection permit is taken before `accept`, so a broker
//! at `maximumConnections` leaves new clients in the kernel's backlog instead of accepting and
//! dropping them; the handshake runs in the connection's own task, never here.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ferromq_core::BrokerHandle;
use socket2::{Domain, Socket, Type};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{ConnectorConfig, Protocol};
use crate::{openwire, stomp};

/// What an accept loop needs.
#[derive(Debug)]
pub(crate) struct ListenerContext {
    pub connector: ConnectorConfig,
    pub broker: BrokerHandle,
    pub broker_name: String,
    pub stop_accepting: CancellationToken,
    pub stop_connections: CancellationToken,
    pub connections: TaskTracker,
}

/// Binds with `SO_REUSEADDR` so a restarted broker does not wait out TIME_WAIT sockets.
pub(crate) fn bind(address: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(address), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&address.into())?;
    socket.listen(1024)?;
    TcpListener::from_std(socket.into())
}

pub(crate) async fn accept_loop(listener: TcpListener, context: ListenerContext) {
    let permits = Arc::new(Semaphore::new(context.connector.max_connections));
    let stomp_context = Arc::new(stomp::StompContext::new(
        &context.connector,
        context.broker.clone(),
        &context.broker_name,
    ));
    let bound = listener.local_addr().unwrap_or(context.connector.bind);
    let openwire_context = Arc::new(openwire::OpenWireContext::new(
        &context.connector,
        context.broker.clone(),
        &context.broker_name,
        bound,
    ));
    let mut backoff = Duration::from_millis(5);
    loop {
        let permit = tokio::select! {
            _ = context.stop_accepting.cancelled() => break,
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let accepted = tokio::select! {
            _ = context.stop_accepting.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => {
                backoff = Duration::from_millis(5);
                accepted
            }
            Err(err) => {
                // Usually out of file descriptors: wait instead of spinning.
                tracing::warn!(connector = %context.connector.name, %err, backoff_ms = backoff.as_millis() as u64, "accept failed");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
                continue;
            }
        };
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(%peer, %err, "cannot set TCP_NODELAY");
        }
        match context.connector.protocol {
            Protocol::Stomp => {
                let task_context = Arc::clone(&stomp_context);
                let stop = context.stop_connections.child_token();
                context.connections.spawn(async move {
                    stomp::serve(stream, peer, task_context, stop).await;
                    drop(permit);
                });
            }
            Protocol::OpenWire => {
                let task_context = Arc::clone(&openwire_context);
                let stop = context.stop_connections.child_token();
                context.connections.spawn(async move {
                    openwire::serve(stream, peer, task_context, stop).await;
                    drop(permit);
                });
            }
        }
    }
    tracing::info!(connector = %context.connector.name, "stopped accepting connections");
}
