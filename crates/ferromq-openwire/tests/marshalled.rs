//! Golden tests on single frames marshalled by the genuine Java `OpenWireFormat`
//! (`golden/capture/Marshal.java`), frames hand-built from the reference document, and the
//! export for the Java-side check of what this codec writes.

use bytes::{Bytes, BytesMut};
use ferromq_openwire::{
    AckType, Codec, Command, DataStructure, Destination, Limits, MessageKind, PrimitiveValue,
    TransactionId, TransactionType, WireError,
};

use crate::golden::{commands, frames_with, traced_codec};

/// Single frames from `Marshal.java`, all loose without stack traces except where noted.
macro_rules! marshalled {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_bytes!(concat!("golden/marshalled/", $name, ".bin")))),*]
    };
}
pub const MARSHALLED: &[(&str, &[u8])] = marshalled![
    "blob_message",
    "broker_info",
    "connection_control",
    "connection_error",
    "consumer_control",
    "control_command",
    "data_array_response",
    "data_response",
    "destination_info",
    "exception_response",
    "flush_command",
    "integer_response",
    "keep_alive_info",
    "message_ack_0",
    "message_ack_1",
    "message_ack_2",
    "message_ack_3",
    "message_ack_4",
    "message_ack_5",
    "message_ack_6",
    "message_pull",
    "producer_ack",
    "remove_info_session",
    "shutdown_info",
    "text_message_all_fields",
    "xa_recover",
    "xa_transaction_info_0",
    "xa_transaction_info_1",
    "xa_transaction_info_3",
    "xa_transaction_info_4",
    "xa_transaction_info_6",
    "xa_transaction_info_7",
];
pub const STACK_TRACE: &[u8] =
    include_bytes!("golden/marshalled/exception_response_stack_trace.bin");
const NULL_FRAME: &[u8] = include_bytes!("golden/marshalled/null.bin");
#[test]
fn java_marshalled_structures() {
    let get = |name: &str| {
        let bytes = MARSHALLED
            .iter()
            .find(|(n, _)| *n == name)
            .map_or_else(|| panic!("{name}"), |(_, b)| *b);
        commands(bytes).remove(0)
    };
    for (t, name) in [(0u8, "0"), (7, "7"), (1, "1"), (3, "3"), (4, "4"), (6, "6")] {
        let Command::TransactionInfo(ti) = get(&format!("xa_transaction_info_{name}")) else {
            panic!("TransactionInfo");
        };
        assert_eq!(ti.transaction_type, TransactionType(t));
        assert!(ti.is_xa());
        let Some(TransactionId::Xa(xid)) = ti.transaction_id else {
            panic!("XA id");
        };
        assert_eq!(xid.format_id, 0x1234);
        assert_eq!(xid.global_transaction_id.as_deref(), Some(&[1, 2, 3][..]));
        assert_eq!(xid.branch_qualifier.as_deref(), Some(&[4, 5][..]));
    }
    assert!(matches!(get("xa_recover"),
        Command::TransactionInfo(t) if t.transaction_id.is_none() && t.is_xa()));
    for t in 0..=6u8 {
        let Command::MessageAck(ack) = get(&format!("message_ack_{t}")) else {
            panic!("MessageAck");
        };
        assert_eq!(ack.ack_type, AckType(t));
        assert_eq!(ack.last_message_id.map(|m| m.broker_sequence_id), Some(104));
        assert_eq!(ack.poison_cause.is_some(), t == 1);
    }
    assert!(matches!(get("integer_response"),
        Command::IntegerResponse(r) if r.result == 3 && r.correlation_id == 15));
    assert!(matches!(get("data_array_response"),
        Command::DataArrayResponse(r) if matches!(r.data.as_deref(),
            Some([DataStructure::TransactionId(TransactionId::Xa(_))]))));
    assert!(matches!(get("data_response"),
        Command::DataResponse(r) if matches!(r.data.as_deref(),
            Some(DataStructure::Destination(Destination::Queue(q))) if q == "golden.q")));
    assert!(matches!(get("connection_error"),
        Command::ConnectionError(e) if e.exception.as_ref().and_then(|t| t.class_name.as_deref())
            == Some("java.lang.SecurityException")));
    assert!(matches!(get("connection_control"),
        Command::ConnectionControl(c) if c.rebalance_connection
            && c.token.as_deref() == Some(&[7, 7][..])));
    assert!(matches!(get("broker_info"),
        Command::BrokerInfo(b) if b.peer_broker_infos.as_ref().map(Vec::len) == Some(1)
            && b.connection_id == 77));
    assert!(matches!(get("blob_message"),
        Command::Message(m) if matches!(&m.kind, MessageKind::Blob(b) if b.deleted_by_broker)));
    let Command::Message(all_fields) = get("text_message_all_fields") else {
        panic!("message");
    };
    assert!(matches!(
        all_fields.transaction_id,
        Some(TransactionId::Xa(_))
    ));
    assert!(matches!(
        all_fields.original_transaction_id,
        Some(TransactionId::Local(_))
    ));
    assert!(matches!(
        all_fields.destination,
        Some(Destination::TempTopic(_))
    ));
    assert_eq!(all_fields.broker_path.as_ref().map(Vec::len), Some(2));
    assert!(all_fields.jmsx_group_first_for_consumer && all_fields.droppable);
    assert_eq!(
        all_fields
            .text(&Limits::default())
            .ok()
            .flatten()
            .as_deref(),
        Some("in xa")
    );
    assert!(matches!(all_fields.data_structure.as_deref(),
        Some(DataStructure::Command(c)) if matches!(**c, Command::RemoveInfo(_))));

    let traced = traced_codec();
    let Command::ExceptionResponse(e) = frames_with(&traced, STACK_TRACE).remove(0).1 else {
        panic!("ExceptionResponse");
    };
    let t = e.exception.unwrap_or_default();
    assert_eq!(t.class_name.as_deref(), Some("java.io.IOException"));
    assert_eq!(t.stack_trace.len(), 2);
    assert_eq!(t.stack_trace[1].file_name, None);
    assert_eq!(t.stack_trace[1].line_number, -2);
    let cause = t.cause.unwrap_or_default();
    assert_eq!(cause.message.as_deref(), Some("root cause"));
    assert_eq!(cause.stack_trace[0].line_number, 12);
    // Without negotiated stack traces the same bytes do not parse as one command.
    assert!(Codec::default()
        .decode_frame(Bytes::from_static(STACK_TRACE))
        .is_err());

    assert!(matches!(
        Codec::default().decode_frame(Bytes::from_static(NULL_FRAME)),
        Err(WireError::NotACommand {
            type_id: 0,
            offset: 4
        })
    ));
}

/// Frames built by hand from the reference document (sections 2.1, 4.2, 4.4, 4.5).
#[test]
fn frames_hand_built_from_the_reference() {
    let codec = Codec::default();
    let one = |bytes: Vec<u8>| {
        codec
            .decode_frame(Bytes::from(bytes))
            .unwrap_or_else(|e| panic!("{e}"))
    };
    assert_eq!(
        one(vec![0, 0, 0, 6, 0x0a, 0, 0, 0, 0, 0]),
        Command::KeepAliveInfo(Default::default())
    );
    assert!(matches!(
        one(vec![0, 0, 0, 0x0a, 0x1e, 0, 0, 0, 3, 0, 0, 0, 0, 1]),
        Command::Response(r) if r.command_id == 3 && r.correlation_id == 1
    ));

    // A WireFormatInfo: magic, version 12, a map {TightEncodingEnabled: false}.
    let mut body = vec![0x01];
    body.extend_from_slice(b"ActiveMQ");
    body.extend_from_slice(&[0, 0, 0, 12, 1]);
    let mut map = vec![0, 0, 0, 1, 0, 20];
    map.extend_from_slice(b"TightEncodingEnabled");
    map.extend_from_slice(&[1, 0]);
    body.extend_from_slice(&(map.len() as u32).to_be_bytes());
    body.extend_from_slice(&map);
    let Command::WireFormatInfo(w) = one(framed(body)) else {
        panic!("WireFormatInfo");
    };
    assert_eq!(w.version, 12);
    assert_eq!(
        w.property("TightEncodingEnabled"),
        Some(&PrimitiveValue::Bool(false))
    );

    // ConnectionInfo: BC, connectionId, clientId, password, userName, brokerPath(null),
    // 5 booleans, clientIp(null).
    let mut body = vec![0x03, 0, 0, 0, 1, 1];
    body.extend_from_slice(&[1, 120, 1, 0, 4]);
    body.extend_from_slice(b"ID:c");
    body.extend_from_slice(&[1, 0, 2, b'c', b'1', 1, 0, 2, b'p', b'w', 1, 0, 1, b'u', 0]);
    body.extend_from_slice(&[0, 1, 1, 0, 0, 0]);
    let Command::ConnectionInfo(ci) = one(framed(body)) else {
        panic!("ConnectionInfo");
    };
    assert_eq!(ci.client_id.as_deref(), Some("c1"));
    assert_eq!(ci.password.as_deref(), Some("pw"));
    assert_eq!(ci.user_name.as_deref(), Some("u"));
    assert!(ci.manageable && ci.client_master && !ci.fault_tolerant);

    // A TextMessage "np" to queue "q" with everything else null/0 (32 fields, section 4.4).
    let mut body = vec![28, 0, 0, 0, 9, 0];
    body.extend_from_slice(&[0, 1, 100, 1, 0, 1, b'q', 0, 0, 0, 0]); // producer..originalTx
    body.extend_from_slice(&[0, 0, 0, 0, 0, 0]); // groupID, groupSequence, correlationId
    body.extend_from_slice(&[1]); // persistent
    body.extend_from_slice(&[0; 8]); // expiration
    body.extend_from_slice(&[4, 0]); // priority, replyTo
    body.extend_from_slice(&[0; 8]); // timestamp
    body.extend_from_slice(&[0, 1, 0, 0, 0, 6, 0, 0, 0, 2, b'n', b'p']); // type, content
    body.extend_from_slice(&[0, 0, 0, 0]); // properties, dataStructure, target, compressed
    body.extend_from_slice(&[0, 0, 0, 0, 0]); // redeliveryCounter, brokerPath
    body.extend_from_slice(&[0; 8]); // arrival
    body.extend_from_slice(&[0, 0, 0, 0]); // userID, dfBridge, droppable, cluster
    body.extend_from_slice(&[0; 17]); // brokerInTime, brokerOutTime, groupFirst
    let Command::Message(m) = one(framed(body)) else {
        panic!("Message");
    };
    assert_eq!(m.destination, Some(Destination::Queue("q".into())));
    assert_eq!(
        m.text(&Limits::default()).ok().flatten().as_deref(),
        Some("np")
    );
    assert!(m.persistent);
}

fn framed(body: Vec<u8>) -> Vec<u8> {
    let mut f = (body.len() as u32).to_be_bytes().to_vec();
    f.extend(body);
    f
}

/// Writes a few thousand generated commands, back to back, to `$OPENWIRE_EXPORT` so that
/// `golden/capture/Verify.java` can check that the genuine Java `OpenWireFormat` reads every
/// one and marshals it back to the same bytes. Run by hand:
/// `OPENWIRE_EXPORT=/tmp/rust.bin cargo test -p ferromq-openwire -- --ignored export`.
#[test]
#[ignore = "writes a file for the Java interop check"]
fn export_frames_for_the_java_check() {
    use proptest::strategy::{Strategy, ValueTree};
    let Ok(path) = std::env::var("OPENWIRE_EXPORT") else {
        return;
    };
    let codec = Codec::default();
    let mut out = BytesMut::new();
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = crate::command_strategies::command(false);
    for _ in 0..3000 {
        let command = strategy
            .new_tree(&mut runner)
            .unwrap_or_else(|e| panic!("{e}"))
            .current();
        codec
            .encode(&command, &mut out)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    std::fs::write(path, &out).unwrap_or_else(|e| panic!("{e}"));
}
