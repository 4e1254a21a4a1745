//! How the core writes its state into the journal's opaque payloads.
//!
//! The journal knows keys and bytes only; this module owns the byte layout of a stored message
//! and of a durable subscription's definition. Layouts start with a version byte so a later
//! release can read what an earlier one wrote.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::destination::Destination;
use crate::message::{Body, Message, ProducerSequence, PropertyValue, StructuredKind};

/// The first layout: the producer's sequence came last.
const MESSAGE_LAYOUT_V1: u8 = 1;
/// The producer's sequence comes right after the layout byte, so recovery can seed the
/// duplicate-suppression audit from every stored message without decoding the rest.
const MESSAGE_LAYOUT_V2: u8 = 2;
const SUBSCRIPTION_LAYOUT_V1: u8 = 1;

/// A stored payload could not be read back.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    #[error("stored record ends early")]
    Truncated,
    #[error("stored record has unknown layout version {0}")]
    UnknownLayout(u8),
    #[error("stored record has an invalid {0}")]
    Invalid(&'static str),
}

/// A durable topic subscription's definition, kept while its subscriber is offline.
#[derive(Debug, Clone, PartialEq)]
pub struct DurableDefinition {
    pub client_id: String,
    pub name: String,
    pub topic: Destination,
    pub selector: Option<String>,
    pub no_local: bool,
}

/// Encodes a message for the journal.
pub fn encode_message(message: &Message) -> Bytes {
    let mut out = BytesMut::with_capacity(message.memory_size());
    out.put_u8(MESSAGE_LAYOUT_V2);
    put_producer_sequence(&mut out, message.producer_sequence.as_ref());
    put_str(&mut out, &message.id);
    put_str(&mut out, &message.destination.key());
    put_opt_str(&mut out, message.correlation_id.as_deref());
    put_opt_str(
        &mut out,
        message.reply_to.as_ref().map(Destination::key).as_deref(),
    );
    put_opt_str(&mut out, message.message_type.as_deref());
    out.put_u8(message.priority);
    out.put_u8(u8::from(message.persistent));
    out.put_i64_le(message.expiration);
    out.put_i64_le(message.timestamp);
    put_opt_str(
        &mut out,
        message
            .original_destination
            .as_ref()
            .map(Destination::key)
            .as_deref(),
    );
    put_len(&mut out, message.properties.len());
    for (name, value) in &message.properties {
        put_str(&mut out, name);
        put_value(&mut out, value);
    }
    match &message.body {
        Body::Empty => out.put_u8(0),
        Body::NullText => out.put_u8(6),
        Body::Text(text) => {
            out.put_u8(1);
            put_str(&mut out, text);
        }
        Body::Bytes(bytes) => {
            out.put_u8(2);
            put_bytes(&mut out, bytes);
        }
        Body::Structured { kind, bytes } => {
            out.put_u8(match kind {
                StructuredKind::Map => 3,
                StructuredKind::Stream => 4,
                StructuredKind::Object => 5,
            });
            put_bytes(&mut out, bytes);
        }
    }
    match &message.group {
        None => out.put_u8(0),
        Some((group, sequence)) => {
            out.put_u8(1);
            put_str(&mut out, group);
            out.put_i32_le(*sequence);
        }
    }
    put_opt_str(&mut out, message.user_id.as_deref());
    out.freeze()
}

fn put_producer_sequence(out: &mut BytesMut, sequence: Option<&ProducerSequence>) {
    match sequence {
        None => out.put_u8(0),
        Some(producer) => {
            out.put_u8(1);
            put_str(out, &producer.producer);
            out.put_u64_le(producer.sequence);
        }
    }
}

fn get_producer_sequence(input: &mut &[u8]) -> Result<Option<ProducerSequence>, RecordError> {
    match get_u8(input)? {
        0 => Ok(None),
        1 => {
            let producer = get_string(input)?;
            need(input, 8)?;
            Ok(Some(ProducerSequence {
                producer,
                sequence: input.get_u64_le(),
            }))
        }
        _ => Err(RecordError::Invalid("producer marker")),
    }
}

/// The producer sequence of a stored message, reading no further than it needs to (the
/// whole message for the first layout).
///
/// # Errors
/// As [`decode_message`].
pub fn stored_producer_sequence(payload: &[u8]) -> Result<Option<ProducerSequence>, RecordError> {
    let mut input = payload;
    match get_u8(&mut input)? {
        MESSAGE_LAYOUT_V2 => get_producer_sequence(&mut input),
        _ => Ok(decode_message(&Bytes::copy_from_slice(payload))?.producer_sequence),
    }
}

/// Decodes what [`encode_message`] wrote.
///
/// # Errors
/// A truncated or malformed payload; the caller skips the record and reports it.
pub fn decode_message(payload: &Bytes) -> Result<Message, RecordError> {
    // Bodies are slices of the payload rather than copies: recovery hands out payloads that
    // share the journal's read buffers, and a million copies dominated restart time.
    let mut cursor: &[u8] = payload;
    let input = &mut cursor;
    let layout = get_u8(input)?;
    let mut producer_sequence = match layout {
        MESSAGE_LAYOUT_V1 => None,
        MESSAGE_LAYOUT_V2 => get_producer_sequence(input)?,
        _ => return Err(RecordError::UnknownLayout(layout)),
    };
    let id = get_string(input)?;
    let destination = get_destination(input)?;
    let correlation_id = get_opt_string(input)?;
    let reply_to = get_opt_string(input)?
        .map(|key| Destination::parse_key(&key).map_err(|_| RecordError::Invalid("reply-to")))
        .transpose()?;
    let message_type = get_opt_string(input)?;
    let priority = get_u8(input)?;
    let persistent = get_u8(input)? != 0;
    let expiration = get_i64(input)?;
    let timestamp = get_i64(input)?;
    let original_destination = get_opt_string(input)?
        .map(|key| {
            Destination::parse_key(&key).map_err(|_| RecordError::Invalid("original destination"))
        })
        .transpose()?;
    let count = get_len(input)?;
    // Each property takes at least 6 bytes, so a lying count cannot make us preallocate much.
    let mut properties = Vec::with_capacity(count.min(input.len() / 6));
    for _ in 0..count {
        let name = get_string(input)?;
        properties.push((name, get_value(input)?));
    }
    let body = match get_u8(input)? {
        0 => Body::Empty,
        6 => Body::NullText,
        1 => Body::Text(get_string(input)?),
        2 => Body::Bytes(payload.slice_ref(get_slice(input)?)),
        kind @ 3..=5 => {
            let kind = match kind {
                3 => StructuredKind::Map,
                4 => StructuredKind::Stream,
                _ => StructuredKind::Object,
            };
            Body::Structured {
                kind,
                bytes: payload.slice_ref(get_slice(input)?),
            }
        }
        _ => return Err(RecordError::Invalid("body kind")),
    };
    let group = match get_u8(input)? {
        0 => None,
        1 => {
            let group = get_string(input)?;
            need(input, 4)?;
            Some((group, input.get_i32_le()))
        }
        _ => return Err(RecordError::Invalid("group marker")),
    };
    let user_id = get_opt_string(input)?;
    if layout == MESSAGE_LAYOUT_V1 {
        producer_sequence = get_producer_sequence(input)?;
    }
    Ok(Message {
        id,
        destination,
        correlation_id,
        reply_to,
        message_type,
        priority,
        persistent,
        expiration,
        timestamp,
        original_destination,
        group,
        user_id,
        producer_sequence,
        advisory: None,
        origin_connection: None,
        properties,
        body,
    })
}

/// Encodes a durable subscription definition for the journal's meta records.
pub fn encode_durable(definition: &DurableDefinition) -> Bytes {
    let mut out = BytesMut::new();
    out.put_u8(SUBSCRIPTION_LAYOUT_V1);
    put_str(&mut out, &definition.client_id);
    put_str(&mut out, &definition.name);
    put_str(&mut out, &definition.topic.key());
    put_opt_str(&mut out, definition.selector.as_deref());
    out.put_u8(u8::from(definition.no_local));
    out.freeze()
}

/// Decodes what [`encode_durable`] wrote.
///
/// # Errors
/// A truncated or malformed payload.
pub fn decode_durable(mut input: &[u8]) -> Result<DurableDefinition, RecordError> {
    let input = &mut input;
    let layout = get_u8(input)?;
    if layout != SUBSCRIPTION_LAYOUT_V1 {
        return Err(RecordError::UnknownLayout(layout));
    }
    Ok(DurableDefinition {
        client_id: get_string(input)?,
        name: get_string(input)?,
        topic: get_destination(input)?,
        selector: get_opt_string(input)?,
        no_local: get_u8(input)? != 0,
    })
}

fn put_len(out: &mut BytesMut, len: usize) {
    // Lengths above u32::MAX cannot occur: frames are capped far below that at the door.
    out.put_u32_le(u32::try_from(len).unwrap_or(u32::MAX));
}

fn put_bytes(out: &mut BytesMut, bytes: &[u8]) {
    put_len(out, bytes.len());
    out.put_slice(bytes);
}

fn put_str(out: &mut BytesMut, text: &str) {
    put_bytes(out, text.as_bytes());
}

fn put_opt_str(out: &mut BytesMut, text: Option<&str>) {
    match text {
        None => out.put_u8(0),
        Some(text) => {
            out.put_u8(1);
            put_str(out, text);
        }
    }
}

fn put_value(out: &mut BytesMut, value: &PropertyValue) {
    match value {
        PropertyValue::Bool(v) => {
            out.put_u8(1);
            out.put_u8(u8::from(*v));
        }
        PropertyValue::Byte(v) => {
            out.put_u8(2);
            out.put_i8(*v);
        }
        PropertyValue::Short(v) => {
            out.put_u8(3);
            out.put_i16_le(*v);
        }
        PropertyValue::Int(v) => {
            out.put_u8(4);
            out.put_i32_le(*v);
        }
        PropertyValue::Long(v) => {
            out.put_u8(5);
            out.put_i64_le(*v);
        }
        PropertyValue::Float(v) => {
            out.put_u8(6);
            out.put_f32_le(*v);
        }
        PropertyValue::Double(v) => {
            out.put_u8(7);
            out.put_f64_le(*v);
        }
        PropertyValue::String(v) => {
            out.put_u8(8);
            put_str(out, v);
        }
    }
}

fn need(input: &[u8], count: usize) -> Result<(), RecordError> {
    if input.len() < count {
        Err(RecordError::Truncated)
    } else {
        Ok(())
    }
}

fn get_u8(input: &mut &[u8]) -> Result<u8, RecordError> {
    need(input, 1)?;
    Ok(input.get_u8())
}

fn get_i64(input: &mut &[u8]) -> Result<i64, RecordError> {
    need(input, 8)?;
    Ok(input.get_i64_le())
}

fn get_len(input: &mut &[u8]) -> Result<usize, RecordError> {
    need(input, 4)?;
    usize::try_from(input.get_u32_le()).map_err(|_| RecordError::Invalid("length"))
}

fn get_slice<'a>(input: &mut &'a [u8]) -> Result<&'a [u8], RecordError> {
    let len = get_len(input)?;
    need(input, len)?;
    let (head, tail) = input.split_at(len);
    *input = tail;
    Ok(head)
}

fn get_string(input: &mut &[u8]) -> Result<String, RecordError> {
    let slice = get_slice(input)?;
    String::from_utf8(slice.to_vec()).map_err(|_| RecordError::Invalid("UTF-8 string"))
}

fn get_opt_string(input: &mut &[u8]) -> Result<Option<String>, RecordError> {
    match get_u8(input)? {
        0 => Ok(None),
        1 => get_string(input).map(Some),
        _ => Err(RecordError::Invalid("optional marker")),
    }
}

fn get_destination(input: &mut &[u8]) -> Result<Destination, RecordError> {
    let key = get_string(input)?;
    Destination::parse_key(&key).map_err(|_| RecordError::Invalid("destination"))
}

fn get_value(input: &mut &[u8]) -> Result<PropertyValue, RecordError> {
    Ok(match get_u8(input)? {
        1 => PropertyValue::Bool(get_u8(input)? != 0),
        2 => {
            need(input, 1)?;
            PropertyValue::Byte(input.get_i8())
        }
        3 => {
            need(input, 2)?;
            PropertyValue::Short(input.get_i16_le())
        }
        4 => {
            need(input, 4)?;
            PropertyValue::Int(input.get_i32_le())
        }
        5 => PropertyValue::Long(get_i64(input)?),
        6 => {
            need(input, 4)?;
            PropertyValue::Float(input.get_f32_le())
        }
        7 => {
            need(input, 8)?;
            PropertyValue::Double(input.get_f64_le())
        }
        8 => PropertyValue::String(get_string(input)?),
        _ => return Err(RecordError::Invalid("property type")),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn arb_value() -> impl Strategy<Value = PropertyValue> {
        prop_oneof![
            any::<bool>().prop_map(PropertyValue::Bool),
            any::<i8>().prop_map(PropertyValue::Byte),
            any::<i16>().prop_map(PropertyValue::Short),
            any::<i32>().prop_map(PropertyValue::Int),
            any::<i64>().prop_map(PropertyValue::Long),
            (-1e6f32..1e6).prop_map(PropertyValue::Float),
            (-1e12f64..1e12).prop_map(PropertyValue::Double),
            ".{0,20}".prop_map(PropertyValue::String),
        ]
    }

    fn arb_message() -> impl Strategy<Value = Message> {
        (
            "[a-zA-Z0-9:-]{1,30}",
            "[a-z]{1,8}(\\.[a-z]{1,8}){0,3}",
            proptest::option::of(".{0,10}"),
            0u8..=9,
            any::<bool>(),
            any::<i64>(),
            proptest::collection::vec(("[a-zA-Z_][a-zA-Z0-9_]{0,10}", arb_value()), 0..6),
            prop_oneof![
                Just(Body::Empty),
                Just(Body::NullText),
                ".{0,50}".prop_map(Body::Text),
                proptest::collection::vec(any::<u8>(), 0..100)
                    .prop_map(|b| Body::Bytes(Bytes::from(b))),
            ],
        )
            .prop_map(
                |(id, name, correlation, priority, persistent, expiration, properties, body)| {
                    let mut message = Message::new(id, Destination::queue(name).unwrap(), body);
                    message.correlation_id = correlation;
                    message.priority = priority;
                    message.persistent = persistent;
                    message.expiration = expiration;
                    message.properties = properties;
                    message
                },
            )
    }

    proptest! {
        #[test]
        fn message_round_trips(message in arb_message()) {
            let decoded = decode_message(&encode_message(&message)).unwrap();
            prop_assert_eq!(decoded, message);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode_message(&Bytes::from(bytes.clone()));
            let _ = decode_durable(&bytes);
        }

        #[test]
        fn every_truncation_is_an_error(message in arb_message(), cut in 0usize..1000) {
            let encoded = encode_message(&message);
            let cut = cut % encoded.len();
            prop_assert!(decode_message(&encoded.slice(..cut)).is_err());
        }
    }

    #[test]
    fn producer_sequence_is_read_cheaply_and_the_first_layout_still_decodes() {
        let mut message = Message::new(
            "ID:1".into(),
            Destination::queue("q").unwrap(),
            Body::Text("hello".into()),
        );
        message.producer_sequence = Some(ProducerSequence {
            producer: "ID:p-1:1:1".into(),
            sequence: 42,
        });
        let v2 = encode_message(&message);
        let peeked = stored_producer_sequence(&v2).unwrap();
        assert_eq!(peeked, message.producer_sequence);
        // The first layout held the same fields with the producer sequence at the end.
        let mut sequence = BytesMut::new();
        put_producer_sequence(&mut sequence, message.producer_sequence.as_ref());
        let mut v1 = vec![MESSAGE_LAYOUT_V1];
        v1.extend_from_slice(&v2[1 + sequence.len()..]);
        v1.extend_from_slice(&sequence);
        let v1 = Bytes::from(v1);
        assert_eq!(decode_message(&v1).unwrap(), message);
        assert_eq!(
            stored_producer_sequence(&v1).unwrap(),
            message.producer_sequence
        );
        assert!(matches!(
            stored_producer_sequence(&[9]),
            Err(RecordError::UnknownLayout(9))
        ));
    }

    #[test]
    fn durable_definition_round_trips() {
        let definition = DurableDefinition {
            client_id: "c1".into(),
            name: "s1".into(),
            topic: Destination::topic("prices.>").unwrap(),
            selector: Some("x > 1".into()),
            no_local: true,
        };
        assert_eq!(
            decode_durable(&encode_durable(&definition)).unwrap(),
            definition
        );
    }
}
