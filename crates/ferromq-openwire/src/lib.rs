//! Sans-IO OpenWire codec: what the ActiveMQ 5.x Java client (`activemq-client` 5.14 and later,
//! OpenWire v10–v12) sends and expects, as plain Rust types.
//!
//! Bytes in, [`Command`]s out, and back. This crate owns the wire format only: framing, the
//! loose encoding of every command a client–broker session uses, `WireFormatInfo` negotiation,
//! primitive maps, and the message-body layouts. It does no I/O, spawns nothing, and knows
//! nothing about destinations, subscriptions or acks; wire types stay separate from the
//! broker's domain types.
//!
//! # Encoding
//! Only the *loose* encoding without the value cache is implemented. The broker's offer
//! ([`Codec::local_wire_format`]) says `TightEncodingEnabled=false` and `CacheEnabled=false`;
//! Java ANDs those options, so a default client (which proposes tight + cache) switches to loose,
//! uncached frames in both directions. Versions 10 and 11 have the same loose layouts as 12 for
//! every command implemented here, so they are accepted too.
//!
//! # Use
//! ```
//! use bytes::BytesMut;
//! use ferromq_openwire::{Codec, Command, Config, Response, WireError};
//!
//! # fn main() -> Result<(), WireError> {
//! let mut broker = Codec::new(Config::default());
//! let mut out = BytesMut::new();
//! // On accept: send the broker's WireFormatInfo.
//! broker.encode(&broker.local_wire_format().into(), &mut out)?;
//!
//! // Read loop: decode until `Ok(None)`, then read more bytes from the socket.
//! let mut inbound = out.clone(); // (pretend the client sent the same thing)
//! while let Some(command) = broker.decode(&mut inbound)? {
//!     match command {
//!         Command::WireFormatInfo(peer) => {
//!             let agreed = broker.negotiate(&peer)?;
//!             assert!(!agreed.tight_encoding_enabled);
//!         }
//!         other if other.response_required() => {
//!             let reply = Response::new(other.command_id());
//!             broker.encode(&reply.into(), &mut out)?;
//!         }
//!         _ => {}
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Errors and limits
//! Every decode error is a [`WireError`] carrying the offset in the frame; nothing panics on
//! peer input. [`Codec::check`] refuses an oversized frame from its size prefix alone, lengths
//! and counts are checked against the bytes left before anything is allocated, and nesting
//! (objects, maps, lists, exception causes) is limited by [`Limits::max_nesting_depth`].

mod body;
mod codec;
mod command;
mod commands;
mod error;
mod ids;
mod mutf8;
mod negotiate;
mod primitive;
mod wire;

pub use codec::{Codec, Config, Limits, DEFAULT_MAX_FRAME_SIZE};
pub use command::{type_id, Command, DataStructure};
pub use commands::wire_format::{property as wire_format_property, MAGIC};
pub use commands::{
    AckType, BlobInfo, BrokerInfo, ConnectionControl, ConnectionError, ConnectionInfo,
    ConsumerControl, ConsumerInfo, ControlCommand, DataArrayResponse, DataResponse,
    DestinationInfo, DestinationOperation, ExceptionResponse, FlushCommand, IntegerResponse,
    KeepAliveInfo, Message, MessageAck, MessageDispatch, MessageKind, MessagePull, ProducerAck,
    ProducerInfo, RemoveInfo, RemoveSubscriptionInfo, RemoveTarget, Response, SessionInfo,
    ShutdownInfo, StackTraceElement, Throwable, TransactionInfo, TransactionType, WireFormatInfo,
};
pub use error::WireError;
pub use ids::{
    BrokerId, ConnectionId, ConsumerId, Destination, LocalTransactionId, MessageId, ProducerId,
    SessionId, TransactionId, XaTransactionId,
};
pub use negotiate::Negotiated;
pub use primitive::{PrimitiveMap, PrimitiveValue};

/// The newest OpenWire version implemented (ActiveMQ 5.14+ clients offer it).
pub const MAX_VERSION: i32 = 12;
/// The oldest version accepted: v10 and v11 share v12's loose layouts for every command here
/// (the Java marshallers differ only in `BrokerSubscriptionInfo`/`SubscriptionInfo`, broker-to-
/// broker and store types this crate does not implement). v9 lacks a message field.
pub const MIN_VERSION: i32 = 10;
