//! The command structs, one file per command family. Each file owns its structs' fields and
//! their loose-encoding layout, in the order of the matching `V12/*Marshaller.java`.

mod ack;
mod connection;
mod consumer;
mod message;
mod producer;
pub(crate) mod response;
mod session;
mod transaction;
pub(crate) mod wire_format;

pub use ack::{AckType, MessageAck};
pub use connection::{
    BrokerInfo, ConnectionControl, ConnectionError, ConnectionInfo, ControlCommand, FlushCommand,
    KeepAliveInfo, ShutdownInfo,
};
pub use consumer::{ConsumerControl, ConsumerInfo, MessageDispatch, MessagePull};
pub use message::{BlobInfo, Message, MessageKind};
pub use producer::{ProducerAck, ProducerInfo};
pub use response::{
    DataArrayResponse, DataResponse, ExceptionResponse, IntegerResponse, Response,
    StackTraceElement, Throwable,
};
pub use session::{
    DestinationInfo, DestinationOperation, RemoveInfo, RemoveSubscriptionInfo, RemoveTarget,
    SessionInfo,
};
pub use transaction::{TransactionInfo, TransactionType};
pub use wire_format::WireFormatInfo;
