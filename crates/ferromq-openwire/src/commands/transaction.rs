//! `TransactionInfo` (type 7): begin/commit/rollback of local transactions, and the XA verbs,
//! reference sections 4.2 and 6.5.
//!
//! XA is decoded in full (the id is a [`TransactionId::Xa`]) so the adapter can refuse it with
//! a clear `ExceptionResponse` instead of failing to parse.

use crate::command::{read_base, write_base, CommandBody};
use crate::error::WireError;
use crate::ids::{ConnectionId, TransactionId};
use crate::wire::{Reader, Writer};

/// `TransactionInfo.type`; a raw byte so that unknown values survive a round trip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TransactionType(pub u8);

impl TransactionType {
    pub const BEGIN: TransactionType = TransactionType(0);
    pub const PREPARE: TransactionType = TransactionType(1);
    pub const COMMIT_ONE_PHASE: TransactionType = TransactionType(2);
    pub const COMMIT_TWO_PHASE: TransactionType = TransactionType(3);
    pub const ROLLBACK: TransactionType = TransactionType(4);
    pub const RECOVER: TransactionType = TransactionType(5);
    pub const FORGET: TransactionType = TransactionType(6);
    pub const END: TransactionType = TransactionType(7);
}

/// One transaction verb (type 7). BEGIN is async; the others are sync.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TransactionInfo {
    pub command_id: i32,
    pub response_required: bool,
    pub connection_id: Option<ConnectionId>,
    /// `None` for RECOVER.
    pub transaction_id: Option<TransactionId>,
    pub transaction_type: TransactionType,
}

impl TransactionInfo {
    /// Whether this concerns an XA transaction (or is XA RECOVER), which needs typed responses.
    pub fn is_xa(&self) -> bool {
        matches!(self.transaction_id, Some(TransactionId::Xa(_)))
            || self.transaction_type == TransactionType::RECOVER
    }
}

impl CommandBody for TransactionInfo {
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let (command_id, response_required) = read_base(r)?;
        Ok(TransactionInfo {
            command_id,
            response_required,
            connection_id: r.nested()?,
            transaction_id: r.nested()?,
            transaction_type: TransactionType(r.u8()?),
        })
    }
    fn write(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
        write_base(w, self.command_id, self.response_required);
        w.nested(self.connection_id.as_ref())?;
        w.nested(self.transaction_id.as_ref())?;
        w.u8(self.transaction_type.0);
        Ok(())
    }
}
