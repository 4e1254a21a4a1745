//! FerroMQ's network edge: turns a [`BrokerConfig`] into a running broker — the journal, the
//! core task, one listener per transport connector and one task per client connection — and
//! takes it down again in order.
//!
//! Protocol work stays in the sans-IO codecs and broker work in `ferromq-core`; this crate owns
//! sockets, timeouts and shutdown.

pub mod config;
mod listener;
mod openwire;
mod outbound;
mod outgoing;
mod pending;
mod stomp;

use std::net::SocketAddr;
use std::sync::Arc;

use ferromq_core::broker::{self, BrokerHandle, RecoveredStore};
use ferromq_journal::{Journal, JournalConfig, LockMode, SyncMode};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use config::{
    BrokerConfig, ConfigError, ConnectorConfig, ConsoleConfig, Protocol, StoreConfig,
};

/// Why the broker could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    #[error("cannot open the message store")]
    Store(#[from] ferromq_journal::JournalError),
    #[error("cannot listen on {uri} (connector '{name}')")]
    Bind {
        name: String,
        uri: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the store task failed")]
    Join(#[from] tokio::task::JoinError),
}

/// A bound connector.
#[derive(Debug, Clone)]
pub struct BoundConnector {
    pub name: String,
    pub protocol: Protocol,
    pub address: SocketAddr,
}

/// A broker that is accepting connections.
#[derive(Debug)]
pub struct RunningServer {
    connectors: Vec<BoundConnector>,
    broker: BrokerHandle,
    core_task: JoinHandle<()>,
    stop_accepting: CancellationToken,
    stop_connections: CancellationToken,
    listeners: TaskTracker,
    connections: TaskTracker,
    config: Arc<BrokerConfig>,
    journal: Option<Journal>,
}

impl RunningServer {
    /// Opens the store (waiting for its lock if another broker holds it), recovers, binds every
    /// connector and starts accepting.
    ///
    /// # Errors
    /// The store cannot be opened, or a connector's address cannot be bound.
    pub async fn start(config: BrokerConfig) -> Result<RunningServer, ServerError> {
        let config = Arc::new(config);
        let store = if config.persistent {
            let store = &config.store;
            let mut journal_config = JournalConfig::new(store.dir.clone());
            journal_config.sync = if store.sync {
                SyncMode::Always
            } else {
                SyncMode::Never
            };
            journal_config.lock = if store.wait_for_lock {
                LockMode::Wait
            } else {
                LockMode::Fail
            };
            journal_config.segment_size = store.segment_size;
            journal_config.preallocate = store.preallocate;
            let store =
                tokio::task::spawn_blocking(move || RecoveredStore::open(journal_config)).await??;
            Some(store)
        } else {
            None
        };
        let journal = store.as_ref().map(|store| store.journal().clone());
        let (broker, core_task) = broker::spawn(config.core.clone(), store);
        let stop_accepting = CancellationToken::new();
        let stop_connections = CancellationToken::new();
        let listeners = TaskTracker::new();
        let connections = TaskTracker::new();
        let mut bound = Vec::new();
        let mut sockets = Vec::new();
        for connector in &config.connectors {
            let socket = listener::bind(connector.bind).map_err(|source| ServerError::Bind {
                name: connector.name.clone(),
                uri: connector.uri.clone(),
                source,
            });
            let socket = match socket {
                Ok(socket) => socket,
                Err(err) => {
                    broker.shutdown().await;
                    return Err(err);
                }
            };
            let address = socket.local_addr().unwrap_or(connector.bind);
            bound.push(BoundConnector {
                name: connector.name.clone(),
                protocol: connector.protocol,
                address,
            });
            sockets.push((connector.clone(), socket));
        }
        for ((connector, socket), bound) in sockets.into_iter().zip(&bound) {
            tracing::info!(connector = %connector.name, uri = %connector.uri, address = %bound.address, "accepting connections");
            let context = listener::ListenerContext {
                connector,
                broker: broker.clone(),
                broker_name: config.name.clone(),
                stop_accepting: stop_accepting.clone(),
                stop_connections: stop_connections.clone(),
                connections: connections.clone(),
            };
            listeners.spawn(listener::accept_loop(socket, context));
        }
        Ok(RunningServer {
            connectors: bound,
            broker,
            core_task,
            stop_accepting,
            stop_connections,
            listeners,
            connections,
            config,
            journal,
        })
    }

    /// The connectors with their bound addresses (port 0 resolved).
    pub fn connectors(&self) -> &[BoundConnector] {
        &self.connectors
    }

    /// The address of the first connector speaking `protocol`.
    pub fn address_of(&self, protocol: Protocol) -> Option<SocketAddr> {
        self.connectors
            .iter()
            .find(|c| c.protocol == protocol)
            .map(|c| c.address)
    }

    /// A handle into the broker core, for in-process users (console, tests).
    pub fn broker(&self) -> &BrokerHandle {
        &self.broker
    }

    /// The journal, if the broker is persistent. A clone reads counters cheaply and does not
    /// keep the journal open: the broker's shutdown closes it.
    pub fn journal(&self) -> Option<&Journal> {
        self.journal.as_ref()
    }

    /// The configuration the broker runs with.
    pub fn config(&self) -> &BrokerConfig {
        &self.config
    }

    /// Graceful shutdown: stop accepting, let connections finish what they were doing (up to
    /// the configured drain time), then flush and close the store.
    pub async fn shutdown(self) {
        self.stop_accepting.cancel();
        self.listeners.close();
        self.listeners.wait().await;
        self.stop_connections.cancel();
        self.connections.close();
        if tokio::time::timeout(self.config.shutdown_drain, self.connections.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                drain_ms = self.config.shutdown_drain.as_millis() as u64,
                "connections still busy after the drain time; closing anyway"
            );
        }
        self.broker.shutdown().await;
        if let Err(err) = self.core_task.await {
            tracing::error!(%err, "broker core ended abnormally");
        }
        tracing::info!("broker stopped");
    }
}
