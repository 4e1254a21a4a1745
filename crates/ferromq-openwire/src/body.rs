//! Message bodies and properties: decoding and building what `Message::content` and
//! `Message::marshalled_properties` hold, as the 5.17 Java client lays them out.
//!
//! The broker forwards bodies untouched; these helpers are for the places that must look inside
//! (selectors read properties, the STOMP bridge reads and writes text and bytes, the DLQ adds a
//! property). Decompression is bounded by `Limits::max_frame_size`. Error offsets count from the
//! start of the (decompressed) body or property block.
//!
//! Layouts (`C/command/ActiveMQ*Message.java`): text = i32 length (−1 = null) + modified UTF-8;
//! map = primitive map; bytes/stream/object = opaque. Compressed bodies are zlib streams of that
//! layout, except bytes messages, whose compressed form is an i32 uncompressed length followed
//! by the zlib stream.

use std::io::{Read, Write};

use bytes::{BufMut, Bytes, BytesMut};

use crate::codec::Limits;
use crate::commands::{Message, MessageKind};
use crate::error::WireError;
use crate::primitive::{read_map, write_map, PrimitiveMap};
use crate::wire::{ReadOptions, Reader, Writer};

/// `Message.DEFAULT_MINIMUM_MESSAGE_SIZE`: the Java size estimate's fixed overhead.
const MINIMUM_MESSAGE_SIZE: usize = 1024;

impl Message {
    /// Java's `Message.getSize()`: 1024 + properties length + body length. A `ProducerAck`
    /// returns this much window, and memory limits count it.
    pub fn size(&self) -> usize {
        MINIMUM_MESSAGE_SIZE
            + self.marshalled_properties.as_ref().map_or(0, Bytes::len)
            + self.content.as_ref().map_or(0, Bytes::len)
    }

    /// The user properties; empty when there are none.
    ///
    /// # Errors
    /// A [`WireError`] if the property block is not a valid primitive map.
    pub fn properties(&self, limits: &Limits) -> Result<PrimitiveMap, WireError> {
        let Some(raw) = &self.marshalled_properties else {
            return Ok(PrimitiveMap::new());
        };
        read_whole_map(raw, limits)
    }

    /// Replaces the user properties; an empty map is sent as "no properties".
    ///
    /// # Errors
    /// [`WireError::TooLong`] if a key or value does not fit its wire field.
    pub fn set_properties(&mut self, properties: &PrimitiveMap) -> Result<(), WireError> {
        self.marshalled_properties = if properties.is_empty() {
            None
        } else {
            Some(encode_map(properties)?)
        };
        Ok(())
    }

    /// The body with any compression undone, in the layout of [`Message::kind`]; `None` when
    /// the message has no body.
    ///
    /// # Errors
    /// [`WireError::Decompress`], [`WireError::DecompressedTooLarge`] or
    /// [`WireError::MalformedBody`] for a bad compressed body.
    pub fn body(&self, limits: &Limits) -> Result<Option<Bytes>, WireError> {
        let Some(content) = &self.content else {
            return Ok(None);
        };
        if !self.compressed {
            return Ok(Some(content.clone()));
        }
        let limit = limits.max_frame_size;
        if self.kind == MessageKind::Bytes {
            let Some((len, stream)) = content.split_first_chunk::<4>() else {
                return Err(WireError::MalformedBody {
                    kind: "compressed bytes message",
                    reason: "shorter than its 4-byte length prefix",
                });
            };
            let len = usize::try_from(i32::from_be_bytes(*len)).map_err(|_| {
                WireError::MalformedBody {
                    kind: "compressed bytes message",
                    reason: "negative uncompressed length",
                }
            })?;
            if len > limit {
                return Err(WireError::DecompressedTooLarge { limit });
            }
            // Java inflates into a buffer of exactly the announced length.
            return inflate(stream, len).map(|(b, _)| Some(b));
        }
        match inflate(content, limit)? {
            (body, false) => Ok(Some(body)),
            (_, true) => Err(WireError::DecompressedTooLarge { limit }),
        }
    }

    /// The text of a `TextMessage` (`None` for a null text or no body).
    ///
    /// # Errors
    /// Decompression errors, or a [`WireError`] if the body is not an i32-length modified
    /// UTF-8 string.
    pub fn text(&self, limits: &Limits) -> Result<Option<String>, WireError> {
        let Some(body) = self.body(limits)? else {
            return Ok(None);
        };
        let mut r = Reader::new(&body, 0, read_options(limits));
        // `MarshallingSupport.readUTF8`: any negative length is the null text.
        let Ok(n) = usize::try_from(r.i32()?) else {
            return Ok(None);
        };
        Ok(Some(r.utf_bytes(n)?))
    }

    /// Sets an uncompressed text body, as `ActiveMQTextMessage.storeContent` would.
    ///
    /// # Errors
    /// [`WireError::TooLong`] for a text over `i32::MAX` bytes.
    pub fn set_text(&mut self, text: Option<&str>) -> Result<(), WireError> {
        self.compressed = false;
        self.content = match text {
            None => None,
            Some(t) => {
                let mut out = BytesMut::new();
                Writer::new(&mut out, false).utf8_long(t)?;
                Some(out.freeze())
            }
        };
        Ok(())
    }

    /// The entries of a `MapMessage` (empty when it has no body).
    ///
    /// # Errors
    /// Decompression errors, or a [`WireError`] if the body is not a primitive map.
    pub fn map_body(&self, limits: &Limits) -> Result<PrimitiveMap, WireError> {
        match self.body(limits)? {
            None => Ok(PrimitiveMap::new()),
            Some(body) => read_whole_map(&body, limits),
        }
    }

    /// Sets an uncompressed map body; an empty map is sent as no body, as Java does.
    ///
    /// # Errors
    /// [`WireError::TooLong`] if a key or value does not fit its wire field.
    pub fn set_map_body(&mut self, map: &PrimitiveMap) -> Result<(), WireError> {
        self.compressed = false;
        self.content = if map.is_empty() {
            None
        } else {
            Some(encode_map(map)?)
        };
        Ok(())
    }

    /// Sets an uncompressed body as is (bytes, stream and object messages).
    pub fn set_body(&mut self, content: Option<Bytes>) {
        self.compressed = false;
        self.content = content;
    }

    /// Compresses the body as a client with `useCompression=true` does. No-op if it is already
    /// compressed or empty.
    ///
    /// # Errors
    /// [`WireError::TooLong`] for a bytes body over `i32::MAX` bytes.
    pub fn compress(&mut self) -> Result<(), WireError> {
        let Some(content) = self.content.as_ref().filter(|_| !self.compressed) else {
            return Ok(());
        };
        let mut out = BytesMut::new();
        if self.kind == MessageKind::Bytes {
            let len = i32::try_from(content.len()).map_err(|_| WireError::TooLong {
                what: "bytes message body",
                len: content.len(),
                max: i32::MAX as usize,
            })?;
            out.put_i32(len);
        }
        let mut z = flate2::write::ZlibEncoder::new(out.writer(), flate2::Compression::default());
        // Writing into memory does not fail, but an error must still not become a panic.
        let written = z.write_all(content).and_then(|()| z.finish());
        let out = written.map_err(WireError::Compress)?.into_inner();
        self.content = Some(out.freeze());
        self.compressed = true;
        Ok(())
    }
}

fn read_options(limits: &Limits) -> ReadOptions {
    ReadOptions {
        max_depth: limits.max_nesting_depth,
        stack_traces: false,
    }
}

/// A map that must fill `raw` exactly (the null map reads as empty).
fn read_whole_map(raw: &Bytes, limits: &Limits) -> Result<PrimitiveMap, WireError> {
    let mut r = Reader::new(raw, 0, read_options(limits));
    let map = read_map(&mut r)?.unwrap_or_default();
    r.finish()?;
    Ok(map)
}

fn encode_map(map: &PrimitiveMap) -> Result<Bytes, WireError> {
    let mut out = BytesMut::new();
    write_map(&mut Writer::new(&mut out, false), map)?;
    Ok(out.freeze())
}

/// Inflates a zlib stream, keeping at most `limit` bytes; the flag says whether there was more.
fn inflate(stream: &[u8], limit: usize) -> Result<(Bytes, bool), WireError> {
    let mut out = Vec::with_capacity(limit.min(stream.len().saturating_mul(4)));
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    flate2::read::ZlibDecoder::new(stream)
        .take(cap)
        .read_to_end(&mut out)
        .map_err(WireError::Decompress)?;
    let over = out.len() > limit;
    out.truncate(limit);
    Ok((Bytes::from(out), over))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitive::PrimitiveValue;

    #[test]
    fn text_matches_the_observed_body() {
        // "np" as the 5.17 client wrote it (reference 5.1).
        let mut m = Message::new(MessageKind::Text);
        m.content = Some(Bytes::from_static(&[0, 0, 0, 2, b'n', b'p']));
        assert_eq!(
            m.text(&Limits::default()).ok().flatten().as_deref(),
            Some("np")
        );
        assert!(m.set_text(Some("np")).is_ok());
        assert_eq!(m.content.as_deref(), Some(&[0, 0, 0, 2, b'n', b'p'][..]));
        m.content = Some(Bytes::from_static(&[0xff, 0xff, 0xff, 0xff]));
        assert_eq!(m.text(&Limits::default()).ok(), Some(None));
    }

    #[test]
    fn compression_round_trips_for_every_layout() {
        for kind in [MessageKind::Text, MessageKind::Bytes, MessageKind::Map] {
            let mut m = Message::new(kind);
            let mut map = PrimitiveMap::new();
            map.insert("k".into(), PrimitiveValue::String("z".repeat(3000)));
            assert!(m.set_map_body(&map).is_ok());
            let plain = m.content.clone();
            assert!(m.compress().is_ok());
            assert!(m.compressed);
            assert!(m.content.as_ref().map_or(0, Bytes::len) < 200);
            assert_eq!(m.body(&Limits::default()).ok().flatten(), plain);
        }
    }

    #[test]
    fn decompression_is_bounded() {
        let mut m = Message::new(MessageKind::Text);
        m.set_body(Some(Bytes::from(vec![0u8; 100_000])));
        assert!(m.compress().is_ok());
        let small = Limits {
            max_frame_size: 1000,
            ..Limits::default()
        };
        assert!(matches!(
            m.body(&small),
            Err(WireError::DecompressedTooLarge { limit: 1000 })
        ));
        m.content = Some(Bytes::from_static(b"not zlib"));
        assert!(matches!(m.body(&small), Err(WireError::Decompress(_))));
    }

    #[test]
    fn size_counts_properties_and_body() {
        let mut m = Message::new(MessageKind::Bytes);
        m.set_body(Some(Bytes::from_static(b"abc")));
        let mut p = PrimitiveMap::new();
        p.insert("a".into(), PrimitiveValue::Int(1));
        assert!(m.set_properties(&p).is_ok());
        assert_eq!(m.size(), 1024 + 3 + (4 + 3 + 5));
        assert_eq!(m.properties(&Limits::default()).ok(), Some(p));
    }
}
