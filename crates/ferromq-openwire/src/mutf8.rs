//! Java's "modified UTF-8", the string encoding of `DataOutput.writeUTF` and of ActiveMQ's
//! `MarshallingSupport.writeUTF8`.
//!
//! Differences from UTF-8 that matter here: U+0000 is written `C0 80`, and a supplementary
//! character is written as its two UTF-16 surrogates, three bytes each, never as one 4-byte
//! sequence. Rust's `str::from_utf8` refuses both, so every wire string goes through this module.
//! Owns the byte rules only; length prefixes belong to the reader and writer.

/// U+FFFD, what an unpaired surrogate decodes to (Rust strings cannot hold one).
const REPLACEMENT: char = '\u{fffd}';

/// Number of bytes `s` takes in modified UTF-8.
pub(crate) fn encoded_len(s: &str) -> usize {
    s.chars()
        .map(|c| match c {
            '\0' => 2,
            '\u{1}'..='\u{7f}' => 1,
            '\u{80}'..='\u{7ff}' => 2,
            '\u{800}'..='\u{ffff}' => 3,
            // Two surrogates of three bytes each.
            _ => 6,
        })
        .sum()
}

/// Number of UTF-16 code units in `s`: Java's `String.length()`, which picks the tag
/// (STRING or BIG_STRING) of a string in a primitive map.
pub(crate) fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// Appends the modified UTF-8 form of `s` to `out`.
pub(crate) fn encode_into(s: &str, out: &mut impl bytes::BufMut) {
    // Most protocol strings (ids, destination names) are plain ASCII without NUL, whose bytes
    // are already correct.
    if s.bytes().all(|b| b != 0 && b < 0x80) {
        out.put_slice(s.as_bytes());
        return;
    }
    let mut units = [0u16; 2];
    for c in s.chars() {
        for &unit in c.encode_utf16(&mut units).iter() {
            put_unit(unit, out);
        }
    }
}

fn put_unit(unit: u16, out: &mut impl bytes::BufMut) {
    // The masks keep every value below 256, so the casts cannot truncate.
    match unit {
        0x0001..=0x007f => out.put_u8(unit as u8),
        0x0000 | 0x0080..=0x07ff => {
            out.put_u8(0xc0 | ((unit >> 6) & 0x1f) as u8);
            out.put_u8(0x80 | (unit & 0x3f) as u8);
        }
        _ => {
            out.put_u8(0xe0 | ((unit >> 12) & 0x0f) as u8);
            out.put_u8(0x80 | ((unit >> 6) & 0x3f) as u8);
            out.put_u8(0x80 | (unit & 0x3f) as u8);
        }
    }
}

/// Decodes modified UTF-8.
///
/// Accepts what Java's `readUTF` accepts (including raw NUL bytes and overlong 2-byte forms) and,
/// leniently, standard 4-byte UTF-8 sequences, which non-Java clients may send. Unpaired
/// surrogates become U+FFFD because a Rust `String` cannot hold them.
///
/// # Errors
/// `Err(i)` with the index of the first byte that starts no valid sequence.
pub(crate) fn decode(bytes: &[u8]) -> Result<String, usize> {
    // Valid UTF-8 without encoded surrogates is also valid modified UTF-8 with the same meaning,
    // and it is what nearly every string looks like.
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Ok(s.to_owned());
    }
    let mut units: Vec<u16> = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let cont = |k: usize| -> Result<u16, usize> {
            match bytes.get(i + k) {
                Some(&c) if c & 0xc0 == 0x80 => Ok(u16::from(c & 0x3f)),
                _ => Err(i),
            }
        };
        if b < 0x80 {
            units.push(u16::from(b));
            i += 1;
        } else if b & 0xe0 == 0xc0 {
            units.push((u16::from(b & 0x1f) << 6) | cont(1)?);
            i += 2;
        } else if b & 0xf0 == 0xe0 {
            units.push((u16::from(b & 0x0f) << 12) | (cont(1)? << 6) | cont(2)?);
            i += 3;
        } else if b & 0xf8 == 0xf0 {
            let cp = (u32::from(b & 0x07) << 18)
                | (u32::from(cont(1)?) << 12)
                | (u32::from(cont(2)?) << 6)
                | u32::from(cont(3)?);
            let c = char::from_u32(cp).ok_or(i)?;
            let mut pair = [0u16; 2];
            units.extend_from_slice(c.encode_utf16(&mut pair));
            i += 4;
        } else {
            return Err(i);
        }
    }
    Ok(char::decode_utf16(units)
        .map(|r| r.unwrap_or(REPLACEMENT))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(s: &str) -> Vec<u8> {
        let mut v = Vec::new();
        encode_into(s, &mut v);
        assert_eq!(v.len(), encoded_len(s));
        v
    }

    #[test]
    fn matches_java_bytes_observed_on_the_wire() {
        // "é中😀 \0" as the 5.17 client sent it (reference 1.5).
        let java = [
            0xc3, 0xa9, 0xe4, 0xb8, 0xad, 0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80, 0x20, 0xc0, 0x80,
        ];
        assert_eq!(enc("é中😀 \0"), java);
        assert_eq!(decode(&java), Ok("é中😀 \0".to_owned()));
    }

    #[test]
    fn ascii_is_copied() {
        assert_eq!(enc("ID:host-1:1"), b"ID:host-1:1");
        assert_eq!(decode(b"queue.a"), Ok("queue.a".to_owned()));
    }

    #[test]
    fn lenient_forms_decode() {
        assert_eq!(decode(&[0x61, 0x00]), Ok("a\0".to_owned()));
        assert_eq!(decode("😀".as_bytes()), Ok("😀".to_owned()));
        // A lone high surrogate (ED A0 80) becomes U+FFFD.
        assert_eq!(
            decode(&[0xed, 0xa0, 0x80, 0x41]),
            Ok("\u{fffd}A".to_owned())
        );
    }

    #[test]
    fn malformed_sequences_name_their_position() {
        assert_eq!(decode(&[0x41, 0x80]), Err(1));
        assert_eq!(decode(&[0x41, 0xe4, 0xb8]), Err(1));
        assert_eq!(decode(&[0xff]), Err(0));
        assert_eq!(decode(&[0xc3, 0x41]), Err(0));
    }

    #[test]
    fn utf16_length_counts_surrogates() {
        assert_eq!(utf16_len("a😀"), 3);
    }
}
