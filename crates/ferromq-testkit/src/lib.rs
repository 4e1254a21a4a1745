//! Test support: a real broker started in-process on `127.0.0.1:0` with its data in a
//! temporary folder, and client helpers with bounded waits. Tests never use fixed ports or
//! sleeps as synchronisation.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use ferromq_client::{Client, ClientError, ConnectOptions, Frame, Messages};
use ferromq_server::{BrokerConfig, Protocol, RunningServer};

/// The longest any single wait in a test may take before it is a failure.
pub const WAIT: Duration = Duration::from_secs(10);

/// A broker under test; its data survives [`TestBroker::restart`] and goes when it drops.
#[derive(Debug)]
pub struct TestBroker {
    server: Option<RunningServer>,
    dir: tempfile::TempDir,
    extra_broker: String,
    stomp_options: String,
}

impl TestBroker {
    /// A persistent broker with default settings.
    pub async fn start() -> TestBroker {
        TestBroker::with("", "").await
    }

    /// `extra_broker` is TOML lines for `[broker]`; `stomp_options` a URI query such as
    /// `maximumConnections=2`.
    pub async fn with(extra_broker: &str, stomp_options: &str) -> TestBroker {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut broker = TestBroker {
            server: None,
            dir,
            extra_broker: extra_broker.to_owned(),
            stomp_options: stomp_options.to_owned(),
        };
        broker.server = Some(broker.launch().await);
        broker
    }

    fn config(&self) -> BrokerConfig {
        let query = if self.stomp_options.is_empty() {
            String::new()
        } else {
            format!("?{}", self.stomp_options)
        };
        let text = format!(
            "[broker]\nname = \"test\"\ndata_dir = \"data\"\nshutdown_drain_ms = 5000\n{}\n\n[[transport_connector]]\nname = \"stomp\"\nuri = \"stomp://127.0.0.1:0{}\"\n",
            self.extra_broker, query
        );
        BrokerConfig::parse(&text, "test.toml", self.dir.path()).expect("valid test config")
    }

    async fn launch(&self) -> RunningServer {
        RunningServer::start(self.config())
            .await
            .expect("broker starts")
    }

    /// `host:port` of the STOMP connector.
    pub fn stomp_addr(&self) -> String {
        let server = self.server.as_ref().expect("running");
        server
            .address_of(Protocol::Stomp)
            .expect("stomp connector")
            .to_string()
    }

    /// The broker's data folder.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Graceful shutdown (as on SIGTERM), then a start on the same data.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.server = Some(self.launch().await);
    }

    /// Graceful shutdown.
    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
    }

    /// The folder holding the temporary data, for tests that look at files.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A connected client with heart-beats off (tests control time themselves).
    pub async fn client(&self) -> (Client, Messages) {
        self.client_with(ConnectOptions::default()).await
    }

    /// A connected client with the given options (heart-beats off unless set).
    pub async fn client_with(&self, mut options: ConnectOptions) -> (Client, Messages) {
        if options.heart_beat == ConnectOptions::default().heart_beat {
            options.heart_beat = (0, 0);
        }
        Client::connect(&self.stomp_addr(), options)
            .await
            .expect("client connects")
    }
}

/// The next MESSAGE, failing the test after [`WAIT`].
pub async fn next_message(messages: &mut Messages) -> Frame {
    match tokio::time::timeout(WAIT, messages.recv()).await {
        Ok(Some(Ok(frame))) => frame,
        Ok(Some(Err(err))) => panic!("broker error instead of a message: {err}"),
        Ok(None) => panic!("connection ended while waiting for a message"),
        Err(_) => panic!("no message within {WAIT:?}"),
    }
}

/// Asserts that no MESSAGE arrives within `quiet`.
pub async fn no_message(messages: &mut Messages, quiet: Duration) {
    if let Ok(Some(result)) = tokio::time::timeout(quiet, messages.recv()).await {
        panic!("expected silence, got {result:?}");
    }
}

/// The error a broker sent, or a panic if it sent something else.
pub fn broker_error(result: Result<(), ClientError>) -> String {
    match result {
        Err(ClientError::Broker { message, .. }) => message,
        other => panic!("expected a broker ERROR, got {other:?}"),
    }
}
