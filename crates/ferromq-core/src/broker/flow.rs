//! Producer flow control: when the broker or a destination holds as many bytes as it may, new
//! sends wait here (their producers wait for the answer) or are refused, and are admitted in
//! order as consumers free memory. Nothing accepted is ever dropped to make room.

use tokio::sync::oneshot;

use super::queue::SpaceRole;
use super::state::State;
use super::{ConnectionId, CoreError, SendOutcome};
use crate::destination::DestinationKind;
use crate::message::Message;

/// A send held back by flow control.
#[derive(Debug)]
pub(crate) struct ParkedSend {
    pub conn: ConnectionId,
    pub message: Message,
    pub reply: oneshot::Sender<SendOutcome>,
}

impl State {
    /// The name of the limit `message` would exceed, if any. A space that holds nothing admits
    /// any one message, so a message larger than a limit cannot wait forever.
    pub fn limit_hit(&self, message: &Message) -> Option<String> {
        let size = message.memory_size();
        if self.memory > 0 && self.memory + size > self.config.memory_limit {
            return Some("the broker memory limit".to_owned());
        }
        if message.persistent {
            if let Some(journal) = &self.journal {
                let stored = journal.stats().live_bytes;
                if stored > 0 && stored.saturating_add(size as u64) > self.config.store_limit {
                    return Some("the message store limit".to_owned());
                }
            }
        }
        let limit = self.config.destination_memory_limit;
        for part in message.destination.parts() {
            let full = |key: &String| {
                self.spaces
                    .get(key)
                    .is_some_and(|space| space.memory > 0 && space.memory + size > limit)
            };
            let blocked = match part.kind() {
                DestinationKind::Queue | DestinationKind::TempQueue => full(&part.key()),
                DestinationKind::Topic | DestinationKind::TempTopic => {
                    self.topic_subscriptions.iter().any(|key| {
                        full(key)
                            && self.spaces.get(key).is_some_and(|s| {
                                s.role != SpaceRole::Queue && s.destination.matches(&part)
                            })
                    })
                }
            };
            if blocked {
                return Some(format!("the memory limit of {part}"));
            }
        }
        None
    }

    pub fn park(
        &mut self,
        conn: ConnectionId,
        message: Message,
        reply: oneshot::Sender<SendOutcome>,
    ) {
        if let Some(connection) = self.connections.get_mut(&conn) {
            connection.parked_sends += 1;
        }
        self.parked.push_back(ParkedSend {
            conn,
            message,
            reply,
        });
    }

    /// Admits parked sends that fit now, keeping each connection's sends in order.
    pub async fn admit_parked(&mut self) {
        let mut still_blocked: Vec<ConnectionId> = Vec::new();
        let parked = std::mem::take(&mut self.parked);
        for send in parked {
            if still_blocked.contains(&send.conn) || self.limit_hit(&send.message).is_some() {
                still_blocked.push(send.conn);
                self.parked.push_back(send);
                continue;
            }
            if let Some(connection) = self.connections.get_mut(&send.conn) {
                connection.parked_sends = connection.parked_sends.saturating_sub(1);
            }
            let mut ops = Vec::new();
            let outcome = match self.route(send.message, &mut ops) {
                Ok(()) => self.append(ops).await,
                Err(err) => Err(err),
            };
            let _ = send.reply.send(outcome);
        }
    }

    /// A closing connection's parked sends are answered and forgotten.
    pub fn drop_parked_of(&mut self, conn: ConnectionId) {
        let parked = std::mem::take(&mut self.parked);
        for send in parked {
            if send.conn == conn {
                let _ = send.reply.send(Err(CoreError::ShuttingDown));
            } else {
                self.parked.push_back(send);
            }
        }
    }
}
