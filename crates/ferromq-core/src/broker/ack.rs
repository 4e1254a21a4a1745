//! Acknowledgements and what follows from them: consumption, redelivery, expiry and
//! dead-lettering.

use std::sync::Arc;

use ferromq_journal::Op;

use super::consumer::owned_consumer;
use super::queue::{Entry, SpaceRole};
use super::state::State;
use super::transaction::TransactionAck;
use super::{AckKind, ConnectionId, ConsumerId, CoreError};
use crate::destination::Destination;
use crate::message::PropertyValue;

/// The property ActiveMQ sets on dead-lettered messages to say why.
pub const DLQ_CAUSE_PROPERTY: &str = "dlqDeliveryFailureCause";

impl State {
    pub fn ack(
        &mut self,
        conn: ConnectionId,
        consumer_id: ConsumerId,
        (from, tag): (Option<u64>, u64),
        kind: AckKind,
        transaction: Option<String>,
    ) -> Result<(), CoreError> {
        let consumer = owned_consumer(&mut self.consumers, conn, consumer_id)
            .ok_or(CoreError::UnknownConsumer(consumer_id))?;
        if consumer
            .in_flight
            .get(&tag)
            .is_none_or(|held| held.in_transaction)
        {
            return Err(CoreError::UnknownAck(tag));
        }
        let tags: Vec<u64> = if kind.is_range() {
            consumer
                .in_flight
                .range(from.unwrap_or(0)..=tag)
                .filter(|(_, held)| !held.in_transaction)
                .map(|(t, _)| *t)
                .collect()
        } else {
            vec![tag]
        };
        let spaces = consumer.spaces.clone();
        match (kind, transaction) {
            (AckKind::Delivered, _) => {
                for tag in tags {
                    consumer.set_released(tag, true);
                }
            }
            // Giving up on a message or finding it expired is not undone by a rollback, so
            // these take effect at once even inside a transaction, as in ActiveMQ.
            (AckKind::Poison | AckKind::Expired, _) | (_, None) => {
                for tag in tags {
                    self.settle(consumer_id, tag, kind);
                }
            }
            (_, Some(name)) => {
                let connection = self
                    .connections
                    .get_mut(&conn)
                    .ok_or(CoreError::ShuttingDown)?;
                let open = connection
                    .transactions
                    .get_mut(&name)
                    .ok_or(CoreError::UnknownTransaction(name))?;
                for tag in tags {
                    if let Some(held) = consumer.in_flight.get_mut(&tag) {
                        held.in_transaction = true;
                        consumer.set_released(tag, true);
                        open.acks.push(TransactionAck {
                            consumer: consumer_id,
                            tag,
                            kind,
                        });
                    }
                }
            }
        }
        self.dirty.extend(spaces);
        Ok(())
    }

    /// Applies an acknowledgement to one in-flight delivery.
    pub fn settle(&mut self, consumer_id: ConsumerId, tag: u64, kind: AckKind) {
        let Some(consumer) = self.consumers.get_mut(&consumer_id) else {
            return;
        };
        let Some(held) = consumer.take(tag) else {
            return;
        };
        match kind {
            AckKind::Nack => {
                self.redeliver(held.space, held.entry, "the consumer refused it (NACK)")
            }
            AckKind::Poison => self.dead_letter(
                &held.space,
                held.entry,
                "the client gave up on it after its redelivery limit (poison ack)",
            ),
            AckKind::Expired => self.expire(&held.space, held.entry),
            AckKind::Individual | AckKind::Cumulative | AckKind::Delivered => {
                self.consume(&held.space, held.entry)
            }
        }
    }

    /// A message is done with: free its memory and remove it from the store.
    pub fn consume(&mut self, key: &str, entry: Entry) {
        if let Some(space) = self.spaces.get_mut(key) {
            space.release(entry.size);
            space.stats.dequeued += 1;
        }
        self.forget(key, &entry);
    }

    fn forget(&mut self, key: &str, entry: &Entry) {
        self.memory = self.memory.saturating_sub(entry.size);
        self.memory_released = true;
        if entry.stored {
            self.deferred_ops.push(Op::Remove {
                key: key.to_owned(),
                seq: entry.seq,
            });
        }
    }

    /// Puts an unacknowledged message back, or dead-letters it once it has been delivered
    /// more than `max_redeliveries` times after the first.
    pub fn redeliver(&mut self, key: String, entry: Entry, cause: &str) {
        if entry.deliveries > self.config.max_redeliveries {
            let cause = format!(
                "delivery attempts exceeded the redelivery limit of {}: {cause}",
                self.config.max_redeliveries
            );
            self.dead_letter(&key, entry, &cause);
            return;
        }
        match self.spaces.get_mut(&key) {
            Some(space) => {
                space.requeue(entry);
                self.dirty.insert(key);
            }
            // The space went away with its owner (temporary queue, subscription): so does the
            // message, as it would have with the space.
            None => self.forget(&key, &entry),
        }
    }

    /// An expired message is never delivered; persistent ones go to the dead-letter queue as
    /// in ActiveMQ, non-persistent ones are dropped.
    pub fn expire(&mut self, key: &str, entry: Entry) {
        if let Some(space) = self.spaces.get_mut(key) {
            space.stats.expired += 1;
        }
        if entry.message.persistent {
            self.dead_letter(key, entry, "the message expired");
        } else {
            if let Some(space) = self.spaces.get_mut(key) {
                space.release(entry.size);
            }
            self.forget(key, &entry);
        }
    }

    /// Moves a message into its dead-letter queue; the removal and the new copy reach the
    /// journal in the same batch, so a crash leaves it in exactly one of the two.
    pub fn dead_letter(&mut self, key: &str, entry: Entry, cause: &str) {
        let origin = entry.message.destination.clone();
        let dlq_name = self.config.dead_letter.queue_for(origin.name());
        let Ok(dlq) = Destination::queue(dlq_name.clone()) else {
            tracing::error!(dlq = %dlq_name, "invalid dead-letter queue name; dropping message");
            self.consume(key, entry);
            return;
        };
        let from_dlq = self
            .spaces
            .get(key)
            .is_some_and(|space| space.role == SpaceRole::Queue && space.destination == dlq);
        if from_dlq {
            // Failing again inside the DLQ: keep it there for an operator, with a fresh count.
            let mut entry = entry;
            entry.deliveries = 0;
            if let Some(space) = self.spaces.get_mut(key) {
                space.requeue(entry);
            }
            return;
        }
        tracing::info!(destination = %origin, dlq = %dlq, message_id = %entry.message.id, cause, "message dead-lettered");
        if let Some(space) = self.spaces.get_mut(key) {
            space.release(entry.size);
            space.stats.dead_lettered += 1;
        }
        self.forget(key, &entry);
        let mut message = (*entry.message).clone();
        message.destination = dlq.clone();
        message.expiration = 0;
        message
            .properties
            .retain(|(name, _)| name != DLQ_CAUSE_PROPERTY);
        message.properties.push((
            DLQ_CAUSE_PROPERTY.to_owned(),
            PropertyValue::String(cause.to_owned()),
        ));
        message.original_destination.get_or_insert(origin.clone());
        let dlq_key = self.queue_space(&dlq, None);
        self.put_deferred(&dlq_key, message);
    }

    /// Puts a message the broker itself moves (dead-lettering, an operator's move) into
    /// space `key`; its journal write rides with the next batch, after the removal from
    /// where it was, so a crash leaves it in exactly one place.
    pub fn put_deferred(&mut self, key: &str, message: crate::message::Message) {
        let seq = self.next_seq();
        let mut ops = std::mem::take(&mut self.deferred_ops);
        self.put_message(key, seq, &Arc::new(message), &mut None, &mut ops);
        self.deferred_ops = ops;
    }
}
