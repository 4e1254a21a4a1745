//! Connection settings and acknowledgement modes.
//!
//! Owns the defaults; how they turn into CONNECT/SUBSCRIBE headers is `handshake`'s and
//! `client`'s business.

use std::time::Duration;

/// How to connect. Build with `ConnectOptions { login: Some(..), ..Default::default() }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectOptions {
    /// The `host` header (virtual host). Default `"localhost"`.
    pub host: String,
    pub login: Option<String>,
    pub passcode: Option<String>,
    /// Sent as `client-id`, which ActiveMQ needs for durable topic subscriptions.
    pub client_id: Option<String>,
    /// `(cx, cy)` in milliseconds: how often we can send heart-beats and how often we want them.
    /// Default `(10000, 10000)`; `(0, 0)` turns heart-beating off.
    pub heart_beat: (u32, u32),
    /// The `accept-version` header. Default `"1.0,1.1,1.2"`; empty omits the header (STOMP 1.0).
    pub accept_version: String,
    /// Bounds the TCP connect plus the CONNECT/CONNECTED exchange, and later the wait for the
    /// DISCONNECT receipt. Default 10 s.
    pub connect_timeout: Duration,
    /// Extra CONNECT headers, appended after the standard ones.
    pub extra_headers: Vec<(String, String)>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            host: "localhost".to_owned(),
            login: None,
            passcode: None,
            client_id: None,
            heart_beat: (10_000, 10_000),
            accept_version: "1.0,1.1,1.2".to_owned(),
            connect_timeout: Duration::from_secs(10),
            extra_headers: Vec::new(),
        }
    }
}

/// A subscription's `ack` mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AckMode {
    /// The broker considers a message consumed once it is sent.
    Auto,
    /// An ACK acknowledges the message and every earlier one on the subscription.
    Client,
    /// An ACK acknowledges exactly one message.
    ClientIndividual,
}

impl AckMode {
    /// The `ack` header value.
    pub fn as_str(self) -> &'static str {
        match self {
            AckMode::Auto => "auto",
            AckMode::Client => "client",
            AckMode::ClientIndividual => "client-individual",
        }
    }
}
