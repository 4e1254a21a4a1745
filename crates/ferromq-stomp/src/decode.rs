//! Incremental STOMP frame decoder: bytes in, one [`Item`] out at a time.
//!
//! Owns framing (EOLs, heart-beats, the blank line, `content-length`, the NUL terminator) and
//! every limit check. It remembers how far it has scanned so that a frame arriving in many small
//! reads is examined once rather than once per read; it never consumes bytes until an item is
//! complete, and it allocates only for headers whose bytes are already buffered.

use bytes::{Buf, BytesMut};

use crate::error::excerpt;
use crate::escape::{unescape, Escaping};
use crate::{Command, Frame, Item, Limits, StompError, Version};

/// Where the decoder is inside the frame at the front of the buffer.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Before the command line (heart-beats are recognised only here).
    Command,
    /// Between the command line and the blank line.
    Headers(Command),
    /// After the blank line; the body starts at `start`.
    Body { command: Command, start: usize },
}

/// Progress through a partly received frame. All offsets are relative to the front of the
/// caller's buffer, which is where the frame starts because nothing is consumed mid-frame.
#[derive(Debug)]
pub(crate) struct Decoder {
    phase: Phase,
    /// Start of the line being read (command or header phase).
    line_start: usize,
    /// Bytes before this offset are known not to hold the byte being searched for.
    scan: usize,
    headers: Vec<(String, String)>,
    /// Body length from the first `content-length` header, if any.
    content_length: Option<usize>,
    saw_content_length: bool,
}

impl Decoder {
    pub(crate) fn new() -> Self {
        Decoder {
            phase: Phase::Command,
            line_start: 0,
            scan: 0,
            headers: Vec::new(),
            content_length: None,
            saw_content_length: false,
        }
    }

    /// Forgets a partly scanned frame. The bytes are still in the caller's buffer (nothing was
    /// consumed), so the next call simply rescans them.
    pub(crate) fn reset(&mut self) {
        *self = Decoder::new();
    }

    pub(crate) fn decode(
        &mut self,
        buf: &mut BytesMut,
        version: Version,
        limits: &Limits,
    ) -> Result<Option<Item>, StompError> {
        if self.scan > buf.len() || self.line_start > buf.len() {
            // The caller handed us a different (shorter) buffer: start over rather than trust
            // offsets that no longer mean anything.
            self.reset();
        }
        let result = self.step(buf, version, limits);
        if !matches!(result, Ok(None)) {
            self.reset();
        }
        result
    }

    fn step(
        &mut self,
        buf: &mut BytesMut,
        version: Version,
        limits: &Limits,
    ) -> Result<Option<Item>, StompError> {
        loop {
            match self.phase {
                Phase::Command => {
                    match (buf.first(), buf.get(1)) {
                        (None, _) | (Some(b'\r'), None) => return Ok(None),
                        (Some(b'\n'), _) => {
                            buf.advance(1);
                            return Ok(Some(Item::HeartBeat));
                        }
                        (Some(b'\r'), Some(b'\n')) => {
                            buf.advance(2);
                            return Ok(Some(Item::HeartBeat));
                        }
                        _ => {}
                    }
                    let Some((start, end)) = self.next_line(buf, limits)? else {
                        return incomplete(buf, limits);
                    };
                    let line = &buf[start..end];
                    let command = Command::from_bytes(line)
                        .ok_or_else(|| StompError::UnknownCommand(excerpt(line)))?;
                    self.phase = Phase::Headers(command);
                }
                Phase::Headers(command) => {
                    let Some((start, end)) = self.next_line(buf, limits)? else {
                        return incomplete(buf, limits);
                    };
                    if self.line_start > limits.max_frame_size {
                        return Err(frame_too_large(limits));
                    }
                    if start == end {
                        let body_start = self.line_start;
                        if let Some(len) = self.content_length {
                            check_fits(body_start, len, limits)?;
                        }
                        self.phase = Phase::Body {
                            command,
                            start: body_start,
                        };
                        self.scan = body_start;
                        continue;
                    }
                    if self.headers.len() >= limits.max_headers {
                        return Err(StompError::TooManyHeaders {
                            limit: limits.max_headers,
                        });
                    }
                    let mode = Escaping::for_frame(version, command);
                    let (name, value) = parse_header(&buf[start..end], mode)?;
                    if name == "content-length" && !self.saw_content_length {
                        // STOMP 1.2: the first occurrence of a repeated header is the one
                        // that counts, so later content-length headers are kept but ignored.
                        self.saw_content_length = true;
                        let len = parse_content_length(&value, limits)?;
                        check_fits(self.line_start, len, limits)?;
                        self.content_length = Some(len);
                    }
                    self.headers.push((name, value));
                }
                Phase::Body { command, start } => {
                    let nul = match self.content_length {
                        Some(len) => {
                            let nul = start.saturating_add(len);
                            match buf.get(nul) {
                                None => return incomplete(buf, limits),
                                Some(0) => nul,
                                Some(_) => return Err(StompError::MissingNul),
                            }
                        }
                        None => {
                            // Never look past the size limit: a frame whose NUL lies beyond it
                            // is too large whatever comes after.
                            let window = buf.len().min(limits.max_frame_size);
                            let from = self.scan.clamp(start, window.max(start));
                            let found = buf
                                .get(from..window)
                                .and_then(|w| w.iter().position(|&b| b == 0));
                            match found {
                                Some(i) => from + i,
                                None => {
                                    self.scan = window.max(start);
                                    return incomplete(buf, limits);
                                }
                            }
                        }
                    };
                    let total = nul.saturating_add(1);
                    if total > limits.max_frame_size {
                        return Err(frame_too_large(limits));
                    }
                    let raw = buf.split_to(total).freeze();
                    let body = raw.slice(start..nul);
                    let headers = std::mem::take(&mut self.headers);
                    return Ok(Some(Item::Frame(Frame {
                        command,
                        headers,
                        body,
                    })));
                }
            }
        }
    }

    /// Finds the end of the line starting at `line_start`, returning its bounds without the EOL.
    /// Refuses a line that is already longer than the limit even if its newline has not arrived.
    fn next_line(
        &mut self,
        buf: &BytesMut,
        limits: &Limits,
    ) -> Result<Option<(usize, usize)>, StompError> {
        let start = self.line_start;
        let max = limits.max_header_line;
        // Content plus an optional CR plus the LF: nothing beyond that can end a legal line.
        let window = buf.len().min(start.saturating_add(max).saturating_add(2));
        let from = self.scan.clamp(start, window.max(start));
        let found = buf
            .get(from..window)
            .and_then(|w| w.iter().position(|&b| b == b'\n' || b == 0));
        let Some(offset) = found else {
            self.scan = window.max(start);
            let pending = window.saturating_sub(start);
            let ends_in_cr = window > start && buf.get(window - 1) == Some(&b'\r');
            if pending > max.saturating_add(1) || (pending == max.saturating_add(1) && !ends_in_cr)
            {
                return Err(StompError::HeaderLineTooLong { limit: max });
            }
            return Ok(None);
        };
        let lf = from + offset;
        if buf.get(lf) == Some(&0) {
            return Err(StompError::NulInHeaders);
        }
        let mut end = lf;
        if end > start && buf.get(end - 1) == Some(&b'\r') {
            end -= 1;
        }
        if end - start > max {
            return Err(StompError::HeaderLineTooLong { limit: max });
        }
        self.line_start = lf + 1;
        self.scan = lf + 1;
        Ok(Some((start, end)))
    }
}

/// No complete item yet. Everything buffered belongs to the unfinished frame, which still needs
/// at least its NUL, so a buffer already at the limit can never become a legal frame.
fn incomplete(buf: &BytesMut, limits: &Limits) -> Result<Option<Item>, StompError> {
    if buf.len() >= limits.max_frame_size {
        return Err(frame_too_large(limits));
    }
    Ok(None)
}

fn frame_too_large(limits: &Limits) -> StompError {
    StompError::FrameTooLarge {
        limit: limits.max_frame_size,
    }
}

/// Rejects a declared body that cannot fit, before any of it is buffered.
fn check_fits(body_start: usize, len: usize, limits: &Limits) -> Result<(), StompError> {
    let total = body_start.saturating_add(len).saturating_add(1);
    if total > limits.max_frame_size {
        return Err(frame_too_large(limits));
    }
    Ok(())
}

fn parse_header(line: &[u8], mode: Escaping) -> Result<(String, String), StompError> {
    let text = std::str::from_utf8(line).map_err(|_| StompError::InvalidUtf8)?;
    let Some((name, value)) = text.split_once(':') else {
        return Err(StompError::MalformedHeader(excerpt(line)));
    };
    Ok((unescape(name, mode)?, unescape(value, mode)?))
}

fn parse_content_length(value: &str, limits: &Limits) -> Result<usize, StompError> {
    let digits = value.trim();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(StompError::InvalidContentLength(excerpt(value.as_bytes())));
    }
    // All digits but unparsable means it overflowed usize: certainly over any limit.
    digits.parse().map_err(|_| frame_too_large(limits))
}

#[cfg(test)]
#[path = "decode_tests.rs"]
mod tests;
