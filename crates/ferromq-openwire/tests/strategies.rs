//! proptest strategies for the leaves of commands: strings, byte arrays, ids, destinations,
//! transaction ids, throwables and primitive values and messages (`command_strategies.rs` builds the other commands).
//!
//! Strings draw from all of Unicode (NUL and supplementary characters included, the cases where
//! modified UTF-8 differs from UTF-8). Floats exclude NaN only because NaN != NaN; its bits
//! round-trip like any other.

use bytes::Bytes;
use ferromq_openwire::{
    BlobInfo, BrokerId, ConnectionId, ConsumerId, DataStructure, Destination, DestinationInfo,
    DestinationOperation, LocalTransactionId, Message, MessageId, MessageKind, PrimitiveMap,
    PrimitiveValue, ProducerId, SessionId, StackTraceElement, Throwable, TransactionId,
    XaTransactionId,
};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;

pub fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-zA-Z0-9:.>*_-]{0,12}",
        1 => vec(any::<char>(), 0..6).prop_map(|c| c.into_iter().collect()),
    ]
}

pub fn opt_string() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(string())
}

pub fn bytes() -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..24).prop_map(Bytes::from)
}

pub fn opt_bytes() -> impl Strategy<Value = Option<Bytes>> {
    proptest::option::of(bytes())
}

pub fn connection_id() -> impl Strategy<Value = ConnectionId> {
    string().prop_map(|value| ConnectionId { value })
}

pub fn session_id() -> impl Strategy<Value = SessionId> {
    (string(), any::<i64>()).prop_map(|(connection_id, value)| SessionId {
        connection_id,
        value,
    })
}

pub fn consumer_id() -> impl Strategy<Value = ConsumerId> {
    (string(), any::<i64>(), any::<i64>()).prop_map(|(connection_id, session_id, value)| {
        ConsumerId {
            connection_id,
            session_id,
            value,
        }
    })
}

pub fn producer_id() -> impl Strategy<Value = ProducerId> {
    (string(), any::<i64>(), any::<i64>()).prop_map(|(connection_id, session_id, value)| {
        ProducerId {
            connection_id,
            session_id,
            value,
        }
    })
}

pub fn broker_path() -> impl Strategy<Value = Option<Vec<BrokerId>>> {
    proptest::option::of(vec(string().prop_map(|value| BrokerId { value }), 0..3))
}

/// Names Java keeps as they are: non-empty, trimmed, no `?` options (so the frames also
/// survive the Java re-marshalling check in `golden/capture/Verify.java`).
pub fn destination() -> impl Strategy<Value = Destination> {
    let name = || "[a-zA-Z0-9:.>*_,é中-]{1,12}";
    prop_oneof![
        name().prop_map(Destination::Queue),
        name().prop_map(Destination::Topic),
        name().prop_map(Destination::TempQueue),
        name().prop_map(Destination::TempTopic),
    ]
}

pub fn transaction_id() -> impl Strategy<Value = TransactionId> {
    prop_oneof![
        (any::<i64>(), proptest::option::of(connection_id())).prop_map(|(value, connection_id)| {
            TransactionId::Local(LocalTransactionId {
                value,
                connection_id,
            })
        }),
        (any::<i32>(), opt_bytes(), opt_bytes()).prop_map(|(format_id, g, b)| {
            TransactionId::Xa(XaTransactionId {
                format_id,
                global_transaction_id: g,
                branch_qualifier: b,
            })
        }),
    ]
}

pub fn message_id() -> impl Strategy<Value = MessageId> {
    (
        opt_string(),
        proptest::option::of(producer_id()),
        any::<i64>(),
        any::<i64>(),
    )
        .prop_map(|(text_view, producer_id, p, b)| MessageId {
            text_view,
            producer_id,
            producer_sequence_id: p,
            broker_sequence_id: b,
        })
}

/// A throwable; stack frames and causes only when `traced`, since without negotiated stack
/// traces they are not on the wire.
pub fn throwable(traced: bool) -> BoxedStrategy<Throwable> {
    let leaf = (opt_string(), opt_string()).prop_map(|(class_name, message)| Throwable {
        class_name,
        message,
        ..Throwable::default()
    });
    if !traced {
        return leaf.boxed();
    }
    let frame = (opt_string(), opt_string(), opt_string(), any::<i32>())
        .prop_map(|(c, m, f, l)| StackTraceElement {
            class_name: c,
            method_name: m,
            file_name: f,
            line_number: l,
        })
        .boxed();
    leaf.prop_recursive(3, 6, 1, move |inner| {
        (
            opt_string(),
            opt_string(),
            vec(frame.clone(), 0..3),
            proptest::option::of(inner),
        )
            .prop_map(|(class_name, message, stack_trace, cause)| Throwable {
                class_name,
                message,
                stack_trace,
                cause: cause.map(Box::new),
            })
    })
    .boxed()
}

fn float64() -> impl Strategy<Value = f64> {
    use proptest::num::f64;
    f64::POSITIVE | f64::NEGATIVE | f64::NORMAL | f64::SUBNORMAL | f64::ZERO | f64::INFINITE
}

fn float32() -> impl Strategy<Value = f32> {
    use proptest::num::f32;
    f32::POSITIVE | f32::NEGATIVE | f32::NORMAL | f32::SUBNORMAL | f32::ZERO | f32::INFINITE
}

pub fn primitive_value() -> impl Strategy<Value = PrimitiveValue> {
    let leaf = prop_oneof![
        Just(PrimitiveValue::Null),
        any::<bool>().prop_map(PrimitiveValue::Bool),
        any::<i8>().prop_map(PrimitiveValue::Byte),
        any::<u16>().prop_map(PrimitiveValue::Char),
        any::<i16>().prop_map(PrimitiveValue::Short),
        any::<i32>().prop_map(PrimitiveValue::Int),
        any::<i64>().prop_map(PrimitiveValue::Long),
        float64().prop_map(PrimitiveValue::Double),
        float32().prop_map(PrimitiveValue::Float),
        string().prop_map(PrimitiveValue::String),
        // Long enough to need BIG_STRING.
        (0..3usize).prop_map(|n| PrimitiveValue::String("é".repeat(8190 + n))),
        bytes().prop_map(PrimitiveValue::ByteArray),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            btree_map(string(), inner.clone(), 0..4).prop_map(PrimitiveValue::Map),
            vec(inner, 0..4).prop_map(PrimitiveValue::List),
        ]
    })
}

pub fn primitive_map() -> impl Strategy<Value = PrimitiveMap> {
    btree_map(string(), primitive_value(), 0..6)
}

pub fn kind() -> impl Strategy<Value = MessageKind> {
    prop_oneof![
        Just(MessageKind::Message),
        Just(MessageKind::Bytes),
        Just(MessageKind::Map),
        Just(MessageKind::Object),
        Just(MessageKind::Stream),
        Just(MessageKind::Text),
        // Java reads a null MIME type back as "application/octet-stream".
        (opt_string(), string().prop_map(Some), any::<bool>()).prop_map(|(u, m, d)| {
            MessageKind::Blob(BlobInfo {
                remote_blob_url: u,
                mime_type: m,
                deleted_by_broker: d,
            })
        }),
    ]
}

/// A nested data structure, as advisories carry (kept shallow).
pub fn data_structure() -> impl Strategy<Value = DataStructure> {
    prop_oneof![
        destination().prop_map(DataStructure::Destination),
        consumer_id().prop_map(DataStructure::ConsumerId),
        message_id().prop_map(DataStructure::MessageId),
        transaction_id().prop_map(DataStructure::TransactionId),
        destination_info().prop_map(|d| DataStructure::Command(Box::new(d.into()))),
    ]
}

pub fn destination_info() -> impl Strategy<Value = DestinationInfo> {
    (
        base(),
        proptest::option::of(connection_id()),
        proptest::option::of(destination()),
        any::<u8>(),
        any::<i64>(),
        broker_path(),
    )
        .prop_map(
            |((command_id, rr), c, d, op, timeout, bp)| DestinationInfo {
                command_id,
                response_required: rr,
                connection_id: c,
                destination: d,
                operation_type: DestinationOperation(op),
                timeout,
                broker_path: bp,
            },
        )
}

pub fn base() -> impl Strategy<Value = (i32, bool)> {
    (any::<i32>(), any::<bool>())
}

pub fn message() -> BoxedStrategy<Message> {
    let ids = (
        kind(),
        base(),
        proptest::option::of(producer_id()),
        proptest::option::of(destination()),
        proptest::option::of(transaction_id()),
        proptest::option::of(destination()),
        proptest::option::of(message_id()),
        proptest::option::of(transaction_id()),
    )
        .boxed();
    let headers = (
        opt_string(),
        any::<i32>(),
        opt_string(),
        any::<bool>(),
        any::<i64>(),
        // Java's setPriority clamps to 0..=9.
        0..=9u8,
        proptest::option::of(destination()),
        any::<i64>(),
        opt_string(),
    )
        .boxed();
    let body = (
        opt_bytes(),
        opt_bytes(),
        proptest::option::of(data_structure()),
        proptest::option::of(consumer_id()),
        any::<bool>(),
        any::<i32>(),
        broker_path(),
    )
        .boxed();
    let tail = (
        any::<i64>(),
        opt_string(),
        any::<[bool; 3]>(),
        broker_path(),
        any::<i64>(),
        any::<i64>(),
    )
        .boxed();
    (ids, headers, body, tail)
        .prop_map(|(ids, h, b, t)| Message {
            kind: ids.0,
            command_id: ids.1 .0,
            response_required: ids.1 .1,
            producer_id: ids.2,
            destination: ids.3,
            transaction_id: ids.4,
            original_destination: ids.5,
            message_id: ids.6,
            original_transaction_id: ids.7,
            group_id: h.0,
            group_sequence: h.1,
            correlation_id: h.2,
            persistent: h.3,
            expiration: h.4,
            priority: h.5,
            reply_to: h.6,
            timestamp: h.7,
            jms_type: h.8,
            content: b.0,
            marshalled_properties: b.1,
            data_structure: b.2.map(Box::new),
            target_consumer_id: b.3,
            compressed: b.4,
            redelivery_counter: b.5,
            broker_path: b.6,
            arrival: t.0,
            user_id: t.1,
            received_by_df_bridge: t.2[0],
            droppable: t.2[1],
            jmsx_group_first_for_consumer: t.2[2],
            cluster: t.3,
            broker_in_time: t.4,
            broker_out_time: t.5,
        })
        .boxed()
}
