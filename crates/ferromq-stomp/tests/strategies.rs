//! proptest generators for frames that each STOMP version can represent exactly.

use bytes::{Bytes, BytesMut};
use ferromq_stomp::{Codec, Command, Frame, Item, Limits, StompError, Version};
use proptest::prelude::*;

pub fn version() -> impl Strategy<Value = Version> {
    prop::sample::select(Version::ALL.to_vec())
}

pub fn command() -> impl Strategy<Value = Command> {
    prop::sample::select(Command::ALL.to_vec())
}

/// Short strings rich in the characters escaping cares about.
fn text() -> impl Strategy<Value = String> {
    let chars = vec![
        'a', 'b', 'z', '-', ' ', ':', '\\', '\n', '\r', '\0', 'é', '✓', 'c', 'n', 'r',
    ];
    prop::collection::vec(prop::sample::select(chars), 0..8).prop_map(String::from_iter)
}

/// Bodies where NUL is common, so both framing modes get exercised.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop_oneof![3 => any::<u8>(), 1 => Just(0u8)], 0..48)
}

/// An arbitrary frame, not yet trimmed to what a version can carry.
pub fn raw_frame() -> impl Strategy<Value = (Frame, bool)> {
    (
        command(),
        prop::collection::vec((text(), text()), 0..6),
        body(),
        any::<bool>(),
    )
        .prop_map(|(command, headers, body, explicit_length)| {
            let frame = Frame {
                command,
                headers,
                body: Bytes::from(body),
            };
            (frame, explicit_length)
        })
}

/// Drops what `version` cannot represent, so that decode(encode(f)) must give back `f` exactly
/// (plus the `content-length` the encoder adds for a body holding a NUL).
pub fn representable(mut frame: Frame, explicit_length: bool, version: Version) -> Frame {
    let escaped = version != Version::V1_0
        && !matches!(
            frame.command,
            Command::Connect | Command::Stomp | Command::Connected
        );
    for (name, value) in &mut frame.headers {
        name.retain(|c| c != '\0');
        value.retain(|c| c != '\0');
        if !escaped {
            name.retain(|c| !matches!(c, '\n' | '\r' | ':'));
            value.retain(|c| !matches!(c, '\n' | '\r'));
        }
        if version == Version::V1_1 || !escaped {
            // Without a CR escape, a value's trailing CR reads as part of the line ending.
            while value.ends_with('\r') {
                value.pop();
            }
        }
    }
    if explicit_length {
        frame
            .headers
            .insert(0, ("content-length".into(), frame.body.len().to_string()));
    }
    frame
}

/// What decoding the encoded `frame` must produce.
pub fn expected(frame: &Frame) -> Frame {
    let mut want = frame.clone();
    if frame.body.contains(&0) && frame.get("content-length").is_none() {
        want.push_header("content-length", frame.body.len().to_string());
    }
    want
}

pub fn codec(version: Version) -> Codec {
    let mut c = Codec::new(Limits::default());
    c.set_version(version);
    c
}

/// Decodes until more bytes are needed, checking that `Ok(None)` never consumes anything.
pub fn drain(c: &mut Codec, buf: &mut BytesMut, out: &mut Vec<Item>) -> Result<(), StompError> {
    loop {
        let before = buf.clone();
        match c.decode(buf)? {
            Some(item) => out.push(item),
            None => {
                assert_eq!(*buf, before, "Ok(None) must not consume");
                return Ok(());
            }
        }
    }
}
