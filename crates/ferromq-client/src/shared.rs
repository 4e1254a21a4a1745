//! State shared by the client handle and the connection's reader and writer tasks.
//!
//! Owns the receipt waiters and the connection's fate (open, or closed and why). Locks are std
//! mutexes held for a few map operations and never across an `.await`.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use tokio::sync::{oneshot, watch, Notify};

use crate::ClientError;

pub(crate) type ReceiptResult = Result<(), ClientError>;

#[derive(Debug)]
pub(crate) struct Shared {
    state: Mutex<State>,
    /// Wakes a reader that paused reading (backpressure) because a new receipt is awaited.
    pub(crate) waiter_added: Notify,
    closed_tx: watch::Sender<bool>,
}

#[derive(Debug, Default)]
struct State {
    waiters: HashMap<String, oneshot::Sender<ReceiptResult>>,
    /// Set once, when the connection ends; later waiters get a copy at once.
    closed: Option<ClientError>,
    /// The user asked to disconnect (or dropped everything): an EOF is not an error.
    graceful: bool,
    /// Every `Client` handle has been dropped.
    handles_gone: bool,
    /// The `Messages` stream has been dropped.
    messages_gone: bool,
}

impl Shared {
    pub(crate) fn new() -> Self {
        Shared {
            state: Mutex::new(State::default()),
            waiter_added: Notify::new(),
            closed_tx: watch::channel(false).0,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock leaves only plain maps behind, still consistent.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers interest in the RECEIPT (or ERROR) carrying `receipt_id`.
    pub(crate) fn register(
        &self,
        receipt_id: &str,
    ) -> Result<oneshot::Receiver<ReceiptResult>, ClientError> {
        let (tx, rx) = oneshot::channel();
        {
            let mut state = self.lock();
            if let Some(reason) = &state.closed {
                return Err(reason.duplicate());
            }
            if state.waiters.contains_key(receipt_id) {
                return Err(ClientError::Unsupported(format!(
                    "receipt id `{receipt_id}` is already awaited on this connection"
                )));
            }
            state.waiters.insert(receipt_id.to_owned(), tx);
        }
        self.waiter_added.notify_one();
        Ok(rx)
    }

    pub(crate) fn unregister(&self, receipt_id: &str) {
        self.lock().waiters.remove(receipt_id);
    }

    /// Resolves the waiter for `receipt_id`; false if nobody awaits it.
    pub(crate) fn complete(&self, receipt_id: &str, result: ReceiptResult) -> bool {
        let waiter = self.lock().waiters.remove(receipt_id);
        match waiter {
            // The waiter may have given up (its future dropped); that is its right.
            Some(tx) => {
                let _ = tx.send(result);
                true
            }
            None => false,
        }
    }

    pub(crate) fn has_waiters(&self) -> bool {
        !self.lock().waiters.is_empty()
    }

    pub(crate) fn mark_graceful(&self) {
        self.lock().graceful = true;
    }

    pub(crate) fn is_graceful(&self) -> bool {
        self.lock().graceful
    }

    /// Called when the last `Client` handle drops. The connection lives on for a `Messages`
    /// reader (an auto-ack consumer needs no handle), and ends once both are gone.
    pub(crate) fn handles_dropped(&self) {
        let both = {
            let mut state = self.lock();
            state.handles_gone = true;
            state.graceful |= state.messages_gone;
            state.messages_gone
        };
        if both {
            self.close(ClientError::Closed);
        }
    }

    /// Called when `Messages` drops; see [`Shared::handles_dropped`].
    pub(crate) fn messages_dropped(&self) {
        let both = {
            let mut state = self.lock();
            state.messages_gone = true;
            state.graceful |= state.handles_gone;
            state.handles_gone
        };
        if both {
            self.close(ClientError::Closed);
        }
    }

    /// Ends the connection (first reason wins), fails every waiter, and tells both tasks.
    pub(crate) fn close(&self, reason: ClientError) {
        let waiters: Vec<_> = {
            let mut state = self.lock();
            if state.closed.is_some() {
                return;
            }
            state.closed = Some(reason.duplicate());
            state.waiters.drain().map(|(_, tx)| tx).collect()
        };
        for tx in waiters {
            // A waiter whose future was dropped no longer cares.
            let _ = tx.send(Err(reason.duplicate()));
        }
        self.closed_tx.send_replace(true);
    }

    /// Why the connection ended, or `Closed` if it has not (yet) recorded a reason.
    pub(crate) fn closed_error(&self) -> ClientError {
        self.lock()
            .closed
            .as_ref()
            .map_or(ClientError::Closed, ClientError::duplicate)
    }

    pub(crate) fn closed_signal(&self) -> watch::Receiver<bool> {
        self.closed_tx.subscribe()
    }
}

/// `sleep_until` that never fires when there is no deadline (heart-beating off).
pub(crate) async fn sleep_until_opt(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Resolves once the connection is closed (immediately if it already is). Cancel-safe.
pub(crate) async fn wait_closed(signal: &mut watch::Receiver<bool>) {
    // An error means the sender (inside `Shared`) is gone, which also means closed.
    let _ = signal.wait_for(|closed| *closed).await;
}
