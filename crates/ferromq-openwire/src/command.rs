//! [`Command`] (one variant per command this codec implements), [`DataStructure`] (anything
//! that can be nested polymorphically), the type-id table, and the dispatch from type byte to
//! marshaller.
//!
//! Owns the mapping only; each command's fields and layout live in `commands/<family>.rs`.
//! Type ids not listed in [`type_id`] are [`WireError::UnknownType`], never a panic.

use crate::commands::{
    BrokerInfo, ConnectionControl, ConnectionError, ConnectionInfo, ConsumerControl, ConsumerInfo,
    ControlCommand, DataArrayResponse, DataResponse, DestinationInfo, ExceptionResponse,
    FlushCommand, IntegerResponse, KeepAliveInfo, Message, MessageAck, MessageDispatch,
    MessagePull, ProducerAck, ProducerInfo, RemoveInfo, RemoveSubscriptionInfo, Response,
    SessionInfo, ShutdownInfo, TransactionInfo, WireFormatInfo,
};
use crate::error::WireError;
use crate::ids::{
    BrokerId, ConnectionId, ConsumerId, Destination, MessageId, ProducerId, SessionId,
    TransactionId,
};
use crate::wire::{Marshal, Reader, Writer};

/// OpenWire data-structure type ids (`CommandTypes.java`) implemented by this codec.
pub mod type_id {
    pub const WIRE_FORMAT_INFO: u8 = 1;
    pub const BROKER_INFO: u8 = 2;
    pub const CONNECTION_INFO: u8 = 3;
    pub const SESSION_INFO: u8 = 4;
    pub const CONSUMER_INFO: u8 = 5;
    pub const PRODUCER_INFO: u8 = 6;
    pub const TRANSACTION_INFO: u8 = 7;
    pub const DESTINATION_INFO: u8 = 8;
    pub const REMOVE_SUBSCRIPTION_INFO: u8 = 9;
    pub const KEEP_ALIVE_INFO: u8 = 10;
    pub const SHUTDOWN_INFO: u8 = 11;
    pub const REMOVE_INFO: u8 = 12;
    pub const CONTROL_COMMAND: u8 = 14;
    pub const FLUSH_COMMAND: u8 = 15;
    pub const CONNECTION_ERROR: u8 = 16;
    pub const CONSUMER_CONTROL: u8 = 17;
    pub const CONNECTION_CONTROL: u8 = 18;
    pub const PRODUCER_ACK: u8 = 19;
    pub const MESSAGE_PULL: u8 = 20;
    pub const MESSAGE_DISPATCH: u8 = 21;
    pub const MESSAGE_ACK: u8 = 22;
    pub const ACTIVEMQ_MESSAGE: u8 = 23;
    pub const ACTIVEMQ_BYTES_MESSAGE: u8 = 24;
    pub const ACTIVEMQ_MAP_MESSAGE: u8 = 25;
    pub const ACTIVEMQ_OBJECT_MESSAGE: u8 = 26;
    pub const ACTIVEMQ_STREAM_MESSAGE: u8 = 27;
    pub const ACTIVEMQ_TEXT_MESSAGE: u8 = 28;
    pub const ACTIVEMQ_BLOB_MESSAGE: u8 = 29;
    pub const RESPONSE: u8 = 30;
    pub const EXCEPTION_RESPONSE: u8 = 31;
    pub const DATA_RESPONSE: u8 = 32;
    pub const DATA_ARRAY_RESPONSE: u8 = 33;
    pub const INTEGER_RESPONSE: u8 = 34;
    pub const QUEUE: u8 = 100;
    pub const TOPIC: u8 = 101;
    pub const TEMP_QUEUE: u8 = 102;
    pub const TEMP_TOPIC: u8 = 103;
    pub const MESSAGE_ID: u8 = 110;
    pub const LOCAL_TRANSACTION_ID: u8 = 111;
    pub const XA_TRANSACTION_ID: u8 = 112;
    pub const CONNECTION_ID: u8 = 120;
    pub const SESSION_ID: u8 = 121;
    pub const CONSUMER_ID: u8 = 122;
    pub const PRODUCER_ID: u8 = 123;
    pub const BROKER_ID: u8 = 124;
}

/// Reads and writes the fields of a command after its type byte.
pub(crate) trait CommandBody: Sized {
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError>;
    fn write(&self, w: &mut Writer<'_>) -> Result<(), WireError>;
}

/// Declares [`Command`] and its dispatch. Every listed struct has the `BaseCommand` prefix
/// (`command_id`, `response_required`); `WireFormatInfo` (no prefix) and `Message` (seven type
/// ids, boxed because it is large) are handled by hand.
macro_rules! commands {
    ($($variant:ident => $id:ident,)*) => {
        /// One OpenWire command: what a frame holds.
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum Command {
            WireFormatInfo(WireFormatInfo),
            $($variant($variant),)*
            /// Any message type (23–29); [`Message::kind`] tells which.
            Message(Box<Message>),
        }

        $(
            impl From<$variant> for Command {
                fn from(c: $variant) -> Self {
                    Command::$variant(c)
                }
            }

            impl Marshal for $variant {
                const NAME: &'static str = stringify!($variant);
                fn accepts(t: u8) -> bool {
                    t == type_id::$id
                }
                fn read_body(_: u8, r: &mut Reader<'_>) -> Result<Self, WireError> {
                    <$variant as CommandBody>::read(r)
                }
                fn type_id(&self) -> u8 {
                    type_id::$id
                }
                fn write_body(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
                    CommandBody::write(self, w)
                }
            }
        )*

        impl Command {
            /// The data-structure type id this command is written with.
            pub fn type_id(&self) -> u8 {
                match self {
                    Command::WireFormatInfo(_) => type_id::WIRE_FORMAT_INFO,
                    $(Command::$variant(_) => type_id::$id,)*
                    Command::Message(m) => m.kind.type_id(),
                }
            }

            /// The sender's number for this command; a `Response` echoes it as its
            /// `correlation_id`. `WireFormatInfo` has none and reports 0.
            pub fn command_id(&self) -> i32 {
                match self {
                    Command::WireFormatInfo(_) => 0,
                    $(Command::$variant(c) => c.command_id,)*
                    Command::Message(m) => m.command_id,
                }
            }

            /// Whether the sender waits for a `Response` (or `ExceptionResponse`) to this.
            pub fn response_required(&self) -> bool {
                match self {
                    Command::WireFormatInfo(_) => false,
                    $(Command::$variant(c) => c.response_required,)*
                    Command::Message(m) => m.response_required,
                }
            }

            /// Sets the command id (the broker numbers what it sends). No-op for
            /// `WireFormatInfo`.
            pub fn set_command_id(&mut self, id: i32) {
                match self {
                    Command::WireFormatInfo(_) => {}
                    $(Command::$variant(c) => c.command_id = id,)*
                    Command::Message(m) => m.command_id = id,
                }
            }
        }

        fn read_command(t: u8, r: &mut Reader<'_>) -> Result<Command, WireError> {
            // Every arm is a call whose result is the match's result, so this frame holds no
            // per-command temporaries: nested messages must stay cheap on the stack.
            match t {
                type_id::WIRE_FORMAT_INFO => {
                    WireFormatInfo::read_body(t, r).map(Command::WireFormatInfo)
                }
                $(type_id::$id => read_as(r, Command::$variant),)*
                t if Message::accepts(t) => read_message(t, r),
                // Unreachable through `Marshal::accepts`, but a wrong type byte must never be
                // read with some other command's layout.
                type_id => Err(WireError::UnknownType { type_id, offset: r.offset() }),
            }
        }

        fn is_command_type(t: u8) -> bool {
            matches!(t, type_id::WIRE_FORMAT_INFO $(| type_id::$id)*)
                || Message::accepts(t)
        }

        fn write_command(c: &Command, w: &mut Writer<'_>) -> Result<(), WireError> {
            match c {
                Command::WireFormatInfo(c) => c.write_body(w),
                $(Command::$variant(c) => CommandBody::write(c, w),)*
                Command::Message(m) => m.write_body(w),
            }
        }
    };
}

commands! {
    BrokerInfo => BROKER_INFO,
    ConnectionInfo => CONNECTION_INFO,
    SessionInfo => SESSION_INFO,
    ConsumerInfo => CONSUMER_INFO,
    ProducerInfo => PRODUCER_INFO,
    TransactionInfo => TRANSACTION_INFO,
    DestinationInfo => DESTINATION_INFO,
    RemoveSubscriptionInfo => REMOVE_SUBSCRIPTION_INFO,
    KeepAliveInfo => KEEP_ALIVE_INFO,
    ShutdownInfo => SHUTDOWN_INFO,
    RemoveInfo => REMOVE_INFO,
    ControlCommand => CONTROL_COMMAND,
    FlushCommand => FLUSH_COMMAND,
    ConnectionError => CONNECTION_ERROR,
    ConsumerControl => CONSUMER_CONTROL,
    ConnectionControl => CONNECTION_CONTROL,
    ProducerAck => PRODUCER_ACK,
    MessagePull => MESSAGE_PULL,
    MessageDispatch => MESSAGE_DISPATCH,
    MessageAck => MESSAGE_ACK,
    Response => RESPONSE,
    ExceptionResponse => EXCEPTION_RESPONSE,
    DataResponse => DATA_RESPONSE,
    DataArrayResponse => DATA_ARRAY_RESPONSE,
    IntegerResponse => INTEGER_RESPONSE,
}

impl From<WireFormatInfo> for Command {
    fn from(c: WireFormatInfo) -> Self {
        Command::WireFormatInfo(c)
    }
}

impl From<Message> for Command {
    fn from(m: Message) -> Self {
        Command::Message(Box::new(m))
    }
}

impl Marshal for Command {
    const NAME: &'static str = "a command";
    fn accepts(t: u8) -> bool {
        is_command_type(t)
    }
    fn read_body(t: u8, r: &mut Reader<'_>) -> Result<Self, WireError> {
        read_command(t, r)
    }
    fn type_id(&self) -> u8 {
        Command::type_id(self)
    }
    fn write_body(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
        write_command(self, w)
    }
}

#[inline(never)]
fn read_as<T: CommandBody>(
    r: &mut Reader<'_>,
    wrap: fn(T) -> Command,
) -> Result<Command, WireError> {
    T::read(r).map(wrap)
}

#[inline(never)]
fn read_message(t: u8, r: &mut Reader<'_>) -> Result<Command, WireError> {
    Message::read_body(t, r).map(|m| Command::Message(Box::new(m)))
}

/// Whether this codec can read data-structure type `t` (as a command or nested).
pub(crate) fn is_known_type(t: u8) -> bool {
    DataStructure::accepts(t)
}

/// Reads a whole frame body: the type byte and the command after it.
pub(crate) fn read_frame_command(r: &mut Reader<'_>) -> Result<Command, WireError> {
    let offset = r.offset();
    let t = r.u8()?;
    if !Command::accepts(t) {
        return Err(if is_known_type(t) || t == 0 {
            WireError::NotACommand { type_id: t, offset }
        } else {
            WireError::UnknownType { type_id: t, offset }
        });
    }
    let command = Command::read_body(t, r)?;
    r.finish()?;
    Ok(command)
}

/// Writes the type byte and the command after it.
pub(crate) fn write_frame_command(c: &Command, w: &mut Writer<'_>) -> Result<(), WireError> {
    w.u8(c.type_id());
    c.write_body(w)
}

/// Anything a polymorphic field (`Message.dataStructure`, `DataResponse.data`, ...) can hold.
/// Advisory messages, for instance, carry the `DestinationInfo` or `ConsumerInfo` they announce.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum DataStructure {
    /// Boxed because commands are large next to ids.
    Command(Box<Command>),
    ConnectionId(ConnectionId),
    SessionId(SessionId),
    ConsumerId(ConsumerId),
    ProducerId(ProducerId),
    BrokerId(BrokerId),
    MessageId(MessageId),
    TransactionId(TransactionId),
    Destination(Destination),
}

impl Marshal for DataStructure {
    const NAME: &'static str = "a data structure";
    fn accepts(t: u8) -> bool {
        Command::accepts(t)
            || ConnectionId::accepts(t)
            || SessionId::accepts(t)
            || ConsumerId::accepts(t)
            || ProducerId::accepts(t)
            || BrokerId::accepts(t)
            || MessageId::accepts(t)
            || TransactionId::accepts(t)
            || Destination::accepts(t)
    }
    fn read_body(t: u8, r: &mut Reader<'_>) -> Result<Self, WireError> {
        match t {
            type_id::CONNECTION_ID => {
                ConnectionId::read_body(t, r).map(DataStructure::ConnectionId)
            }
            type_id::SESSION_ID => SessionId::read_body(t, r).map(DataStructure::SessionId),
            type_id::CONSUMER_ID => ConsumerId::read_body(t, r).map(DataStructure::ConsumerId),
            type_id::PRODUCER_ID => ProducerId::read_body(t, r).map(DataStructure::ProducerId),
            type_id::BROKER_ID => BrokerId::read_body(t, r).map(DataStructure::BrokerId),
            type_id::MESSAGE_ID => MessageId::read_body(t, r).map(DataStructure::MessageId),
            t if TransactionId::accepts(t) => {
                TransactionId::read_body(t, r).map(DataStructure::TransactionId)
            }
            t if Destination::accepts(t) => {
                Destination::read_body(t, r).map(DataStructure::Destination)
            }
            t => read_command(t, r).map(|c| DataStructure::Command(Box::new(c))),
        }
    }
    fn type_id(&self) -> u8 {
        match self {
            DataStructure::Command(c) => c.type_id(),
            DataStructure::ConnectionId(v) => v.type_id(),
            DataStructure::SessionId(v) => v.type_id(),
            DataStructure::ConsumerId(v) => v.type_id(),
            DataStructure::ProducerId(v) => v.type_id(),
            DataStructure::BrokerId(v) => v.type_id(),
            DataStructure::MessageId(v) => v.type_id(),
            DataStructure::TransactionId(v) => v.type_id(),
            DataStructure::Destination(v) => v.type_id(),
        }
    }
    fn write_body(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
        match self {
            DataStructure::Command(c) => c.write_body(w),
            DataStructure::ConnectionId(v) => v.write_body(w),
            DataStructure::SessionId(v) => v.write_body(w),
            DataStructure::ConsumerId(v) => v.write_body(w),
            DataStructure::ProducerId(v) => v.write_body(w),
            DataStructure::BrokerId(v) => v.write_body(w),
            DataStructure::MessageId(v) => v.write_body(w),
            DataStructure::TransactionId(v) => v.write_body(w),
            DataStructure::Destination(v) => v.write_body(w),
        }
    }
}

impl Marshal for Box<Message> {
    const NAME: &'static str = "a message";
    fn accepts(t: u8) -> bool {
        Message::accepts(t)
    }
    fn read_body(t: u8, r: &mut Reader<'_>) -> Result<Self, WireError> {
        Message::read_body(t, r).map(Box::new)
    }
    fn type_id(&self) -> u8 {
        Message::type_id(self)
    }
    fn write_body(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
        Message::write_body(self, w)
    }
}

/// Reads the `commandId` and `responseRequired` that start every `BaseCommand`.
pub(crate) fn read_base(r: &mut Reader<'_>) -> Result<(i32, bool), WireError> {
    Ok((r.i32()?, r.bool()?))
}

/// Writes the `BaseCommand` prefix.
pub(crate) fn write_base(w: &mut Writer<'_>, command_id: i32, response_required: bool) {
    w.i32(command_id);
    w.bool(response_required);
}
