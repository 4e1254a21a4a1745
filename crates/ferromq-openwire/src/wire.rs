//! The loose-encoding primitives: a bounds-checked [`Reader`] over one frame, a [`Writer`] into
//! the caller's buffer, and the [`Marshal`] trait every data structure implements.
//!
//! Field kinds follow `BaseDataStreamMarshaller` (reference section 1.2): big-endian integers,
//! booleans as one byte, `str` = present flag + `writeUTF`, `bytes` = present flag + i32 length,
//! nested objects = present flag + type byte + body, arrays = present flag + i16 count + nested
//! objects. With the value cache off (always, here) a cached object is a plain nested object.
//!
//! Invariants: the reader never indexes past the frame, never allocates more than the bytes
//! left could fill, and counts nesting depth; the writer refuses values that do not fit their
//! length field instead of truncating them.

use bytes::{BufMut, Bytes, BytesMut};

use crate::error::WireError;
use crate::mutf8;

/// A data structure with a loose-encoding body.
pub(crate) trait Marshal: Sized {
    /// What the structure is called in errors ("a destination", "ConsumerId", ...).
    const NAME: &'static str;
    /// Whether a nested object with this type byte can be read as `Self`.
    fn accepts(type_id: u8) -> bool;
    /// Reads the body that follows type byte `type_id` (which `accepts`).
    fn read_body(type_id: u8, r: &mut Reader<'_>) -> Result<Self, WireError>;
    /// The type byte this value is written with.
    fn type_id(&self) -> u8;
    /// Writes the body that follows the type byte.
    fn write_body(&self, w: &mut Writer<'_>) -> Result<(), WireError>;
}

/// Settings that change how bytes are read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReadOptions {
    pub max_depth: usize,
    /// Negotiated `StackTraceEnabled`: throwables carry frames and a cause.
    pub stack_traces: bool,
}

/// A cursor over one frame (or one message body).
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    buf: &'a Bytes,
    pos: usize,
    /// One past the last byte this reader may read (a sub-reader stops before `buf.len()`).
    end: usize,
    depth: usize,
    opts: ReadOptions,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a Bytes, start: usize, opts: ReadOptions) -> Self {
        Reader {
            buf,
            pos: start,
            end: buf.len(),
            depth: 0,
            opts,
        }
    }

    /// A reader over the next `n` bytes only, which this reader skips. Offsets stay relative to
    /// the start of the frame, and the nesting depth carries over.
    pub fn sub(&mut self, n: usize) -> Result<Reader<'a>, WireError> {
        let start = self.pos;
        self.take(n)?;
        Ok(Reader {
            buf: self.buf,
            pos: start,
            end: start + n,
            depth: self.depth,
            opts: self.opts,
        })
    }

    pub fn offset(&self) -> usize {
        self.pos
    }

    pub fn remaining(&self) -> usize {
        self.end.saturating_sub(self.pos)
    }

    pub fn stack_traces(&self) -> bool {
        self.opts.stack_traces
    }

    /// Fails unless every byte was read: a frame longer than its fields means the peer and we
    /// disagree about the layout, and Java would have desynchronised on it.
    pub fn finish(&self) -> Result<(), WireError> {
        match self.remaining() {
            0 => Ok(()),
            count => Err(WireError::TrailingBytes {
                offset: self.pos,
                count,
            }),
        }
    }

    /// One more level of nesting (object, map, list or cause), checked against the limit.
    pub fn enter(&mut self) -> Result<(), WireError> {
        if self.depth >= self.opts.max_depth {
            return Err(WireError::NestingTooDeep {
                limit: self.opts.max_depth,
                offset: self.pos,
            });
        }
        self.depth += 1;
        Ok(())
    }

    pub fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        let buf: &'a Bytes = self.buf;
        let have = self.remaining();
        match buf.get(self.pos..self.pos.saturating_add(n)) {
            Some(s) if n <= have => {
                self.pos += n;
                Ok(s)
            }
            _ => Err(WireError::UnexpectedEof {
                offset: self.pos,
                need: n,
                have,
            }),
        }
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.array::<1>()?[0])
    }

    /// Java's `readBoolean`: any non-zero byte is true.
    pub fn bool(&mut self) -> Result<bool, WireError> {
        Ok(self.u8()? != 0)
    }

    pub fn i16(&mut self) -> Result<i16, WireError> {
        Ok(i16::from_be_bytes(self.array()?))
    }

    pub fn u16(&mut self) -> Result<u16, WireError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub fn i32(&mut self) -> Result<i32, WireError> {
        Ok(i32::from_be_bytes(self.array()?))
    }

    pub fn i64(&mut self) -> Result<i64, WireError> {
        Ok(i64::from_be_bytes(self.array()?))
    }

    pub fn f32(&mut self) -> Result<f32, WireError> {
        Ok(f32::from_be_bytes(self.array()?))
    }

    pub fn f64(&mut self) -> Result<f64, WireError> {
        Ok(f64::from_be_bytes(self.array()?))
    }

    /// `n` bytes as a zero-copy slice of the frame.
    pub fn slice(&mut self, n: usize) -> Result<Bytes, WireError> {
        let start = self.pos;
        self.take(n)?;
        Ok(self.buf.slice(start..start + n))
    }

    /// A non-negative i32 length or count. Being below the bytes left is checked by whoever
    /// reads the data; callers must not allocate from it unchecked.
    pub fn length(&mut self, what: &'static str) -> Result<usize, WireError> {
        let offset = self.pos;
        let n = self.i32()?;
        usize::try_from(n).map_err(|_| WireError::InvalidLength {
            what,
            value: i64::from(n),
            offset,
        })
    }

    /// `n` bytes of modified UTF-8.
    pub fn utf_bytes(&mut self, n: usize) -> Result<String, WireError> {
        let offset = self.pos;
        let raw = self.take(n)?;
        mutf8::decode(raw).map_err(|i| WireError::InvalidUtf8 { offset: offset + i })
    }

    /// `readUTF`: u16 length + modified UTF-8.
    pub fn utf(&mut self) -> Result<String, WireError> {
        let n = self.u16()?;
        self.utf_bytes(usize::from(n))
    }

    /// A `str` field: present flag, then `readUTF`.
    pub fn opt_string(&mut self) -> Result<Option<String>, WireError> {
        if self.bool()? {
            Ok(Some(self.utf()?))
        } else {
            Ok(None)
        }
    }

    /// A `str` field that Java dereferences without checking for null.
    pub fn string(&mut self, field: &'static str) -> Result<String, WireError> {
        let offset = self.pos;
        self.opt_string()?
            .ok_or(WireError::NullField { field, offset })
    }

    /// A `bytes` field: present flag, i32 length, raw bytes (zero-copy).
    pub fn opt_bytes(&mut self) -> Result<Option<Bytes>, WireError> {
        if !self.bool()? {
            return Ok(None);
        }
        let n = self.length("byte array length")?;
        Ok(Some(self.slice(n)?))
    }

    /// A nested (or, with the cache off, cached) object of type `T`.
    pub fn nested<T: Marshal>(&mut self) -> Result<Option<T>, WireError> {
        if !self.bool()? {
            return Ok(None);
        }
        self.nested_present().map(Some)
    }

    /// A nested object that must not be null.
    pub fn required<T: Marshal>(&mut self, field: &'static str) -> Result<T, WireError> {
        let offset = self.pos;
        self.nested()?.ok_or(WireError::NullField { field, offset })
    }

    fn nested_present<T: Marshal>(&mut self) -> Result<T, WireError> {
        let offset = self.pos;
        let type_id = self.u8()?;
        if !T::accepts(type_id) {
            return Err(if crate::command::is_known_type(type_id) {
                WireError::UnexpectedType {
                    type_id,
                    expected: T::NAME,
                    offset,
                }
            } else {
                WireError::UnknownType { type_id, offset }
            });
        }
        self.enter()?;
        let value = T::read_body(type_id, self)?;
        self.leave();
        Ok(value)
    }

    /// An `arr<T>` field: present flag, i16 count, then that many non-null nested objects.
    pub fn array_of<T: Marshal>(&mut self) -> Result<Option<Vec<T>>, WireError> {
        if !self.bool()? {
            return Ok(None);
        }
        let offset = self.pos;
        let count = self.i16()?;
        let count = usize::try_from(count).map_err(|_| WireError::InvalidLength {
            what: "array length",
            value: i64::from(count),
            offset,
        })?;
        // Each element takes at least its present flag and type byte.
        let mut out = Vec::with_capacity(count.min(self.remaining() / 2));
        for _ in 0..count {
            out.push(self.required::<T>("array element")?);
        }
        Ok(Some(out))
    }
}

/// Appends loose-encoded fields to the caller's buffer.
#[derive(Debug)]
pub(crate) struct Writer<'a> {
    buf: &'a mut BytesMut,
    stack_traces: bool,
}

/// `writeUTF` refuses strings whose modified UTF-8 form exceeds this.
pub(crate) const MAX_UTF_LEN: usize = u16::MAX as usize;

impl<'a> Writer<'a> {
    pub fn new(buf: &'a mut BytesMut, stack_traces: bool) -> Self {
        Writer { buf, stack_traces }
    }

    pub fn stack_traces(&self) -> bool {
        self.stack_traces
    }

    pub fn u8(&mut self, v: u8) {
        self.buf.put_u8(v);
    }

    pub fn bool(&mut self, v: bool) {
        self.buf.put_u8(u8::from(v));
    }

    pub fn i16(&mut self, v: i16) {
        self.buf.put_i16(v);
    }

    pub fn u16(&mut self, v: u16) {
        self.buf.put_u16(v);
    }

    pub fn i32(&mut self, v: i32) {
        self.buf.put_i32(v);
    }

    pub fn i64(&mut self, v: i64) {
        self.buf.put_i64(v);
    }

    pub fn f32(&mut self, v: f32) {
        self.buf.put_f32(v);
    }

    pub fn f64(&mut self, v: f64) {
        self.buf.put_f64(v);
    }

    pub fn raw(&mut self, v: &[u8]) {
        self.buf.put_slice(v);
    }

    /// A length that must fit an i32 field.
    pub fn length(&mut self, what: &'static str, len: usize) -> Result<(), WireError> {
        let n = i32::try_from(len).map_err(|_| WireError::TooLong {
            what,
            len,
            max: i32::MAX as usize,
        })?;
        self.i32(n);
        Ok(())
    }

    /// `writeUTF`: u16 length + modified UTF-8.
    pub fn utf(&mut self, s: &str) -> Result<(), WireError> {
        let len = mutf8::encoded_len(s);
        let n = u16::try_from(len).map_err(|_| WireError::TooLong {
            what: "string (modified UTF-8 bytes)",
            len,
            max: MAX_UTF_LEN,
        })?;
        self.u16(n);
        mutf8::encode_into(s, &mut *self.buf);
        Ok(())
    }

    /// i32 length + modified UTF-8 (`MarshallingSupport.writeUTF8`).
    pub fn utf8_long(&mut self, s: &str) -> Result<(), WireError> {
        self.length("string (modified UTF-8 bytes)", mutf8::encoded_len(s))?;
        mutf8::encode_into(s, &mut *self.buf);
        Ok(())
    }

    pub fn opt_string(&mut self, s: Option<&str>) -> Result<(), WireError> {
        self.bool(s.is_some());
        match s {
            Some(s) => self.utf(s),
            None => Ok(()),
        }
    }

    pub fn opt_bytes(&mut self, b: Option<&[u8]>) -> Result<(), WireError> {
        self.bool(b.is_some());
        if let Some(b) = b {
            self.length("byte array", b.len())?;
            self.raw(b);
        }
        Ok(())
    }

    pub fn nested<T: Marshal>(&mut self, v: Option<&T>) -> Result<(), WireError> {
        self.bool(v.is_some());
        match v {
            Some(v) => self.nested_present(v),
            None => Ok(()),
        }
    }

    fn nested_present<T: Marshal>(&mut self, v: &T) -> Result<(), WireError> {
        self.u8(v.type_id());
        v.write_body(self)
    }

    pub fn array_of<T: Marshal>(&mut self, v: Option<&[T]>) -> Result<(), WireError> {
        self.bool(v.is_some());
        let Some(items) = v else { return Ok(()) };
        let n = i16::try_from(items.len()).map_err(|_| WireError::TooLong {
            what: "array",
            len: items.len(),
            max: i16::MAX as usize,
        })?;
        self.i16(n);
        for item in items {
            self.bool(true);
            self.nested_present(item)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPTS: ReadOptions = ReadOptions {
        max_depth: 4,
        stack_traces: false,
    };

    #[test]
    fn reads_are_bounds_checked_with_offsets() {
        let b = Bytes::from_static(&[0, 0, 0, 1, 0xff]);
        let mut r = Reader::new(&b, 0, OPTS);
        assert_eq!(r.i32().ok(), Some(1));
        assert!(matches!(
            r.i32(),
            Err(WireError::UnexpectedEof {
                offset: 4,
                need: 4,
                have: 1
            })
        ));
        assert!(r.bool().unwrap_or(false), "0xff reads as true");
        assert!(r.finish().is_ok());
    }

    #[test]
    fn negative_and_oversized_lengths_fail_before_allocating() {
        let b = Bytes::from_static(&[1, 0xff, 0xff, 0xff, 0xff]);
        let mut r = Reader::new(&b, 0, OPTS);
        assert!(matches!(
            r.opt_bytes(),
            Err(WireError::InvalidLength { value: -1, .. })
        ));
        let b = Bytes::from_static(&[1, 0x7f, 0xff, 0xff, 0xff, 0]);
        let mut r = Reader::new(&b, 0, OPTS);
        assert!(matches!(
            r.opt_bytes(),
            Err(WireError::UnexpectedEof { offset: 5, .. })
        ));
    }

    #[test]
    fn strings_round_trip_and_refuse_oversize() {
        let mut out = BytesMut::new();
        let mut w = Writer::new(&mut out, false);
        assert!(w.opt_string(Some("héllo")).is_ok());
        assert!(w.opt_string(None).is_ok());
        let long = "x".repeat(MAX_UTF_LEN + 1);
        assert!(matches!(
            w.utf(&long),
            Err(WireError::TooLong { max: 65535, .. })
        ));
        let b = out.freeze();
        let mut r = Reader::new(&b, 0, OPTS);
        assert_eq!(r.opt_string().ok().flatten().as_deref(), Some("héllo"));
        assert_eq!(r.opt_string().ok(), Some(None));
    }

    #[test]
    fn depth_is_limited() {
        let b = Bytes::new();
        let mut r = Reader::new(&b, 0, OPTS);
        for _ in 0..4 {
            assert!(r.enter().is_ok());
        }
        assert!(matches!(
            r.enter(),
            Err(WireError::NestingTooDeep { limit: 4, .. })
        ));
    }
}
