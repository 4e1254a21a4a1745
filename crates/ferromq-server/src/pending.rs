//! Pipelined sends, shared by the protocol adapters: a connection hands a send to the core and
//! goes on reading; the answers (accepted, then durable for persistent messages) are awaited
//! here in order, each with what the protocol needs to answer its client (a STOMP receipt id,
//! an OpenWire correlation id).

use std::collections::VecDeque;
use std::pin::Pin;

use ferromq_core::{CoreError, SendOutcome};
use ferromq_journal::Durable;
use tokio::sync::oneshot;

enum State {
    Accepting(oneshot::Receiver<SendOutcome>),
    Storing(Pin<Box<Durable>>),
}

/// Sends awaiting their answers, oldest first.
pub(crate) struct PendingSends<T> {
    queue: VecDeque<(T, State)>,
}

impl<T> std::fmt::Debug for PendingSends<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingSends")
            .field("len", &self.queue.len())
            .finish()
    }
}

impl<T> Default for PendingSends<T> {
    fn default() -> Self {
        PendingSends {
            queue: VecDeque::new(),
        }
    }
}

impl<T> PendingSends<T> {
    pub fn push(&mut self, answer_to: T, answer: oneshot::Receiver<SendOutcome>) {
        self.queue.push_back((answer_to, State::Accepting(answer)));
    }

    pub fn len(&self) -> usize {
        self.queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Resolves when the oldest send is answered, and stored if persistent. Cancel safe:
    /// progress is kept in the queue. Never resolves while nothing is pending.
    pub async fn next_done(&mut self) -> (T, Result<(), CoreError>) {
        let Some((_, state)) = self.queue.front_mut() else {
            return std::future::pending().await;
        };
        let result = loop {
            match state {
                State::Accepting(answer) => match answer.await {
                    Ok(Ok(Some(durable))) => *state = State::Storing(Box::pin(durable)),
                    Ok(Ok(None)) => break Ok(()),
                    Ok(Err(err)) => break Err(err),
                    Err(_) => break Err(CoreError::ShuttingDown),
                },
                State::Storing(durable) => {
                    break durable
                        .as_mut()
                        .await
                        .map_err(|err| CoreError::Store(err.to_string()));
                }
            }
        };
        match self.queue.pop_front() {
            Some((answer_to, _)) => (answer_to, result),
            // The front was there when we started and only this method pops.
            None => std::future::pending().await,
        }
    }
}
