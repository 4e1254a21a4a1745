//! Fuzz target: arbitrary bytes through the OpenWire decoder.
//!
//! The first input byte picks where to split the rest into two reads (the incremental path),
//! the second whether stack traces count as negotiated. Every decoded command is re-encoded; that
//! must decode, and encode again to the same bytes (comparing bytes, not values, because a NaN
//! in a property map is not equal to itself). Message bodies and properties go through the body
//! helpers. Small
//! limits make every limit check reachable with short inputs. A panic or hang is a bug; errors
//! are expected outcomes.

#![no_main]

use bytes::BytesMut;
use ferromq_openwire::{
    wire_format_property, Codec, Command, Config, Limits, PrimitiveValue, WireFormatInfo,
};
use libfuzzer_sys::fuzz_target;

fn codec(limits: Limits, stack_traces: bool) -> Codec {
    let mut codec = Codec::new(Config {
        limits,
        stack_trace_enabled: stack_traces,
        ..Config::default()
    });
    let mut peer = WireFormatInfo::default();
    peer.set_property(
        wire_format_property::STACK_TRACE_ENABLED,
        PrimitiveValue::Bool(stack_traces),
    );
    if codec.negotiate(&peer).is_err() {
        unreachable!("a valid offer must negotiate");
    }
    codec
}

fn exercise(codec: &Codec, command: &Command) {
    let mut first = BytesMut::new();
    // Decoding normalises (lossy strings, deduplicated map keys), so re-encoding may grow past
    // a limit; that is an error, not a bug.
    if codec.encode(command, &mut first).is_ok() {
        let mut wire = first.clone();
        match codec.decode(&mut wire) {
            Ok(Some(back)) => {
                let mut second = BytesMut::new();
                assert!(
                    codec.encode(&back, &mut second).is_ok(),
                    "re-encoding failed"
                );
                assert_eq!(first, second, "encoding is not stable");
            }
            other => panic!("re-encoded command does not decode: {other:?}"),
        }
    }
    if let Command::Message(m) = command {
        let limits = codec.limits();
        let _ = m.properties(limits);
        let _ = m.text(limits);
        let _ = m.map_body(limits);
        let _ = m.body(limits);
    }
}

fuzz_target!(|data: &[u8]| {
    let [split_byte, flags, rest @ ..] = data else {
        return;
    };
    let split = usize::from(*split_byte).min(rest.len());
    for limits in [
        Limits::default(),
        Limits {
            max_frame_size: 512,
            max_nesting_depth: 4,
        },
    ] {
        let codec = codec(limits, flags & 1 == 1);
        let mut buf = BytesMut::new();
        'feed: for part in [&rest[..split], &rest[split..]] {
            buf.extend_from_slice(part);
            loop {
                match codec.decode(&mut buf) {
                    Ok(Some(command)) => exercise(&codec, &command),
                    Ok(None) => break,
                    Err(_) => break 'feed,
                }
            }
        }
    }
});
