//! Robustness: arbitrary, mutated, truncated, oversized and deeply nested input is an error,
//! never a panic, an unbounded allocation or a stack overflow; real streams decode the same
//! however they are split.

use bytes::{Bytes, BytesMut};
use ferromq_openwire::{
    type_id, wire_format_property as wfp, BrokerInfo, Codec, Command, Config, ConnectionInfo,
    DataStructure, ExceptionResponse, Limits, Message, MessageKind, PrimitiveMap, PrimitiveValue,
    Throwable, WireError, WireFormatInfo,
};
use proptest::collection::vec;
use proptest::prelude::*;

use crate::command_strategies;
use crate::golden;
use crate::roundtrip::decode_in_chunks;

fn small_codec() -> Codec {
    Codec::new(Config {
        limits: Limits {
            max_frame_size: 256,
            max_nesting_depth: 3,
        },
        ..Config::default()
    })
}

/// Decodes until the input is used up or an error; returns how many commands came out.
fn drain(codec: &Codec, data: &[u8]) -> usize {
    let mut buf = BytesMut::from(data);
    let mut n = 0;
    while let Ok(Some(_)) = codec.decode(&mut buf) {
        n += 1;
    }
    n
}

fn framed(type_byte: u8, body: &[u8]) -> Bytes {
    let mut f = BytesMut::new();
    f.extend_from_slice(&u32::try_from(body.len() + 1).unwrap_or(0).to_be_bytes());
    f.extend_from_slice(&[type_byte]);
    f.extend_from_slice(body);
    f.freeze()
}

fn encode(codec: &Codec, c: &Command) -> Bytes {
    let mut out = BytesMut::new();
    codec
        .encode(c, &mut out)
        .unwrap_or_else(|e| panic!("encode: {e}"));
    out.freeze()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn arbitrary_bytes_never_panic(data in vec(any::<u8>(), 0..600)) {
        for codec in [Codec::default(), small_codec()] {
            drain(&codec, &data);
            let _ = codec.check(&data);
            let _ = codec.decode_frame(Bytes::from(data.clone()));
        }
    }

    /// Random bodies behind a correct size prefix reach the field decoders, which random
    /// prefixes almost never do.
    #[test]
    fn arbitrary_bodies_never_panic(t in any::<u8>(), body in vec(any::<u8>(), 0..400)) {
        for codec in [Codec::default(), small_codec()] {
            let _ = codec.decode_frame(framed(t, &body));
        }
    }

    #[test]
    fn mutated_real_frames_never_panic(
        pick in any::<prop::sample::Index>(),
        flips in vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let streams = golden::all_streams();
        let stream = streams[pick.index(streams.len())];
        let mut data = stream.to_vec();
        for (at, byte) in flips {
            let i = at.index(data.len());
            data[i] = byte;
        }
        drain(&Codec::default(), &data);
        drain(&small_codec(), &data);
    }

    #[test]
    fn truncated_commands_are_unexpected_eof(
        command in command_strategies::command(false),
        cut in any::<prop::sample::Index>(),
    ) {
        let codec = Codec::default();
        let wire = encode(&codec, &command);
        // Keep the prefix and type byte, drop at least one byte of the body.
        prop_assume!(wire.len() > 5);
        let keep = 5 + cut.index(wire.len() - 5);
        let result = codec.decode_frame(framed(wire[4], &wire[5..keep]));
        prop_assert!(
            matches!(result, Err(WireError::UnexpectedEof { .. })),
            "{:?}", result
        );
    }

    #[test]
    fn trailing_bytes_are_refused(command in command_strategies::command(false), extra in 1..8usize) {
        let codec = Codec::default();
        let wire = encode(&codec, &command);
        let mut body = wire[5..].to_vec();
        body.resize(body.len() + extra, 0);
        let result = codec.decode_frame(framed(wire[4], &body));
        let is_trailing = matches!(result, Err(WireError::TrailingBytes { count, .. }) if count == extra);
        prop_assert!(is_trailing, "{:?}", result);
    }
}

#[test]
fn real_streams_split_at_every_offset_decode_the_same() {
    let codec = Codec::default();
    for stream in golden::all_streams() {
        let whole = golden::commands(stream);
        // Every offset of the small streams; every 13th of the large ones keeps this fast.
        let step = if stream.len() > 4096 { 13 } else { 1 };
        for cut in (0..=stream.len()).step_by(step) {
            assert_eq!(
                decode_in_chunks(&codec, stream, &[cut]),
                whole,
                "cut at {cut}"
            );
        }
        // And byte by byte.
        let cuts: Vec<usize> = (1..stream.len()).collect();
        assert_eq!(decode_in_chunks(&codec, stream, &cuts), whole);
    }
}

#[test]
fn oversized_frames_are_refused_from_the_prefix_alone() {
    let codec = Codec::default();
    let prefix = (100u32 * 1024 * 1024 + 1).to_be_bytes();
    assert!(matches!(
        codec.check(&prefix),
        Err(WireError::FrameTooLarge {
            size: 104_857_601,
            limit: 104_857_600
        })
    ));
    let at_limit = (100u32 * 1024 * 1024).to_be_bytes();
    assert!(matches!(codec.check(&at_limit), Ok(None)));
    for bad in [0i32, -1, i32::MIN] {
        assert!(matches!(
            codec.check(&bad.to_be_bytes()),
            Err(WireError::InvalidFrameSize { .. })
        ));
    }
    assert!(matches!(codec.check(&[0, 0, 0]), Ok(None)));
    assert!(matches!(codec.check(&[0, 0, 0, 2, 10]), Ok(None)));

    // A peer that asked for a smaller limit gets it in both directions.
    let mut codec = Codec::default();
    let mut peer = WireFormatInfo::default();
    peer.set_property(wfp::MAX_FRAME_SIZE, PrimitiveValue::Long(64));
    assert!(codec.negotiate(&peer).is_ok());
    assert_eq!(codec.max_frame_size(), 64);
    assert!(codec.check(&65u32.to_be_bytes()).is_err());
}

#[test]
fn unknown_and_non_command_type_ids() {
    let codec = Codec::default();
    for t in 0..=255u8 {
        let result = codec.decode_frame(framed(t, &[]));
        let id_like = t == 0
            || (100..=103).contains(&t)
            || (110..=112).contains(&t)
            || (120..=124).contains(&t);
        let command = matches!(t, 1..=12 | 14..=34);
        match result {
            Err(WireError::NotACommand { type_id, offset: 4 }) => assert!(id_like && type_id == t),
            Err(WireError::UnknownType { type_id, offset: 4 }) => {
                assert!(!id_like && !command && type_id == t, "{t}");
            }
            Err(WireError::UnexpectedEof { .. }) => assert!(command, "{t}"),
            other => panic!("type {t}: {other:?}"),
        }
    }
    // Nested: a message whose destination field holds a ConnectionId.
    let mut body = vec![0, 0, 0, 1, 0, 0];
    body.extend_from_slice(&[1, type_id::CONNECTION_ID, 1, 0, 1, b'c']);
    assert!(matches!(
        codec.decode_frame(framed(type_id::ACTIVEMQ_TEXT_MESSAGE, &body)),
        Err(WireError::UnexpectedType {
            type_id: 120,
            offset: 12,
            ..
        })
    ));
    body[7] = 77;
    assert!(matches!(
        codec.decode_frame(framed(type_id::ACTIVEMQ_TEXT_MESSAGE, &body)),
        Err(WireError::UnknownType {
            type_id: 77,
            offset: 12
        })
    ));
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    // Messages inside messages (advisory style), far beyond the depth limit.
    let mut m = Message::new(MessageKind::Text);
    for _ in 0..60 {
        let mut outer = Message::new(MessageKind::Message);
        outer.data_structure = Some(Box::new(DataStructure::Command(Box::new(m.into()))));
        m = outer;
    }
    let frame = encode(&Codec::default(), &m.into());
    // A small stack: the limit must trip long before it runs out, even in debug builds.
    let result = std::thread::Builder::new()
        .stack_size(1024 * 1024)
        .spawn(move || {
            matches!(
                Codec::default().decode_frame(frame),
                Err(WireError::NestingTooDeep { limit: 32, .. })
            )
        })
        .map(|h| h.join());
    assert!(matches!(result, Ok(Ok(true))));

    // Maps inside maps, in the properties.
    let mut map = PrimitiveMap::new();
    for _ in 0..60 {
        map = [("m".to_owned(), PrimitiveValue::Map(map))].into();
    }
    let mut msg = Message::new(MessageKind::Text);
    assert!(msg.set_properties(&map).is_ok());
    assert!(matches!(
        msg.properties(&Limits::default()),
        Err(WireError::NestingTooDeep { .. })
    ));

    // Exception causes, when stack traces are on.
    let mut codec = Codec::new(Config {
        stack_trace_enabled: true,
        ..Config::default()
    });
    let mut peer = WireFormatInfo::default();
    peer.set_property(wfp::STACK_TRACE_ENABLED, PrimitiveValue::Bool(true));
    assert!(codec.negotiate(&peer).is_ok());
    let mut t = Throwable::new("E", "root");
    for _ in 0..60 {
        t = Throwable {
            cause: Some(Box::new(t)),
            ..Throwable::new("E", "wrap")
        };
    }
    let response = ExceptionResponse {
        exception: Some(t),
        ..ExceptionResponse::default()
    };
    let frame = encode(&codec, &response.into());
    assert!(matches!(
        codec.decode_frame(frame),
        Err(WireError::NestingTooDeep { .. })
    ));
}

#[test]
fn declared_counts_are_not_trusted() {
    let codec = Codec::default();
    // BrokerInfo whose peer array claims 32767 entries and ends there.
    let mut wire = encode(&codec, &BrokerInfo::default().into()).to_vec();
    let at = 4 + 1 + 5 + 1 + 1; // prefix, type, base, brokerId null, brokerURL null
    wire.truncate(at);
    wire.extend_from_slice(&[1, 0x7f, 0xff]);
    let result = codec.decode_frame(framed(wire[4], &wire[5..]));
    assert!(
        matches!(result, Err(WireError::UnexpectedEof { offset: 15, .. })),
        "{result:?}"
    );

    // A WireFormatInfo whose option map claims i32::MAX entries.
    let mut body = b"ActiveMQ".to_vec();
    body.extend_from_slice(&[0, 0, 0, 12, 1, 0, 0, 0, 4, 0x7f, 0xff, 0xff, 0xff]);
    assert!(codec.decode_frame(framed(1, &body)).is_err());

    // A byte array longer than the frame.
    let mut m = Message::new(MessageKind::Bytes);
    m.set_body(Some(Bytes::from_static(b"abcd")));
    let wire = encode(&codec, &m.into()).to_vec();
    let len_at = wire
        .windows(8)
        .position(|w| w == [1, 0, 0, 0, 4, b'a', b'b', b'c'])
        .unwrap_or_else(|| panic!("content not found"));
    let mut bad = wire.clone();
    bad[len_at + 1..len_at + 5].copy_from_slice(&0x7fff_fff0i32.to_be_bytes());
    assert!(matches!(
        codec.decode_frame(framed(bad[4], &bad[5..])),
        Err(WireError::UnexpectedEof { .. })
    ));
    bad[len_at + 1..len_at + 5].copy_from_slice(&(-5i32).to_be_bytes());
    assert!(matches!(
        codec.decode_frame(framed(bad[4], &bad[5..])),
        Err(WireError::InvalidLength { value: -5, .. })
    ));
}

#[test]
fn encode_errors_leave_the_buffer_untouched() {
    let codec = Codec::default();
    let mut out = BytesMut::from(&b"before"[..]);
    let long = ConnectionInfo {
        client_id: Some("x".repeat(70_000)),
        ..ConnectionInfo::default()
    };
    assert!(matches!(
        codec.encode(&long.into(), &mut out),
        Err(WireError::TooLong { max: 65535, .. })
    ));
    assert_eq!(&out[..], b"before");

    let small = small_codec();
    let mut big = Message::new(MessageKind::Bytes);
    big.set_body(Some(Bytes::from(vec![0u8; 300])));
    assert!(matches!(
        small.encode(&big.into(), &mut out),
        Err(WireError::FrameTooLarge { limit: 256, .. })
    ));
    assert_eq!(&out[..], b"before");
}
