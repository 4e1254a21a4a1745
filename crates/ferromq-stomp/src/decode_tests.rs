//! Unit tests for the decoder, one per framing rule or limit.

#![allow(clippy::unwrap_used)]

use bytes::BytesMut;

use crate::{Codec, Command, Frame, Item, Limits, StompError, Version};

fn codec(version: Version) -> Codec {
    let mut c = Codec::new(Limits::default());
    c.set_version(version);
    c
}

fn small_limits() -> Limits {
    Limits {
        max_frame_size: 64,
        max_header_line: 16,
        max_headers: 3,
    }
}

/// Decodes everything in `input`, failing the test on an error.
fn items(c: &mut Codec, input: &[u8]) -> Vec<Item> {
    let mut buf = BytesMut::from(input);
    let mut out = Vec::new();
    while let Some(item) = c.decode(&mut buf).unwrap() {
        out.push(item);
    }
    out
}

fn one_frame(version: Version, input: &[u8]) -> Frame {
    match items(&mut codec(version), input).as_slice() {
        [Item::Frame(f)] => f.clone(),
        other => panic!("expected one frame, got {other:?}"),
    }
}

fn decode_err(limits: Limits, version: Version, input: &[u8]) -> StompError {
    let mut c = Codec::new(limits);
    c.set_version(version);
    let mut buf = BytesMut::from(input);
    loop {
        match c.decode(&mut buf) {
            Err(e) => return e,
            Ok(None) => panic!("needs more bytes instead of failing"),
            Ok(Some(_)) => {}
        }
    }
}

#[test]
fn decodes_a_simple_frame() {
    let f = one_frame(Version::V1_2, b"SEND\ndestination:/queue/a\n\nhello\0");
    assert_eq!(f.command, Command::Send);
    assert_eq!(f.headers, vec![("destination".into(), "/queue/a".into())]);
    assert_eq!(&f.body[..], b"hello");
}

#[test]
fn crlf_line_endings_are_accepted_in_every_version() {
    for v in Version::ALL {
        let f = one_frame(v, b"SEND\r\ndestination:/q\r\n\r\nbody\0");
        assert_eq!(f.get("destination"), Some("/q"), "{v}");
        assert_eq!(&f.body[..], b"body");
    }
}

#[test]
fn bare_eols_between_frames_are_heartbeats() {
    let got = items(
        &mut codec(Version::V1_2),
        b"\n\r\nRECEIPT\nreceipt-id:1\n\n\0\n",
    );
    assert_eq!(got.len(), 4);
    assert_eq!(got[0], Item::HeartBeat);
    assert_eq!(got[1], Item::HeartBeat);
    assert!(matches!(&got[2], Item::Frame(f) if f.command == Command::Receipt));
    assert_eq!(got[3], Item::HeartBeat);
}

#[test]
fn a_lone_cr_waits_for_more_and_consumes_nothing() {
    let mut c = codec(Version::V1_2);
    let mut buf = BytesMut::from(&b"\r"[..]);
    assert_eq!(c.decode(&mut buf).unwrap(), None);
    assert_eq!(&buf[..], b"\r");
    buf.extend_from_slice(b"\n");
    assert_eq!(c.decode(&mut buf).unwrap(), Some(Item::HeartBeat));
    assert!(buf.is_empty());
}

#[test]
fn content_length_body_may_contain_nuls() {
    let f = one_frame(Version::V1_1, b"SEND\ncontent-length:3\n\na\0b\0");
    assert_eq!(&f.body[..], b"a\0b");
    assert_eq!(f.get("content-length"), Some("3"));
}

#[test]
fn without_content_length_the_body_ends_at_the_first_nul() {
    let mut buf = BytesMut::from(&b"SEND\n\nab\0cd\0"[..]);
    let Some(Item::Frame(f)) = codec(Version::V1_0).decode(&mut buf).unwrap() else {
        panic!()
    };
    assert_eq!(&f.body[..], b"ab");
    assert_eq!(&buf[..], b"cd\0");
}

#[test]
fn the_first_content_length_wins() {
    let f = one_frame(
        Version::V1_2,
        b"SEND\ncontent-length:1\ncontent-length:x\n\n\0\0",
    );
    assert_eq!(&f.body[..], b"\0");
}

#[test]
fn content_length_without_a_trailing_nul_is_an_error() {
    let e = decode_err(
        Limits::default(),
        Version::V1_2,
        b"SEND\ncontent-length:2\n\nabc\0",
    );
    assert_eq!(e, StompError::MissingNul);
}

#[test]
fn content_length_must_be_decimal() {
    for bad in ["-1", "", "1e3", "0x10", "+5"] {
        let input = format!("SEND\ncontent-length:{bad}\n\n\0");
        let e = decode_err(Limits::default(), Version::V1_2, input.as_bytes());
        assert!(
            matches!(e, StompError::InvalidContentLength(_)),
            "{bad}: {e}"
        );
    }
}

#[test]
fn a_content_length_over_the_limit_fails_before_the_body_arrives() {
    let limits = Limits {
        max_header_line: 100,
        ..small_limits()
    };
    let e = decode_err(limits, Version::V1_2, b"SEND\ncontent-length:60\n");
    assert_eq!(e, StompError::FrameTooLarge { limit: 64 });
    let huge = b"SEND\ncontent-length:99999999999999999999999999\n";
    let e = decode_err(Limits::default(), Version::V1_2, huge);
    assert!(matches!(e, StompError::FrameTooLarge { .. }));
}

#[test]
fn an_unterminated_frame_fails_once_it_reaches_the_limit() {
    let mut c = Codec::new(small_limits());
    let mut buf = BytesMut::from(&b"SEND\n\n"[..]);
    assert_eq!(c.decode(&mut buf).unwrap(), None);
    buf.extend_from_slice(&[b'x'; 57]);
    assert_eq!(
        c.decode(&mut buf).unwrap(),
        None,
        "63 bytes + NUL still fits"
    );
    buf.extend_from_slice(b"x");
    assert_eq!(
        c.decode(&mut buf),
        Err(StompError::FrameTooLarge { limit: 64 })
    );
}

#[test]
fn a_frame_exactly_at_the_limit_is_accepted() {
    let mut input = b"SEND\n\n".to_vec();
    input.extend_from_slice(&[b'x'; 57]);
    input.push(0);
    assert_eq!(input.len(), 64);
    let mut c = Codec::new(small_limits());
    assert!(matches!(
        c.decode(&mut BytesMut::from(&input[..])),
        Ok(Some(Item::Frame(_)))
    ));
}

#[test]
fn a_long_header_line_fails_before_its_newline_arrives() {
    let e = decode_err(small_limits(), Version::V1_2, b"SEND\nabcdefgh:12345678x");
    assert_eq!(e, StompError::HeaderLineTooLong { limit: 16 });
    let e = decode_err(small_limits(), Version::V1_2, b"SENDSENDSENDSENDS");
    assert_eq!(e, StompError::HeaderLineTooLong { limit: 16 });
}

#[test]
fn a_header_line_exactly_at_the_limit_is_accepted_with_or_without_cr() {
    let mut c = Codec::new(small_limits());
    let mut buf = BytesMut::from(&b"SEND\nabcdefgh:1234567\r"[..]);
    assert_eq!(c.decode(&mut buf).unwrap(), None);
    buf.extend_from_slice(b"\nabcdefgh:1234567\n\n\0");
    let Some(Item::Frame(f)) = c.decode(&mut buf).unwrap() else {
        panic!()
    };
    assert_eq!(f.headers.len(), 2);
    assert_eq!(f.get("abcdefgh"), Some("1234567"));
}

#[test]
fn too_many_headers_is_an_error() {
    let e = decode_err(small_limits(), Version::V1_2, b"SEND\na:1\nb:2\nc:3\nd:4\n");
    assert_eq!(e, StompError::TooManyHeaders { limit: 3 });
}

#[test]
fn a_header_without_a_colon_is_malformed() {
    let e = decode_err(Limits::default(), Version::V1_2, b"SEND\nnocolon\n\n\0");
    assert_eq!(e, StompError::MalformedHeader("nocolon".into()));
}

#[test]
fn only_the_first_colon_separates_name_from_value() {
    let f = one_frame(Version::V1_0, b"SEND\nurl:http://x:1/\n\n\0");
    assert_eq!(f.get("url"), Some("http://x:1/"));
}

#[test]
fn headers_must_be_utf8() {
    let e = decode_err(Limits::default(), Version::V1_2, b"SEND\nk:\xff\n\n\0");
    assert_eq!(e, StompError::InvalidUtf8);
}

#[test]
fn unknown_commands_are_rejected_as_soon_as_the_line_ends() {
    let e = decode_err(Limits::default(), Version::V1_2, b"send\n");
    assert_eq!(e, StompError::UnknownCommand("send".into()));
    assert_eq!(e.to_string(), "unknown command `send`");
}

#[test]
fn a_nul_in_the_header_block_is_an_error() {
    let e = decode_err(Limits::default(), Version::V1_2, b"SEND\ndestination:/q\0");
    assert_eq!(e, StompError::NulInHeaders);
}

#[test]
fn escapes_are_decoded_in_1_1_and_1_2_only() {
    let input = b"MESSAGE\na\\cb:x\\\\y\\nz\n\n\0";
    let f = one_frame(Version::V1_2, input);
    assert_eq!(f.get("a:b"), Some("x\\y\nz"));
    let f = one_frame(Version::V1_1, input);
    assert_eq!(f.get("a:b"), Some("x\\y\nz"));
    let f = one_frame(Version::V1_0, input);
    assert_eq!(f.get("a\\cb"), Some("x\\\\y\\nz"));
}

#[test]
fn cr_escape_is_1_2_only_and_undefined_escapes_fail() {
    let f = one_frame(Version::V1_2, b"MESSAGE\nk:a\\rb\n\n\0");
    assert_eq!(f.get("k"), Some("a\rb"));
    let e = decode_err(Limits::default(), Version::V1_1, b"MESSAGE\nk:a\\rb\n\n\0");
    assert_eq!(e, StompError::InvalidEscape("\\r".into()));
    let e = decode_err(Limits::default(), Version::V1_2, b"MESSAGE\nk:a\\tb\n\n\0");
    assert_eq!(e, StompError::InvalidEscape("\\t".into()));
}

#[test]
fn handshake_frames_are_not_unescaped() {
    let f = one_frame(Version::V1_2, b"CONNECT\npasscode:a\\tb\n\n\0");
    assert_eq!(f.get("passcode"), Some("a\\tb"));
    let f = one_frame(Version::V1_2, b"CONNECTED\nserver:x\\c\n\n\0");
    assert_eq!(f.get("server"), Some("x\\c"));
}

#[test]
fn byte_at_a_time_feeding_consumes_nothing_until_complete() {
    let input = b"MESSAGE\r\nk:v\r\ncontent-length:2\r\n\r\n\0x\0\nSEND\n\nz\0";
    let whole = items(&mut codec(Version::V1_2), input);
    let mut c = codec(Version::V1_2);
    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    for &b in input {
        let before = buf.len() + 1;
        buf.extend_from_slice(&[b]);
        match c.decode(&mut buf).unwrap() {
            None => assert_eq!(buf.len(), before),
            Some(item) => got.push(item),
        }
        while let Some(item) = c.decode(&mut buf).unwrap() {
            got.push(item);
        }
    }
    assert_eq!(got, whole);
    assert_eq!(whole.len(), 3);
}

#[test]
fn a_replaced_shorter_buffer_is_rescanned_without_panicking() {
    let mut c = codec(Version::V1_2);
    let mut long = BytesMut::from(&b"SEND\nkey:value\nmore"[..]);
    assert_eq!(c.decode(&mut long).unwrap(), None);
    let mut short = BytesMut::from(&b"SEND\n\n\0"[..]);
    assert!(matches!(c.decode(&mut short), Ok(Some(Item::Frame(_)))));
}

#[test]
fn changing_version_mid_frame_rescans_under_the_new_rules() {
    let mut c = codec(Version::V1_0);
    let mut buf = BytesMut::from(&b"MESSAGE\nk:a\\nb\n"[..]);
    assert_eq!(c.decode(&mut buf).unwrap(), None);
    c.set_version(Version::V1_2);
    buf.extend_from_slice(b"\n\0");
    let Some(Item::Frame(f)) = c.decode(&mut buf).unwrap() else {
        panic!()
    };
    assert_eq!(f.get("k"), Some("a\nb"));
}

#[test]
fn limit_errors_read_well_in_an_error_frame() {
    assert_eq!(
        StompError::HeaderLineTooLong { limit: 65536 }.to_string(),
        "header line exceeds the maximum length of 65536 bytes"
    );
    assert_eq!(
        StompError::TooManyHeaders { limit: 1000 }.to_string(),
        "frame has more than the maximum of 1000 headers"
    );
}
