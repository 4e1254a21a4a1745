//! The JMS-shaped message every protocol converts to and from.
//!
//! A [`Message`] is immutable once the core accepts it and is shared as an `Arc` between the
//! queues and subscriptions that hold it; per-delivery facts (redelivered flag, delivery count)
//! travel beside it in a [`crate::broker::Delivery`] instead of being written into it.

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use crate::destination::Destination;

/// JMS default priority, used when a producer does not say.
pub const DEFAULT_PRIORITY: u8 = 4;
/// Highest JMS priority; larger values are clamped to it, as ActiveMQ does.
pub const MAX_PRIORITY: u8 = 9;

/// A typed user property value, covering every type JMS and OpenWire marshal.
#[derive(Debug, Clone, PartialEq)]
pub enum PropertyValue {
    Bool(bool),
    Byte(i8),
    Short(i16),
    Int(i32),
    Long(i64),
    Float(f32),
    Double(f64),
    String(String),
}

impl PropertyValue {
    /// The value as STOMP carries it: every property becomes a header string.
    pub fn to_header_string(&self) -> String {
        match self {
            PropertyValue::Bool(v) => v.to_string(),
            PropertyValue::Byte(v) => v.to_string(),
            PropertyValue::Short(v) => v.to_string(),
            PropertyValue::Int(v) => v.to_string(),
            PropertyValue::Long(v) => v.to_string(),
            PropertyValue::Float(v) => v.to_string(),
            PropertyValue::Double(v) => v.to_string(),
            PropertyValue::String(v) => v.clone(),
        }
    }
}

/// The payload. JMS distinguishes text from bytes, and so do STOMP clients through
/// `content-length`, so the distinction survives the trip through the broker.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Body {
    #[default]
    Empty,
    Text(String),
    /// A JMS TextMessage whose text is null: unlike `Empty` (a plain Message) it is still a
    /// TextMessage, and unlike `Text("")` its text reads back as null.
    NullText,
    Bytes(Bytes),
    /// A JMS MapMessage, StreamMessage or ObjectMessage, kept in the form its protocol
    /// marshalled it (OpenWire); other protocols see the bytes.
    Structured {
        kind: StructuredKind,
        bytes: Bytes,
    },
}

/// The JMS body types FerroMQ passes through without interpreting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StructuredKind {
    Map,
    Stream,
    Object,
}

/// Identifies a producer's message for duplicate suppression: a producer that fails over and
/// resends a message it already sent is answered without storing it twice (ActiveMQ's
/// producer audit).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProducerSequence {
    pub producer: String,
    pub sequence: u64,
}

impl Body {
    /// Size in bytes of the payload alone.
    pub fn len(&self) -> usize {
        match self {
            Body::Empty | Body::NullText => 0,
            Body::Text(text) => text.len(),
            Body::Bytes(bytes) | Body::Structured { bytes, .. } => bytes.len(),
        }
    }

    /// Whether there is no payload at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The payload's raw bytes (UTF-8 for text).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Body::Empty | Body::NullText => &[],
            Body::Text(text) => text.as_bytes(),
            Body::Bytes(bytes) | Body::Structured { bytes, .. } => bytes,
        }
    }
}

/// A message as the core stores and dispatches it.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// JMSMessageID, unique across the broker's lifetime (ActiveMQ style `ID:...`).
    pub id: String,
    pub destination: Destination,
    pub correlation_id: Option<String>,
    pub reply_to: Option<Destination>,
    /// JMSType.
    pub message_type: Option<String>,
    /// 0..=9, higher first.
    pub priority: u8,
    pub persistent: bool,
    /// Absolute expiry time in milliseconds since the Unix epoch; 0 means never.
    pub expiration: i64,
    /// When the producer (or the broker on its behalf) sent it, ms since the Unix epoch.
    pub timestamp: i64,
    /// Where a dead-lettered message was first sent (ActiveMQ's `originalDestination`).
    pub original_destination: Option<Destination>,
    /// JMSXGroupID and JMSXGroupSeq.
    pub group: Option<(String, i32)>,
    /// JMSXUserID.
    pub user_id: Option<String>,
    /// Set by producers that number their messages (OpenWire); used to drop resends.
    pub producer_sequence: Option<ProducerSequence>,
    /// An advisory message's subject, which protocols render in their own way.
    pub advisory: Option<crate::advisory::Advisory>,
    /// The connection that sent it, to honour `noLocal`; not stored.
    pub origin_connection: Option<u64>,
    /// User properties in the order the producer gave them.
    pub properties: Vec<(String, PropertyValue)>,
    pub body: Body,
}

impl Message {
    /// A message with JMS defaults, to be filled in by a protocol adapter.
    pub fn new(id: String, destination: Destination, body: Body) -> Self {
        Message {
            id,
            destination,
            correlation_id: None,
            reply_to: None,
            message_type: None,
            priority: DEFAULT_PRIORITY,
            persistent: false,
            expiration: 0,
            timestamp: now_millis(),
            original_destination: None,
            group: None,
            user_id: None,
            producer_sequence: None,
            advisory: None,
            origin_connection: None,
            properties: Vec::new(),
            body,
        }
    }

    /// Whether the message's time to live has passed at `now` (ms since the epoch).
    pub fn is_expired_at(&self, now: i64) -> bool {
        self.expiration > 0 && self.expiration <= now
    }

    /// Looks up a user property by name.
    pub fn property(&self, name: &str) -> Option<&PropertyValue> {
        self.properties
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
    }

    /// Approximate memory the message occupies; what memory limits are counted in.
    pub fn memory_size(&self) -> usize {
        const FIXED_OVERHEAD: usize = 160;
        let properties: usize = self
            .properties
            .iter()
            .map(|(key, value)| key.len() + value_size(value))
            .sum();
        FIXED_OVERHEAD
            + self.id.len()
            + self.destination.name().len()
            + self.correlation_id.as_ref().map_or(0, String::len)
            + self.message_type.as_ref().map_or(0, String::len)
            + properties
            + self.body.len()
    }
}

fn value_size(value: &PropertyValue) -> usize {
    match value {
        PropertyValue::String(text) => 24 + text.len(),
        _ => 16,
    }
}

/// Milliseconds since the Unix epoch, the unit JMS uses for timestamps and expiry.
pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
