//! FerroMQ's broker core: destinations, subscriptions, dispatch, acknowledgements, redelivery,
//! transactions and flow control, independent of any wire protocol and of sockets.
//!
//! One task owns all of this state ([`broker::spawn`]); protocol adapters talk to it through a
//! [`broker::BrokerHandle`] with bounded channels, and it talks to the journal through
//! `ferromq_journal::Journal`. Nothing here reads a socket or a clock it cannot be handed.

pub mod advisory;
pub mod broker;
pub mod destination;
pub mod message;
pub mod record;
mod selector_source;

pub use broker::{
    AckKind, AckMode, BrokerHandle, ConnectRequest, ConsumerId, ConsumerSpec, CoreConfig,
    CoreError, DeadLetterStrategy, Delivery, LastDelivered, Outbound, RollbackMode, SendOutcome,
    Session,
};
pub use destination::{Destination, DestinationError, DestinationKind};
pub use ferromq_selector::{Selector, SelectorError};
pub use message::{Body, Message, ProducerSequence, PropertyValue, StructuredKind};
