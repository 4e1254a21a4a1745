//! Producer flow control: when the broker or a destination holds as many bytes as it may, new
//! sends wait here (their producers wait for the answer) or are refused, and are admitted in
//! order as consumers free memory. Nothing accepted is ever dropped to make room.

use tokio::sync::oneshot;

use super::queue::{Space, SpaceRole};
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
    ///
    /// Memory limits do not hold back a persistent message bound only for durable spaces:
    /// past the high-water mark it stays on disk (see `paging`), so only the store limit
    /// applies to it.
    pub fn limit_hit(&self, message: &Message) -> Option<String> {
        let size = message.memory_size();
        let pages = |space: &Space| space.stores(message, self.journal.is_some());
        let targets = self.target_spaces(message);
        if self.memory > 0
            && self.memory + size > self.config.memory_limit
            && !targets.iter().all(|space| pages(space))
        {
            return Some("the broker memory limit".to_owned());
        }
        if message.persistent {
            if let Some(journal) = &self.journal {
                let stored = journal.live_bytes();
                if stored > 0 && stored.saturating_add(size as u64) > self.config.store_limit {
                    return Some("the message store limit".to_owned());
                }
            }
        }
        let limit = self.config.destination_memory_limit;
        targets
            .iter()
            .find(|space| !pages(space) && space.memory > 0 && space.memory + size > limit)
            .map(|space| format!("the memory limit of {}", space.destination))
    }

    /// The existing spaces a send of `message` would put it into.
    fn target_spaces(&self, message: &Message) -> Vec<&Space> {
        let mut targets = Vec::new();
        for part in message.destination.parts() {
            match part.kind() {
                DestinationKind::Queue | DestinationKind::TempQueue => {
                    targets.extend(self.spaces.get(&part.key()));
                }
                DestinationKind::Topic | DestinationKind::TempTopic => {
                    targets.extend(
                        self.topic_subscriptions
                            .iter()
                            .filter_map(|key| self.spaces.get(key))
                            .filter(|s| s.role != SpaceRole::Queue && s.destination.matches(&part)),
                    );
                }
            }
        }
        targets
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
