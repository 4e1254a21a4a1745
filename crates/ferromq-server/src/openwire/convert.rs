//! ActiveMQ's mapping between OpenWire messages and the core's: destinations, JMS headers,
//! typed properties, body kinds (text, bytes, map, stream, object), and advisories rendered as
//! the data structures the Java client expects.

use bytes::Bytes;
use ferromq_core::advisory::Advisory;
use ferromq_core::{
    Body, Delivery, Destination, DestinationKind, Message, ProducerSequence, PropertyValue,
    StructuredKind,
};
use ferromq_openwire as wire;
use wire::{PrimitiveMap, PrimitiveValue};

/// Producer id used in message ids of messages that did not come from an OpenWire producer
/// (STOMP, the console), so the Java client's duplicate audit sees a well-formed id.
const FOREIGN_PRODUCER_CONNECTION: &str = "ID:ferromq-foreign";

/// Converts an OpenWire destination.
///
/// # Errors
/// An invalid name.
pub(crate) fn destination_from_wire(
    destination: &wire::Destination,
) -> Result<Destination, String> {
    let (kind, name) = match destination {
        wire::Destination::Queue(name) => (DestinationKind::Queue, name),
        wire::Destination::Topic(name) => (DestinationKind::Topic, name),
        wire::Destination::TempQueue(name) => (DestinationKind::TempQueue, name),
        wire::Destination::TempTopic(name) => (DestinationKind::TempTopic, name),
    };
    Destination::new(kind, name.as_str()).map_err(|err| err.to_string())
}

/// Converts a core destination for the wire. Composite names keep ActiveMQ's `a,b` form.
pub(crate) fn destination_to_wire(destination: &Destination) -> wire::Destination {
    let name = if destination.is_composite() {
        destination
            .parts()
            .iter()
            .map(|part| part.name().to_owned())
            .collect::<Vec<_>>()
            .join(",")
    } else {
        destination.name().to_owned()
    };
    match destination.kind() {
        DestinationKind::Queue => wire::Destination::Queue(name),
        DestinationKind::Topic => wire::Destination::Topic(name),
        DestinationKind::TempQueue => wire::Destination::TempQueue(name),
        DestinationKind::TempTopic => wire::Destination::TempTopic(name),
    }
}

/// Builds the core message for a message a producer sent.
///
/// # Errors
/// A missing destination, a blob message, an invalid name or a body that does not decode.
pub(crate) fn message_from_wire(
    message: &wire::Message,
    limits: &wire::Limits,
) -> Result<Message, String> {
    let destination = message
        .destination
        .as_ref()
        .ok_or("message without a destination")?;
    let destination = destination_from_wire(destination)?;
    let body = match &message.kind {
        wire::MessageKind::Message => Body::Empty,
        wire::MessageKind::Text => match message.text(limits).map_err(|err| err.to_string())? {
            Some(text) => Body::Text(text),
            None => Body::NullText,
        },
        wire::MessageKind::Bytes => Body::Bytes(content(message, limits)?),
        wire::MessageKind::Map => Body::Structured {
            kind: StructuredKind::Map,
            bytes: content(message, limits)?,
        },
        wire::MessageKind::Stream => Body::Structured {
            kind: StructuredKind::Stream,
            bytes: content(message, limits)?,
        },
        wire::MessageKind::Object => Body::Structured {
            kind: StructuredKind::Object,
            bytes: content(message, limits)?,
        },
        wire::MessageKind::Blob(_) => return Err("blob messages are not supported".to_owned()),
    };
    let id = message
        .message_id
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    let mut core = Message::new(id, destination, body);
    core.correlation_id = message.correlation_id.clone();
    core.reply_to = message
        .reply_to
        .as_ref()
        .map(destination_from_wire)
        .transpose()?;
    core.original_destination = message
        .original_destination
        .as_ref()
        .map(destination_from_wire)
        .transpose()?;
    core.message_type = message.jms_type.clone();
    core.priority = message.priority.min(ferromq_core::message::MAX_PRIORITY);
    core.persistent = message.persistent;
    core.expiration = message.expiration;
    core.timestamp = message.timestamp;
    core.group = message
        .group_id
        .clone()
        .map(|group| (group, message.group_sequence));
    core.user_id = message.user_id.clone();
    core.producer_sequence = match (&message.producer_id, &message.message_id) {
        (Some(producer), Some(id)) => Some(ProducerSequence {
            producer: producer.to_string(),
            sequence: u64::try_from(id.producer_sequence_id).unwrap_or(0),
        }),
        _ => None,
    };
    let properties = message.properties(limits).map_err(|err| err.to_string())?;
    core.properties = properties
        .into_iter()
        .filter_map(|(name, value)| property_from_wire(value).map(|v| (name, v)))
        .collect();
    Ok(core)
}

fn content(message: &wire::Message, limits: &wire::Limits) -> Result<Bytes, String> {
    Ok(message
        .body(limits)
        .map_err(|err| err.to_string())?
        .unwrap_or_default())
}

/// JMS properties are primitives and strings; nested maps and lists (an ActiveMQ extension)
/// have no place in the core's model and are left out.
fn property_from_wire(value: PrimitiveValue) -> Option<PropertyValue> {
    Some(match value {
        PrimitiveValue::Bool(v) => PropertyValue::Bool(v),
        PrimitiveValue::Byte(v) => PropertyValue::Byte(v),
        PrimitiveValue::Short(v) => PropertyValue::Short(v),
        PrimitiveValue::Int(v) => PropertyValue::Int(v),
        PrimitiveValue::Long(v) => PropertyValue::Long(v),
        PrimitiveValue::Float(v) => PropertyValue::Float(v),
        PrimitiveValue::Double(v) => PropertyValue::Double(v),
        PrimitiveValue::String(v) => PropertyValue::String(v),
        PrimitiveValue::Char(v) => PropertyValue::String(
            char::from_u32(u32::from(v))
                .unwrap_or('\u{fffd}')
                .to_string(),
        ),
        PrimitiveValue::Null
        | PrimitiveValue::ByteArray(_)
        | PrimitiveValue::Map(_)
        | PrimitiveValue::List(_) => return None,
    })
}

fn property_to_wire(value: &PropertyValue) -> PrimitiveValue {
    match value {
        PropertyValue::Bool(v) => PrimitiveValue::Bool(*v),
        PropertyValue::Byte(v) => PrimitiveValue::Byte(*v),
        PropertyValue::Short(v) => PrimitiveValue::Short(*v),
        PropertyValue::Int(v) => PrimitiveValue::Int(*v),
        PropertyValue::Long(v) => PrimitiveValue::Long(*v),
        PropertyValue::Float(v) => PrimitiveValue::Float(*v),
        PropertyValue::Double(v) => PrimitiveValue::Double(*v),
        PropertyValue::String(v) => PrimitiveValue::String(v.clone()),
    }
}

/// The wire message id of a delivery. Its broker sequence id is the core's delivery tag, which
/// the client echoes in acks and in `lastDeliveredSequenceId`.
pub(crate) fn message_id_for(message: &Message, tag: u64) -> wire::MessageId {
    let tag = i64::try_from(tag).unwrap_or(i64::MAX);
    let parsed = message.producer_sequence.as_ref().and_then(|sequence| {
        parse_producer_id(&sequence.producer)
            .map(|producer| (producer, i64::try_from(sequence.sequence).unwrap_or(0)))
    });
    let (producer_id, producer_sequence_id) = parsed.unwrap_or_else(|| {
        let foreign = wire::ProducerId {
            connection_id: FOREIGN_PRODUCER_CONNECTION.to_owned(),
            session_id: 0,
            value: 0,
        };
        (foreign, tag)
    });
    let text_view = (!message.id.is_empty()).then(|| message.id.clone());
    wire::MessageId {
        text_view,
        producer_id: Some(producer_id),
        producer_sequence_id,
        broker_sequence_id: tag,
    }
}

/// `connectionId:session:value`, where the connection id itself contains colons.
fn parse_producer_id(text: &str) -> Option<wire::ProducerId> {
    let mut parts = text.rsplitn(3, ':');
    let value = parts.next()?.parse().ok()?;
    let session_id = parts.next()?.parse().ok()?;
    let connection_id = parts.next()?.to_owned();
    Some(wire::ProducerId {
        connection_id,
        session_id,
        value,
    })
}

/// Builds the wire message for a delivery.
///
/// # Errors
/// A value that cannot be marshalled (a string too long for its length field).
pub(crate) fn message_to_wire(delivery: &Delivery) -> Result<wire::Message, wire::WireError> {
    let message = &delivery.message;
    let kind = match &message.body {
        Body::Empty => wire::MessageKind::Message,
        Body::NullText => wire::MessageKind::Text,
        Body::Text(_) => wire::MessageKind::Text,
        Body::Bytes(_) => wire::MessageKind::Bytes,
        Body::Structured {
            kind: StructuredKind::Map,
            ..
        } => wire::MessageKind::Map,
        Body::Structured {
            kind: StructuredKind::Stream,
            ..
        } => wire::MessageKind::Stream,
        Body::Structured {
            kind: StructuredKind::Object,
            ..
        } => wire::MessageKind::Object,
    };
    let mut out = wire::Message::new(kind);
    match &message.body {
        Body::Empty | Body::NullText => {}
        Body::Text(text) => out.set_text(Some(text))?,
        Body::Bytes(bytes) | Body::Structured { bytes, .. } => out.set_body(Some(bytes.clone())),
    }
    let id = message_id_for(message, delivery.tag);
    out.producer_id = id.producer_id.clone();
    out.message_id = Some(id);
    out.destination = Some(destination_to_wire(&message.destination));
    out.original_destination = message
        .original_destination
        .as_ref()
        .map(destination_to_wire);
    out.correlation_id = message.correlation_id.clone();
    out.reply_to = message.reply_to.as_ref().map(destination_to_wire);
    out.jms_type = message.message_type.clone();
    out.priority = message.priority;
    out.persistent = message.persistent;
    out.expiration = message.expiration;
    out.timestamp = message.timestamp;
    if let Some((group, sequence)) = &message.group {
        out.group_id = Some(group.clone());
        out.group_sequence = *sequence;
    }
    out.user_id = message.user_id.clone();
    out.redelivery_counter =
        i32::try_from(delivery.delivery_count.saturating_sub(1)).unwrap_or(i32::MAX);
    if !message.properties.is_empty() {
        let map: PrimitiveMap = message
            .properties
            .iter()
            .map(|(name, value)| (name.clone(), property_to_wire(value)))
            .collect();
        out.set_properties(&map)?;
    }
    if let Some(advisory) = &message.advisory {
        out.data_structure = Some(Box::new(advisory_structure(advisory)));
    }
    Ok(out)
}

/// ActiveMQ puts the subject of an advisory in the message's `dataStructure`: a
/// `DestinationInfo` for temporary destinations, a `ConsumerInfo` or `RemoveInfo` for consumers.
fn advisory_structure(advisory: &Advisory) -> wire::DataStructure {
    let command: wire::Command = match advisory {
        Advisory::TempDestination {
            destination,
            added,
            owner,
        } => wire::DestinationInfo {
            connection_id: Some(synthetic_connection(*owner)),
            destination: Some(destination_to_wire(destination)),
            operation_type: if *added {
                wire::DestinationOperation::ADD
            } else {
                wire::DestinationOperation::REMOVE
            },
            ..wire::DestinationInfo::default()
        }
        .into(),
        Advisory::Consumer {
            destination,
            consumer,
            added,
            ..
        } => {
            let consumer_id = wire::ConsumerId {
                connection_id: synthetic_connection(0).value,
                session_id: 0,
                value: i64::try_from(*consumer).unwrap_or(i64::MAX),
            };
            if *added {
                wire::ConsumerInfo {
                    consumer_id: Some(consumer_id),
                    destination: Some(destination_to_wire(destination)),
                    ..wire::ConsumerInfo::default()
                }
                .into()
            } else {
                wire::RemoveInfo::new(wire::RemoveTarget::Consumer(consumer_id)).into()
            }
        }
        Advisory::Producer {
            destination,
            producer,
            added,
        } => {
            let producer_id = parse_producer_id(producer).unwrap_or(wire::ProducerId {
                connection_id: synthetic_connection(0).value,
                session_id: 0,
                value: 0,
            });
            if *added {
                wire::ProducerInfo {
                    producer_id: Some(producer_id),
                    destination: Some(destination_to_wire(destination)),
                    ..wire::ProducerInfo::default()
                }
                .into()
            } else {
                wire::RemoveInfo::new(wire::RemoveTarget::Producer(producer_id)).into()
            }
        }
        Advisory::Connection {
            connection,
            client_id,
            added,
        } => {
            if *added {
                wire::ConnectionInfo {
                    connection_id: Some(synthetic_connection(*connection)),
                    client_id: client_id.clone(),
                    ..wire::ConnectionInfo::default()
                }
                .into()
            } else {
                wire::RemoveInfo::new(wire::RemoveTarget::Connection(synthetic_connection(
                    *connection,
                )))
                .into()
            }
        }
        Advisory::Destination { destination, added } => wire::DestinationInfo {
            destination: Some(destination_to_wire(destination)),
            operation_type: if *added {
                wire::DestinationOperation::ADD
            } else {
                wire::DestinationOperation::REMOVE
            },
            ..wire::DestinationInfo::default()
        }
        .into(),
    };
    wire::DataStructure::Command(Box::new(command))
}

fn synthetic_connection(id: u64) -> wire::ConnectionId {
    wire::ConnectionId {
        value: format!("ID:ferromq-connection-{id}"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn a_null_text_stays_null() {
        let limits = wire::Limits::default();
        let mut sent = wire::Message::new(wire::MessageKind::Text);
        sent.destination = Some(wire::Destination::Queue("q".into()));
        let core = message_from_wire(&sent, &limits).unwrap();
        assert_eq!(core.body, Body::NullText);
        let delivery = Delivery {
            consumer: 1,
            tag: 1,
            message: Arc::new(core),
            redelivered: false,
            delivery_count: 1,
        };
        let back = message_to_wire(&delivery).unwrap();
        assert_eq!(back.kind, wire::MessageKind::Text);
        assert_eq!(back.text(&limits).unwrap(), None);
    }

    #[test]
    fn producer_ids_with_colons_parse() {
        let id = parse_producer_id("ID:host-4242-1700000000000-1:1:3:7").unwrap();
        assert_eq!(id.connection_id, "ID:host-4242-1700000000000-1:1");
        assert_eq!((id.session_id, id.value), (3, 7));
        assert!(parse_producer_id("nonsense").is_none());
    }

    #[test]
    fn a_text_message_round_trips() {
        let limits = wire::Limits::default();
        let mut sent = wire::Message::new(wire::MessageKind::Text);
        sent.set_text(Some("héllo")).unwrap();
        sent.destination = Some(wire::Destination::Queue("orders".into()));
        let producer = wire::ProducerId {
            connection_id: "ID:c-1:1".into(),
            session_id: 1,
            value: 1,
        };
        sent.message_id = Some(wire::MessageId {
            producer_id: Some(producer.clone()),
            producer_sequence_id: 5,
            ..Default::default()
        });
        sent.producer_id = Some(producer);
        sent.priority = 7;
        sent.persistent = true;
        let mut props = PrimitiveMap::new();
        props.insert("n".into(), PrimitiveValue::Int(3));
        sent.set_properties(&props).unwrap();
        let core = message_from_wire(&sent, &limits).unwrap();
        assert_eq!(core.body, Body::Text("héllo".into()));
        assert_eq!(core.id, "ID:c-1:1:1:1:5");
        assert_eq!(
            core.properties,
            vec![("n".to_owned(), PropertyValue::Int(3))]
        );
        let delivery = Delivery {
            consumer: 1,
            tag: 99,
            message: Arc::new(core),
            redelivered: true,
            delivery_count: 2,
        };
        let back = message_to_wire(&delivery).unwrap();
        assert_eq!(back.text(&limits).unwrap().as_deref(), Some("héllo"));
        let id = back.message_id.clone().unwrap();
        assert_eq!((id.producer_sequence_id, id.broker_sequence_id), (5, 99));
        assert_eq!(id.to_string(), "ID:c-1:1:1:1:5");
        assert_eq!(back.redelivery_counter, 1);
        assert_eq!(back.properties(&limits).unwrap(), props);
    }
}
