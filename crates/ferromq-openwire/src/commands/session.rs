//! Session-level and lifecycle commands: `SessionInfo`, `RemoveInfo`, `DestinationInfo`,
//! `RemoveSubscriptionInfo` (reference section 4.2).
//!
//! `RemoveInfo` names what it removes polymorphically; [`RemoveTarget`] keeps the four kinds the
//! Java broker accepts and anything else is a decode error, as it is an IOException there.

use crate::command::{read_base, type_id, write_base, CommandBody};
use crate::error::WireError;
use crate::ids::{BrokerId, ConnectionId, ConsumerId, Destination, ProducerId, SessionId};
use crate::wire::{Marshal, Reader, Writer};

/// Creates a session (type 4, async). Session −1 of every connection exists without one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SessionInfo {
    pub command_id: i32,
    pub response_required: bool,
    pub session_id: Option<SessionId>,
}

impl CommandBody for SessionInfo {
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let (command_id, response_required) = read_base(r)?;
        Ok(SessionInfo {
            command_id,
            response_required,
            session_id: r.nested()?,
        })
    }
    fn write(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
        write_base(w, self.command_id, self.response_required);
        w.nested(self.session_id.as_ref())
    }
}

/// What a `RemoveInfo` removes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RemoveTarget {
    Connection(ConnectionId),
    Session(SessionId),
    Consumer(ConsumerId),
    Producer(ProducerId),
}

impl Marshal for RemoveTarget {
    const NAME: &'static str = "a connection, session, consumer or producer id";
    fn accepts(t: u8) -> bool {
        (type_id::CONNECTION_ID..=type_id::PRODUCER_ID).contains(&t)
    }
    fn read_body(t: u8, r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(match t {
            type_id::CONNECTION_ID => RemoveTarget::Connection(ConnectionId::read_body(t, r)?),
            type_id::SESSION_ID => RemoveTarget::Session(SessionId::read_body(t, r)?),
            type_id::CONSUMER_ID => RemoveTarget::Consumer(ConsumerId::read_body(t, r)?),
            _ => RemoveTarget::Producer(ProducerId::read_body(t, r)?),
        })
    }
    fn type_id(&self) -> u8 {
        match self {
            RemoveTarget::Connection(v) => v.type_id(),
            RemoveTarget::Session(v) => v.type_id(),
            RemoveTarget::Consumer(v) => v.type_id(),
            RemoveTarget::Producer(v) => v.type_id(),
        }
    }
    fn write_body(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
        match self {
            RemoveTarget::Connection(v) => v.write_body(w),
            RemoveTarget::Session(v) => v.write_body(w),
            RemoveTarget::Consumer(v) => v.write_body(w),
            RemoveTarget::Producer(v) => v.write_body(w),
        }
    }
}

/// Closes a connection, session, consumer or producer (type 12). Only the connection's removal
/// is sync. The broker must cascade: a removed session takes its consumers and producers along.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoveInfo {
    pub command_id: i32,
    pub response_required: bool,
    pub object_id: RemoveTarget,
    /// The `broker_sequence_id` of the last message handed to the application,
    /// [`RemoveInfo::LAST_DELIVERED_UNSET`] or [`RemoveInfo::LAST_DELIVERED_UNKNOWN`].
    pub last_delivered_sequence_id: i64,
}

impl RemoveInfo {
    /// No message reached the application: raise no redelivery counter.
    pub const LAST_DELIVERED_UNSET: i64 = -1;
    /// Unknown (the default, and what producers send): raise every returned message's counter.
    pub const LAST_DELIVERED_UNKNOWN: i64 = -2;

    pub fn new(object_id: RemoveTarget) -> Self {
        RemoveInfo {
            command_id: 0,
            response_required: false,
            object_id,
            last_delivered_sequence_id: Self::LAST_DELIVERED_UNKNOWN,
        }
    }
}

impl CommandBody for RemoveInfo {
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let (command_id, response_required) = read_base(r)?;
        Ok(RemoveInfo {
            command_id,
            response_required,
            object_id: r.required("RemoveInfo.objectId")?,
            last_delivered_sequence_id: r.i64()?,
        })
    }
    fn write(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
        write_base(w, self.command_id, self.response_required);
        w.nested(Some(&self.object_id))?;
        w.i64(self.last_delivered_sequence_id);
        Ok(())
    }
}

/// `DestinationInfo.operationType`; a raw byte so that unknown values survive a round trip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DestinationOperation(pub u8);

impl DestinationOperation {
    pub const ADD: DestinationOperation = DestinationOperation(0);
    pub const REMOVE: DestinationOperation = DestinationOperation(1);
}

/// Creates or deletes a destination (type 8), sync from clients: temporary destinations on
/// `createTemporaryQueue`/`delete`. Advisory messages carry one as their `data_structure`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DestinationInfo {
    pub command_id: i32,
    pub response_required: bool,
    pub connection_id: Option<ConnectionId>,
    pub destination: Option<Destination>,
    pub operation_type: DestinationOperation,
    pub timeout: i64,
    pub broker_path: Option<Vec<BrokerId>>,
}

impl CommandBody for DestinationInfo {
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let (command_id, response_required) = read_base(r)?;
        Ok(DestinationInfo {
            command_id,
            response_required,
            connection_id: r.nested()?,
            destination: r.nested()?,
            operation_type: DestinationOperation(r.u8()?),
            timeout: r.i64()?,
            broker_path: r.array_of()?,
        })
    }
    fn write(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
        write_base(w, self.command_id, self.response_required);
        w.nested(self.connection_id.as_ref())?;
        w.nested(self.destination.as_ref())?;
        w.u8(self.operation_type.0);
        w.i64(self.timeout);
        w.array_of(self.broker_path.as_deref())
    }
}

/// Deletes a durable subscription (type 9, sync, `session.unsubscribe(name)`). Answer with an
/// `ExceptionResponse` if it is unknown or has an active consumer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RemoveSubscriptionInfo {
    pub command_id: i32,
    pub response_required: bool,
    pub connection_id: Option<ConnectionId>,
    /// `subcriptionName` upstream (sic).
    pub subscription_name: Option<String>,
    pub client_id: Option<String>,
}

impl CommandBody for RemoveSubscriptionInfo {
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let (command_id, response_required) = read_base(r)?;
        Ok(RemoveSubscriptionInfo {
            command_id,
            response_required,
            connection_id: r.nested()?,
            subscription_name: r.opt_string()?,
            client_id: r.opt_string()?,
        })
    }
    fn write(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
        write_base(w, self.command_id, self.response_required);
        w.nested(self.connection_id.as_ref())?;
        w.opt_string(self.subscription_name.as_deref())?;
        w.opt_string(self.client_id.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ReadOptions;
    use bytes::{Bytes, BytesMut};

    const OPTS: ReadOptions = ReadOptions {
        max_depth: 8,
        stack_traces: false,
    };

    #[test]
    fn remove_info_dispatches_on_the_type_byte() {
        let p = ProducerId {
            connection_id: "c".into(),
            session_id: 1,
            value: 2,
        };
        let info = RemoveInfo::new(RemoveTarget::Producer(p));
        let mut out = BytesMut::new();
        assert!(info.write(&mut Writer::new(&mut out, false)).is_ok());
        assert_eq!(out[6], type_id::PRODUCER_ID);
        let b = out.freeze();
        let mut r = Reader::new(&b, 0, OPTS);
        assert_eq!(RemoveInfo::read(&mut r).ok(), Some(info));
    }

    #[test]
    fn remove_info_refuses_other_targets() {
        // commandId 0, responseRequired false, present, BrokerId type, null value.
        let b = Bytes::from_static(&[0, 0, 0, 0, 0, 1, type_id::BROKER_ID, 0]);
        let mut r = Reader::new(&b, 0, OPTS);
        assert!(matches!(
            RemoveInfo::read(&mut r),
            Err(WireError::UnexpectedType {
                type_id: 124,
                offset: 6,
                ..
            })
        ));
        let b = Bytes::from_static(&[0, 0, 0, 0, 0, 0]);
        let mut r = Reader::new(&b, 0, OPTS);
        assert!(matches!(
            RemoveInfo::read(&mut r),
            Err(WireError::NullField { .. })
        ));
    }
}
