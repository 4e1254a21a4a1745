//! Opening STOMP connections for the tools and watching the ones nobody reads from.
//!
//! Owns the translation from command-line flags to [`ConnectOptions`]; it never retries, since a
//! load tool that silently reconnects would hide exactly the failures it exists to show.

use anyhow::Context;
use ferromq_client::{Client, ConnectOptions, Messages};
use tokio::task::JoinHandle;

use super::target::{BrokerUrl, ConnectArgs};

/// Connects and completes the STOMP handshake within `--connect-timeout`.
///
/// `client_id` is needed for ActiveMQ durable subscriptions, which are keyed by it.
///
/// # Errors
/// Fails when the TCP connection, the handshake or the login fails, or takes too long.
pub async fn connect(
    args: &ConnectArgs,
    url: &BrokerUrl,
    client_id: Option<&str>,
) -> anyhow::Result<(Client, Messages)> {
    let options = ConnectOptions {
        host: url.host.clone(),
        login: args.login.clone(),
        passcode: args.passcode.clone(),
        client_id: client_id.map(str::to_owned),
        connect_timeout: args.connect_timeout(),
        // The tools bound every wait with their own timeouts; heart-beats would only add
        // traffic, and a broker that stops reading under flow control could not receive ours.
        heart_beat: (0, 0),
        ..ConnectOptions::default()
    };
    let addr = url.addr();
    // The client applies `connect_timeout` itself; the outer bound is a backstop so that no
    // code path of the tools can wait forever on a broker that accepts and then stalls.
    let bound = args.connect_timeout() + std::time::Duration::from_secs(1);
    tokio::time::timeout(bound, Client::connect(&addr, options))
        .await
        .with_context(|| format!("connecting to {addr} timed out"))?
        .with_context(|| format!("cannot connect to {addr}"))
}

/// Drains a connection whose messages the tool does not need (a producer's) and returns the
/// first ERROR the broker sent, if any.
///
/// Draining matters: the client buffers inbound frames in a bounded queue, and an undrained
/// queue would eventually stop the client from reading receipts.
pub fn watch_errors(mut messages: Messages) -> JoinHandle<Option<String>> {
    tokio::spawn(async move {
        // Ends when the connection closes, which the tools always cause before exiting.
        // The client reports an ERROR frame as an error item, then ends the stream.
        while let Some(item) = messages.recv().await {
            if let Err(err) = item {
                return Some(err.to_string());
            }
        }
        None
    })
}

/// Adds the reason the connection ended (usually the broker's ERROR), when the watcher saw
/// one, to a failure.
pub async fn explain(err: anyhow::Error, mut watcher: JoinHandle<Option<String>>) -> anyhow::Error {
    // The watcher may still be blocked on a live connection; give it a moment to see the ERROR
    // that usually precedes the close, then give up on it.
    let waited = tokio::time::timeout(std::time::Duration::from_millis(500), &mut watcher).await;
    watcher.abort();
    match waited {
        Ok(Ok(Some(reason))) => err.context(format!("connection ended: {reason}")),
        _ => err,
    }
}
