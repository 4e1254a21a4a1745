//! Typed values and primitive maps (`MarshallingSupport.marshalPrimitiveMap`), the format of
//! message properties, `MapMessage` bodies and `WireFormatInfo` options.
//!
//! A map is an i32 entry count (−1 = null) followed by `writeUTF` keys and tagged values; a list
//! is an i32 count of tagged values. Nested maps and lists count against the reader's depth
//! limit, and no count is trusted for preallocation.

use std::collections::BTreeMap;

use bytes::Bytes;

use crate::error::WireError;
use crate::mutf8;
use crate::wire::{Reader, Writer};

/// A primitive map. Keys are unique, as in Java's `HashMap`; Java's iteration order is arbitrary,
/// so this crate writes keys in sorted order.
pub type PrimitiveMap = BTreeMap<String, PrimitiveValue>;

/// One typed value in a primitive map or list, or in a `WireFormatInfo`.
///
/// The variant decides the wire tag, and the tag decides the Java class a client gets back, so
/// an adapter converting from another protocol must pick variants deliberately (selectors compare
/// `Int(5)` and `Long(5)` alike, but `getIntProperty` on a `Long` fails in JMS).
#[derive(Debug, Clone, PartialEq)]
pub enum PrimitiveValue {
    Null,
    Bool(bool),
    Byte(i8),
    /// A UTF-16 code unit (Java `char`).
    Char(u16),
    Short(i16),
    Int(i32),
    Long(i64),
    Double(f64),
    Float(f32),
    /// Written with tag STRING (u16 length) when shorter than 8191 UTF-16 units, else BIG_STRING
    /// (i32 length), as Java does.
    String(String),
    ByteArray(Bytes),
    Map(PrimitiveMap),
    List(Vec<PrimitiveValue>),
}

mod tag {
    pub const NULL: u8 = 0;
    pub const BOOLEAN: u8 = 1;
    pub const BYTE: u8 = 2;
    pub const CHAR: u8 = 3;
    pub const SHORT: u8 = 4;
    pub const INTEGER: u8 = 5;
    pub const LONG: u8 = 6;
    pub const DOUBLE: u8 = 7;
    pub const FLOAT: u8 = 8;
    pub const STRING: u8 = 9;
    pub const BYTE_ARRAY: u8 = 10;
    pub const MAP: u8 = 11;
    pub const LIST: u8 = 12;
    pub const BIG_STRING: u8 = 13;
}

/// `MarshallingSupport.marshalString` switches to BIG_STRING at `Short.MAX_VALUE / 4` chars.
const BIG_STRING_CHARS: usize = (i16::MAX / 4) as usize;

/// Smallest encoded map entry: a 2-byte key length and a 1-byte tag.
const MIN_ENTRY_LEN: usize = 3;

/// Reads a map; `None` for the null map (count −1).
pub(crate) fn read_map(r: &mut Reader<'_>) -> Result<Option<PrimitiveMap>, WireError> {
    read_map_limited(r, usize::MAX)
}

/// Reads a map of at most `max_entries` entries (Java caps `WireFormatInfo` maps at 4096).
pub(crate) fn read_map_limited(
    r: &mut Reader<'_>,
    max_entries: usize,
) -> Result<Option<PrimitiveMap>, WireError> {
    let offset = r.offset();
    let count = r.i32()?;
    if count < 0 {
        return Ok(None);
    }
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    if count > max_entries {
        return Err(WireError::TooLong {
            what: "primitive map entry count",
            len: count,
            max: max_entries,
        });
    }
    if count > r.remaining() / MIN_ENTRY_LEN {
        return Err(WireError::UnexpectedEof {
            offset,
            need: count.saturating_mul(MIN_ENTRY_LEN),
            have: r.remaining(),
        });
    }
    let mut map = PrimitiveMap::new();
    for _ in 0..count {
        let key = r.utf()?;
        let value = read_value(r)?;
        // Java's HashMap keeps the last value of a repeated key.
        map.insert(key, value);
    }
    Ok(Some(map))
}

/// Reads one tagged value.
pub(crate) fn read_value(r: &mut Reader<'_>) -> Result<PrimitiveValue, WireError> {
    let offset = r.offset();
    let t = r.u8()?;
    Ok(match t {
        tag::NULL => PrimitiveValue::Null,
        tag::BOOLEAN => PrimitiveValue::Bool(r.bool()?),
        tag::BYTE => PrimitiveValue::Byte(i8::from_be_bytes([r.u8()?])),
        tag::CHAR => PrimitiveValue::Char(r.u16()?),
        tag::SHORT => PrimitiveValue::Short(r.i16()?),
        tag::INTEGER => PrimitiveValue::Int(r.i32()?),
        tag::LONG => PrimitiveValue::Long(r.i64()?),
        tag::DOUBLE => PrimitiveValue::Double(r.f64()?),
        tag::FLOAT => PrimitiveValue::Float(r.f32()?),
        tag::STRING => PrimitiveValue::String(r.utf()?),
        tag::BIG_STRING => {
            let n = r.length("big string length")?;
            PrimitiveValue::String(r.utf_bytes(n)?)
        }
        tag::BYTE_ARRAY => {
            let n = r.length("byte array length")?;
            PrimitiveValue::ByteArray(r.slice(n)?)
        }
        tag::MAP => {
            r.enter()?;
            // A nested null map (count −1) reads back as null, as in Java.
            let v = read_map(r)?.map_or(PrimitiveValue::Null, PrimitiveValue::Map);
            r.leave();
            v
        }
        tag::LIST => {
            r.enter()?;
            let n = r.length("list length")?;
            if n > r.remaining() {
                return Err(WireError::UnexpectedEof {
                    offset: r.offset(),
                    need: n,
                    have: r.remaining(),
                });
            }
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(read_value(r)?);
            }
            r.leave();
            PrimitiveValue::List(items)
        }
        tag => return Err(WireError::UnknownPrimitiveType { tag, offset }),
    })
}

/// Writes `map` (never the null map; callers write −1 themselves where null is meaningful).
pub(crate) fn write_map(w: &mut Writer<'_>, map: &PrimitiveMap) -> Result<(), WireError> {
    w.length("map entry count", map.len())?;
    for (key, value) in map {
        w.utf(key)?;
        write_value(w, value)?;
    }
    Ok(())
}

/// Writes one tagged value.
pub(crate) fn write_value(w: &mut Writer<'_>, v: &PrimitiveValue) -> Result<(), WireError> {
    match v {
        PrimitiveValue::Null => w.u8(tag::NULL),
        PrimitiveValue::Bool(b) => {
            w.u8(tag::BOOLEAN);
            w.bool(*b);
        }
        PrimitiveValue::Byte(b) => {
            w.u8(tag::BYTE);
            w.raw(&b.to_be_bytes());
        }
        PrimitiveValue::Char(c) => {
            w.u8(tag::CHAR);
            w.u16(*c);
        }
        PrimitiveValue::Short(s) => {
            w.u8(tag::SHORT);
            w.i16(*s);
        }
        PrimitiveValue::Int(i) => {
            w.u8(tag::INTEGER);
            w.i32(*i);
        }
        PrimitiveValue::Long(l) => {
            w.u8(tag::LONG);
            w.i64(*l);
        }
        PrimitiveValue::Double(d) => {
            w.u8(tag::DOUBLE);
            w.f64(*d);
        }
        PrimitiveValue::Float(f) => {
            w.u8(tag::FLOAT);
            w.f32(*f);
        }
        PrimitiveValue::String(s) => {
            if mutf8::utf16_len(s) < BIG_STRING_CHARS {
                w.u8(tag::STRING);
                w.utf(s)?;
            } else {
                w.u8(tag::BIG_STRING);
                w.utf8_long(s)?;
            }
        }
        PrimitiveValue::ByteArray(b) => {
            w.u8(tag::BYTE_ARRAY);
            w.length("byte array", b.len())?;
            w.raw(b);
        }
        PrimitiveValue::Map(m) => {
            w.u8(tag::MAP);
            write_map(w, m)?;
        }
        PrimitiveValue::List(items) => {
            w.u8(tag::LIST);
            w.length("list", items.len())?;
            for item in items {
                write_value(w, item)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ReadOptions;
    use bytes::BytesMut;

    const OPTS: ReadOptions = ReadOptions {
        max_depth: 3,
        stack_traces: false,
    };

    fn decode(b: &'static [u8]) -> Result<Option<PrimitiveMap>, WireError> {
        let b = Bytes::from_static(b);
        let mut r = Reader::new(&b, 0, OPTS);
        let m = read_map(&mut r)?;
        r.finish()?;
        Ok(m)
    }

    #[test]
    fn decodes_the_observed_map_message_body() {
        // {b:[1,2], i:1, k:"v"} as the 5.17 client wrote it (reference 5.1).
        let m = decode(&[
            0, 0, 0, 3, 0, 1, b'b', 10, 0, 0, 0, 2, 1, 2, 0, 1, b'i', 5, 0, 0, 0, 1, 0, 1, b'k', 9,
            0, 1, b'v',
        ]);
        let m = m.ok().flatten().unwrap_or_default();
        assert_eq!(
            m.get("b"),
            Some(&PrimitiveValue::ByteArray(Bytes::from_static(&[1, 2])))
        );
        assert_eq!(m.get("i"), Some(&PrimitiveValue::Int(1)));
        assert_eq!(m.get("k"), Some(&PrimitiveValue::String("v".into())));
    }

    #[test]
    fn null_map_and_unknown_tag() {
        assert!(matches!(decode(&[0xff, 0xff, 0xff, 0xff]), Ok(None)));
        assert!(matches!(
            decode(&[0, 0, 0, 1, 0, 1, b'x', 99]),
            Err(WireError::UnknownPrimitiveType { tag: 99, offset: 7 })
        ));
    }

    #[test]
    fn huge_counts_fail_without_allocating() {
        assert!(matches!(
            decode(&[0x7f, 0xff, 0xff, 0xff, 0, 1]),
            Err(WireError::UnexpectedEof { offset: 0, .. })
        ));
        assert!(matches!(
            decode(&[0, 0, 0, 1, 0, 1, b'l', 12, 0x7f, 0xff, 0xff, 0xff]),
            Err(WireError::UnexpectedEof { .. })
        ));
    }

    #[test]
    fn nesting_is_limited() {
        // Four nested single-entry maps under a depth limit of three.
        let mut m = PrimitiveMap::new();
        for _ in 0..4 {
            let mut outer = PrimitiveMap::new();
            outer.insert("m".into(), PrimitiveValue::Map(m));
            m = outer;
        }
        let mut out = BytesMut::new();
        assert!(write_map(&mut Writer::new(&mut out, false), &m).is_ok());
        let b = out.freeze();
        let mut r = Reader::new(&b, 0, OPTS);
        assert!(matches!(
            read_map(&mut r),
            Err(WireError::NestingTooDeep { limit: 3, .. })
        ));
    }

    #[test]
    fn long_strings_use_big_string() {
        let mut m = PrimitiveMap::new();
        m.insert("s".into(), PrimitiveValue::String("x".repeat(9000)));
        let mut out = BytesMut::new();
        assert!(write_map(&mut Writer::new(&mut out, false), &m).is_ok());
        assert_eq!(out[7], tag::BIG_STRING);
        let b = out.freeze();
        let mut r = Reader::new(&b, 0, OPTS);
        assert_eq!(read_map(&mut r).ok().flatten(), Some(m));
    }
}
