//! Header escaping rules (STOMP 1.1 and 1.2) in both directions.
//!
//! Owns the mapping between header text and its wire form. It decides nothing about framing:
//! callers pass one header name or value at a time, already split at the `:`.

use bytes::{BufMut, BytesMut};

use crate::{Command, StompError, Version};

/// How header text is written on the wire for one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Escaping {
    /// STOMP 1.0, or a CONNECT/STOMP/CONNECTED frame in any version: bytes as they are.
    Raw,
    /// STOMP 1.1: `\\`, `\n`, `\c`.
    V1_1,
    /// STOMP 1.2: as 1.1 plus `\r`.
    V1_2,
}

impl Escaping {
    pub(crate) fn for_frame(version: Version, command: Command) -> Self {
        if !command.escapes_headers() {
            return Escaping::Raw;
        }
        match version {
            Version::V1_0 => Escaping::Raw,
            Version::V1_1 => Escaping::V1_1,
            Version::V1_2 => Escaping::V1_2,
        }
    }
}

/// Turns wire text into header text.
///
/// # Errors
/// [`StompError::InvalidEscape`] for a backslash followed by anything the version does not define
/// (including a trailing lone backslash); the spec makes that a fatal protocol error.
pub(crate) fn unescape(raw: &str, mode: Escaping) -> Result<String, StompError> {
    if mode == Escaping::Raw || !raw.contains('\\') {
        return Ok(raw.to_owned());
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('c') => out.push(':'),
            Some('r') if mode == Escaping::V1_2 => out.push('\r'),
            Some(other) => return Err(StompError::InvalidEscape(format!("\\{other}"))),
            None => return Err(StompError::InvalidEscape("\\".to_owned())),
        }
    }
    Ok(out)
}

/// Appends header text to `dst` in wire form.
///
/// Characters the wire form cannot carry are replaced by a space rather than written raw: a NUL
/// would end the frame, and an unescaped CR or LF would let a header value inject further
/// headers (say, a 1.2 producer's property relayed to a 1.0 consumer). STOMP 1.1 has no escape
/// for CR, so it is written raw there and survives everywhere except at the end of a value.
pub(crate) fn escape_into(dst: &mut BytesMut, text: &str, mode: Escaping) {
    let clean = |b: u8| !matches!(b, b'\\' | b'\n' | b'\r' | b':' | 0);
    if text.bytes().all(clean) {
        dst.put_slice(text.as_bytes());
        return;
    }
    for &b in text.as_bytes() {
        match (b, mode) {
            (0, _) => dst.put_u8(b' '),
            (b'\n' | b'\r', Escaping::Raw) => dst.put_u8(b' '),
            (b'\\', Escaping::V1_1 | Escaping::V1_2) => dst.put_slice(b"\\\\"),
            (b'\n', Escaping::V1_1 | Escaping::V1_2) => dst.put_slice(b"\\n"),
            (b':', Escaping::V1_1 | Escaping::V1_2) => dst.put_slice(b"\\c"),
            (b'\r', Escaping::V1_2) => dst.put_slice(b"\\r"),
            _ => dst.put_u8(b),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn esc(text: &str, mode: Escaping) -> String {
        let mut b = BytesMut::new();
        escape_into(&mut b, text, mode);
        String::from_utf8(b.to_vec()).unwrap()
    }

    #[test]
    fn stomp_1_2_escapes_all_four() {
        assert_eq!(esc("a\\b\nc:d\re", Escaping::V1_2), "a\\\\b\\nc\\cd\\re");
        assert_eq!(
            unescape("a\\\\b\\nc\\cd\\re", Escaping::V1_2).unwrap(),
            "a\\b\nc:d\re"
        );
    }

    #[test]
    fn stomp_1_1_has_no_cr_escape() {
        assert_eq!(esc("a\rb", Escaping::V1_1), "a\rb");
        assert_eq!(
            unescape("a\\rb", Escaping::V1_1),
            Err(StompError::InvalidEscape("\\r".into()))
        );
    }

    #[test]
    fn raw_mode_leaves_backslashes_and_colons_alone() {
        assert_eq!(unescape("a\\tb:c", Escaping::Raw).unwrap(), "a\\tb:c");
        assert_eq!(esc("a\\b:c", Escaping::Raw), "a\\b:c");
    }

    #[test]
    fn raw_mode_neutralises_line_breaks_and_nul() {
        assert_eq!(esc("a\nb\rc\0d", Escaping::Raw), "a b c d");
        assert_eq!(esc("a\0b", Escaping::V1_2), "a b");
    }

    #[test]
    fn undefined_and_dangling_escapes_are_errors() {
        assert_eq!(
            unescape("x\\t", Escaping::V1_2),
            Err(StompError::InvalidEscape("\\t".into()))
        );
        assert_eq!(
            unescape("x\\", Escaping::V1_2),
            Err(StompError::InvalidEscape("\\".into()))
        );
    }

    #[test]
    fn handshake_frames_use_raw_mode_in_every_version() {
        for v in Version::ALL {
            assert_eq!(Escaping::for_frame(v, Command::Connect), Escaping::Raw);
            assert_eq!(Escaping::for_frame(v, Command::Connected), Escaping::Raw);
        }
        assert_eq!(
            Escaping::for_frame(Version::V1_1, Command::Send),
            Escaping::V1_1
        );
        assert_eq!(
            Escaping::for_frame(Version::V1_0, Command::Send),
            Escaping::Raw
        );
    }
}
