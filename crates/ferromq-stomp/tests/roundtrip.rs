//! Encode → decode gives back the same frames, however the bytes are split.

use bytes::BytesMut;
use ferromq_stomp::{Codec, Frame, Item};
use proptest::prelude::*;

use crate::strategies::{codec, drain, expected, raw_frame, representable, version};

/// Frames plus where heart-beats go between them, all valid for one version.
fn session() -> impl Strategy<Value = (ferromq_stomp::Version, Vec<(Frame, bool)>)> {
    (
        version(),
        prop::collection::vec((raw_frame(), any::<bool>()), 1..5),
    )
        .prop_map(|(v, frames)| {
            let frames = frames
                .into_iter()
                .map(|((f, explicit), beat)| (representable(f, explicit, v), beat))
                .collect();
            (v, frames)
        })
}

fn encode_session(c: &Codec, frames: &[(Frame, bool)]) -> (BytesMut, Vec<Item>) {
    let mut wire = BytesMut::new();
    let mut want = Vec::new();
    for (frame, beat) in frames {
        c.encode(frame, &mut wire);
        want.push(Item::Frame(expected(frame)));
        if *beat {
            Codec::encode_heartbeat(&mut wire);
            want.push(Item::HeartBeat);
        }
    }
    (wire, want)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn decode_inverts_encode((v, frames) in session()) {
        let mut c = codec(v);
        let (mut wire, want) = encode_session(&c, &frames);
        let mut got = Vec::new();
        drain(&mut c, &mut wire, &mut got).unwrap();
        prop_assert!(wire.is_empty());
        prop_assert_eq!(got, want);
    }

    #[test]
    fn splitting_at_any_offset_yields_the_same_items(
        (v, frames) in session(),
        at in any::<prop::sample::Index>(),
    ) {
        let mut c = codec(v);
        let (wire, want) = encode_session(&c, &frames);
        let split = at.index(wire.len() + 1);
        let mut buf = BytesMut::from(&wire[..split]);
        let mut got = Vec::new();
        drain(&mut c, &mut buf, &mut got).unwrap();
        buf.extend_from_slice(&wire[split..]);
        drain(&mut c, &mut buf, &mut got).unwrap();
        prop_assert!(buf.is_empty());
        prop_assert_eq!(got, want);
    }

    #[test]
    fn feeding_in_random_chunks_yields_the_same_items(
        (v, frames) in session(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let mut c = codec(v);
        let (wire, want) = encode_session(&c, &frames);
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(wire.len() + 1)).collect();
        cuts.push(wire.len());
        cuts.sort_unstable();
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        let mut from = 0;
        for to in cuts {
            buf.extend_from_slice(&wire[from..to]);
            from = to;
            drain(&mut c, &mut buf, &mut got).unwrap();
        }
        prop_assert!(buf.is_empty());
        prop_assert_eq!(got, want);
    }
}
