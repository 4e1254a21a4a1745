//! FerroMQ's web console, served by the broker process on `[console] listen` (8161 by
//! default, as ActiveMQ's): server-rendered pages, a REST API compatible with ActiveMQ's message
//! servlet (`/api/message/NAME`), a JSON admin API (`/api/v1/...`) and Prometheus `/metrics`.
//!
//! The console is a client of the broker like any other: it reads and changes broker state only
//! through the public [`BrokerHandle`] (snapshots and admin commands answered by the core task)
//! and sends or consumes through ordinary core sessions. It owns no broker state, so stopping it
//! never affects messaging.

mod api;
mod auth;
mod error;
mod metrics;
mod model;
mod ops;
mod pages;
mod rest;
mod state;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferromq_core::BrokerHandle;
use ferromq_journal::JournalStats;
use ferromq_server::{ConsoleConfig, RunningServer};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use error::ApiError;

/// How long shutdown waits for requests in progress (long polls end at once when told).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Why the console could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConsoleError {
    #[error("cannot listen on {address} (key 'console.listen')")]
    Bind {
        address: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// A bound transport connector, as the overview page lists it.
#[derive(Debug, Clone)]
pub struct ConnectorInfo {
    pub name: String,
    pub protocol: String,
    pub address: SocketAddr,
}

/// Facts about the broker that do not change while it runs.
#[derive(Debug, Clone)]
pub struct BrokerInfo {
    pub name: String,
    pub version: String,
    /// When the broker started, for the uptime.
    pub started: Instant,
    pub connectors: Vec<ConnectorInfo>,
    pub persistent: bool,
    /// `[store] limit` in bytes.
    pub store_limit: u64,
}

/// Reads the journal's counters on demand; `None` for a memory-only broker.
pub type StoreStatsSource = Arc<dyn Fn() -> Option<JournalStats> + Send + Sync>;

/// Everything the console needs from the broker it serves.
#[derive(Clone)]
pub struct ConsoleContext {
    pub broker: BrokerHandle,
    pub info: BrokerInfo,
    pub store_stats: StoreStatsSource,
}

impl std::fmt::Debug for ConsoleContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleContext")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl ConsoleContext {
    /// The context for a running server. The console holds its own journal handle for the
    /// store counters, never the server, so the server's owner shuts it down as usual.
    pub fn for_server(server: &RunningServer, started: Instant) -> ConsoleContext {
        let config = server.config();
        let connectors = server
            .connectors()
            .iter()
            .map(|c| ConnectorInfo {
                name: c.name.clone(),
                protocol: c.protocol.to_string(),
                address: c.address,
            })
            .collect();
        let journal = server.journal().cloned();
        ConsoleContext {
            broker: server.broker().clone(),
            info: BrokerInfo {
                name: config.name.clone(),
                version: env!("CARGO_PKG_VERSION").to_owned(),
                started,
                connectors,
                persistent: config.persistent,
                store_limit: config.store.limit,
            },
            store_stats: Arc::new(move || journal.as_ref().map(ferromq_journal::Journal::stats)),
        }
    }
}

/// A console that is serving requests.
#[derive(Debug)]
pub struct RunningConsole {
    address: SocketAddr,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl RunningConsole {
    /// Binds `config.listen` and starts serving.
    ///
    /// # Errors
    /// The address cannot be bound.
    pub async fn start(
        config: &ConsoleConfig,
        context: ConsoleContext,
    ) -> Result<RunningConsole, ConsoleError> {
        let bind_error = |source| ConsoleError::Bind {
            address: config.listen,
            source,
        };
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(bind_error)?;
        let address = listener.local_addr().map_err(bind_error)?;
        if config.user == "admin" && config.password == "admin" {
            tracing::warn!(
                %address,
                "the console uses the default credentials admin/admin; set [console] user and password"
            );
        }
        let stop = CancellationToken::new();
        let state = state::AppState::new(context, config, stop.clone());
        let app = state::router(state);
        let shutdown = stop.clone().cancelled_owned();
        let task = tokio::spawn(async move {
            let served = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(shutdown)
            .await;
            if let Err(err) = served {
                tracing::error!(%err, "console server failed");
            }
        });
        tracing::info!(%address, "console listening");
        Ok(RunningConsole {
            address,
            stop,
            task,
        })
    }

    /// The bound address (port 0 resolved).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Stops accepting, ends long polls, and waits (a few seconds at most) for requests in
    /// progress to finish.
    pub async fn shutdown(self) {
        self.stop.cancel();
        let mut task = self.task;
        if tokio::time::timeout(SHUTDOWN_GRACE, &mut task)
            .await
            .is_err()
        {
            tracing::warn!("console requests still running after the grace time; closing them");
            task.abort();
        }
        tracing::info!("console stopped");
    }
}
