//! Hands pending messages to consumers: priority order, round-robin among consumers with room
//! in their prefetch window, exclusive consumers first, selectors honoured, expired messages
//! skipped. A consumer whose connection cannot take more is skipped, so it never holds up the
//! others.

use std::ops::Bound;

use ferromq_selector::Selector;
use tokio::sync::mpsc::error::TrySendError;

use super::consumer::{owned_consumer, InFlight};
use super::queue::{EntryKey, SpaceRole};
use super::state::State;
use super::{ConnectionId, ConsumerId, Delivery, Outbound};
use crate::message::{now_millis, Message};

impl State {
    /// Dispatches what one space can dispatch now.
    pub fn dispatch(&mut self, key: &str) {
        let now = now_millis();
        let max_scan = self.config.max_dispatch_scan;
        let mut expired: Vec<EntryKey> = Vec::new();
        let mut dead_connections: Vec<ConnectionId> = Vec::new();
        {
            let State {
                spaces,
                consumers,
                connections,
                next_tag,
                ..
            } = self;
            let Some(space) = spaces.get_mut(key) else {
                return;
            };
            if space.consumers.is_empty() || space.pending.is_empty() {
                return;
            }
            let candidates: Vec<ConsumerId> = match space
                .consumers
                .iter()
                .find(|id| consumers.get(id).is_some_and(|c| c.exclusive))
            {
                Some(exclusive) => vec![*exclusive],
                None => space.consumers.clone(),
            };
            let selective = space.role == SpaceRole::Queue;
            let mut cursor: Option<EntryKey> = None;
            for _ in 0..max_scan {
                let next = match cursor {
                    None => space.pending.iter().next(),
                    Some(after) => space
                        .pending
                        .range((Bound::Excluded(after), Bound::Unbounded))
                        .next(),
                };
                let Some((&entry_key, entry)) = next else {
                    break;
                };
                cursor = Some(entry_key);
                if entry.message.is_expired_at(now) {
                    expired.push(entry_key);
                    continue;
                }
                let mut any_room = false;
                let mut chosen = None;
                for offset in 0..candidates.len() {
                    let index = (space.next_consumer + offset) % candidates.len();
                    let Some(consumer) = consumers.get(&candidates[index]) else {
                        continue;
                    };
                    let paused = connections.get(&consumer.conn).is_none_or(|c| c.paused);
                    if paused || !consumer.has_capacity() {
                        continue;
                    }
                    any_room = true;
                    if selective && !selector_accepts(consumer.selector.as_ref(), &entry.message) {
                        continue;
                    }
                    chosen = Some(index);
                    break;
                }
                if !any_room {
                    break;
                }
                let Some(index) = chosen else { continue };
                let consumer_id = candidates[index];
                let (Some(consumer), Some(mut entry)) = (
                    consumers.get_mut(&consumer_id),
                    space.pending.remove(&entry_key),
                ) else {
                    continue;
                };
                let Some(connection) = connections.get_mut(&consumer.conn) else {
                    continue;
                };
                entry.deliveries += 1;
                let tag = *next_tag;
                let delivery = Outbound::Deliver(Delivery {
                    consumer: consumer_id,
                    tag,
                    message: entry.message.clone(),
                    redelivered: entry.deliveries > 1,
                    delivery_count: entry.deliveries,
                });
                let sent = match connection.outbound.try_send(delivery) {
                    Ok(()) => true,
                    Err(TrySendError::Full(delivery)) => {
                        // Raise the flag before retrying: if the session drains between our
                        // failed try and the flag, the retry succeeds; otherwise it will see the
                        // flag after draining and resume us.
                        connection
                            .wake
                            .store(true, std::sync::atomic::Ordering::SeqCst);
                        match connection.outbound.try_send(delivery) {
                            Ok(()) => true,
                            Err(TrySendError::Full(_)) => {
                                connection.paused = true;
                                false
                            }
                            Err(TrySendError::Closed(_)) => {
                                dead_connections.push(consumer.conn);
                                false
                            }
                        }
                    }
                    Err(TrySendError::Closed(_)) => {
                        dead_connections.push(consumer.conn);
                        false
                    }
                };
                if sent {
                    *next_tag += 1;
                    consumer.pull_credit = consumer.pull_credit.saturating_sub(1);
                    space.next_consumer = index + 1;
                    consumer.in_flight.insert(
                        tag,
                        InFlight {
                            space: key.to_owned(),
                            entry,
                            in_transaction: false,
                            released: false,
                        },
                    );
                } else {
                    entry.deliveries -= 1;
                    space.pending.insert(entry_key, entry);
                    if dead_connections.contains(&consumer.conn) {
                        break;
                    }
                }
            }
        }
        for entry_key in expired {
            let entry = self
                .spaces
                .get_mut(key)
                .and_then(|space| space.pending.remove(&entry_key));
            if let Some(entry) = entry {
                self.expire(key, entry);
            }
        }
        for conn in dead_connections {
            tracing::debug!(conn, "session went away without closing; cleaning up");
            self.disconnect(conn, &[]);
        }
    }

    /// A prefetch-0 consumer asks for one message. Without `wait`, an empty answer goes out at
    /// once when nothing could be dispatched now.
    pub fn pull(&mut self, conn: ConnectionId, consumer_id: ConsumerId, wait: bool) {
        let Some(consumer) = owned_consumer(&mut self.consumers, conn, consumer_id) else {
            return;
        };
        consumer.pull_credit = 1;
        let spaces = consumer.spaces.clone();
        for key in &spaces {
            self.dispatch(key);
        }
        if !wait {
            self.cancel_pull(conn, consumer_id);
        }
    }

    /// Ends an unanswered pull with `Outbound::PullEmpty`; a pull already answered is left be.
    pub fn cancel_pull(&mut self, conn: ConnectionId, consumer_id: ConsumerId) {
        let Some(consumer) = owned_consumer(&mut self.consumers, conn, consumer_id) else {
            return;
        };
        if consumer.pull_credit == 0 {
            return;
        }
        consumer.pull_credit = 0;
        if let Some(connection) = self.connections.get(&conn) {
            // The outbound queue is ordered, so the empty answer cannot overtake a delivery.
            if connection
                .outbound
                .try_send(Outbound::PullEmpty {
                    consumer: consumer_id,
                })
                .is_err()
            {
                tracing::debug!(
                    conn,
                    consumer = consumer_id,
                    "pull answer dropped: session gone or full"
                );
            }
        }
    }

    /// Sweeps every space for expired pending messages (dispatch only catches those it meets).
    pub fn expire_pending(&mut self, now: i64) {
        let mut found: Vec<(String, EntryKey)> = Vec::new();
        for (key, space) in &self.spaces {
            for (entry_key, entry) in &space.pending {
                if entry.message.is_expired_at(now) {
                    found.push((key.clone(), *entry_key));
                }
            }
        }
        for (key, entry_key) in found {
            if let Some(entry) = self
                .spaces
                .get_mut(&key)
                .and_then(|space| space.pending.remove(&entry_key))
            {
                self.expire(&key, entry);
            }
        }
    }
}

fn selector_accepts(selector: Option<&Selector>, message: &Message) -> bool {
    selector.is_none_or(|selector| selector.matches(message))
}
