//! Hostile input: any bytes, under any version and limits, give items or an error, never a
//! panic, and splitting them never changes the outcome.

use bytes::BytesMut;
use ferromq_stomp::{Codec, Item, Limits, StompError, Version};
use proptest::prelude::*;

use crate::strategies::{drain, version};

/// Byte strings built from STOMP-ish fragments, which reach deeper than uniform noise.
fn stompish() -> impl Strategy<Value = Vec<u8>> {
    let tokens: Vec<&'static [u8]> = vec![
        b"SEND",
        b"MESSAGE",
        b"CONNECT",
        b"\n",
        b"\r\n",
        b"\r",
        b":",
        b"\0",
        b"\\",
        b"\\n",
        b"\\c",
        b"\\r",
        b"\\t",
        b"content-length:",
        b"3",
        b"0",
        b"99999999999999999999",
        b"destination:/queue/a",
        b"abc",
        b"\xff",
        b"\xc3\xa9",
    ];
    prop::collection::vec(prop::sample::select(tokens), 0..40).prop_map(|parts| parts.concat())
}

fn limits() -> impl Strategy<Value = Limits> {
    prop_oneof![
        Just(Limits::default()),
        (1usize..80, 0usize..24, 0usize..4).prop_map(|(f, l, h)| Limits {
            max_frame_size: f,
            max_header_line: l,
            max_headers: h,
        }),
    ]
}

/// Decodes `parts` fed one after another; the items so far and the first error, if any.
fn run(v: Version, limits: &Limits, parts: &[&[u8]]) -> (Vec<Item>, Option<StompError>) {
    let mut c = Codec::new(limits.clone());
    c.set_version(v);
    let mut buf = BytesMut::new();
    let mut items = Vec::new();
    for part in parts {
        buf.extend_from_slice(part);
        if let Err(e) = drain(&mut c, &mut buf, &mut items) {
            return (items, Some(e));
        }
    }
    (items, None)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..256),
        v in version(),
        limits in limits(),
    ) {
        run(v, &limits, &[&bytes]);
    }

    #[test]
    fn stompish_bytes_split_anywhere_decode_the_same(
        bytes in stompish(),
        v in version(),
        limits in limits(),
        at in any::<prop::sample::Index>(),
    ) {
        let split = at.index(bytes.len() + 1);
        let whole = run(v, &limits, &[&bytes]);
        let halves = run(v, &limits, &[&bytes[..split], &bytes[split..]]);
        // An error may be noticed earlier with less input buffered, but it is the same error
        // after the same items; and without errors the outcomes are identical.
        prop_assert_eq!(whole.0, halves.0);
        prop_assert_eq!(whole.1.is_some(), halves.1.is_some());
    }
}
