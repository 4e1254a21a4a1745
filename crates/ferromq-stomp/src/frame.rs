//! The decoded form of a STOMP frame: command, ordered headers and an opaque body.
//!
//! Owns header storage and lookup. It holds already-unescaped text; escaping and framing are the
//! codec's concern, and the meaning of any particular header is the broker's or client's.

use bytes::Bytes;

use crate::Command;

/// One STOMP frame.
///
/// Headers keep their wire order and duplicates, because STOMP 1.2 gives the first occurrence
/// precedence and a relaying broker must be able to forward them untouched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub command: Command,
    /// Unescaped `(name, value)` pairs in wire order, duplicates included.
    pub headers: Vec<(String, String)>,
    /// The body exactly as sent; STOMP gives it no encoding (see the `content-type` header).
    pub body: Bytes,
}

impl Frame {
    /// A frame with no headers and an empty body.
    pub fn new(command: Command) -> Self {
        Frame {
            command,
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    /// Appends a header (builder style). An existing header of the same name is not replaced:
    /// since the first occurrence wins, an appended duplicate is ignored by readers.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.push_header(name, value);
        self
    }

    /// Appends a header in place.
    pub fn push_header(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.headers.push((name.into(), value.into()));
    }

    /// Replaces the body (builder style).
    #[must_use]
    pub fn with_body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// The value of the first header called `name` (names are case-sensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_occurrence_of_a_header_wins() {
        let f = Frame::new(Command::Send)
            .header("destination", "/queue/a")
            .header("destination", "/queue/b");
        assert_eq!(f.get("destination"), Some("/queue/a"));
        assert_eq!(f.headers.len(), 2);
    }

    #[test]
    fn lookup_is_case_sensitive() {
        let f = Frame::new(Command::Send).header("Destination", "x");
        assert_eq!(f.get("destination"), None);
    }

    #[test]
    fn builder_sets_body() {
        let f = Frame::new(Command::Send).with_body("hi");
        assert_eq!(&f.body[..], b"hi");
    }
}
