//! The broker core: one task that owns every destination, subscription and in-flight message.
//!
//! Protocol adapters open a [`Session`] per client connection through a [`BrokerHandle`]. Each
//! request is a [`Command`] on one bounded channel; answers come back on oneshots, and messages
//! for consumers on the session's own bounded [`Outbound`] channel. Because only this task
//! mutates state there are no locks, and ordering questions (ack before redelivery, commit
//! before dispatch) are answered by the order of commands.

mod ack;
mod admin;
mod advisories;
mod config;
mod consumer;
mod dispatch;
mod flow;
mod handle;
mod paging;
mod persist;
mod queue;
mod send;
mod state;
mod subscribe;
mod transaction;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use ferromq_journal::Durable;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

pub use admin::{BrokerStats, BrowsedMessage, ConnectionInfo, SpaceInfo};
pub use config::{CoreConfig, DeadLetterStrategy};

// `LastDelivered` and `RollbackMode` are defined below and re-exported at the crate root.
pub use handle::{BrokerHandle, Session};
pub use persist::RecoveredStore;

use crate::destination::Destination;
use crate::message::Message;
use crate::Selector;

/// Identifies a client connection inside the core.
pub type ConnectionId = u64;
/// Identifies one subscription (JMS consumer) inside the core, unique for the broker's life.
pub type ConsumerId = u64;

/// How a consumer acknowledges, in JMS terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckMode {
    /// The protocol adapter acks each delivery once it has written it to the client.
    Auto,
    /// An ack covers the acked message and every earlier one of the same consumer.
    Client,
    /// An ack covers exactly one message.
    Individual,
}

/// What an acknowledgement does to in-flight messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckKind {
    /// Consumed: this delivery only.
    Individual,
    /// Consumed: this delivery and every earlier one of the consumer (from the given first
    /// tag, if the ack names a range).
    Cumulative,
    /// Refused: redeliver (or dead-letter once redeliveries are exhausted).
    Nack,
    /// The client gave up on the range (OpenWire POISON): dead-letter it now.
    Poison,
    /// The client found the range expired (OpenWire EXPIRED).
    Expired,
    /// Consumed by the application but not settled (OpenWire DELIVERED): the range stops
    /// counting against the prefetch window and stays unacknowledged.
    Delivered,
}

impl AckKind {
    /// Whether the ack covers a range of deliveries rather than exactly one.
    pub fn is_range(self) -> bool {
        !matches!(self, AckKind::Individual | AckKind::Nack)
    }
}

/// How much of a closing consumer's unacknowledged deliveries reached its application, which
/// decides whose delivery count goes up (OpenWire's `lastDeliveredSequenceId`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastDelivered {
    /// Unknown: count every unacknowledged delivery as delivered.
    Unknown,
    /// None reached the application: their delivery counts are not raised.
    Nothing,
    /// Deliveries up to and including this tag reached the application.
    UpTo(u64),
}

/// What a rollback does with the deliveries acknowledged inside the transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollbackMode {
    /// Return them to their queue for redelivery (STOMP).
    Redeliver,
    /// Keep them with their consumer, unacknowledged: the client redelivers them itself
    /// (OpenWire).
    KeepWithConsumer,
}

/// A subscription request, protocol independent.
#[derive(Debug, Clone)]
pub struct ConsumerSpec {
    pub destination: Destination,
    pub selector: Option<Selector>,
    pub ack_mode: AckMode,
    /// How many unacknowledged deliveries the consumer may hold at once.
    pub prefetch: u32,
    pub exclusive: bool,
    /// Set for durable topic subscriptions (with the connection's client id).
    pub durable_name: Option<String>,
    /// Skip messages this same connection published (topics only).
    pub no_local: bool,
}

/// One message handed to a consumer.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub consumer: ConsumerId,
    /// Names this delivery in the consumer's ack.
    pub tag: u64,
    pub message: Arc<Message>,
    pub redelivered: bool,
    /// 1 for the first delivery.
    pub delivery_count: u32,
}

/// What the core pushes to a session.
#[derive(Debug)]
pub enum Outbound {
    Deliver(Delivery),
    /// A prefetch-0 consumer's pull found nothing in time (OpenWire's null dispatch).
    PullEmpty {
        consumer: ConsumerId,
    },
    /// The core ended the session (shutdown, or a fatal condition); the adapter should close.
    Close {
        reason: String,
    },
}

/// The core's answer to a send: accepted in memory, or accepted and being made durable.
pub type SendOutcome = Result<Option<Durable>, CoreError>;

/// Why the core refused a request. The text goes to clients as is, so it says what to fix.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum CoreError {
    #[error("client id '{0}' is already connected")]
    ClientIdInUse(String),
    #[error("durable subscription needs a client id on the connection")]
    DurableWithoutClientId,
    #[error("durable subscription '{0}' is already active")]
    DurableActive(String),
    #[error("durable subscription '{0}' does not exist")]
    UnknownDurable(String),
    #[error("a durable subscription needs a topic, not '{0}'")]
    DurableOnQueue(String),
    #[error("unknown consumer {0}")]
    UnknownConsumer(ConsumerId),
    #[error("no message with ack id {0} is waiting for an acknowledgement")]
    UnknownAck(u64),
    #[error("transaction '{0}' is not open on this connection")]
    UnknownTransaction(String),
    #[error("transaction '{0}' is already open")]
    TransactionExists(String),
    #[error("temporary destination '{0}' does not exist")]
    UnknownTempDestination(String),
    #[error("cannot send to '{0}': {1}")]
    BadDestination(String, String),
    #[error("{0} is reached, and the broker refuses sends instead of holding them (send_fail_if_no_space)")]
    NoSpace(String),
    #[error("the message store failed: {0}")]
    Store(String),
    #[error("destination '{0}' does not exist")]
    UnknownDestination(String),
    #[error("message '{0}' is not waiting in that queue")]
    UnknownMessage(String),
    #[error("destination '{0}' still has consumers")]
    DestinationInUse(String),
    #[error("the broker is shutting down")]
    ShuttingDown,
}

/// What a protocol adapter asks of the core.
#[derive(Debug)]
pub(crate) enum Command {
    Connect {
        request: ConnectRequest,
        outbound: mpsc::Sender<Outbound>,
        wake: Arc<AtomicBool>,
        reply: oneshot::Sender<Result<ConnectionId, CoreError>>,
    },
    Disconnect {
        conn: ConnectionId,
        /// What each consumer's client saw, for the redelivery counts; consumers not listed
        /// count every unacknowledged delivery as seen.
        delivered: Vec<(ConsumerId, LastDelivered)>,
    },
    Subscribe {
        conn: ConnectionId,
        spec: ConsumerSpec,
        reply: oneshot::Sender<Result<ConsumerId, CoreError>>,
    },
    Unsubscribe {
        conn: ConnectionId,
        consumer: ConsumerId,
        last_delivered: LastDelivered,
        reply: oneshot::Sender<Result<(), CoreError>>,
    },
    RemoveDurable {
        conn: ConnectionId,
        name: String,
        reply: oneshot::Sender<Result<(), CoreError>>,
    },
    Send {
        conn: ConnectionId,
        /// Boxed: a message is far larger than every other command.
        message: Box<Message>,
        transaction: Option<String>,
        reply: oneshot::Sender<SendOutcome>,
    },
    Ack {
        conn: ConnectionId,
        consumer: ConsumerId,
        /// First tag of a range ack; `None` means from the oldest delivery.
        from: Option<u64>,
        tag: u64,
        kind: AckKind,
        transaction: Option<String>,
        /// `Some` when the adapter waits for the verdict; `confirm` then asks for the
        /// removal to be written at once, with its durability in the answer.
        reply: Option<AckReply>,
    },
    Transaction {
        conn: ConnectionId,
        name: String,
        action: TransactionAction,
        rollback: RollbackMode,
        reply: oneshot::Sender<Result<Option<Durable>, CoreError>>,
    },
    /// A prefetch-0 consumer asks for one message; `wait: false` answers with
    /// `Outbound::PullEmpty` at once if none is there.
    Pull {
        conn: ConnectionId,
        consumer: ConsumerId,
        wait: bool,
    },
    /// A pull's time is up: if it is still unanswered, answer `Outbound::PullEmpty`.
    CancelPull {
        conn: ConnectionId,
        consumer: ConsumerId,
    },
    /// Changes a consumer's prefetch window (OpenWire's ConsumerControl, sent by failover
    /// clients after replaying consumers with prefetch 0).
    SetPrefetch {
        conn: ConnectionId,
        consumer: ConsumerId,
        prefetch: u32,
    },
    /// A protocol adapter's producer came or went (producers live in the adapters; the core
    /// only publishes the advisory).
    ProducerAdvisory {
        destination: Destination,
        producer: String,
        added: bool,
    },
    /// Creates or deletes a temporary destination explicitly (OpenWire's DestinationInfo).
    TempDestination {
        conn: ConnectionId,
        destination: Destination,
        add: bool,
        reply: oneshot::Sender<Result<(), CoreError>>,
    },
    /// The session drained its outbound queue after the core found it full.
    Resume {
        conn: ConnectionId,
    },
    Admin(admin::AdminCommand),
    Shutdown {
        reply: oneshot::Sender<()>,
    },
}

/// Where an acknowledgement's verdict goes.
#[derive(Debug)]
pub(crate) struct AckReply {
    pub confirm: bool,
    pub answer: oneshot::Sender<Result<Option<Durable>, CoreError>>,
}

/// Local transaction verbs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TransactionAction {
    Begin,
    Commit,
    Abort,
}

/// Who is connecting.
#[derive(Debug, Clone, Default)]
pub struct ConnectRequest {
    /// JMS client id; needed for durable subscriptions, unique among live connections.
    pub client_id: Option<String>,
    /// Names of temporary destinations this connection owns start with this prefix.
    pub temp_prefix: String,
    /// Capacity of the outbound channel (deliveries waiting to be written).
    pub outbound_capacity: usize,
    /// Peer address, for logs.
    pub peer: String,
    /// Take the client id over from a connection that still holds it (a failover client
    /// reconnecting before the broker noticed its old socket died) instead of refusing.
    pub take_over: bool,
}

/// Starts the core task.
///
/// `journal` is `None` for a memory-only broker; `recovered` is what the journal replayed.
pub fn spawn(config: CoreConfig, store: Option<RecoveredStore>) -> (BrokerHandle, JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(config.command_capacity);
    let journal = store.as_ref().map(|store| store.journal().clone());
    let mut state = state::State::new(config, journal);
    if let Some(store) = store {
        state.recover(store);
    }
    let task = tokio::spawn(state.run(rx));
    (BrokerHandle::new(tx), task)
}
