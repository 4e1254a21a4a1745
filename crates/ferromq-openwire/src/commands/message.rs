//! Messages (types 23–29): one struct for every JMS message type, because they share one layout
//! (`V12/MessageMarshaller.java`; only the blob type adds fields), reference section 4.4.
//!
//! Body and properties stay as the raw bytes the producer sent, so the broker forwards them
//! without decoding or copying (they are slices of the received frame). `crate::body` has the
//! helpers that decode them when the broker needs to look inside.

use bytes::Bytes;

use crate::command::{read_base, type_id, write_base, DataStructure};
use crate::error::WireError;
use crate::ids::{BrokerId, ConsumerId, Destination, MessageId, ProducerId, TransactionId};
use crate::wire::{Marshal, Reader, Writer};

/// Which JMS message class a message is; decides how `content` is laid out.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum MessageKind {
    /// `ActiveMQMessage` (23): no body.
    #[default]
    Message,
    /// `ActiveMQBytesMessage` (24).
    Bytes,
    /// `ActiveMQMapMessage` (25): a primitive map.
    Map,
    /// `ActiveMQObjectMessage` (26): Java serialization, opaque to the broker.
    Object,
    /// `ActiveMQStreamMessage` (27): tagged primitives.
    Stream,
    /// `ActiveMQTextMessage` (28): an i32-length modified UTF-8 string.
    Text,
    /// `ActiveMQBlobMessage` (29): a body stored elsewhere; brokers usually refuse these.
    Blob(BlobInfo),
}

/// The fields only `ActiveMQBlobMessage` has.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BlobInfo {
    pub remote_blob_url: Option<String>,
    pub mime_type: Option<String>,
    pub deleted_by_broker: bool,
}

impl MessageKind {
    pub fn type_id(&self) -> u8 {
        match self {
            MessageKind::Message => type_id::ACTIVEMQ_MESSAGE,
            MessageKind::Bytes => type_id::ACTIVEMQ_BYTES_MESSAGE,
            MessageKind::Map => type_id::ACTIVEMQ_MAP_MESSAGE,
            MessageKind::Object => type_id::ACTIVEMQ_OBJECT_MESSAGE,
            MessageKind::Stream => type_id::ACTIVEMQ_STREAM_MESSAGE,
            MessageKind::Text => type_id::ACTIVEMQ_TEXT_MESSAGE,
            MessageKind::Blob(_) => type_id::ACTIVEMQ_BLOB_MESSAGE,
        }
    }
}

/// A JMS message, as sent by a producer or dispatched inside a `MessageDispatch`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Message {
    pub kind: MessageKind,
    pub command_id: i32,
    /// True for a synchronous send: answer once the message is accepted (stored if persistent).
    pub response_required: bool,
    pub producer_id: Option<ProducerId>,
    pub destination: Option<Destination>,
    /// Set when the send is part of a transaction: invisible until commit.
    pub transaction_id: Option<TransactionId>,
    /// Where the message was first sent, when it has been moved (e.g. to a DLQ).
    pub original_destination: Option<Destination>,
    pub message_id: Option<MessageId>,
    pub original_transaction_id: Option<TransactionId>,
    /// JMSXGroupID.
    pub group_id: Option<String>,
    /// JMSXGroupSeq.
    pub group_sequence: i32,
    /// JMSCorrelationID.
    pub correlation_id: Option<String>,
    /// JMSDeliveryMode PERSISTENT.
    pub persistent: bool,
    /// Absolute expiry in epoch milliseconds; 0 = never.
    pub expiration: i64,
    /// JMSPriority 0–9 (default 4).
    pub priority: u8,
    /// JMSReplyTo.
    pub reply_to: Option<Destination>,
    /// JMSTimestamp in epoch milliseconds.
    pub timestamp: i64,
    /// JMSType (`"Advisory"` on advisory messages).
    pub jms_type: Option<String>,
    /// The body, laid out according to `kind`, zlib-compressed when `compressed`.
    pub content: Option<Bytes>,
    /// The user properties as a primitive map; see [`Message::properties`].
    pub marshalled_properties: Option<Bytes>,
    /// What an advisory message announces (a `DestinationInfo`, `ConsumerInfo`, ...).
    pub data_structure: Option<Box<DataStructure>>,
    pub target_consumer_id: Option<ConsumerId>,
    pub compressed: bool,
    pub redelivery_counter: i32,
    pub broker_path: Option<Vec<BrokerId>>,
    pub arrival: i64,
    /// JMSXUserID.
    pub user_id: Option<String>,
    /// `recievedByDFBridge` upstream (sic).
    pub received_by_df_bridge: bool,
    pub droppable: bool,
    pub cluster: Option<Vec<BrokerId>>,
    /// Stamped by the Java broker on receipt.
    pub broker_in_time: i64,
    /// Stamped by the Java broker on dispatch.
    pub broker_out_time: i64,
    pub jmsx_group_first_for_consumer: bool,
}

impl Message {
    /// A message of `kind` with the field defaults of Java's `Message` (priority 4).
    pub fn new(kind: MessageKind) -> Self {
        Message {
            kind,
            priority: 4,
            ..Message::default()
        }
    }
}

impl Marshal for Message {
    const NAME: &'static str = "a message";
    fn accepts(t: u8) -> bool {
        (type_id::ACTIVEMQ_MESSAGE..=type_id::ACTIVEMQ_BLOB_MESSAGE).contains(&t)
    }
    fn read_body(t: u8, r: &mut Reader<'_>) -> Result<Self, WireError> {
        let (command_id, response_required) = read_base(r)?;
        let mut m = Message {
            kind: MessageKind::Message,
            command_id,
            response_required,
            producer_id: r.nested()?,
            destination: r.nested()?,
            transaction_id: r.nested()?,
            original_destination: r.nested()?,
            message_id: r.nested()?,
            original_transaction_id: r.nested()?,
            group_id: r.opt_string()?,
            group_sequence: r.i32()?,
            correlation_id: r.opt_string()?,
            persistent: r.bool()?,
            expiration: r.i64()?,
            priority: r.u8()?,
            reply_to: r.nested()?,
            timestamp: r.i64()?,
            jms_type: r.opt_string()?,
            content: r.opt_bytes()?,
            marshalled_properties: r.opt_bytes()?,
            data_structure: r.nested::<DataStructure>()?.map(Box::new),
            target_consumer_id: r.nested()?,
            compressed: r.bool()?,
            redelivery_counter: r.i32()?,
            broker_path: r.array_of()?,
            arrival: r.i64()?,
            user_id: r.opt_string()?,
            received_by_df_bridge: r.bool()?,
            droppable: r.bool()?,
            cluster: r.array_of()?,
            broker_in_time: r.i64()?,
            broker_out_time: r.i64()?,
            jmsx_group_first_for_consumer: r.bool()?,
        };
        m.kind = match t {
            type_id::ACTIVEMQ_BYTES_MESSAGE => MessageKind::Bytes,
            type_id::ACTIVEMQ_MAP_MESSAGE => MessageKind::Map,
            type_id::ACTIVEMQ_OBJECT_MESSAGE => MessageKind::Object,
            type_id::ACTIVEMQ_STREAM_MESSAGE => MessageKind::Stream,
            type_id::ACTIVEMQ_TEXT_MESSAGE => MessageKind::Text,
            type_id::ACTIVEMQ_BLOB_MESSAGE => MessageKind::Blob(BlobInfo {
                remote_blob_url: r.opt_string()?,
                mime_type: r.opt_string()?,
                deleted_by_broker: r.bool()?,
            }),
            _ => MessageKind::Message,
        };
        Ok(m)
    }
    fn type_id(&self) -> u8 {
        self.kind.type_id()
    }
    fn write_body(&self, w: &mut Writer<'_>) -> Result<(), WireError> {
        write_base(w, self.command_id, self.response_required);
        w.nested(self.producer_id.as_ref())?;
        w.nested(self.destination.as_ref())?;
        w.nested(self.transaction_id.as_ref())?;
        w.nested(self.original_destination.as_ref())?;
        w.nested(self.message_id.as_ref())?;
        w.nested(self.original_transaction_id.as_ref())?;
        w.opt_string(self.group_id.as_deref())?;
        w.i32(self.group_sequence);
        w.opt_string(self.correlation_id.as_deref())?;
        w.bool(self.persistent);
        w.i64(self.expiration);
        w.u8(self.priority);
        w.nested(self.reply_to.as_ref())?;
        w.i64(self.timestamp);
        w.opt_string(self.jms_type.as_deref())?;
        w.opt_bytes(self.content.as_deref())?;
        w.opt_bytes(self.marshalled_properties.as_deref())?;
        w.nested(self.data_structure.as_deref())?;
        w.nested(self.target_consumer_id.as_ref())?;
        w.bool(self.compressed);
        w.i32(self.redelivery_counter);
        w.array_of(self.broker_path.as_deref())?;
        w.i64(self.arrival);
        w.opt_string(self.user_id.as_deref())?;
        w.bool(self.received_by_df_bridge);
        w.bool(self.droppable);
        w.array_of(self.cluster.as_deref())?;
        w.i64(self.broker_in_time);
        w.i64(self.broker_out_time);
        w.bool(self.jmsx_group_first_for_consumer);
        if let MessageKind::Blob(b) = &self.kind {
            w.opt_string(b.remote_blob_url.as_deref())?;
            w.opt_string(b.mime_type.as_deref())?;
            w.bool(b.deleted_by_broker);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ReadOptions;
    use bytes::BytesMut;

    fn round_trip(m: &Message) -> Option<Message> {
        let mut out = BytesMut::new();
        assert!(Writer::new(&mut out, false).nested(Some(m)).is_ok());
        let b = out.freeze();
        let opts = ReadOptions {
            max_depth: 8,
            stack_traces: false,
        };
        let mut r = Reader::new(&b, 0, opts);
        let back = r.nested::<Message>().ok().flatten();
        assert!(r.finish().is_ok());
        back
    }

    #[test]
    fn every_kind_round_trips() {
        let blob = MessageKind::Blob(BlobInfo {
            remote_blob_url: Some("http://x".into()),
            mime_type: None,
            deleted_by_broker: true,
        });
        for kind in [
            MessageKind::Message,
            MessageKind::Bytes,
            MessageKind::Map,
            MessageKind::Object,
            MessageKind::Stream,
            MessageKind::Text,
            blob,
        ] {
            let mut m = Message::new(kind);
            m.content = Some(Bytes::from_static(b"\0\0\0\x01x"));
            m.broker_path = Some(vec![]);
            assert_eq!(round_trip(&m), Some(m));
        }
    }
}
