//! Producer commands: `ProducerInfo` (client → broker) and `ProducerAck` (broker → client,
//! the producer-window credit), reference sections 4.3 and 6.2.

use crate::command::{read_base, write_base, CommandBody};
use crate::error::WireError;
use crate::ids::{BrokerId, Destination, ProducerId};
use crate::wire::{Reader, Writer};

/// Creates a producer (type 6, sync).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProducerInfo {
    pub command_id: i32,
    pub response_required: bool,
    pub producer_id: Option<ProducerId>,
    /// `None` for an anonymous producer, which names a destination per message.
    pub destination: Option<Destination>,
    pub broker_path: Option<Vec<BrokerId>>,
    pub dispatch_async: bool,
    /// Bytes the client may send asynchronously before it waits for `ProducerAck`s; 0 = no
    /// producer flow control.
    pub window_size: i32,
}

impl CommandBody for ProducerInfo {
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let (command_id, response_required) = read_base(r)?;
        Ok(ProducerInfo {
            command_id,
            response_required,
            producer_id: r.nested()?,
            destination: r.nested()?,
            broker_path: r.array_of()?,
            dispatch_async: r.bool()?,
            window_size: r.i32()?,
        })
    }
    fn write(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
        write_base(w, self.command_id, self.response_required);
        w.nested(self.producer_id.as_ref())?;
        w.nested(self.destination.as_ref())?;
        w.array_of(self.broker_path.as_deref())?;
        w.bool(self.dispatch_async);
        w.i32(self.window_size);
        Ok(())
    }
}

/// Returns `size` bytes of window to a producer (type 19), sent after accepting each async send
/// when the producer's `window_size > 0`. `size` is [`crate::Message::size`] of that message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProducerAck {
    pub command_id: i32,
    pub response_required: bool,
    pub producer_id: Option<ProducerId>,
    pub size: i32,
}

impl CommandBody for ProducerAck {
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let (command_id, response_required) = read_base(r)?;
        Ok(ProducerAck {
            command_id,
            response_required,
            producer_id: r.nested()?,
            size: r.i32()?,
        })
    }
    fn write(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
        write_base(w, self.command_id, self.response_required);
        w.nested(self.producer_id.as_ref())?;
        w.i32(self.size);
        Ok(())
    }
}
