//! Connections, consumers and the spaces they read from: queues, topic subscriptions, durable
//! subscriptions, wildcard consumers and temporary destinations.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use ferromq_journal::Op;
use tokio::sync::mpsc;

use super::consumer::Consumer;
use super::queue::{Space, SpaceRole};
use super::state::{Connection, State};
use super::{
    ConnectRequest, ConnectionId, ConsumerId, ConsumerSpec, CoreError, LastDelivered, Outbound,
    RollbackMode,
};
use crate::destination::{Destination, DestinationKind};
use crate::record::{encode_durable, DurableDefinition};

/// Journal meta key of a durable subscription's definition.
pub(crate) fn durable_meta_key(client_id: &str, name: &str) -> String {
    format!("sub://{client_id}:{name}")
}

/// Space key of a durable subscription's messages.
pub(crate) fn durable_space_key(client_id: &str, name: &str) -> String {
    format!("durable://{client_id}:{name}")
}

impl State {
    pub fn connect(
        &mut self,
        request: ConnectRequest,
        outbound: mpsc::Sender<Outbound>,
        wake: Arc<AtomicBool>,
    ) -> Result<ConnectionId, CoreError> {
        if self.shutting_down {
            return Err(CoreError::ShuttingDown);
        }
        if let Some(client_id) = &request.client_id {
            let holder = self
                .connections
                .iter()
                .find(|(_, c)| c.client_id.as_deref() == Some(client_id.as_str()))
                .map(|(id, _)| *id);
            if let Some(holder) = holder {
                if !request.take_over {
                    return Err(CoreError::ClientIdInUse(client_id.clone()));
                }
                tracing::info!(
                    old = holder,
                    client_id,
                    "client id taken over by a reconnecting client"
                );
                if let Some(old) = self.connections.get(&holder) {
                    let reason = "the client reconnected on another connection".to_owned();
                    let _ = old.outbound.try_send(Outbound::Close { reason });
                }
                self.disconnect(holder, &[]);
            }
        }
        let id = self.next_connection;
        self.next_connection += 1;
        tracing::debug!(conn = id, peer = %request.peer, client_id = ?request.client_id, "connection registered");
        let advised_client_id = request.client_id.clone();
        self.connections.insert(
            id,
            Connection {
                client_id: request.client_id,
                temp_prefix: request.temp_prefix,
                peer: request.peer,
                outbound,
                wake,
                paused: false,
                consumers: Vec::new(),
                transactions: HashMap::new(),
                temp_spaces: Vec::new(),
                temp_topics: Vec::new(),
                parked_sends: 0,
            },
        );
        self.advise_connection(id, advised_client_id, true);
        Ok(id)
    }

    pub fn disconnect(&mut self, conn: ConnectionId, delivered: &[(ConsumerId, LastDelivered)]) {
        let Some(connection) = self.connections.get_mut(&conn) else {
            return;
        };
        let transactions: Vec<String> = connection.transactions.keys().cloned().collect();
        let consumers = connection.consumers.clone();
        for name in transactions {
            self.rollback(conn, &name, RollbackMode::Redeliver);
        }
        for consumer in consumers {
            let seen = delivered
                .iter()
                .find(|(listed, _)| *listed == consumer)
                .map_or(LastDelivered::Unknown, |(_, seen)| *seen);
            self.remove_consumer(consumer, seen);
        }
        self.drop_parked_of(conn);
        if let Some(connection) = self.connections.remove(&conn) {
            for key in connection.temp_spaces {
                self.delete_space(&key);
            }
            for topic in connection.temp_topics {
                self.temp_topics.remove(&topic);
                self.advise_temp_destination(&topic, false, conn);
            }
            self.advise_connection(conn, connection.client_id.clone(), false);
            tracing::debug!(conn, peer = %connection.peer, "connection closed");
        }
    }

    pub async fn subscribe(
        &mut self,
        conn: ConnectionId,
        spec: ConsumerSpec,
    ) -> Result<ConsumerId, CoreError> {
        let connection = self.connections.get(&conn).ok_or(CoreError::ShuttingDown)?;
        let client_id = connection.client_id.clone();
        let id = self.next_consumer;
        self.next_consumer += 1;
        let destination = spec.destination.clone();
        let subscription_destination = destination.clone();
        let spaces: Vec<String> = match destination.kind() {
            DestinationKind::Queue | DestinationKind::TempQueue if destination.is_wildcard() => {
                self.wildcard_queue_consumers.push(id);
                self.spaces
                    .values()
                    .filter(|space| {
                        space.role == SpaceRole::Queue && destination.matches(&space.destination)
                    })
                    .map(|space| space.key.clone())
                    .collect()
            }
            DestinationKind::Queue | DestinationKind::TempQueue => {
                if destination.kind().is_temporary() {
                    self.check_temp_access(conn, &destination)?;
                }
                vec![self.queue_space(&destination, Some(conn))]
            }
            DestinationKind::Topic | DestinationKind::TempTopic => match &spec.durable_name {
                Some(name) => {
                    let client_id = client_id.ok_or(CoreError::DurableWithoutClientId)?;
                    vec![self.durable_space(&client_id, name, &spec).await?]
                }
                None => {
                    let key = format!("topic-subscription://{id}");
                    let mut space = Space::new(
                        key.clone(),
                        destination.clone(),
                        SpaceRole::TopicSubscription,
                        false,
                    );
                    space.selector = spec.selector.clone();
                    space.no_local = spec.no_local;
                    self.spaces.insert(key.clone(), space);
                    self.topic_subscriptions.push(key.clone());
                    vec![key]
                }
            },
        };
        for key in &spaces {
            if let Some(space) = self.spaces.get_mut(key) {
                space.consumers.push(id);
            }
            self.dirty.insert(key.clone());
        }
        // Prefetch 0 means the consumer pulls each message (OpenWire's MessagePull).
        let prefetch = spec.prefetch;
        self.consumers.insert(
            id,
            Consumer {
                conn,
                destination,
                selector: spec.selector,
                prefetch,
                exclusive: spec.exclusive,
                spaces: spaces.clone(),
                in_flight: BTreeMap::new(),
                released: 0,
                pull_credit: 0,
            },
        );
        if let Some(connection) = self.connections.get_mut(&conn) {
            connection.consumers.push(id);
        }
        let advisory_listener = subscription_destination
            .name()
            .contains("ActiveMQ.Advisory.Temp");
        if let Some(key) = spaces
            .first()
            .filter(|key| advisory_listener && key.starts_with("topic-subscription://"))
        {
            let key = key.clone();
            self.replay_temp_advisories(&key);
        }
        self.advise_consumer(&subscription_destination, id, true);
        Ok(id)
    }

    pub fn unsubscribe(
        &mut self,
        conn: ConnectionId,
        consumer: ConsumerId,
        last_delivered: LastDelivered,
    ) -> Result<(), CoreError> {
        match self.consumers.get(&consumer) {
            Some(found) if found.conn == conn => {
                self.remove_consumer(consumer, last_delivered);
                Ok(())
            }
            _ => Err(CoreError::UnknownConsumer(consumer)),
        }
    }

    /// Detaches a consumer, returns its unacknowledged messages and drops a non-durable
    /// subscription's space.
    pub fn remove_consumer(&mut self, id: ConsumerId, last_delivered: LastDelivered) {
        let Some(mut consumer) = self.consumers.remove(&id) else {
            return;
        };
        if let Some(connection) = self.connections.get_mut(&consumer.conn) {
            connection.consumers.retain(|other| *other != id);
        }
        self.wildcard_queue_consumers.retain(|other| *other != id);
        self.advise_consumer(&consumer.destination, id, false);
        let in_flight = std::mem::take(&mut consumer.in_flight);
        for (tag, mut held) in in_flight {
            let reached_application = match last_delivered {
                LastDelivered::Unknown => true,
                LastDelivered::Nothing => false,
                LastDelivered::UpTo(last) => tag <= last,
            };
            if !reached_application {
                // Dispatched but never seen by the application: not a redelivery.
                held.entry.deliveries = held.entry.deliveries.saturating_sub(1);
            }
            self.redeliver(
                held.space,
                held.entry,
                "consumer closed before acknowledging",
            );
        }
        for key in &consumer.spaces {
            let Some(space) = self.spaces.get_mut(key) else {
                continue;
            };
            space.consumers.retain(|other| *other != id);
            if space.role == SpaceRole::TopicSubscription {
                self.delete_space(key);
            } else {
                self.dirty.insert(key.clone());
            }
        }
    }

    pub async fn remove_durable(
        &mut self,
        conn: ConnectionId,
        name: &str,
    ) -> Result<(), CoreError> {
        let client_id = self
            .connections
            .get(&conn)
            .and_then(|c| c.client_id.clone())
            .ok_or(CoreError::DurableWithoutClientId)?;
        let key = durable_space_key(&client_id, name);
        match self.spaces.get(&key) {
            None => return Err(CoreError::UnknownDurable(name.to_owned())),
            Some(space) if !space.consumers.is_empty() => {
                return Err(CoreError::DurableActive(name.to_owned()))
            }
            Some(_) => {}
        }
        self.delete_space(&key);
        self.deferred_ops.push(Op::RemoveMeta {
            key: durable_meta_key(&client_id, name),
        });
        Ok(())
    }

    /// Forgets a space and everything in it.
    pub fn delete_space(&mut self, key: &str) {
        let Some(space) = self.spaces.remove(key) else {
            return;
        };
        match (space.destination.kind(), &space.role, space.owner) {
            (DestinationKind::TempQueue, _, Some(owner)) => {
                self.advise_temp_destination(&space.destination, false, owner);
            }
            (DestinationKind::Queue, SpaceRole::Queue, _) => {
                self.advise_destination(&space.destination, false)
            }
            _ => {}
        }
        self.memory = self.memory.saturating_sub(space.memory);
        self.memory_released = true;
        self.topic_subscriptions.retain(|other| other != key);
        self.paged_out.remove(key);
        let stored = space.disk.messages > 0 || space.pending.values().any(|entry| entry.stored);
        if space.durable && stored {
            self.deferred_ops.push(Op::DropSpace {
                key: key.to_owned(),
            });
        }
    }

    /// The space of a queue, created on first use. `creator` owns it if it is temporary.
    pub fn queue_space(
        &mut self,
        destination: &Destination,
        creator: Option<ConnectionId>,
    ) -> String {
        let key = destination.key();
        if self.spaces.contains_key(&key) {
            return key;
        }
        let temporary = destination.kind().is_temporary();
        let mut space = Space::new(
            key.clone(),
            destination.clone(),
            SpaceRole::Queue,
            !temporary,
        );
        if temporary {
            space.owner = creator;
            if let Some(connection) = creator.and_then(|conn| self.connections.get_mut(&conn)) {
                connection.temp_spaces.push(key.clone());
            }
        }
        let wildcard_consumers: Vec<ConsumerId> = self
            .wildcard_queue_consumers
            .iter()
            .copied()
            .filter(|id| {
                self.consumers
                    .get(id)
                    .is_some_and(|c| c.destination.matches(destination))
            })
            .collect();
        for id in &wildcard_consumers {
            if let Some(consumer) = self.consumers.get_mut(id) {
                consumer.spaces.push(key.clone());
            }
        }
        space.consumers = wildcard_consumers;
        let owner = space.owner;
        self.spaces.insert(key.clone(), space);
        match owner {
            Some(owner) => self.advise_temp_destination(destination, true, owner),
            None => self.advise_destination(destination, true),
        }
        key
    }

    /// Creates or deletes a temporary destination on behalf of `conn`.
    pub fn temp_destination(
        &mut self,
        conn: ConnectionId,
        destination: Destination,
        add: bool,
    ) -> Result<(), CoreError> {
        match (destination.kind(), add) {
            // ActiveMQ lets clients announce ordinary destinations too; they exist on use.
            (DestinationKind::Queue | DestinationKind::Topic, _) => {}
            (DestinationKind::TempQueue, true) => {
                self.queue_space(&destination, Some(conn));
            }
            (DestinationKind::TempQueue, false) => {
                let key = destination.key();
                if let Some(connection) = self.connections.get_mut(&conn) {
                    connection.temp_spaces.retain(|other| *other != key);
                }
                self.delete_space(&key);
            }
            (DestinationKind::TempTopic, true) => {
                if self.temp_topics.insert(destination.clone(), conn).is_none() {
                    if let Some(connection) = self.connections.get_mut(&conn) {
                        connection.temp_topics.push(destination.clone());
                    }
                    self.advise_temp_destination(&destination, true, conn);
                }
            }
            (DestinationKind::TempTopic, false) => {
                if self.temp_topics.remove(&destination).is_some() {
                    if let Some(connection) = self.connections.get_mut(&conn) {
                        connection.temp_topics.retain(|other| *other != destination);
                    }
                    self.advise_temp_destination(&destination, false, conn);
                }
            }
        }
        Ok(())
    }

    /// Temporary destinations may be created and consumed only by the connection that owns
    /// their name prefix, as JMS requires.
    pub fn check_temp_access(
        &self,
        conn: ConnectionId,
        destination: &Destination,
    ) -> Result<(), CoreError> {
        if self.spaces.contains_key(&destination.key()) {
            return Ok(());
        }
        let owns = self
            .connections
            .get(&conn)
            .is_some_and(|c| destination.name().starts_with(&c.temp_prefix));
        if owns {
            Ok(())
        } else {
            Err(CoreError::UnknownTempDestination(
                destination.name().to_owned(),
            ))
        }
    }

    async fn durable_space(
        &mut self,
        client_id: &str,
        name: &str,
        spec: &ConsumerSpec,
    ) -> Result<String, CoreError> {
        if spec.destination.kind() != DestinationKind::Topic {
            return Err(CoreError::DurableOnQueue(spec.destination.key()));
        }
        let key = durable_space_key(client_id, name);
        let selector_text = spec.selector.as_ref().map(|s| s.as_str().to_owned());
        if let Some(space) = self.spaces.get(&key) {
            if !space.consumers.is_empty() {
                return Err(CoreError::DurableActive(name.to_owned()));
            }
            let same_topic = space.destination == spec.destination;
            let same_selector = self.durable_selector(&key) == selector_text;
            if same_topic && same_selector {
                return Ok(key);
            }
            // JMS: subscribing again under the same name with a new topic or selector replaces
            // the subscription, backlog included.
            self.delete_space(&key);
        }
        let definition = DurableDefinition {
            client_id: client_id.to_owned(),
            name: name.to_owned(),
            topic: spec.destination.clone(),
            selector: selector_text,
            no_local: spec.no_local,
        };
        self.create_durable_space(&definition, spec.selector.clone());
        let meta = Op::PutMeta {
            key: durable_meta_key(client_id, name),
            payload: encode_durable(&definition),
        };
        let durable = self.append(vec![meta]).await?;
        // Await the definition so a subscription acknowledged to the client survives a crash.
        if let Some(durable) = durable {
            durable
                .await
                .map_err(|err| CoreError::Store(err.to_string()))?;
        }
        Ok(key)
    }

    fn durable_selector(&self, key: &str) -> Option<String> {
        self.spaces
            .get(key)
            .and_then(|space| space.selector.as_ref())
            .map(|s| s.as_str().to_owned())
    }

    /// Registers a durable subscription's space (at subscribe time or during recovery).
    pub fn create_durable_space(
        &mut self,
        definition: &DurableDefinition,
        selector: Option<crate::Selector>,
    ) {
        let key = durable_space_key(&definition.client_id, &definition.name);
        let role = SpaceRole::Durable {
            client_id: definition.client_id.clone(),
            name: definition.name.clone(),
        };
        let mut space = Space::new(key.clone(), definition.topic.clone(), role, true);
        space.selector = selector;
        space.no_local = definition.no_local;
        self.spaces.insert(key.clone(), space);
        self.topic_subscriptions.push(key);
    }
}
