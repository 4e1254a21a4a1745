//! Publishing advisory messages (see [`crate::advisory`]): temporary destinations coming and
//! going, with a replay for new subscribers, and consumers being added and removed.

use std::sync::Arc;

use super::queue::{Entry, SpaceRole};
use super::state::State;
use super::ConnectionId;
use crate::advisory::{self, Advisory};
use crate::destination::{Destination, DestinationKind};
use crate::message::{Body, Message};

/// JMSType of advisory messages, as ActiveMQ sets it.
const ADVISORY_TYPE: &str = "Advisory";

impl State {
    fn advisory_message(&mut self, topic: Destination, subject: Advisory) -> Message {
        let mut message = Message::new(self.new_message_id(), topic, Body::Empty);
        message.message_type = Some(ADVISORY_TYPE.to_owned());
        message.advisory = Some(subject);
        message
    }

    /// Whether any subscription listens to `topic`; advisories nobody wants are not built.
    fn has_listener(&self, topic: &Destination) -> bool {
        self.topic_subscriptions
            .iter()
            .filter_map(|key| self.spaces.get(key))
            .any(|space| space.destination.matches(topic))
    }

    fn publish_advisory(&mut self, topic: Destination, subject: Advisory) {
        if !self.has_listener(&topic) {
            return;
        }
        let message = self.advisory_message(topic, subject);
        let mut ops = Vec::new();
        // Advisories are non-persistent, so routing them writes nothing.
        if let Err(err) = self.route(message, &mut ops) {
            tracing::debug!(%err, "advisory not published");
        }
    }

    /// Tells `ActiveMQ.Advisory.TempQueue`/`TempTopic` listeners about a temporary destination.
    pub fn advise_temp_destination(
        &mut self,
        destination: &Destination,
        added: bool,
        owner: ConnectionId,
    ) {
        let Some(topic) = advisory::temp_destination_topic(destination.kind()) else {
            return;
        };
        let subject = Advisory::TempDestination {
            destination: destination.clone(),
            added,
            owner,
        };
        self.publish_advisory(topic, subject);
    }

    /// Tells `ActiveMQ.Advisory.Consumer.*` listeners that a consumer came or went.
    pub fn advise_consumer(&mut self, destination: &Destination, consumer: u64, added: bool) {
        if advisory::is_advisory_topic(destination) {
            return;
        }
        let Some(topic) = advisory::consumer_topic(destination) else {
            return;
        };
        if !self.has_listener(&topic) {
            return;
        }
        let consumer_count = self.spaces.get(&destination.key()).map_or_else(
            || {
                self.consumers
                    .values()
                    .filter(|c| c.destination == *destination)
                    .count()
            },
            |s| s.consumers.len(),
        );
        self.publish_advisory(
            topic,
            Advisory::Consumer {
                destination: destination.clone(),
                consumer,
                added,
                consumer_count,
            },
        );
    }

    /// Tells `ActiveMQ.Advisory.Producer.*` listeners that a producer came or went.
    pub fn advise_producer(&mut self, destination: &Destination, producer: String, added: bool) {
        if advisory::is_advisory_topic(destination) {
            return;
        }
        let Some(topic) = advisory::producer_topic(destination) else {
            return;
        };
        self.publish_advisory(
            topic,
            Advisory::Producer {
                destination: destination.clone(),
                producer,
                added,
            },
        );
    }

    /// Tells `ActiveMQ.Advisory.Connection` listeners that a connection opened or closed.
    pub fn advise_connection(
        &mut self,
        connection: ConnectionId,
        client_id: Option<String>,
        added: bool,
    ) {
        let Some(topic) = advisory::connection_topic() else {
            return;
        };
        self.publish_advisory(
            topic,
            Advisory::Connection {
                connection,
                client_id,
                added,
            },
        );
    }

    /// Tells `ActiveMQ.Advisory.Queue`/`Topic` listeners that a destination appeared or went.
    pub fn advise_destination(&mut self, destination: &Destination, added: bool) {
        if advisory::is_advisory_topic(destination) {
            return;
        }
        let Some(topic) = advisory::destination_topic(destination.kind()) else {
            return;
        };
        self.publish_advisory(
            topic,
            Advisory::Destination {
                destination: destination.clone(),
                added,
            },
        );
    }

    /// A new subscription to the temporary-destination advisory topics first hears about every
    /// temporary destination that already exists, as ActiveMQ does; the client depends on it.
    pub fn replay_temp_advisories(&mut self, subscription_space: &str) {
        let Some(space) = self.spaces.get(subscription_space) else {
            return;
        };
        let filter = space.destination.clone();
        let mut existing: Vec<(Destination, ConnectionId)> = self
            .spaces
            .values()
            .filter(|s| {
                s.role == SpaceRole::Queue && s.destination.kind() == DestinationKind::TempQueue
            })
            .filter_map(|s| s.owner.map(|owner| (s.destination.clone(), owner)))
            .collect();
        existing.extend(
            self.temp_topics
                .iter()
                .map(|(d, owner)| (d.clone(), *owner)),
        );
        for (destination, owner) in existing {
            let Some(topic) = advisory::temp_destination_topic(destination.kind()) else {
                continue;
            };
            if !filter.matches(&topic) {
                continue;
            }
            let subject = Advisory::TempDestination {
                destination,
                added: true,
                owner,
            };
            let message = self.advisory_message(topic, subject);
            let seq = self.next_seq();
            let entry = Entry::new(seq, Arc::new(message), false);
            self.memory += entry.size;
            if let Some(space) = self.spaces.get_mut(subscription_space) {
                space.enqueue(entry);
            }
        }
        self.dirty.insert(subscription_space.to_owned());
    }
}
