//! Routing a sent message into the spaces that should hold it: a queue, every matching topic
//! subscription, or each part of a composite destination.

use std::sync::Arc;

use bytes::Bytes;
use ferromq_journal::Op;
use ferromq_selector::PropertySource;
use tokio::sync::oneshot;

use super::state::State;
use super::{ConnectionId, CoreError, SendOutcome};
use crate::destination::{Destination, DestinationKind};
use crate::message::Message;

/// Producers the duplicate-suppression audit remembers at once; the oldest is forgotten
/// beyond this.
pub(crate) const AUDIT_CAPACITY: usize = 65_536;

impl State {
    pub async fn send(
        &mut self,
        conn: ConnectionId,
        mut message: Message,
        transaction: Option<String>,
        reply: oneshot::Sender<SendOutcome>,
    ) {
        if message.id.is_empty() {
            message.id = self.new_message_id();
        }
        message.origin_connection = Some(conn);
        if let Err(err) = self.check_destination(conn, &message.destination) {
            let _ = reply.send(Err(err));
            return;
        }
        if self.is_resend(&message) {
            tracing::debug!(conn, message_id = %message.id, "duplicate send from a producer dropped");
            let _ = reply.send(Ok(None));
            return;
        }
        if let Some(name) = transaction {
            let open = self
                .connections
                .get_mut(&conn)
                .and_then(|c| c.transactions.get_mut(&name));
            let outcome = match open {
                Some(open) => {
                    open.sends.push(message);
                    Ok(None)
                }
                None => Err(CoreError::UnknownTransaction(name)),
            };
            let _ = reply.send(outcome);
            return;
        }
        let queued_behind = self
            .connections
            .get(&conn)
            .is_some_and(|c| c.parked_sends > 0);
        if queued_behind || self.limit_hit(&message).is_some() {
            if self.config.send_fail_if_no_space {
                let limit = self
                    .limit_hit(&message)
                    .unwrap_or_else(|| format!("the memory limit of {}", message.destination));
                let _ = reply.send(Err(CoreError::NoSpace(limit)));
            } else {
                tracing::debug!(conn, destination = %message.destination, "producer held by flow control");
                self.park(conn, message, reply);
            }
            return;
        }
        let mut ops = Vec::new();
        let outcome = match self.route(message, &mut ops) {
            Ok(()) => self.append(ops).await,
            Err(err) => Err(err),
        };
        let _ = reply.send(outcome);
    }

    /// Whether the producer already sent this message (a failover client resending), which is
    /// answered without storing it twice. Records the sequence otherwise.
    fn is_resend(&mut self, message: &Message) -> bool {
        let Some(sequence) = &message.producer_sequence else {
            return false;
        };
        match self.producer_audit.get_mut(&sequence.producer) {
            Some(last) if sequence.sequence <= *last => return true,
            Some(last) => *last = sequence.sequence,
            None => {
                self.producer_audit
                    .insert(sequence.producer.clone(), sequence.sequence);
                self.producer_audit_order
                    .push_back(sequence.producer.clone());
                if self.producer_audit_order.len() > AUDIT_CAPACITY {
                    if let Some(oldest) = self.producer_audit_order.pop_front() {
                        self.producer_audit.remove(&oldest);
                    }
                }
            }
        }
        false
    }

    /// Refuses destinations a message cannot be sent to, before anything is routed.
    fn check_destination(
        &self,
        conn: ConnectionId,
        destination: &Destination,
    ) -> Result<(), CoreError> {
        for part in destination.parts() {
            if part.is_wildcard() {
                return Err(CoreError::BadDestination(
                    part.to_string(),
                    "wildcards are for subscribing".into(),
                ));
            }
            if part.kind() == DestinationKind::TempQueue {
                self.check_temp_send(conn, &part)?;
            }
        }
        Ok(())
    }

    /// Anyone may send to a temporary queue that exists; only its owner may create it.
    fn check_temp_send(
        &self,
        conn: ConnectionId,
        destination: &Destination,
    ) -> Result<(), CoreError> {
        if self.spaces.contains_key(&destination.key()) {
            Ok(())
        } else {
            self.check_temp_access(conn, destination)
        }
    }

    /// Puts the message into every space it belongs to; journal writes go into `ops`.
    pub fn route(&mut self, message: Message, ops: &mut Vec<Op>) -> Result<(), CoreError> {
        let parts = message.destination.parts();
        let single = parts.len() == 1;
        let origin = message.origin_connection;
        for part in parts {
            let mut copy = if single {
                message.clone()
            } else {
                Message {
                    destination: part.clone(),
                    ..message.clone()
                }
            };
            copy.destination = part.clone();
            let shared = Arc::new(copy);
            let mut encoded: Option<Bytes> = None;
            match part.kind() {
                DestinationKind::Queue | DestinationKind::TempQueue => {
                    let creator = if part.kind().is_temporary() {
                        origin
                    } else {
                        None
                    };
                    let key = self.queue_space(&part, creator);
                    self.put(&key, &shared, &mut encoded, ops);
                }
                DestinationKind::Topic | DestinationKind::TempTopic => {
                    let published = self.topic_publishes.entry(part.clone()).or_default();
                    *published += 1;
                    if *published == 1 {
                        self.advise_destination(&part, true);
                    }
                    let targets: Vec<String> = self
                        .topic_subscriptions
                        .iter()
                        .filter(|key| {
                            self.spaces.get(*key).is_some_and(|space| {
                                space.destination.matches(&part)
                                    && !(space.no_local
                                        && origin.is_some()
                                        && self.subscriber_conn(space) == origin)
                                    && space.selector.as_ref().is_none_or(|s| {
                                        s.matches(shared.as_ref() as &dyn PropertySource)
                                    })
                            })
                        })
                        .cloned()
                        .collect();
                    for key in targets {
                        self.put(&key, &shared, &mut encoded, ops);
                    }
                }
            }
        }
        Ok(())
    }

    fn subscriber_conn(&self, space: &super::queue::Space) -> Option<ConnectionId> {
        space
            .consumers
            .first()
            .and_then(|id| self.consumers.get(id))
            .map(|c| c.conn)
    }

    fn put(
        &mut self,
        key: &str,
        message: &Arc<Message>,
        encoded: &mut Option<Bytes>,
        ops: &mut Vec<Op>,
    ) {
        let seq = self.next_seq();
        self.put_message(key, seq, message, encoded, ops);
    }
}
