//! Consumer commands: `ConsumerInfo`, `ConsumerControl`, `MessagePull` and the broker's
//! `MessageDispatch` (reference sections 4.3, 6.3 and 6.4).

use crate::command::{read_base, write_base, CommandBody, DataStructure};
use crate::commands::Message;
use crate::error::WireError;
use crate::ids::{BrokerId, ConsumerId, Destination, MessageId};
use crate::wire::{Reader, Writer};

/// Creates a consumer, durable subscriber or queue browser (type 5, sync).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConsumerInfo {
    pub command_id: i32,
    pub response_required: bool,
    pub consumer_id: Option<ConsumerId>,
    /// A `QueueBrowser`: gets a snapshot, then a null-message dispatch; its acks remove nothing.
    pub browser: bool,
    /// May be composite (`a,b`) or a wildcard.
    pub destination: Option<Destination>,
    /// 0 = pull mode: dispatch only in answer to `MessagePull`.
    pub prefetch_size: i32,
    pub maximum_pending_message_limit: i32,
    pub dispatch_async: bool,
    /// JMS (SQL-92) selector.
    pub selector: Option<String>,
    pub client_id: Option<String>,
    /// Set for a durable topic subscription, keyed by (`client_id`, `subscription_name`).
    pub subscription_name: Option<String>,
    pub no_local: bool,
    pub exclusive: bool,
    pub retroactive: bool,
    pub priority: u8,
    pub broker_path: Option<Vec<BrokerId>>,
    /// A broker-network filter; always null from clients.
    pub additional_predicate: Option<Box<DataStructure>>,
    pub network_subscription: bool,
    pub optimized_acknowledge: bool,
    pub no_range_acks: bool,
    pub network_consumer_path: Option<Vec<ConsumerId>>,
}

impl CommandBody for ConsumerInfo {
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let (command_id, response_required) = read_base(r)?;
        Ok(ConsumerInfo {
            command_id,
            response_required,
            consumer_id: r.nested()?,
            browser: r.bool()?,
            destination: r.nested()?,
            prefetch_size: r.i32()?,
            maximum_pending_message_limit: r.i32()?,
            dispatch_async: r.bool()?,
            selector: r.opt_string()?,
            client_id: r.opt_string()?,
            subscription_name: r.opt_string()?,
            no_local: r.bool()?,
            exclusive: r.bool()?,
            retroactive: r.bool()?,
            priority: r.u8()?,
            broker_path: r.array_of()?,
            additional_predicate: r.nested::<DataStructure>()?.map(Box::new),
            network_subscription: r.bool()?,
            optimized_acknowledge: r.bool()?,
            no_range_acks: r.bool()?,
            network_consumer_path: r.array_of()?,
        })
    }
    fn write(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
        write_base(w, self.command_id, self.response_required);
        w.nested(self.consumer_id.as_ref())?;
        w.bool(self.browser);
        w.nested(self.destination.as_ref())?;
        w.i32(self.prefetch_size);
        w.i32(self.maximum_pending_message_limit);
        w.bool(self.dispatch_async);
        w.opt_string(self.selector.as_deref())?;
        w.opt_string(self.client_id.as_deref())?;
        w.opt_string(self.subscription_name.as_deref())?;
        w.bool(self.no_local);
        w.bool(self.exclusive);
        w.bool(self.retroactive);
        w.u8(self.priority);
        w.array_of(self.broker_path.as_deref())?;
        w.nested(self.additional_predicate.as_deref())?;
        w.bool(self.network_subscription);
        w.bool(self.optimized_acknowledge);
        w.bool(self.no_range_acks);
        w.array_of(self.network_consumer_path.as_deref())
    }
}

/// Changes a consumer (type 17), both directions: a failover client restores its real prefetch
/// with it after a replay; a broker can close a consumer or change its prefetch.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConsumerControl {
    pub command_id: i32,
    pub response_required: bool,
    pub destination: Option<Destination>,
    pub close: bool,
    pub consumer_id: Option<ConsumerId>,
    pub prefetch: i32,
    pub flush: bool,
    pub start: bool,
    pub stop: bool,
}

impl CommandBody for ConsumerControl {
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let (command_id, response_required) = read_base(r)?;
        Ok(ConsumerControl {
            command_id,
            response_required,
            destination: r.nested()?,
            close: r.bool()?,
            consumer_id: r.nested()?,
            prefetch: r.i32()?,
            flush: r.bool()?,
            start: r.bool()?,
            stop: r.bool()?,
        })
    }
    fn write(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
        write_base(w, self.command_id, self.response_required);
        w.nested(self.destination.as_ref())?;
        w.bool(self.close);
        w.nested(self.consumer_id.as_ref())?;
        w.i32(self.prefetch);
        w.bool(self.flush);
        w.bool(self.start);
        w.bool(self.stop);
        Ok(())
    }
}

/// A prefetch-0 consumer asks for one message (type 20, async).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MessagePull {
    pub command_id: i32,
    pub response_required: bool,
    pub consumer_id: Option<ConsumerId>,
    pub destination: Option<Destination>,
    /// −1: now or a null dispatch; 0: wait for one; > 0: wait up to that many ms, then a null
    /// dispatch.
    pub timeout: i64,
    pub correlation_id: Option<String>,
    pub message_id: Option<MessageId>,
}

impl CommandBody for MessagePull {
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let (command_id, response_required) = read_base(r)?;
        Ok(MessagePull {
            command_id,
            response_required,
            consumer_id: r.nested()?,
            destination: r.nested()?,
            timeout: r.i64()?,
            correlation_id: r.opt_string()?,
            message_id: r.nested()?,
        })
    }
    fn write(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
        write_base(w, self.command_id, self.response_required);
        w.nested(self.consumer_id.as_ref())?;
        w.nested(self.destination.as_ref())?;
        w.i64(self.timeout);
        w.opt_string(self.correlation_id.as_deref())?;
        w.nested(self.message_id.as_ref())
    }
}

/// Delivers a message to a consumer (type 21, broker → client).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MessageDispatch {
    pub command_id: i32,
    pub response_required: bool,
    pub consumer_id: Option<ConsumerId>,
    pub destination: Option<Destination>,
    /// `None` ends a browse, or answers a pull that found nothing.
    pub message: Option<Box<Message>>,
    /// Copied into the message by the client: JMSRedelivered = counter > 0.
    pub redelivery_counter: i32,
}

impl CommandBody for MessageDispatch {
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let (command_id, response_required) = read_base(r)?;
        Ok(MessageDispatch {
            command_id,
            response_required,
            consumer_id: r.nested()?,
            destination: r.nested()?,
            message: r.nested()?,
            redelivery_counter: r.i32()?,
        })
    }
    fn write(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
        write_base(w, self.command_id, self.response_required);
        w.nested(self.consumer_id.as_ref())?;
        w.nested(self.destination.as_ref())?;
        w.nested(self.message.as_ref())?;
        w.i32(self.redelivery_counter);
        Ok(())
    }
}
