//! [`WireError`]: everything that can be wrong with OpenWire bytes, or with a command that cannot
//! be put on the wire.
//!
//! Owns the wording only. Offsets count from the first byte of the frame, size prefix included,
//! so they match a hex dump of the frame. Decode errors are fatal for the connection: OpenWire
//! has no way to resynchronise, so the adapter should send a `ConnectionError` (its message can
//! be this `Display` text), log it with the peer address and close. Encode errors concern one
//! command only; nothing was written for it.

/// Why bytes are not valid OpenWire (loose encoding), or why a value cannot be encoded.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// The size prefix announces more than the configured (or negotiated) maximum frame size.
    #[error("frame of {size} bytes exceeds the maximum frame size of {limit} bytes")]
    FrameTooLarge { size: u64, limit: u64 },
    /// The size prefix is zero or negative: a frame holds at least its type byte.
    #[error("invalid frame size {size}: a frame needs at least its type byte")]
    InvalidFrameSize { size: i32 },
    /// A field runs past the end of the frame.
    #[error("frame ends early at offset {offset}: {need} more bytes needed, {have} left")]
    UnexpectedEof {
        offset: usize,
        need: usize,
        have: usize,
    },
    /// The frame's fields end before its size prefix says it does.
    #[error("{count} unread bytes at offset {offset} after the last field of the command")]
    TrailingBytes { offset: usize, count: usize },
    /// A data-structure type id this codec does not implement.
    #[error("unknown data structure type {type_id} at offset {offset}")]
    UnknownType { type_id: u8, offset: usize },
    /// A known data structure where the field requires another kind (Java would fail a cast).
    #[error("data structure type {type_id} at offset {offset} where {expected} was expected")]
    UnexpectedType {
        type_id: u8,
        expected: &'static str,
        offset: usize,
    },
    /// A frame whose top-level structure is not a command (an id, a destination, or null).
    #[error(
        "frame at offset {offset} holds data structure type {type_id}, which is not a command"
    )]
    NotACommand { type_id: u8, offset: usize },
    /// A field that Java dereferences without a null check was null.
    #[error("{field} is null at offset {offset}")]
    NullField { field: &'static str, offset: usize },
    /// A negative length or count.
    #[error("invalid {what} {value} at offset {offset}")]
    InvalidLength {
        what: &'static str,
        value: i64,
        offset: usize,
    },
    /// A string that is not modified UTF-8 (Java's `DataInput.readUTF` would refuse it too).
    #[error("malformed modified UTF-8 string at offset {offset}")]
    InvalidUtf8 { offset: usize },
    /// A typed value in a primitive map or list with an unknown tag.
    #[error("unknown primitive type tag {tag} at offset {offset}")]
    UnknownPrimitiveType { tag: u8, offset: usize },
    /// Nested objects, maps, lists or exception causes deeper than the configured limit.
    #[error("nesting deeper than the limit of {limit} at offset {offset}")]
    NestingTooDeep { limit: usize, offset: usize },
    /// A value too large for its wire field (e.g. a string over 65535 bytes for `writeUTF`).
    #[error("{what} of {len} is too long for its wire field (maximum {max})")]
    TooLong {
        what: &'static str,
        len: usize,
        max: usize,
    },
    /// The peer's `WireFormatInfo` does not start with the magic `ActiveMQ`.
    #[error("peer wire format magic is invalid (expected `ActiveMQ`)")]
    InvalidMagic,
    /// The peer offered an OpenWire version whose layouts this codec does not implement.
    #[error("OpenWire version {version} is not supported (this broker speaks {min} to {max})")]
    UnsupportedVersion { version: i32, min: i32, max: i32 },
    /// A `WireFormatInfo` property has a type the Java getter would fail to cast.
    #[error("wire format property {name} is not {expected}")]
    PropertyType {
        name: &'static str,
        expected: &'static str,
    },
    /// A message body that does not have the layout its message type implies.
    #[error("malformed {kind} body: {reason}")]
    MalformedBody {
        kind: &'static str,
        reason: &'static str,
    },
    /// A compressed body that is not a valid zlib stream.
    #[error("compressed message body is not a valid zlib stream")]
    Decompress(#[source] std::io::Error),
    /// Compressing a body failed (zlib into memory; not expected to happen).
    #[error("compressing the message body failed")]
    Compress(#[source] std::io::Error),
    /// A compressed body that inflates to more than the allowed size (a zip bomb, or simply a
    /// body larger than the maximum frame size).
    #[error("compressed message body inflates to more than {limit} bytes")]
    DecompressedTooLarge { limit: usize },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_offsets_and_limits() {
        let e = WireError::UnexpectedEof {
            offset: 9,
            need: 4,
            have: 1,
        };
        assert_eq!(
            e.to_string(),
            "frame ends early at offset 9: 4 more bytes needed, 1 left"
        );
        let e = WireError::FrameTooLarge {
            size: 200,
            limit: 100,
        };
        assert!(e.to_string().contains("maximum frame size of 100"));
    }
}
