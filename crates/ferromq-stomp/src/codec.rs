//! The [`Codec`]: per-connection STOMP state (negotiated version, limits, partial frame) plus
//! the sans-IO `decode`/`encode` entry points.
//!
//! Owns no socket and no buffer: callers read into a `BytesMut` and hand it over, and give a
//! buffer to encode into. Deciding *when* to switch version is the caller's job too.

use bytes::{BufMut, BytesMut};

use crate::decode::Decoder;
use crate::{Frame, StompError, Version};

/// Bounds on what a peer may send, checked before more bytes are buffered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Whole frame, command line to NUL inclusive. Default 64 MiB (ActiveMQ's `maxFrameSize`).
    pub max_frame_size: usize,
    /// One command or header line, without its EOL. Default 64 KiB.
    pub max_header_line: usize,
    /// Header lines in one frame. Default 1000.
    pub max_headers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_frame_size: 64 * 1024 * 1024,
            max_header_line: 64 * 1024,
            max_headers: 1000,
        }
    }
}

/// One unit of decoded input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Frame(Frame),
    /// A bare EOL (`\n` or `\r\n`) between frames. It carries nothing, but it proves the peer is
    /// alive, which is all heart-beating needs.
    HeartBeat,
}

/// A STOMP codec for one connection.
#[derive(Debug)]
pub struct Codec {
    version: Version,
    limits: Limits,
    decoder: Decoder,
}

impl Codec {
    /// A codec with 1.0 semantics (no header escaping) until [`Codec::set_version`] is called,
    /// which is right for the CONNECT/CONNECTED exchange whatever version is negotiated.
    pub fn new(limits: Limits) -> Self {
        Codec {
            version: Version::V1_0,
            limits,
            decoder: Decoder::new(),
        }
    }

    pub fn version(&self) -> Version {
        self.version
    }

    /// Switches escaping rules, normally right after CONNECT/CONNECTED. A partly scanned frame
    /// is rescanned under the new rules on the next `decode`.
    pub fn set_version(&mut self, v: Version) {
        self.version = v;
        self.decoder.reset();
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Takes the next item off the front of `buf`.
    ///
    /// `Ok(None)` means more bytes are needed and nothing was consumed; `Ok(Some(_))` consumed
    /// exactly that item's bytes. Call again with the same buffer, after appending to it, until
    /// it returns `Ok(None)`: the codec remembers how far it scanned a partial frame so that
    /// large frames arriving in small reads are not rescanned from the start.
    ///
    /// # Errors
    /// Any [`StompError`]: malformed input or a broken limit. The stream cannot be resynchronised
    /// afterwards; send an ERROR frame (its message can be the error's `Display` text) and close.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Item>, StompError> {
        self.decoder.decode(buf, self.version, &self.limits)
    }

    /// Appends `frame` to `dst`, escaping headers as the current version requires.
    pub fn encode(&self, frame: &Frame, dst: &mut BytesMut) {
        crate::encode::encode(frame, self.version, dst);
    }

    /// Appends a heart-beat (a bare `\n`) to `dst`.
    pub fn encode_heartbeat(dst: &mut BytesMut) {
        dst.put_u8(b'\n');
    }
}
