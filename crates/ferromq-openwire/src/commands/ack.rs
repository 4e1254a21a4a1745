//! `MessageAck` (type 22) and its ack types (`C/command/MessageAck.java`, reference 6.3).
//!
//! The codec only carries the range; what each type means for the broker's dispatched list is
//! the core's business (see the table in the reference).

use crate::command::{read_base, write_base, CommandBody};
use crate::commands::response::Throwable;
use crate::error::WireError;
use crate::ids::{ConsumerId, Destination, MessageId, TransactionId};
use crate::wire::{Reader, Writer};

/// `MessageAck.ackType`; a raw byte so that unknown values survive a round trip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct AckType(pub u8);

impl AckType {
    /// Consumed but not settled: widens the prefetch window.
    pub const DELIVERED: AckType = AckType(0);
    /// Redelivery limit exceeded (or a duplicate): move to the DLQ.
    pub const POISON: AckType = AckType(1);
    /// Settles `first..=last` (first `None` = head of the dispatched list).
    pub const STANDARD: AckType = AckType(2);
    /// Informational: the client redelivers locally after a rollback.
    pub const REDELIVERED: AckType = AckType(3);
    /// Settles exactly `last_message_id`.
    pub const INDIVIDUAL: AckType = AckType(4);
    /// Broker-internal; clients never send it.
    pub const UNMATCHED: AckType = AckType(5);
    /// The client found the messages expired.
    pub const EXPIRED: AckType = AckType(6);
}

/// Acknowledges a range of dispatched messages (type 22, async by default).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MessageAck {
    pub command_id: i32,
    pub response_required: bool,
    pub destination: Option<Destination>,
    /// Set on transacted acks, which take effect at commit.
    pub transaction_id: Option<TransactionId>,
    pub consumer_id: Option<ConsumerId>,
    pub ack_type: AckType,
    pub first_message_id: Option<MessageId>,
    pub last_message_id: Option<MessageId>,
    pub message_count: i32,
    /// Why a POISON ack was sent.
    pub poison_cause: Option<Throwable>,
}

impl CommandBody for MessageAck {
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let (command_id, response_required) = read_base(r)?;
        Ok(MessageAck {
            command_id,
            response_required,
            destination: r.nested()?,
            transaction_id: r.nested()?,
            consumer_id: r.nested()?,
            ack_type: AckType(r.u8()?),
            first_message_id: r.nested()?,
            last_message_id: r.nested()?,
            message_count: r.i32()?,
            poison_cause: Throwable::read_opt(r)?,
        })
    }
    fn write(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
        write_base(w, self.command_id, self.response_required);
        w.nested(self.destination.as_ref())?;
        w.nested(self.transaction_id.as_ref())?;
        w.nested(self.consumer_id.as_ref())?;
        w.u8(self.ack_type.0);
        w.nested(self.first_message_id.as_ref())?;
        w.nested(self.last_message_id.as_ref())?;
        w.i32(self.message_count);
        Throwable::write_opt(self.poison_cause.as_ref(), w)
    }
}
