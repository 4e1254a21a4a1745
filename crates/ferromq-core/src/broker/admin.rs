//! What operators see and do: statistics, browsing, purging, deleting, moving and retrying
//! messages. Used by the web console and the REST API; every answer is a snapshot taken inside
//! the core task, so it is consistent with itself.

use std::sync::Arc;

use ferromq_journal::Op;
use tokio::sync::oneshot;

use super::queue::{Entry, SpaceRole};
use super::state::State;
use super::{ConnectionId, CoreError};
use crate::destination::{Destination, DestinationKind};
use crate::message::Message;
use crate::record::encode_message;

/// An operator's request.
#[derive(Debug)]
pub(crate) enum AdminCommand {
    Stats(oneshot::Sender<BrokerStats>),
    Browse {
        queue: Destination,
        limit: usize,
        reply: oneshot::Sender<Result<Vec<BrowsedMessage>, CoreError>>,
    },
    Purge {
        queue: Destination,
        reply: oneshot::Sender<Result<usize, CoreError>>,
    },
    Delete {
        queue: Destination,
        reply: oneshot::Sender<Result<(), CoreError>>,
    },
    Remove {
        queue: Destination,
        message_id: String,
        reply: oneshot::Sender<Result<(), CoreError>>,
    },
    Move {
        from: Destination,
        message_id: String,
        to: Destination,
        reply: oneshot::Sender<Result<(), CoreError>>,
    },
    Retry {
        queue: Destination,
        message_id: String,
        reply: oneshot::Sender<Result<Destination, CoreError>>,
    },
}

/// One message space as the console lists it.
#[derive(Debug, Clone)]
pub struct SpaceInfo {
    /// A queue, or the topic a subscription listens to.
    pub destination: Destination,
    /// `None` for a queue; the durable subscription's client id and name, or `("", "")` for a
    /// non-durable topic subscription.
    pub subscription: Option<(String, String)>,
    pub pending: usize,
    pub in_flight: usize,
    pub consumers: usize,
    pub enqueued: u64,
    pub dequeued: u64,
    pub expired: u64,
    pub dead_lettered: u64,
    pub memory_bytes: usize,
}

/// A connection as the console lists it.
#[derive(Debug, Clone)]
pub struct ConnectionInfo {
    pub id: ConnectionId,
    pub peer: String,
    pub client_id: Option<String>,
    pub consumers: usize,
    pub open_transactions: usize,
}

/// A snapshot of the whole broker.
#[derive(Debug, Clone, Default)]
pub struct BrokerStats {
    pub memory_used: usize,
    pub memory_limit: usize,
    pub spaces: Vec<SpaceInfo>,
    pub connections: Vec<ConnectionInfo>,
    /// Messages published per topic since start (topics keep no messages of their own).
    pub topics: Vec<(Destination, u64)>,
}

/// A message seen through the console, with where it stands.
#[derive(Debug, Clone)]
pub struct BrowsedMessage {
    pub message: Arc<Message>,
    pub delivery_count: u32,
    /// Delivered and waiting for an acknowledgement.
    pub in_flight: bool,
}

impl State {
    pub fn admin(&mut self, command: AdminCommand) {
        match command {
            AdminCommand::Stats(reply) => {
                let _ = reply.send(self.stats());
            }
            AdminCommand::Browse {
                queue,
                limit,
                reply,
            } => {
                let _ = reply.send(self.browse(&queue, limit));
            }
            AdminCommand::Purge { queue, reply } => {
                let _ = reply.send(self.purge(&queue));
            }
            AdminCommand::Delete { queue, reply } => {
                let _ = reply.send(self.delete_queue(&queue));
            }
            AdminCommand::Remove {
                queue,
                message_id,
                reply,
            } => {
                let answer = self
                    .take_pending(&queue, &message_id)
                    .map(|(key, entry)| self.consume(&key, entry));
                let _ = reply.send(answer);
            }
            AdminCommand::Move {
                from,
                message_id,
                to,
                reply,
            } => {
                let _ = reply.send(self.move_message(&from, &message_id, to));
            }
            AdminCommand::Retry {
                queue,
                message_id,
                reply,
            } => {
                let answer = self.retry(&queue, &message_id);
                let _ = reply.send(answer);
            }
        }
    }

    fn stats(&self) -> BrokerStats {
        let mut in_flight: std::collections::HashMap<&str, usize> =
            std::collections::HashMap::new();
        for consumer in self.consumers.values() {
            for held in consumer.in_flight.values() {
                *in_flight.entry(held.space.as_str()).or_default() += 1;
            }
        }
        let mut spaces: Vec<SpaceInfo> = self
            .spaces
            .values()
            .map(|space| SpaceInfo {
                destination: space.destination.clone(),
                subscription: match &space.role {
                    SpaceRole::Queue => None,
                    SpaceRole::TopicSubscription => Some((String::new(), String::new())),
                    SpaceRole::Durable { client_id, name } => {
                        Some((client_id.clone(), name.clone()))
                    }
                },
                pending: usize::try_from(space.waiting()).unwrap_or(usize::MAX),
                in_flight: in_flight.get(space.key.as_str()).copied().unwrap_or(0),
                consumers: space.consumers.len(),
                enqueued: space.stats.enqueued,
                dequeued: space.stats.dequeued,
                expired: space.stats.expired,
                dead_lettered: space.stats.dead_lettered,
                memory_bytes: space.memory,
            })
            .collect();
        spaces.sort_by(|a, b| {
            (&a.destination, &a.subscription).cmp(&(&b.destination, &b.subscription))
        });
        let mut connections: Vec<ConnectionInfo> = self
            .connections
            .iter()
            .map(|(id, connection)| ConnectionInfo {
                id: *id,
                peer: connection.peer.clone(),
                client_id: connection.client_id.clone(),
                consumers: connection.consumers.len(),
                open_transactions: connection.transactions.len(),
            })
            .collect();
        connections.sort_by_key(|c| c.id);
        let mut topics: Vec<(Destination, u64)> = self
            .topic_publishes
            .iter()
            .map(|(d, n)| (d.clone(), *n))
            .collect();
        topics.sort();
        BrokerStats {
            memory_used: self.memory,
            memory_limit: self.config.memory_limit,
            spaces,
            connections,
            topics,
        }
    }

    fn queue_key(&self, queue: &Destination) -> Result<String, CoreError> {
        let key = queue.key();
        match self.spaces.get(&key) {
            Some(space) if space.role == SpaceRole::Queue => Ok(key),
            _ => Err(CoreError::UnknownDestination(queue.to_string())),
        }
    }

    fn browse(&self, queue: &Destination, limit: usize) -> Result<Vec<BrowsedMessage>, CoreError> {
        let key = self.queue_key(queue)?;
        let mut found: Vec<(u64, BrowsedMessage)> = Vec::new();
        if let Some(space) = self.spaces.get(&key) {
            for entry in space.pending.values().take(limit) {
                let browsed = BrowsedMessage {
                    message: entry.message.clone(),
                    delivery_count: entry.deliveries,
                    in_flight: false,
                };
                found.push((entry.seq, browsed));
            }
        }
        for consumer in self.consumers.values() {
            for held in consumer.in_flight.values().filter(|held| held.space == key) {
                let browsed = BrowsedMessage {
                    message: held.entry.message.clone(),
                    delivery_count: held.entry.deliveries,
                    in_flight: true,
                };
                found.push((held.entry.seq, browsed));
            }
        }
        // Pending messages come in dispatch order already; in-flight ones go first, as the
        // oldest.
        found.sort_by_key(|(seq, browsed)| {
            (!browsed.in_flight, if browsed.in_flight { *seq } else { 0 })
        });
        Ok(found
            .into_iter()
            .take(limit)
            .map(|(_, browsed)| browsed)
            .collect())
    }

    fn purge(&mut self, queue: &Destination) -> Result<usize, CoreError> {
        let key = self.queue_key(queue)?;
        // First, so what waited behind the disk tail is pending and purged with the rest.
        let on_disk = self.forget_tail(&key);
        let pending = self
            .spaces
            .get_mut(&key)
            .map(|space| std::mem::take(&mut space.pending))
            .unwrap_or_default();
        let mut count = pending.len() as u64;
        for entry in pending.into_values() {
            self.consume(&key, entry);
        }
        if on_disk > 0 {
            count += on_disk;
            if let Some(space) = self.spaces.get_mut(&key) {
                space.stats.dequeued += on_disk;
            }
            // Dropping the space's stored messages in one op also drops those still out with
            // consumers, which must stay until acknowledged: they are written again after it.
            let mut ops = vec![Op::DropSpace { key: key.clone() }];
            for consumer in self.consumers.values() {
                for held in consumer.in_flight.values() {
                    if held.space == key && held.entry.stored {
                        ops.push(Op::Put {
                            key: key.clone(),
                            seq: held.entry.seq,
                            payload: encode_message(&held.entry.message),
                        });
                    }
                }
            }
            self.deferred_ops.extend(ops);
        }
        let count = usize::try_from(count).unwrap_or(usize::MAX);
        tracing::info!(queue = %queue, count, "queue purged");
        Ok(count)
    }

    fn delete_queue(&mut self, queue: &Destination) -> Result<(), CoreError> {
        let key = self.queue_key(queue)?;
        let consumers = self
            .spaces
            .get(&key)
            .map(|space| space.consumers.clone())
            .unwrap_or_default();
        if !consumers.is_empty() {
            return Err(CoreError::DestinationInUse(queue.to_string()));
        }
        self.purge(queue)?;
        self.delete_space(&key);
        Ok(())
    }

    /// Takes a pending (not in-flight) message out of a queue.
    fn take_pending(
        &mut self,
        queue: &Destination,
        message_id: &str,
    ) -> Result<(String, Entry), CoreError> {
        let key = self.queue_key(queue)?;
        let space = self
            .spaces
            .get_mut(&key)
            .ok_or_else(|| CoreError::UnknownDestination(queue.to_string()))?;
        let entry_key = space
            .pending
            .iter()
            .find(|(_, entry)| entry.message.id == message_id)
            .map(|(k, _)| *k)
            .ok_or_else(|| CoreError::UnknownMessage(message_id.to_owned()))?;
        let entry = space
            .pending
            .remove(&entry_key)
            .ok_or_else(|| CoreError::UnknownMessage(message_id.to_owned()))?;
        Ok((key, entry))
    }

    fn move_message(
        &mut self,
        from: &Destination,
        message_id: &str,
        to: Destination,
    ) -> Result<(), CoreError> {
        if to.kind() != DestinationKind::Queue || to.is_wildcard() || to.is_composite() {
            return Err(CoreError::BadDestination(
                to.to_string(),
                "messages can be moved to a queue only".into(),
            ));
        }
        let (key, entry) = self.take_pending(from, message_id)?;
        let mut message = (*entry.message).clone();
        message.destination = to.clone();
        self.consume(&key, entry);
        // The removal from the source (deferred) and the copy travel in the same journal batch.
        let target = self.queue_space(&to, None);
        self.put_deferred(&target, message);
        Ok(())
    }

    /// Sends a dead-lettered message back where it came from.
    fn retry(&mut self, queue: &Destination, message_id: &str) -> Result<Destination, CoreError> {
        let key = self.queue_key(queue)?;
        let original = self
            .spaces
            .get(&key)
            .and_then(|space| {
                space
                    .pending
                    .values()
                    .find(|entry| entry.message.id == message_id)
            })
            .map(|entry| entry.message.original_destination.clone())
            .ok_or_else(|| CoreError::UnknownMessage(message_id.to_owned()))?
            .ok_or_else(|| {
                CoreError::BadDestination(
                    queue.to_string(),
                    "the message has no original destination".into(),
                )
            })?;
        self.move_message(queue, message_id, original.clone())?;
        Ok(original)
    }
}
