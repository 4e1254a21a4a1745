//! Test support: a real broker started in-process on `127.0.0.1:0` with its data in a
//! temporary folder, and client helpers with bounded waits. Tests never use fixed ports or
//! sleeps as synchronisation. The web console is off unless a test asks for it
//! ([`TestBroker::with_console`]), and then listens on an ephemeral port too, so tests never
//! fight over 8161.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ferromq_client::{Client, ClientError, ConnectOptions, Frame, Messages};
use ferromq_console::{ConsoleContext, RunningConsole};
use ferromq_server::{BrokerConfig, Protocol, RunningServer};

/// The longest any single wait in a test may take before it is a failure.
pub const WAIT: Duration = Duration::from_secs(10);

/// User name of the console a test asks for.
pub const CONSOLE_USER: &str = "admin";
/// Password of the console a test asks for.
pub const CONSOLE_PASSWORD: &str = "admin";

/// A broker under test; its data survives [`TestBroker::restart`] and goes when it drops.
#[derive(Debug)]
pub struct TestBroker {
    server: Option<RunningServer>,
    console: Option<RunningConsole>,
    want_console: bool,
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
        TestBroker::build(extra_broker, stomp_options, false).await
    }

    /// A persistent broker with the web console on `127.0.0.1:0` (credentials
    /// [`CONSOLE_USER`]/[`CONSOLE_PASSWORD`]); `extra_broker` as in [`TestBroker::with`].
    pub async fn with_console(extra_broker: &str) -> TestBroker {
        TestBroker::build(extra_broker, "", true).await
    }

    async fn build(extra_broker: &str, stomp_options: &str, console: bool) -> TestBroker {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut broker = TestBroker {
            server: None,
            console: None,
            want_console: console,
            dir,
            extra_broker: extra_broker.to_owned(),
            stomp_options: stomp_options.to_owned(),
        };
        broker.launch().await;
        broker
    }

    fn config(&self) -> BrokerConfig {
        let query = if self.stomp_options.is_empty() {
            String::new()
        } else {
            format!("?{}", self.stomp_options)
        };
        let text = format!(
            "[broker]\nname = \"test\"\ndata_dir = \"data\"\nshutdown_drain_ms = 5000\n{}\n\n[console]\nenabled = {}\nlisten = \"127.0.0.1:0\"\nuser = \"{CONSOLE_USER}\"\npassword = \"{CONSOLE_PASSWORD}\"\n\n[[transport_connector]]\nname = \"stomp\"\nuri = \"stomp://127.0.0.1:0{}\"\n",
            self.extra_broker, self.want_console, query
        );
        BrokerConfig::parse(&text, "test.toml", self.dir.path()).expect("valid test config")
    }

    async fn launch(&mut self) {
        let config = self.config();
        let console_config = config.console.clone();
        let server = RunningServer::start(config).await.expect("broker starts");
        if console_config.enabled {
            let context = ConsoleContext::for_server(&server, Instant::now());
            let console = RunningConsole::start(&console_config, context)
                .await
                .expect("console starts");
            self.console = Some(console);
        }
        self.server = Some(server);
    }

    /// Address of the web console; panics unless the broker was made with
    /// [`TestBroker::with_console`]. It changes on every restart.
    pub fn console_addr(&self) -> SocketAddr {
        self.console
            .as_ref()
            .expect("a broker started with_console")
            .address()
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
        self.launch().await;
    }

    /// Graceful shutdown: the console first, then the broker.
    pub async fn stop(&mut self) {
        if let Some(console) = self.console.take() {
            console.shutdown().await;
        }
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
