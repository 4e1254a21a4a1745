//! Round trips: every command encodes and decodes back to itself, in one piece or split at any
//! offset; bodies, property maps and compression round-trip through the helpers.

use bytes::{Bytes, BytesMut};
use ferromq_openwire::{
    wire_format_property as wfp, Codec, Command, Config, Limits, Message, MessageKind,
    PrimitiveValue, WireFormatInfo,
};
use proptest::prelude::*;

use crate::{command_strategies, strategies};

fn traced_codec() -> Codec {
    let mut codec = Codec::new(Config {
        stack_trace_enabled: true,
        ..Config::default()
    });
    let mut peer = WireFormatInfo::default();
    peer.set_property(wfp::STACK_TRACE_ENABLED, PrimitiveValue::Bool(true));
    assert!(codec.negotiate(&peer).is_ok());
    codec
}

fn encode_all(codec: &Codec, commands: &[Command]) -> Result<BytesMut, TestCaseError> {
    let mut out = BytesMut::new();
    for c in commands {
        codec
            .encode(c, &mut out)
            .map_err(|e| TestCaseError::fail(format!("encode {c:?}: {e}")))?;
    }
    Ok(out)
}

/// Feeds `wire` to the decoder in the given chunks, decoding whatever is complete after each.
pub fn decode_in_chunks(codec: &Codec, wire: &[u8], cuts: &[usize]) -> Vec<Command> {
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut start = 0;
    for end in cuts.iter().copied().chain([wire.len()]) {
        let end = end.clamp(start, wire.len());
        buf.extend_from_slice(&wire[start..end]);
        start = end;
        while let Some(c) = codec
            .decode(&mut buf)
            .unwrap_or_else(|e| panic!("decode: {e}"))
        {
            out.push(c);
        }
    }
    assert!(buf.is_empty(), "{} bytes never decoded", buf.len());
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_command_round_trips(command in command_strategies::command(false)) {
        let codec = Codec::default();
        let wire = encode_all(&codec, std::slice::from_ref(&command))?;
        prop_assert_eq!(codec.check(&wire).ok().flatten(), Some(wire.len()));
        let back = codec.decode_frame(wire.freeze());
        prop_assert_eq!(back.ok(), Some(command));
    }

    #[test]
    fn stack_traces_round_trip_when_negotiated(command in command_strategies::command(true)) {
        let codec = traced_codec();
        let wire = encode_all(&codec, std::slice::from_ref(&command))?;
        prop_assert_eq!(codec.decode_frame(wire.freeze()).ok(), Some(command));
    }

    #[test]
    fn splitting_the_input_anywhere_yields_the_same_commands(
        commands in proptest::collection::vec(command_strategies::command(false), 1..5),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..4),
    ) {
        let codec = Codec::default();
        let wire = encode_all(&codec, &commands)?;
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(wire.len() + 1)).collect();
        cuts.sort_unstable();
        prop_assert_eq!(decode_in_chunks(&codec, &wire, &cuts), commands);
    }

    #[test]
    fn properties_and_map_bodies_round_trip(map in strategies::primitive_map()) {
        let limits = Limits::default();
        let mut m = Message::new(MessageKind::Map);
        prop_assert!(m.set_properties(&map).is_ok());
        prop_assert!(m.set_map_body(&map).is_ok());
        prop_assert_eq!(m.properties(&limits).ok(), Some(map.clone()));
        prop_assert_eq!(m.map_body(&limits).ok(), Some(map.clone()));
        prop_assert!(m.compress().is_ok());
        prop_assert_eq!(m.map_body(&limits).ok(), Some(map));
    }

    #[test]
    fn text_bodies_round_trip_compressed_or_not(
        text in proptest::option::of(strategies::string()),
        compress in any::<bool>(),
    ) {
        let limits = Limits::default();
        let mut m = Message::new(MessageKind::Text);
        prop_assert!(m.set_text(text.as_deref()).is_ok());
        if compress {
            prop_assert!(m.compress().is_ok());
        }
        prop_assert_eq!(m.text(&limits).ok(), Some(text));
    }

    #[test]
    fn bytes_bodies_round_trip_compressed(body in strategies::bytes()) {
        let mut m = Message::new(MessageKind::Bytes);
        m.set_body(Some(body.clone()));
        prop_assert!(m.compress().is_ok());
        prop_assert_eq!(m.body(&Limits::default()).ok().flatten(), Some(body));
    }
}

#[test]
fn the_broker_offer_round_trips_through_the_codec() {
    let codec = Codec::default();
    let offer = Command::from(codec.local_wire_format());
    let mut out = BytesMut::new();
    assert!(codec.encode(&offer, &mut out).is_ok());
    assert_eq!(codec.decode_frame(out.freeze()).ok(), Some(offer));
}

#[test]
fn an_empty_body_is_not_a_null_body() {
    let mut m = Message::new(MessageKind::Bytes);
    m.set_body(Some(Bytes::new()));
    let codec = Codec::default();
    let mut out = BytesMut::new();
    assert!(codec.encode(&m.clone().into(), &mut out).is_ok());
    assert_eq!(codec.decode_frame(out.freeze()).ok(), Some(m.into()));
}
