//! The protocol adapters' side of the core: a cheap [`BrokerHandle`] and one [`Session`] per
//! client connection. Every method is a command on the core's bounded channel.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use ferromq_journal::Durable;
use tokio::sync::{mpsc, oneshot};

use super::admin::{AdminCommand, BrokerStats, BrowsedMessage};
use super::{
    AckKind, AckReply, Command, ConnectRequest, ConnectionId, ConsumerId, ConsumerSpec, CoreError,
    LastDelivered, Outbound, RollbackMode, SendOutcome, TransactionAction,
};
use crate::destination::Destination;
use crate::message::Message;

/// A cloneable way into the core.
#[derive(Debug, Clone)]
pub struct BrokerHandle {
    commands: mpsc::Sender<Command>,
}

impl BrokerHandle {
    pub(crate) fn new(commands: mpsc::Sender<Command>) -> Self {
        BrokerHandle { commands }
    }

    /// Registers a client connection.
    ///
    /// # Errors
    /// The client id is already connected, or the core has stopped.
    pub async fn connect(&self, request: ConnectRequest) -> Result<Session, CoreError> {
        let (outbound_tx, outbound) = mpsc::channel(request.outbound_capacity.max(1));
        let wake = Arc::new(AtomicBool::new(false));
        let (reply, answer) = oneshot::channel();
        let command = Command::Connect {
            request,
            outbound: outbound_tx,
            wake: Arc::clone(&wake),
            reply,
        };
        send(&self.commands, command).await?;
        let id = answer.await.map_err(|_| CoreError::ShuttingDown)??;
        Ok(Session {
            id,
            commands: self.commands.clone(),
            outbound,
            wake,
            closed: false,
        })
    }

    /// A consistent snapshot of destinations, subscriptions and connections.
    ///
    /// # Errors
    /// The core has stopped.
    pub async fn stats(&self) -> Result<BrokerStats, CoreError> {
        self.admin(AdminCommand::Stats).await
    }

    /// Up to `limit` messages of a queue, in-flight ones first, then in dispatch order.
    ///
    /// # Errors
    /// No such queue, or the core has stopped.
    pub async fn browse(
        &self,
        queue: Destination,
        limit: usize,
    ) -> Result<Vec<BrowsedMessage>, CoreError> {
        self.admin(|reply| AdminCommand::Browse {
            queue,
            limit,
            reply,
        })
        .await?
    }

    /// Drops every pending message of a queue; returns how many.
    ///
    /// # Errors
    /// No such queue, or the core has stopped.
    pub async fn purge(&self, queue: Destination) -> Result<usize, CoreError> {
        self.admin(|reply| AdminCommand::Purge { queue, reply })
            .await?
    }

    /// Deletes a queue without consumers, and its messages.
    ///
    /// # Errors
    /// No such queue, it has consumers, or the core has stopped.
    pub async fn delete_queue(&self, queue: Destination) -> Result<(), CoreError> {
        self.admin(|reply| AdminCommand::Delete { queue, reply })
            .await?
    }

    /// Deletes one pending message.
    ///
    /// # Errors
    /// No such queue or pending message, or the core has stopped.
    pub async fn remove_message(
        &self,
        queue: Destination,
        message_id: String,
    ) -> Result<(), CoreError> {
        self.admin(|reply| AdminCommand::Remove {
            queue,
            message_id,
            reply,
        })
        .await?
    }

    /// Moves one pending message to another queue.
    ///
    /// # Errors
    /// No such queue or pending message, a target that is not a queue, or the core stopped.
    pub async fn move_message(
        &self,
        from: Destination,
        message_id: String,
        to: Destination,
    ) -> Result<(), CoreError> {
        self.admin(|reply| AdminCommand::Move {
            from,
            message_id,
            to,
            reply,
        })
        .await?
    }

    /// Sends a dead-lettered message back to its original destination, which it returns.
    ///
    /// # Errors
    /// No such queue or message, no original destination, or the core has stopped.
    pub async fn retry(
        &self,
        queue: Destination,
        message_id: String,
    ) -> Result<Destination, CoreError> {
        self.admin(|reply| AdminCommand::Retry {
            queue,
            message_id,
            reply,
        })
        .await?
    }

    async fn admin<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> AdminCommand,
    ) -> Result<T, CoreError> {
        request(&self.commands, |reply| Command::Admin(make(reply))).await
    }

    /// Asks the core to stop; resolves once it has flushed and closed the store.
    pub async fn shutdown(&self) {
        let (reply, done) = oneshot::channel();
        if self
            .commands
            .send(Command::Shutdown { reply })
            .await
            .is_ok()
        {
            // An error here means the core already stopped, which is what we wanted.
            let _ = done.await;
        }
    }
}

/// One client connection's link to the core.
#[derive(Debug)]
pub struct Session {
    id: ConnectionId,
    commands: mpsc::Sender<Command>,
    outbound: mpsc::Receiver<Outbound>,
    wake: Arc<AtomicBool>,
    closed: bool,
}

impl Session {
    /// The core's id for this connection.
    pub fn id(&self) -> ConnectionId {
        self.id
    }

    /// Waits for the next delivery or close notice. Cancel safe.
    pub async fn next_outbound(&mut self) -> Option<Outbound> {
        self.outbound.recv().await
    }

    /// Takes a delivery that is already waiting, without blocking.
    pub fn try_next_outbound(&mut self) -> Option<Outbound> {
        self.outbound.try_recv().ok()
    }

    /// Call after writing everything [`Session::next_outbound`] had: if the core found the
    /// outbound queue full meanwhile it paused this connection, and this resumes it.
    ///
    /// # Errors
    /// The core has stopped.
    pub async fn drained(&self) -> Result<(), CoreError> {
        if self.wake.swap(false, Ordering::SeqCst) {
            send(&self.commands, Command::Resume { conn: self.id }).await?;
        }
        Ok(())
    }

    /// Adds a consumer.
    ///
    /// # Errors
    /// Invalid durable use, or the core has stopped.
    pub async fn subscribe(&self, spec: ConsumerSpec) -> Result<ConsumerId, CoreError> {
        self.call(|reply| Command::Subscribe {
            conn: self.id,
            spec,
            reply,
        })
        .await?
    }

    /// Removes a consumer; its unacknowledged messages are redelivered.
    ///
    /// # Errors
    /// Unknown consumer, or the core has stopped.
    pub async fn unsubscribe(&self, consumer: ConsumerId) -> Result<(), CoreError> {
        self.unsubscribe_after(consumer, LastDelivered::Unknown)
            .await
    }

    /// Removes a consumer, saying which of its unacknowledged deliveries reached the
    /// application; only those count as delivered when they go back to the queue.
    ///
    /// # Errors
    /// Unknown consumer, or the core has stopped.
    pub async fn unsubscribe_after(
        &self,
        consumer: ConsumerId,
        last_delivered: LastDelivered,
    ) -> Result<(), CoreError> {
        self.call(|reply| Command::Unsubscribe {
            conn: self.id,
            consumer,
            last_delivered,
            reply,
        })
        .await?
    }

    /// Deletes this client id's durable subscription `name` and its backlog.
    ///
    /// # Errors
    /// No such subscription, it is active, or the core has stopped.
    pub async fn remove_durable(&self, name: String) -> Result<(), CoreError> {
        self.call(|reply| Command::RemoveDurable {
            conn: self.id,
            name,
            reply,
        })
        .await?
    }

    /// Hands a message to the core. The returned receiver answers once the message is accepted
    /// (possibly after flow control held it); awaiting the answer's `Durable` tells when it is
    /// on disk. Not awaiting the receiver right away lets a connection pipeline its sends.
    ///
    /// # Errors
    /// The core has stopped.
    pub async fn send(
        &self,
        message: Message,
        transaction: Option<String>,
    ) -> Result<oneshot::Receiver<SendOutcome>, CoreError> {
        let (reply, answer) = oneshot::channel();
        send(
            &self.commands,
            Command::Send {
                conn: self.id,
                message: Box::new(message),
                transaction,
                reply,
            },
        )
        .await?;
        Ok(answer)
    }

    /// Acknowledges (or refuses) a delivery and waits for the core's verdict. With `confirm`
    /// the removal is written at once and the answer's `Durable` says when it is on disk — for
    /// a client that asked for a receipt, which must mean the message will not come back.
    ///
    /// # Errors
    /// The tag is not in flight for that consumer, an unknown transaction, or the core stopped.
    pub async fn ack(
        &self,
        consumer: ConsumerId,
        tag: u64,
        kind: AckKind,
        transaction: Option<String>,
        confirm: bool,
    ) -> Result<Option<Durable>, CoreError> {
        self.ack_range(consumer, None, tag, kind, transaction, confirm)
            .await
    }

    /// Like [`Session::ack`] for a range ack (`kind.is_range()`): the deliveries from `from`
    /// (`None`: the oldest) up to and including `tag`.
    ///
    /// # Errors
    /// As [`Session::ack`].
    pub async fn ack_range(
        &self,
        consumer: ConsumerId,
        from: Option<u64>,
        tag: u64,
        kind: AckKind,
        transaction: Option<String>,
        confirm: bool,
    ) -> Result<Option<Durable>, CoreError> {
        self.call(|answer| Command::Ack {
            conn: self.id,
            consumer,
            from,
            tag,
            kind,
            transaction,
            reply: Some(AckReply { confirm, answer }),
        })
        .await?
    }

    /// Creates (`add`) or deletes a temporary destination owned by this connection.
    ///
    /// # Errors
    /// The core has stopped.
    pub async fn temp_destination(
        &self,
        destination: Destination,
        add: bool,
    ) -> Result<(), CoreError> {
        self.call(|reply| Command::TempDestination {
            conn: self.id,
            destination,
            add,
            reply,
        })
        .await?
    }

    /// Changes a consumer's prefetch window; a larger window dispatches more at once.
    ///
    /// # Errors
    /// The core has stopped.
    pub async fn set_prefetch(&self, consumer: ConsumerId, prefetch: u32) -> Result<(), CoreError> {
        send(
            &self.commands,
            Command::SetPrefetch {
                conn: self.id,
                consumer,
                prefetch,
            },
        )
        .await
    }

    /// Announces a producer on `destination` (or its end) to advisory listeners.
    ///
    /// # Errors
    /// The core has stopped.
    pub async fn announce_producer(
        &self,
        destination: Destination,
        producer: String,
        added: bool,
    ) -> Result<(), CoreError> {
        send(
            &self.commands,
            Command::ProducerAdvisory {
                destination,
                producer,
                added,
            },
        )
        .await
    }

    /// Asks for one message for a prefetch-0 consumer; it arrives as a delivery, or, when
    /// `wait` is false and nothing is there, as `Outbound::PullEmpty`.
    ///
    /// # Errors
    /// The core has stopped.
    pub async fn pull(&self, consumer: ConsumerId, wait: bool) -> Result<(), CoreError> {
        send(
            &self.commands,
            Command::Pull {
                conn: self.id,
                consumer,
                wait,
            },
        )
        .await
    }

    /// Ends a pull whose time is up: `Outbound::PullEmpty` follows unless a message already went.
    ///
    /// # Errors
    /// The core has stopped.
    pub async fn cancel_pull(&self, consumer: ConsumerId) -> Result<(), CoreError> {
        send(
            &self.commands,
            Command::CancelPull {
                conn: self.id,
                consumer,
            },
        )
        .await
    }

    /// Acknowledges deliveries of an auto-ack consumer up to `tag` after they were written;
    /// fire and forget, since nobody waits on it.
    ///
    /// # Errors
    /// The core has stopped.
    pub async fn auto_ack(&self, consumer: ConsumerId, tag: u64) -> Result<(), CoreError> {
        self.ack_unanswered(consumer, None, tag, AckKind::Cumulative)
            .await
    }

    /// Like [`Session::ack_range`] outside a transaction, for a client that waits for no
    /// answer: the core settles the ack without replying, which spares the connection a
    /// round trip to the core per ack. An ack the core cannot match (its consumer or its
    /// delivery is gone, as after a failover) is logged at debug level and otherwise ignored.
    ///
    /// # Errors
    /// The core has stopped.
    pub async fn ack_unanswered(
        &self,
        consumer: ConsumerId,
        from: Option<u64>,
        tag: u64,
        kind: AckKind,
    ) -> Result<(), CoreError> {
        let command = Command::Ack {
            conn: self.id,
            consumer,
            from,
            tag,
            kind,
            transaction: None,
            reply: None,
        };
        send(&self.commands, command).await
    }

    /// Opens a local transaction.
    ///
    /// # Errors
    /// The name is in use, or the core has stopped.
    pub async fn begin(&self, name: String) -> Result<(), CoreError> {
        self.transaction(name, TransactionAction::Begin, RollbackMode::Redeliver)
            .await
            .map(|_| ())
    }

    /// Commits a transaction; the `Durable` (if any) resolves when its messages are on disk.
    ///
    /// # Errors
    /// Unknown transaction, or the core has stopped.
    pub async fn commit(&self, name: String) -> Result<Option<Durable>, CoreError> {
        self.transaction(name, TransactionAction::Commit, RollbackMode::Redeliver)
            .await
    }

    /// Rolls a transaction back: its sends are dropped, its acked messages redelivered.
    ///
    /// # Errors
    /// Unknown transaction, or the core has stopped.
    pub async fn abort(&self, name: String) -> Result<(), CoreError> {
        self.transaction(name, TransactionAction::Abort, RollbackMode::Redeliver)
            .await
            .map(|_| ())
    }

    /// OpenWire's BEGIN: a replayed BEGIN of an open transaction is accepted.
    ///
    /// # Errors
    /// The core has stopped.
    pub async fn begin_replayable(&self, name: String) -> Result<(), CoreError> {
        self.transaction(
            name,
            TransactionAction::Begin,
            RollbackMode::KeepWithConsumer,
        )
        .await
        .map(|_| ())
    }

    /// OpenWire's ROLLBACK: sends are dropped; acked deliveries stay with their consumer,
    /// unacknowledged, because the client redelivers them itself.
    ///
    /// # Errors
    /// Unknown transaction, or the core has stopped.
    pub async fn rollback_keeping_deliveries(&self, name: String) -> Result<(), CoreError> {
        self.transaction(
            name,
            TransactionAction::Abort,
            RollbackMode::KeepWithConsumer,
        )
        .await
        .map(|_| ())
    }

    /// Ends the session: open transactions roll back, unacknowledged messages are redelivered,
    /// temporary destinations are deleted.
    pub async fn close(mut self) {
        self.detach().await;
    }

    /// As [`Session::close`], saying per consumer which deliveries its client saw, so those
    /// it never saw go back without a raised delivery count.
    pub async fn close_after(mut self, delivered: Vec<(ConsumerId, LastDelivered)>) {
        self.detach_after(delivered).await;
    }

    /// Ends the session now but keeps the value, for a protocol that must be sure the core
    /// has let go (of a client id, say) before it tells its client the connection is over.
    /// Idempotent.
    pub async fn detach(&mut self) {
        self.detach_after(Vec::new()).await;
    }

    /// As [`Session::detach`], with what each consumer's client saw (see
    /// [`Session::close_after`]).
    pub async fn detach_after(&mut self, delivered: Vec<(ConsumerId, LastDelivered)>) {
        if self.closed {
            return;
        }
        self.closed = true;
        // If the core is gone there is nothing left to tell it.
        let _ = self
            .commands
            .send(Command::Disconnect {
                conn: self.id,
                delivered,
            })
            .await;
    }

    async fn transaction(
        &self,
        name: String,
        action: TransactionAction,
        rollback: RollbackMode,
    ) -> Result<Option<Durable>, CoreError> {
        self.call(|reply| Command::Transaction {
            conn: self.id,
            name,
            action,
            rollback,
            reply,
        })
        .await?
    }

    async fn call<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, CoreError> {
        request(&self.commands, make).await
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if !self.closed {
            // A session dropped without close() (a panicking or cancelled task) must still free
            // its consumers. If the channel is full the core notices the closed outbound
            // channel on its next delivery attempt and disconnects then.
            if self
                .commands
                .try_send(Command::Disconnect {
                    conn: self.id,
                    delivered: Vec::new(),
                })
                .is_err()
            {
                tracing::debug!(
                    conn = self.id,
                    "disconnect left to the core's closed-channel check"
                );
            }
        }
    }
}

/// Sends a command carrying a reply channel and waits for the core's answer.
async fn request<T>(
    commands: &mpsc::Sender<Command>,
    make: impl FnOnce(oneshot::Sender<T>) -> Command,
) -> Result<T, CoreError> {
    let (reply, answer) = oneshot::channel();
    send(commands, make(reply)).await?;
    answer.await.map_err(|_| CoreError::ShuttingDown)
}

async fn send(commands: &mpsc::Sender<Command>, command: Command) -> Result<(), CoreError> {
    commands
        .send(command)
        .await
        .map_err(|_| CoreError::ShuttingDown)
}
