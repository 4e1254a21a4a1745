//! The [`Codec`]: per-connection OpenWire state (configuration, negotiated wire format) and the
//! sans-IO `check` / `decode` / `encode` entry points.
//!
//! Owns no socket and no buffer: the caller reads into a `BytesMut` and hands it over, and
//! gives a buffer to encode into. Frames are a 4-byte big-endian size (bytes after the prefix)
//! followed by the type byte and the loose-encoded command. The size is checked against the
//! limit before any body byte is waited for, so a peer cannot make the broker buffer an
//! oversized frame.

use bytes::{Bytes, BytesMut};

use crate::command::{read_frame_command, write_frame_command, Command};
use crate::commands::WireFormatInfo;
use crate::error::WireError;
use crate::negotiate::{self, Negotiated};
use crate::wire::{ReadOptions, Reader, Writer};
use crate::MAX_VERSION;

/// ActiveMQ's stock `wireFormat.maxFrameSize`: 100 MiB.
pub const DEFAULT_MAX_FRAME_SIZE: usize = 100 * 1024 * 1024;

/// Length of the size prefix.
const PREFIX_LEN: usize = 4;

/// Bounds on what a peer may send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest frame accepted, counted after the size prefix (as Java counts it), and the cap
    /// for inflating a compressed body. Offered to the client as `MaxFrameSize`. Default 100 MiB.
    pub max_frame_size: usize,
    /// Deepest nesting of objects (e.g. a message inside a dispatch), primitive maps and lists,
    /// and exception causes. Java has no limit; the deepest a real client produces is about 4.
    /// Default 32.
    pub max_nesting_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
            max_nesting_depth: 32,
        }
    }
}

/// What this side offers and enforces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub limits: Limits,
    /// Offer stack traces in marshalled exceptions. Default false (smaller frames, and the
    /// broker does not leak its internals).
    pub stack_trace_enabled: bool,
    /// Offer `TCP_NODELAY`. Default true.
    pub tcp_no_delay_enabled: bool,
    /// Milliseconds; the client's read check is the min of both offers. Default 30 000.
    pub max_inactivity_duration: i64,
    /// Milliseconds before the first inactivity check. Default 10 000.
    pub max_inactivity_duration_initial_delay: i64,
    /// Sent as `ProviderName`; informational only (the client just logs it).
    pub provider_name: String,
    /// Sent as `ProviderVersion`.
    pub provider_version: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            limits: Limits::default(),
            stack_trace_enabled: false,
            tcp_no_delay_enabled: true,
            max_inactivity_duration: 30_000,
            max_inactivity_duration_initial_delay: 10_000,
            provider_name: "FerroMQ".to_owned(),
            provider_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// An OpenWire codec for one connection.
///
/// Before negotiation it reads and writes what a fresh Java `OpenWireFormat` does (loose, size
/// prefix, no cache, no stack traces), which is what both sides use for their
/// `WireFormatInfo`s. [`Codec::negotiate`] then records the agreed settings.
#[derive(Debug, Clone)]
pub struct Codec {
    config: Config,
    negotiated: Option<Negotiated>,
}

impl Codec {
    pub fn new(config: Config) -> Self {
        Codec {
            config,
            negotiated: None,
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The limits to use with the message-body helpers ([`crate::Message::text`], ...).
    pub fn limits(&self) -> &Limits {
        &self.config.limits
    }

    /// The `WireFormatInfo` to send the peer: loose encoding only, the configured options, and
    /// version 12, or min(peer, 12) once [`Codec::negotiate`] has run (the client computes the
    /// same min either way, so the broker may send it before or after reading the client's).
    pub fn local_wire_format(&self) -> WireFormatInfo {
        let version = self.negotiated.as_ref().map_or(MAX_VERSION, |n| n.version);
        negotiate::local_wire_format(&self.config, version)
    }

    /// Combines the peer's `WireFormatInfo` with this side's offer and switches to the result.
    ///
    /// # Errors
    /// [`WireError::InvalidMagic`], [`WireError::UnsupportedVersion`] (below
    /// [`crate::MIN_VERSION`]) or [`WireError::PropertyType`]; close the connection.
    pub fn negotiate(&mut self, peer: &WireFormatInfo) -> Result<&Negotiated, WireError> {
        let n = negotiate::negotiate(&self.config, peer)?;
        Ok(self.negotiated.insert(n))
    }

    /// The agreed settings, once [`Codec::negotiate`] succeeded.
    pub fn negotiated(&self) -> Option<&Negotiated> {
        self.negotiated.as_ref()
    }

    /// The frame-size limit in force: the configured one, lowered by negotiation if the peer
    /// asked for less. Applies to both directions.
    pub fn max_frame_size(&self) -> usize {
        let own = self.config.limits.max_frame_size;
        match self.negotiated.as_ref().and_then(|n| n.max_frame_size) {
            Some(agreed) => usize::try_from(agreed).map_or(own, |a| a.min(own)),
            None => own,
        }
    }

    fn read_options(&self) -> ReadOptions {
        ReadOptions {
            max_depth: self.config.limits.max_nesting_depth,
            stack_traces: self
                .negotiated
                .as_ref()
                .is_some_and(|n| n.stack_trace_enabled),
        }
    }

    /// Looks at the start of `buf`: `Ok(Some(n))` when a whole frame of `n` bytes (prefix
    /// included) is there, `Ok(None)` when more bytes are needed. Reads only the prefix.
    ///
    /// # Errors
    /// [`WireError::FrameTooLarge`] as soon as the prefix announces more than
    /// [`Codec::max_frame_size`], and [`WireError::InvalidFrameSize`] for a size below 1.
    pub fn check(&self, buf: &[u8]) -> Result<Option<usize>, WireError> {
        let Some(prefix) = buf.first_chunk::<PREFIX_LEN>() else {
            return Ok(None);
        };
        let size = i32::from_be_bytes(*prefix);
        let body = usize::try_from(size)
            .ok()
            .filter(|&n| n > 0)
            .ok_or(WireError::InvalidFrameSize { size })?;
        let limit = self.max_frame_size();
        if body > limit {
            return Err(WireError::FrameTooLarge {
                size: body as u64,
                limit: limit as u64,
            });
        }
        let total = PREFIX_LEN + body;
        Ok((buf.len() >= total).then_some(total))
    }

    /// Takes the next command off the front of `buf`.
    ///
    /// `Ok(None)` means more bytes are needed and nothing was consumed; `Ok(Some(_))` consumed
    /// exactly that frame. Call again until it returns `Ok(None)`. Message bodies and properties
    /// in the result share `buf`'s memory; nothing is copied.
    ///
    /// # Errors
    /// Any [`WireError`]. The stream cannot be resynchronised afterwards (a bad frame has been
    /// consumed, a bad prefix has not): report it and close the connection.
    pub fn decode(&self, buf: &mut BytesMut) -> Result<Option<Command>, WireError> {
        match self.check(buf)? {
            None => Ok(None),
            Some(n) => self.decode_frame(buf.split_to(n).freeze()).map(Some),
        }
    }

    /// Decodes exactly one frame (size prefix included), as delimited by [`Codec::check`].
    ///
    /// # Errors
    /// Any [`WireError`], including [`WireError::TrailingBytes`] if the command ends before the
    /// frame does, and [`WireError::NotACommand`] for a frame holding a bare id or a null.
    pub fn decode_frame(&self, frame: Bytes) -> Result<Command, WireError> {
        let Some(total) = self.check(&frame)? else {
            // Too short for its prefix, or for the size the prefix announces.
            let want = frame.first_chunk::<PREFIX_LEN>().map_or(PREFIX_LEN, |p| {
                PREFIX_LEN + usize::try_from(i32::from_be_bytes(*p)).unwrap_or(0)
            });
            return Err(WireError::UnexpectedEof {
                offset: frame.len(),
                need: want.saturating_sub(frame.len()),
                have: 0,
            });
        };
        if frame.len() > total {
            return Err(WireError::TrailingBytes {
                offset: total,
                count: frame.len() - total,
            });
        }
        let mut r = Reader::new(&frame, PREFIX_LEN, self.read_options());
        read_frame_command(&mut r)
    }

    /// Appends `command` as one frame to `dst`.
    ///
    /// # Errors
    /// [`WireError::TooLong`] when a field does not fit its wire form (a string over 65535
    /// modified-UTF-8 bytes, an array over 32767 items), or [`WireError::FrameTooLarge`] when
    /// the frame exceeds [`Codec::max_frame_size`] (the peer would refuse it). `dst` is left as
    /// it was.
    pub fn encode(&self, command: &Command, dst: &mut BytesMut) -> Result<(), WireError> {
        let start = dst.len();
        dst.extend_from_slice(&[0; PREFIX_LEN]);
        let stack_traces = self.read_options().stack_traces;
        let written = write_frame_command(command, &mut Writer::new(dst, stack_traces));
        let size = dst.len() - start - PREFIX_LEN;
        let limit = self.max_frame_size();
        let result = written.and_then(|()| {
            if size > limit {
                return Err(WireError::FrameTooLarge {
                    size: size as u64,
                    limit: limit as u64,
                });
            }
            i32::try_from(size).map_err(|_| WireError::FrameTooLarge {
                size: size as u64,
                limit: i32::MAX as u64,
            })
        });
        match result {
            Ok(size) => {
                dst[start..start + PREFIX_LEN].copy_from_slice(&size.to_be_bytes());
                Ok(())
            }
            Err(e) => {
                dst.truncate(start);
                Err(e)
            }
        }
    }
}

impl Default for Codec {
    fn default() -> Self {
        Codec::new(Config::default())
    }
}
