//! STOMP frame encoder: one [`Frame`] into a buffer the caller owns.
//!
//! Owns the wire layout of outgoing frames. It trusts the headers it is given (a relaying broker
//! must be able to forward them unchanged) and adds only what framing needs: a `content-length`
//! when the body holds a NUL that would otherwise end the frame early.

use bytes::{BufMut, BytesMut};

use crate::escape::{escape_into, Escaping};
use crate::{Frame, Version};

pub(crate) fn encode(frame: &Frame, version: Version, dst: &mut BytesMut) {
    let mode = Escaping::for_frame(version, frame.command);
    let needs_length = frame.body.contains(&0) && frame.get("content-length").is_none();
    let header_bytes: usize = frame
        .headers
        .iter()
        .map(|(n, v)| n.len() + v.len() + 2)
        .sum();
    // A guess only: escaping can make headers longer, which just costs one more growth.
    dst.reserve(frame.command.as_str().len() + header_bytes + frame.body.len() + 32);

    dst.put_slice(frame.command.as_str().as_bytes());
    dst.put_u8(b'\n');
    for (name, value) in &frame.headers {
        escape_into(dst, name, mode);
        dst.put_u8(b':');
        escape_into(dst, value, mode);
        dst.put_u8(b'\n');
    }
    if needs_length {
        dst.put_slice(b"content-length:");
        dst.put_slice(frame.body.len().to_string().as_bytes());
        dst.put_u8(b'\n');
    }
    dst.put_u8(b'\n');
    dst.put_slice(&frame.body);
    dst.put_u8(0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Command;

    fn wire(frame: &Frame, version: Version) -> Vec<u8> {
        let mut b = BytesMut::new();
        encode(frame, version, &mut b);
        b.to_vec()
    }

    #[test]
    fn layout_is_command_headers_blank_line_body_nul() {
        let f = Frame::new(Command::Send)
            .header("destination", "/queue/a")
            .with_body("hi");
        assert_eq!(
            wire(&f, Version::V1_2),
            b"SEND\ndestination:/queue/a\n\nhi\0".to_vec()
        );
    }

    #[test]
    fn body_with_nul_gets_a_content_length() {
        let f = Frame::new(Command::Message).with_body(&b"a\0b"[..]);
        assert_eq!(
            wire(&f, Version::V1_0),
            b"MESSAGE\ncontent-length:3\n\na\0b\0".to_vec()
        );
    }

    #[test]
    fn an_existing_content_length_is_left_alone() {
        let f = Frame::new(Command::Send)
            .header("content-length", "3")
            .with_body(&b"a\0b"[..]);
        assert_eq!(
            wire(&f, Version::V1_2),
            b"SEND\ncontent-length:3\n\na\0b\0".to_vec()
        );
    }

    #[test]
    fn headers_are_escaped_per_version_but_never_in_connected() {
        let f = Frame::new(Command::Message).header("k:1", "a\nb");
        assert_eq!(
            wire(&f, Version::V1_1),
            b"MESSAGE\nk\\c1:a\\nb\n\n\0".to_vec()
        );
        assert_eq!(wire(&f, Version::V1_0), b"MESSAGE\nk:1:a b\n\n\0".to_vec());
        let c = Frame::new(Command::Connected).header("server", "a:b\\c");
        assert_eq!(
            wire(&c, Version::V1_2),
            b"CONNECTED\nserver:a:b\\c\n\n\0".to_vec()
        );
    }
}
