//! Golden tests on a recorded session: bytes written by the genuine ActiveMQ 5.17 Java client
//! and broker (see `golden/README.md`) must decode to the expected commands and re-encode to
//! the very same bytes. Also the helpers the other test modules share.

use std::collections::BTreeSet;

use bytes::{Bytes, BytesMut};
use ferromq_openwire::{
    wire_format_property as prop, AckType, Codec, Command, Config, DataStructure, Destination,
    DestinationOperation, Limits, Message, MessageKind, PrimitiveMap, PrimitiveValue, RemoveTarget,
    TransactionId, TransactionType, WireFormatInfo,
};

const CONN1_CLIENT: &[u8] = include_bytes!("golden/session/conn1-client.bin");
const CONN1_BROKER: &[u8] = include_bytes!("golden/session/conn1-broker.bin");
const CONN2_CLIENT: &[u8] = include_bytes!("golden/session/conn2-client.bin");
const CONN2_BROKER: &[u8] = include_bytes!("golden/session/conn2-broker.bin");
const CONN3_CLIENT: &[u8] = include_bytes!("golden/session/conn3-client.bin");
const CONN3_BROKER: &[u8] = include_bytes!("golden/session/conn3-broker.bin");
const SESSIONS: [&[u8]; 6] = [
    CONN1_CLIENT,
    CONN1_BROKER,
    CONN2_CLIENT,
    CONN2_BROKER,
    CONN3_CLIENT,
    CONN3_BROKER,
];

/// Splits a stream into (raw frame, command) pairs with `codec`; panics on any error.
pub fn frames_with(codec: &Codec, stream: &[u8]) -> Vec<(Vec<u8>, Command)> {
    let mut buf = BytesMut::from(stream);
    let mut out = Vec::new();
    while let Some(n) = codec.check(&buf).unwrap_or_else(|e| panic!("check: {e}")) {
        let raw = buf[..n].to_vec();
        match codec.decode(&mut buf) {
            Ok(Some(c)) => out.push((raw, c)),
            other => panic!("frame {} {:02x?}: {other:?}", out.len(), &raw[..16.min(n)]),
        }
    }
    assert!(buf.is_empty(), "{} bytes left over", buf.len());
    out
}

pub fn frames(stream: &[u8]) -> Vec<(Vec<u8>, Command)> {
    frames_with(&Codec::default(), stream)
}

pub fn commands(stream: &[u8]) -> Vec<Command> {
    frames(stream).into_iter().map(|(_, c)| c).collect()
}

/// Every golden stream, for the robustness tests.
pub fn all_streams() -> Vec<&'static [u8]> {
    let mut v: Vec<&[u8]> = SESSIONS.to_vec();
    v.extend(crate::marshalled::MARSHALLED.iter().map(|(_, b)| *b));
    v
}

fn messages(stream: &[u8]) -> Vec<Message> {
    commands(stream)
        .into_iter()
        .filter_map(|c| match c {
            Command::Message(m) => Some(*m),
            Command::MessageDispatch(d) => d.message.map(|m| *m),
            _ => None,
        })
        .collect()
}

pub fn encode(codec: &Codec, c: &Command) -> Vec<u8> {
    let mut out = BytesMut::new();
    codec
        .encode(c, &mut out)
        .unwrap_or_else(|e| panic!("encode {c:?}: {e}"));
    out.to_vec()
}

/// A codec that negotiated stack traces, as between two Java peers with defaults.
pub fn traced_codec() -> Codec {
    let mut codec = Codec::new(Config {
        stack_trace_enabled: true,
        ..Config::default()
    });
    let mut peer = WireFormatInfo::default();
    peer.set_property(prop::STACK_TRACE_ENABLED, PrimitiveValue::Bool(true));
    assert!(codec.negotiate(&peer).is_ok());
    codec
}

#[test]
fn every_java_frame_reencodes_byte_for_byte() {
    let codec = Codec::default();
    let streams = all_streams();
    let mut count = 0;
    for stream in streams {
        for (raw, command) in frames(stream) {
            count += 1;
            let again = encode(&codec, &command);
            if let Command::WireFormatInfo(_) = command {
                // Java writes its options in HashMap order, this crate in key order.
                let back = frames(&again);
                assert_eq!(back[0].1, command);
                assert_eq!(again.len(), raw.len());
            } else {
                assert_eq!(again, raw, "{command:?}");
            }
        }
    }
    assert!(count > 150, "only {count} frames");
    let traced = traced_codec();
    let (raw, command) = frames_with(&traced, crate::marshalled::STACK_TRACE).remove(0);
    assert_eq!(encode(&traced, &command), raw);
}

#[test]
fn the_default_5_17_client_is_negotiated_down_to_loose_encoding() {
    let Command::WireFormatInfo(client) = &commands(CONN1_CLIENT)[0] else {
        panic!("the client speaks first");
    };
    assert!(client.has_valid_magic());
    assert_eq!(client.version, 12);
    assert!(client.tight_encoding_enabled() && client.cache_enabled());
    assert!(client.stack_trace_enabled() && client.tcp_no_delay_enabled());
    assert!(!client.size_prefix_disabled());
    assert_eq!(client.cache_size().ok(), Some(1024));
    assert_eq!(client.max_frame_size().ok(), Some(i64::MAX));
    assert_eq!(client.max_inactivity_duration().ok(), Some(30_000));
    assert_eq!(
        client.max_inactivity_duration_initial_delay().ok(),
        Some(10_000)
    );
    assert_eq!(client.host(), Some("127.0.0.1"));
    assert_eq!(client.provider_name(), Some("ActiveMQ"));
    assert_eq!(client.properties.as_ref().map(PrimitiveMap::len), Some(14));

    let mut codec = Codec::default();
    let agreed = codec.negotiate(client).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(agreed.version, 12);
    assert!(!agreed.tight_encoding_enabled && !agreed.cache_enabled);
    assert!(!agreed.size_prefix_disabled && !agreed.stack_trace_enabled);
    assert_eq!(agreed.max_frame_size, Some(100 * 1024 * 1024));
    assert_eq!(codec.local_wire_format().version, 12);

    // Over failover: the same offer without Host.
    let Command::WireFormatInfo(failover) = &commands(CONN2_CLIENT)[0] else {
        panic!("the client speaks first");
    };
    assert_eq!(failover.host(), None);
    assert_eq!(
        failover.properties.as_ref().map(PrimitiveMap::len),
        Some(13)
    );
}

#[test]
fn our_offer_uses_the_value_types_of_the_java_broker() {
    let Command::WireFormatInfo(java) = &commands(CONN1_BROKER)[0] else {
        panic!("the broker speaks first");
    };
    assert!(!java.tight_encoding_enabled() && !java.cache_enabled());
    let ours = Codec::default().local_wire_format();
    let (Some(ours_map), Some(java_map)) = (&ours.properties, &java.properties) else {
        panic!("both offers have options");
    };
    let mut shared = 0;
    for (key, value) in ours_map {
        if let Some(theirs) = java_map.get(key) {
            shared += 1;
            assert_eq!(
                std::mem::discriminant(value),
                std::mem::discriminant(theirs),
                "{key}"
            );
        }
    }
    assert!(shared >= 10, "only {shared} options in common");
    // And the real client would accept it: same version, loose result.
    let mut codec = Codec::default();
    assert!(codec.negotiate(&ours).is_ok());
}

#[test]
fn text_message_with_every_property_type() {
    let limits = Limits::default();
    let sent = messages(CONN1_CLIENT);
    let text = &sent[0];
    assert_eq!(text.kind, MessageKind::Text);
    assert!(text.response_required && text.persistent && !text.compressed);
    assert_eq!(
        text.text(&limits).ok().flatten().as_deref(),
        Some("h\u{e9}llo \u{4e2d} \u{1f600} \0!")
    );
    assert_eq!(text.priority, 7);
    assert!(text.expiration > text.timestamp);
    assert_eq!(text.correlation_id.as_deref(), Some("corr-1"));
    assert_eq!(text.jms_type.as_deref(), Some("golden-type"));
    assert_eq!(text.group_id.as_deref(), Some("g1"));
    assert!(matches!(text.reply_to, Some(Destination::TempQueue(_))));
    let id = text.message_id.as_ref().map(ToString::to_string);
    assert!(id.is_some_and(|id| id.starts_with("ID:") && id.ends_with(":1:1:1")));

    let p = text.properties(&limits).unwrap_or_else(|e| panic!("{e}"));
    let s = |v: &str| PrimitiveValue::String(v.into());
    assert_eq!(p.get("sp"), Some(&s("v\u{e9}")));
    assert_eq!(p.get("ip"), Some(&PrimitiveValue::Int(7)));
    assert_eq!(p.get("lp"), Some(&PrimitiveValue::Long(8)));
    assert_eq!(p.get("bp"), Some(&PrimitiveValue::Bool(true)));
    assert_eq!(p.get("dp"), Some(&PrimitiveValue::Double(1.5)));
    assert_eq!(p.get("fp"), Some(&PrimitiveValue::Float(2.5)));
    assert_eq!(p.get("yp"), Some(&PrimitiveValue::Byte(-3)));
    assert_eq!(p.get("hp"), Some(&PrimitiveValue::Short(4)));
    let nested: PrimitiveMap = [("k".into(), s("v")), ("n".into(), PrimitiveValue::Int(1))].into();
    assert_eq!(p.get("mp"), Some(&PrimitiveValue::Map(nested)));
    let list = vec![
        s("a"),
        PrimitiveValue::Int(2),
        PrimitiveValue::Long(3),
        PrimitiveValue::Bool(false),
    ];
    assert_eq!(p.get("lsp"), Some(&PrimitiveValue::List(list)));
    // 9000 characters: Java switched to BIG_STRING.
    assert_eq!(p.get("bigp"), Some(&s(&"x".repeat(9000))));

    // The dispatched copy carries the same body and properties, plus broker stamps.
    let dispatched = &messages(CONN1_BROKER)[1];
    assert_eq!(dispatched.content, text.content);
    assert_eq!(dispatched.marshalled_properties, text.marshalled_properties);
    assert!(dispatched.broker_in_time > 0);
}

#[test]
fn bytes_map_object_stream_and_plain_bodies() {
    let limits = Limits::default();
    let sent = messages(CONN1_CLIENT);
    let kinds: Vec<_> = sent.iter().take(7).map(|m| m.kind.clone()).collect();
    assert_eq!(
        kinds,
        [
            MessageKind::Text,
            MessageKind::Bytes,
            MessageKind::Map,
            MessageKind::Object,
            MessageKind::Stream,
            MessageKind::Message,
            MessageKind::Text,
        ]
    );
    assert_eq!(
        sent[1].body(&limits).ok().flatten().as_deref(),
        Some(&[0, 0, 0, 42, 0, 1, b'x', 1, 2, 3][..])
    );
    let map = sent[2].map_body(&limits).unwrap_or_else(|e| panic!("{e}"));
    let expect: PrimitiveMap = [
        ("b", PrimitiveValue::Bool(true)),
        ("y", PrimitiveValue::Byte(1)),
        ("c", PrimitiveValue::Char(u16::from(b'Z'))),
        ("h", PrimitiveValue::Short(-2)),
        ("i", PrimitiveValue::Int(1)),
        ("l", PrimitiveValue::Long(-1)),
        ("f", PrimitiveValue::Float(0.25)),
        ("d", PrimitiveValue::Double(-0.5)),
        ("s", PrimitiveValue::String("str".into())),
        ("a", PrimitiveValue::ByteArray(Bytes::from_static(&[9, 8]))),
        (
            "m",
            PrimitiveValue::Map(
                [
                    ("k".into(), PrimitiveValue::String("v".into())),
                    ("n".into(), PrimitiveValue::Int(1)),
                ]
                .into(),
            ),
        ),
        (
            "li",
            PrimitiveValue::List(vec![
                PrimitiveValue::Int(1),
                PrimitiveValue::String("two".into()),
            ]),
        ),
        ("n", PrimitiveValue::Null),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(map, expect);
    // Java serialization stream magic.
    assert!(sent[3]
        .content
        .as_ref()
        .is_some_and(|c| c.starts_with(&[0xac, 0xed])));
    let mut stream = vec![1, 1, 3, 0, b'q', 9, 0, 2, b's', b't', 10, 0, 0, 0, 1, 5, 6];
    stream.extend_from_slice(&99i64.to_be_bytes());
    assert_eq!(sent[4].content.as_deref(), Some(&stream[..]));
    assert_eq!(sent[5].content, None);
    assert!(!sent[6].persistent && !sent[6].response_required);
}

#[test]
fn compressed_bodies_from_use_compression_inflate() {
    let limits = Limits::default();
    let z = "z".repeat(2000);
    let sent = messages(CONN2_CLIENT);
    assert!(sent.iter().all(|m| m.compressed));
    assert!(sent
        .iter()
        .all(|m| m.content.as_ref().is_some_and(|c| c.len() < 100)));
    assert_eq!(sent[0].text(&limits).ok().flatten(), Some(z.clone()));
    assert_eq!(
        sent[1].body(&limits).ok().flatten().as_deref(),
        Some(z.as_bytes())
    );
    let map = sent[2].map_body(&limits).ok();
    assert_eq!(
        map.and_then(|m| m.get("k").cloned()),
        Some(PrimitiveValue::String(z))
    );
    // The broker's ProducerAck returns exactly Message::size() of each async send.
    let acks: Vec<i32> = commands(CONN2_BROKER)
        .into_iter()
        .filter_map(|c| match c {
            Command::ProducerAck(a) => Some(a.size),
            _ => None,
        })
        .collect();
    let sizes: Vec<i32> = sent
        .iter()
        .map(|m| i32::try_from(m.size()).unwrap_or(-1))
        .collect();
    assert_eq!(acks, sizes);
    let window = commands(CONN2_CLIENT).into_iter().find_map(|c| match c {
        Command::ProducerInfo(p) => Some(p.window_size),
        _ => None,
    });
    assert_eq!(window, Some(4096));
}

#[test]
fn acks_transactions_and_lifecycle_commands() {
    let all = commands(CONN1_CLIENT);
    let acks: BTreeSet<u8> = all
        .iter()
        .filter_map(|c| match c {
            Command::MessageAck(a) => Some(a.ack_type.0),
            _ => None,
        })
        .collect();
    for t in [AckType::STANDARD, AckType::POISON, AckType::INDIVIDUAL] {
        assert!(
            acks.contains(&t.0),
            "ack type {} missing from {acks:?}",
            t.0
        );
    }
    let poison = all.iter().find_map(|c| match c {
        Command::MessageAck(a) if a.ack_type == AckType::POISON => a.poison_cause.clone(),
        _ => None,
    });
    assert!(poison
        .and_then(|t| t.message)
        .is_some_and(|m| m.contains("redelivery policy")));
    let tx: BTreeSet<u8> = all
        .iter()
        .filter_map(|c| match c {
            Command::TransactionInfo(t) => {
                assert!(matches!(t.transaction_id, Some(TransactionId::Local(_))));
                Some(t.transaction_type.0)
            }
            _ => None,
        })
        .collect();
    let want = [
        TransactionType::BEGIN,
        TransactionType::COMMIT_ONE_PHASE,
        TransactionType::ROLLBACK,
    ];
    assert_eq!(tx, want.iter().map(|t| t.0).collect());
    let ops: Vec<_> = all
        .iter()
        .filter_map(|c| match c {
            Command::DestinationInfo(d) => Some(d.operation_type),
            _ => None,
        })
        .collect();
    assert_eq!(
        ops,
        [DestinationOperation::ADD, DestinationOperation::REMOVE]
    );
    assert!(all.iter().any(|c| matches!(c,
        Command::ConsumerInfo(i) if i.subscription_name.as_deref() == Some("golden-sub")
            && i.selector.as_deref() == Some("ip > 3"))));
    assert!(all
        .iter()
        .any(|c| matches!(c, Command::ConsumerInfo(i) if i.browser)));
    assert!(all.iter().any(|c| matches!(c,
        Command::ConsumerInfo(i) if i.prefetch_size == 0)));
    let pulls: Vec<i64> = all
        .iter()
        .filter_map(|c| match c {
            Command::MessagePull(p) => Some(p.timeout),
            _ => None,
        })
        .collect();
    assert_eq!(pulls, [-1, 2000]);
    assert!(all.iter().any(|c| matches!(c,
        Command::RemoveSubscriptionInfo(r) if r.subscription_name.as_deref() == Some("golden-sub"))));
    assert!(all.iter().any(|c| matches!(c,
        Command::RemoveInfo(r) if matches!(r.object_id, RemoveTarget::Connection(_))
            && r.response_required)));
    assert!(matches!(all.last(), Some(Command::ShutdownInfo(_))));
    let conn = commands(CONN2_CLIENT).into_iter().find_map(|c| match c {
        Command::ConnectionInfo(i) => Some(i),
        _ => None,
    });
    assert!(conn.is_some_and(|i| i.fault_tolerant && i.manageable));
}

#[test]
fn broker_side_commands() {
    let all = commands(CONN1_BROKER);
    assert!(
        matches!(&all[1], Command::BrokerInfo(b) if b.broker_name.as_deref() == Some("golden"))
    );
    assert!(all.iter().any(|c| matches!(c,
        Command::ConnectionControl(cc) if cc.connected_brokers.as_deref() == Some(""))));
    let refused = all.iter().find_map(|c| match c {
        Command::ExceptionResponse(e) => e.exception.clone(),
        _ => None,
    });
    assert_eq!(
        refused.and_then(|t| t.class_name).as_deref(),
        Some("javax.jms.InvalidDestinationException")
    );
    // End of browse / empty pull: a dispatch without a message.
    assert!(all.iter().any(|c| matches!(c,
        Command::MessageDispatch(d) if d.message.is_none() && d.consumer_id.is_some())));
    // Temp-queue advisories carry the DestinationInfo they announce.
    let advisory = messages(CONN1_BROKER)
        .into_iter()
        .find(|m| m.jms_type.as_deref() == Some("Advisory"));
    let Some(DataStructure::Command(info)) = advisory.and_then(|m| m.data_structure).map(|d| *d)
    else {
        panic!("no advisory with a data structure");
    };
    assert!(matches!(*info, Command::DestinationInfo(ref d)
        if matches!(d.destination, Some(Destination::TempQueue(_)))));
}

#[test]
fn keep_alives_flow_both_ways_when_inactivity_is_short() {
    for stream in [CONN3_CLIENT, CONN3_BROKER] {
        let n = commands(stream)
            .iter()
            .filter(|c| matches!(c, Command::KeepAliveInfo(k) if !k.response_required))
            .count();
        assert!(n >= 2, "{n} keep-alives");
    }
}
