//! What each client command does once the wire formats are agreed.

use ferromq_core::{
    AckKind, AckMode, ConnectRequest, ConsumerId, ConsumerSpec, CoreError, LastDelivered, Selector,
};
use ferromq_openwire::{self as wire, Command};

use super::connection::{Connection, Flow};
use super::{convert, MAX_BROWSE, MAX_PENDING_SENDS, OUTBOUND_CAPACITY};

/// The exception class the Java client raises for a refused request.
const JMS_EXCEPTION: &str = "javax.jms.JMSException";
/// The class for a destination problem, e.g. unsubscribing an unknown durable subscription.
const INVALID_DESTINATION: &str = "javax.jms.InvalidDestinationException";
/// The class for a duplicate client id.
const INVALID_CLIENT_ID: &str = "javax.jms.InvalidClientIDException";

/// An answer to a failed request.
struct Refusal {
    class: &'static str,
    message: String,
    /// Protocol errors (commands out of order, malformed) close the connection.
    fatal: bool,
}

impl Refusal {
    fn new(message: impl Into<String>) -> Self {
        Refusal {
            class: JMS_EXCEPTION,
            message: message.into(),
            fatal: false,
        }
    }

    fn fatal(message: impl Into<String>) -> Self {
        Refusal {
            class: JMS_EXCEPTION,
            message: message.into(),
            fatal: true,
        }
    }

    fn core(err: &CoreError) -> Self {
        let class = match err {
            CoreError::ClientIdInUse(_) => INVALID_CLIENT_ID,
            CoreError::UnknownDurable(_)
            | CoreError::DurableActive(_)
            | CoreError::UnknownTempDestination(_) => INVALID_DESTINATION,
            _ => JMS_EXCEPTION,
        };
        Refusal {
            class,
            message: err.to_string(),
            fatal: false,
        }
    }
}

impl Connection {
    /// Handles one command; answers it when the client asked for a response.
    pub(super) async fn handle(&mut self, command: Command) -> Flow {
        let correlation = command.response_required().then(|| command.command_id());
        let outcome = match command {
            Command::Message(message) => return self.on_message(*message, correlation).await,
            Command::ConnectionInfo(info) => self.on_connection(info).await,
            Command::SessionInfo(info) => self.on_session(&info),
            Command::ProducerInfo(info) => self.on_producer(info).await,
            Command::ConsumerInfo(info) => self.on_consumer(info).await,
            Command::RemoveInfo(info) => self.on_remove(info).await,
            Command::RemoveSubscriptionInfo(info) => self.on_remove_subscription(info).await,
            Command::MessageAck(ack) => self.on_ack(ack, correlation.is_some()).await,
            Command::MessagePull(pull) => self.on_pull(&pull).await,
            Command::TransactionInfo(info) => self.on_transaction(info).await,
            Command::DestinationInfo(info) => self.on_destination(info).await,
            Command::ConsumerControl(control) => self.on_consumer_control(&control).await,
            Command::KeepAliveInfo(keep_alive) => {
                if keep_alive.response_required {
                    self.queue(wire::KeepAliveInfo::default().into());
                }
                return Flow::Continue;
            }
            Command::ShutdownInfo(_) => return Flow::Close,
            // Accepted and ignored, as ActiveMQ allows: failover bookkeeping, flushes, controls.
            Command::ConnectionControl(_)
            | Command::FlushCommand(_)
            | Command::ControlCommand(_) => Ok(()),
            Command::WireFormatInfo(_) => Ok(()),
            other => Err(Refusal::fatal(format!(
                "unexpected command type {} from a client",
                other.type_id()
            ))),
        };
        match (outcome, correlation) {
            (Ok(()), Some(id)) => self.respond(id),
            (Ok(()), None) => {}
            (Err(refusal), correlation) => {
                tracing::info!(peer = %self.peer, message = %refusal.message, "OpenWire request refused");
                match correlation {
                    Some(id) => self.exception(id, refusal.class, &refusal.message),
                    None => self.connection_error(&refusal.message),
                }
                if refusal.fatal {
                    return Flow::Close;
                }
            }
        }
        Flow::Continue
    }

    /// The core's id for a consumer the client names, if it is still open here.
    fn core_consumer(&self, wire_id: Option<&wire::ConsumerId>) -> Option<ConsumerId> {
        wire_id.and_then(|id| self.consumers.get(id)).copied()
    }

    fn session(&self) -> Result<&ferromq_core::Session, Refusal> {
        self.session
            .as_ref()
            .ok_or_else(|| Refusal::fatal("no ConnectionInfo has been received on this connection"))
    }

    async fn on_connection(&mut self, info: wire::ConnectionInfo) -> Result<(), Refusal> {
        if self.session.is_some() {
            // A replayed ConnectionInfo on the same socket changes nothing.
            return Ok(());
        }
        let connection_id = info
            .connection_id
            .clone()
            .ok_or_else(|| Refusal::fatal("ConnectionInfo without a connection id"))?;
        let request = ConnectRequest {
            client_id: info.client_id.clone(),
            // Temporary destinations are named after the connection id, as the client names them.
            temp_prefix: format!("{}:", connection_id.value),
            outbound_capacity: OUTBOUND_CAPACITY,
            peer: self.peer.to_string(),
            take_over: info.failover_reconnect,
        };
        let session = self
            .context
            .broker
            .connect(request)
            .await
            .map_err(|err| Refusal::core(&err))?;
        self.session = Some(session);
        self.connection_id = Some(connection_id);
        Ok(())
    }

    fn on_session(&mut self, info: &wire::SessionInfo) -> Result<(), Refusal> {
        self.session()?;
        let id = info
            .session_id
            .as_ref()
            .ok_or_else(|| Refusal::fatal("SessionInfo without a session id"))?;
        self.sessions.insert(id.value);
        Ok(())
    }

    /// Producers and consumers must belong to a session the client announced, or to the
    /// implicit session -1 every connection has.
    fn check_session(&self, session_id: i64) -> Result<(), Refusal> {
        if session_id == -1 || self.sessions.contains(&session_id) {
            Ok(())
        } else {
            Err(Refusal::fatal(format!(
                "session {session_id} is not open on this connection"
            )))
        }
    }

    async fn on_producer(&mut self, info: wire::ProducerInfo) -> Result<(), Refusal> {
        self.session()?;
        let id = info
            .producer_id
            .ok_or_else(|| Refusal::fatal("ProducerInfo without a producer id"))?;
        self.check_session(id.session_id)?;
        let destination = info
            .destination
            .as_ref()
            .map(convert::destination_from_wire)
            .transpose()
            .map_err(Refusal::new)?;
        if let Some(destination) = &destination {
            let announced = self
                .session()?
                .announce_producer(destination.clone(), id.to_string(), true)
                .await;
            announced.map_err(|err| Refusal::core(&err))?;
        }
        self.producers.insert(id, (info.window_size, destination));
        Ok(())
    }

    async fn on_message(&mut self, message: wire::Message, correlation: Option<i32>) -> Flow {
        let size = i32::try_from(message.size()).unwrap_or(i32::MAX);
        let window = message
            .producer_id
            .as_ref()
            .and_then(|id| self.producers.get(id))
            .map_or(0, |(window, _)| *window);
        let producer_ack = (correlation.is_none() && window > 0)
            .then(|| message.producer_id.clone())
            .flatten()
            .map(|id| (id, size));
        let transaction = match message
            .transaction_id
            .as_ref()
            .map(transaction_name)
            .transpose()
        {
            Ok(name) => name,
            Err(refusal) => return self.refuse(correlation, refusal),
        };
        let core_message = match convert::message_from_wire(&message, self.codec.limits()) {
            Ok(core_message) => core_message,
            Err(reason) => return self.refuse(correlation, Refusal::new(reason)),
        };
        let session = match self.session() {
            Ok(session) => session,
            Err(refusal) => return self.refuse(correlation, refusal),
        };
        let Ok(answer) = session.send(core_message, transaction).await else {
            return Flow::Close;
        };
        self.pending.push((correlation, producer_ack), answer);
        if self.pending.len() >= MAX_PENDING_SENDS {
            self.drain_sends().await;
        }
        Flow::Continue
    }

    fn refuse(&mut self, correlation: Option<i32>, refusal: Refusal) -> Flow {
        match correlation {
            Some(id) => self.exception(id, refusal.class, &refusal.message),
            None => self.connection_error(&refusal.message),
        }
        if refusal.fatal {
            Flow::Close
        } else {
            Flow::Continue
        }
    }

    async fn on_consumer(&mut self, info: wire::ConsumerInfo) -> Result<(), Refusal> {
        let wire_id = info
            .consumer_id
            .clone()
            .ok_or_else(|| Refusal::fatal("ConsumerInfo without a consumer id"))?;
        self.check_session(wire_id.session_id)?;
        if self.consumers.contains_key(&wire_id) {
            // Replayed by a failover client: already there.
            return Ok(());
        }
        let destination = info
            .destination
            .as_ref()
            .ok_or_else(|| Refusal::new("ConsumerInfo without a destination"))?;
        let destination = convert::destination_from_wire(destination).map_err(Refusal::new)?;
        let selector = match info
            .selector
            .as_deref()
            .filter(|text| !text.trim().is_empty())
        {
            Some(text) => Some(
                Selector::parse(text)
                    .map_err(|err| Refusal::new(format!("invalid selector '{text}': {err}")))?,
            ),
            None => None,
        };
        if info.browser {
            return self.browse(wire_id, destination, selector.as_ref()).await;
        }
        let spec = ConsumerSpec {
            destination,
            selector,
            ack_mode: AckMode::Client,
            prefetch: u32::try_from(info.prefetch_size).unwrap_or(0),
            exclusive: info.exclusive,
            durable_name: info.subscription_name.clone(),
            no_local: info.no_local,
        };
        let core_id = self
            .session()?
            .subscribe(spec)
            .await
            .map_err(|err| Refusal::core(&err))?;
        self.by_core.insert(core_id, wire_id.clone());
        self.consumers.insert(wire_id, core_id);
        Ok(())
    }

    /// A QueueBrowser sees a snapshot of the queue, then a null dispatch meaning "done"; it
    /// consumes nothing.
    async fn browse(
        &mut self,
        wire_id: wire::ConsumerId,
        queue: ferromq_core::Destination,
        selector: Option<&Selector>,
    ) -> Result<(), Refusal> {
        let messages = match self.context.broker.browse(queue.clone(), MAX_BROWSE).await {
            Ok(messages) => messages,
            Err(CoreError::UnknownDestination(_)) => Vec::new(),
            Err(err) => return Err(Refusal::core(&err)),
        };
        for (index, browsed) in messages.iter().enumerate() {
            if selector.is_some_and(|s| !s.matches(browsed.message.as_ref())) {
                continue;
            }
            let delivery = ferromq_core::Delivery {
                consumer: 0,
                tag: u64::try_from(index).unwrap_or(0) + 1,
                message: browsed.message.clone(),
                redelivered: browsed.delivery_count > 0,
                delivery_count: browsed.delivery_count.max(1),
            };
            match convert::message_to_wire(&delivery) {
                Ok(message) => {
                    let dispatch = wire::MessageDispatch {
                        consumer_id: Some(wire_id.clone()),
                        destination: message.destination.clone(),
                        message: Some(Box::new(message)),
                        ..wire::MessageDispatch::default()
                    };
                    self.queue(dispatch.into());
                }
                Err(err) => {
                    tracing::warn!(peer = %self.peer, %err, "browsed message cannot be marshalled")
                }
            }
        }
        self.queue(
            wire::MessageDispatch {
                consumer_id: Some(wire_id),
                ..wire::MessageDispatch::default()
            }
            .into(),
        );
        Ok(())
    }

    async fn on_remove(&mut self, info: wire::RemoveInfo) -> Result<(), Refusal> {
        let last_delivered = match info.last_delivered_sequence_id {
            -1 => LastDelivered::Nothing,
            n if n < 0 => LastDelivered::Unknown,
            n => LastDelivered::UpTo(u64::try_from(n).unwrap_or(0)),
        };
        match info.object_id {
            wire::RemoveTarget::Consumer(id) => self.remove_consumer(&id, last_delivered).await,
            wire::RemoveTarget::Producer(id) => self.remove_producer(&id).await,
            wire::RemoveTarget::Session(id) => {
                let consumers: Vec<wire::ConsumerId> = self
                    .consumers
                    .keys()
                    .filter(|c| c.session_id == id.value)
                    .cloned()
                    .collect();
                for consumer in consumers {
                    self.remove_consumer(&consumer, last_delivered).await?;
                }
                let producers: Vec<wire::ProducerId> = self
                    .producers
                    .keys()
                    .filter(|p| p.session_id == id.value)
                    .cloned()
                    .collect();
                for producer in producers {
                    self.remove_producer(&producer).await?;
                }
                self.sessions.remove(&id.value);
                Ok(())
            }
            wire::RemoveTarget::Connection(_) => {
                // Sends sent before the close are answered first; then the core lets go.
                self.drain_sends().await;
                if let Some(session) = self.session.take() {
                    session.close().await;
                }
                self.consumers.clear();
                self.by_core.clear();
                Ok(())
            }
        }
    }

    async fn remove_consumer(
        &mut self,
        id: &wire::ConsumerId,
        last_delivered: LastDelivered,
    ) -> Result<(), Refusal> {
        let Some(core_id) = self.consumers.remove(id) else {
            // Browsers and already-removed consumers are not known to the core.
            return Ok(());
        };
        self.by_core.remove(&core_id);
        self.pull_deadlines.retain(|(_, c)| *c != core_id);
        let session = self.session()?;
        session
            .unsubscribe_after(core_id, last_delivered)
            .await
            .map_err(|err| Refusal::core(&err))
    }

    async fn remove_producer(&mut self, id: &wire::ProducerId) -> Result<(), Refusal> {
        if let Some((_, Some(destination))) = self.producers.remove(id) {
            let announced = self
                .session()?
                .announce_producer(destination, id.to_string(), false)
                .await;
            announced.map_err(|err| Refusal::core(&err))?;
        }
        Ok(())
    }

    async fn on_remove_subscription(
        &mut self,
        info: wire::RemoveSubscriptionInfo,
    ) -> Result<(), Refusal> {
        let name = info
            .subscription_name
            .ok_or_else(|| Refusal::new("RemoveSubscriptionInfo without a name"))?;
        self.session()?
            .remove_durable(name)
            .await
            .map_err(|err| Refusal::core(&err))
    }

    async fn on_ack(&mut self, ack: wire::MessageAck, answered: bool) -> Result<(), Refusal> {
        let Some(core_id) = self.core_consumer(ack.consumer_id.as_ref()) else {
            // Acks of browsers and of consumers closed meanwhile have nothing to settle.
            return Ok(());
        };
        let tag_of = |id: &Option<wire::MessageId>| {
            id.as_ref()
                .and_then(|id| u64::try_from(id.broker_sequence_id).ok())
        };
        let Some(last) = tag_of(&ack.last_message_id) else {
            return Err(Refusal::new("MessageAck without a last message id"));
        };
        let first = tag_of(&ack.first_message_id);
        let kind = match ack.ack_type {
            wire::AckType::DELIVERED => AckKind::Delivered,
            wire::AckType::POISON => AckKind::Poison,
            wire::AckType::STANDARD => AckKind::Cumulative,
            wire::AckType::INDIVIDUAL => AckKind::Individual,
            wire::AckType::EXPIRED => AckKind::Expired,
            // REDELIVERED is informational; UNMATCHED is never sent by clients.
            _ => return Ok(()),
        };
        let transaction = ack
            .transaction_id
            .as_ref()
            .map(transaction_name)
            .transpose()?;
        let session = self.session()?;
        if transaction.is_none() && !answered {
            // The client's automatic acks: one per consumed message, and nobody waits.
            return session
                .ack_unanswered(core_id, first, last, kind)
                .await
                .map_err(|err| Refusal::core(&err));
        }
        match session
            .ack_range(core_id, first, last, kind, transaction, false)
            .await
        {
            // A failover client may ack what the broker already took back; ActiveMQ ignores it.
            Ok(_) | Err(CoreError::UnknownAck(_)) => Ok(()),
            Err(err) => Err(Refusal::core(&err)),
        }
    }

    async fn on_pull(&mut self, pull: &wire::MessagePull) -> Result<(), Refusal> {
        let Some(core_id) = self.core_consumer(pull.consumer_id.as_ref()) else {
            return Ok(());
        };
        // -1: now or never (receiveNoWait); 0: wait for ever (receive()); > 0: wait that long.
        let wait = pull.timeout != -1;
        if let Ok(timeout) = u64::try_from(pull.timeout) {
            if timeout > 0 {
                let deadline =
                    tokio::time::Instant::now() + std::time::Duration::from_millis(timeout);
                self.pull_deadlines.retain(|(_, c)| *c != core_id);
                self.pull_deadlines.push((deadline, core_id));
                self.pull_deadlines.sort_by_key(|(at, _)| *at);
            }
        }
        self.session()?
            .pull(core_id, wait)
            .await
            .map_err(|err| Refusal::core(&err))
    }

    async fn on_transaction(&mut self, info: wire::TransactionInfo) -> Result<(), Refusal> {
        let id = info
            .transaction_id
            .as_ref()
            .ok_or_else(|| Refusal::new("XA transactions are not supported"))?;
        let name = transaction_name(id)?;
        // Sends of the transaction must be in before it ends.
        self.drain_sends().await;
        let session = self.session()?;
        let result = match info.transaction_type {
            wire::TransactionType::BEGIN => session.begin_replayable(name).await,
            wire::TransactionType::COMMIT_ONE_PHASE => match session.commit(name).await {
                Ok(Some(durable)) => durable
                    .await
                    .map_err(|err| CoreError::Store(err.to_string())),
                Ok(None) => Ok(()),
                Err(err) => Err(err),
            },
            wire::TransactionType::ROLLBACK => session.rollback_keeping_deliveries(name).await,
            // END is sent before commit by some clients; local transactions need nothing.
            wire::TransactionType::END => Ok(()),
            _ => return Err(Refusal::new("XA transactions are not supported")),
        };
        result.map_err(|err| Refusal::core(&err))
    }

    async fn on_destination(&mut self, info: wire::DestinationInfo) -> Result<(), Refusal> {
        let destination = info
            .destination
            .as_ref()
            .ok_or_else(|| Refusal::new("DestinationInfo without a destination"))?;
        let destination = convert::destination_from_wire(destination).map_err(Refusal::new)?;
        let add = info.operation_type == wire::DestinationOperation::ADD;
        self.session()?
            .temp_destination(destination, add)
            .await
            .map_err(|err| Refusal::core(&err))
    }

    async fn on_consumer_control(
        &mut self,
        control: &wire::ConsumerControl,
    ) -> Result<(), Refusal> {
        let Some(core_id) = self.core_consumer(control.consumer_id.as_ref()) else {
            return Ok(());
        };
        let prefetch = u32::try_from(control.prefetch).unwrap_or(0);
        self.session()?
            .set_prefetch(core_id, prefetch)
            .await
            .map_err(|err| Refusal::core(&err))
    }
}

/// The core's name for a transaction. XA transactions are refused.
fn transaction_name(id: &wire::TransactionId) -> Result<String, Refusal> {
    match id {
        wire::TransactionId::Local(local) => {
            let connection = local
                .connection_id
                .as_ref()
                .map_or("", |c| c.value.as_str());
            Ok(format!("{connection}:{}", local.value))
        }
        wire::TransactionId::Xa(_) => Err(Refusal::new("XA transactions are not supported")),
    }
}
