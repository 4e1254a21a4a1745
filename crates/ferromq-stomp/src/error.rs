//! Errors the STOMP codec reports about bytes received from a peer.
//!
//! Owns the wording: the broker sends these `Display` texts to clients in ERROR frames, so they
//! must make sense to someone who only sees their own traffic. Every variant is fatal for the
//! connection; the codec does not try to resynchronise after one.

/// Why a byte stream is not valid STOMP (or breaks a configured limit).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StompError {
    #[error("frame exceeds the maximum size of {limit} bytes")]
    FrameTooLarge { limit: usize },
    #[error("header line exceeds the maximum length of {limit} bytes")]
    HeaderLineTooLong { limit: usize },
    #[error("frame has more than the maximum of {limit} headers")]
    TooManyHeaders { limit: usize },
    #[error("unknown command `{0}`")]
    UnknownCommand(String),
    #[error("malformed header line `{0}`: expected `name:value`")]
    MalformedHeader(String),
    #[error(
        "invalid escape sequence `{0}` in a header (allowed: \\\\, \\n, \\c, and \\r in STOMP 1.2)"
    )]
    InvalidEscape(String),
    #[error("header is not valid UTF-8")]
    InvalidUtf8,
    #[error("invalid content-length `{0}`: expected a non-negative decimal number of bytes")]
    InvalidContentLength(String),
    #[error("frame body is not followed by a NUL byte where its content-length says it ends")]
    MissingNul,
    #[error("NUL byte inside the command or header lines (is the blank line after the headers missing?)")]
    NulInHeaders,
}

/// Longest excerpt of peer data quoted in an error, so an ERROR frame never echoes megabytes.
const EXCERPT_MAX: usize = 80;

/// A printable, bounded excerpt of raw peer bytes for an error message.
pub(crate) fn excerpt(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    if text.chars().count() <= EXCERPT_MAX {
        return text.into_owned();
    }
    let mut short: String = text.chars().take(EXCERPT_MAX).collect();
    short.push('…');
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_limit() {
        let e = StompError::FrameTooLarge { limit: 67_108_864 };
        assert_eq!(
            e.to_string(),
            "frame exceeds the maximum size of 67108864 bytes"
        );
    }

    #[test]
    fn excerpts_are_bounded() {
        let long = vec![b'x'; 10_000];
        assert!(excerpt(&long).chars().count() <= EXCERPT_MAX + 1);
        assert_eq!(excerpt(b"SEN\xffD"), "SEN\u{fffd}D");
    }
}
