//! The client's error type.
//!
//! Owns the distinction callers act on: the broker refused something (`Broker`), the bytes were
//! not STOMP (`Protocol`), the transport failed (`Io`, `Closed`, `HeartBeatTimeout`) or we
//! waited too long (`Timeout`).

use std::time::Duration;

use ferromq_stomp::StompError;

/// Anything that can go wrong talking to a STOMP broker.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("broker sent invalid STOMP: {0}")]
    Protocol(#[from] StompError),
    /// An ERROR frame: `message` is its `message` header, `body` its (lossily decoded) body,
    /// which ActiveMQ fills with a stack trace.
    #[error("broker error: {message}")]
    Broker { message: String, body: String },
    #[error("timed out waiting for the broker")]
    Timeout,
    #[error("connection closed")]
    Closed,
    /// The broker promised heart-beats and then sent nothing for this long.
    #[error("broker sent nothing for {0:?} despite the negotiated heart-beat")]
    HeartBeatTimeout(Duration),
    /// The broker sent a well-formed frame that makes no sense here (e.g. no CONNECTED).
    #[error("unexpected reply from the broker: {0}")]
    Unexpected(String),
    /// The request cannot be expressed in the negotiated STOMP version or lacks what it needs.
    #[error("{0}")]
    Unsupported(String),
}

impl ClientError {
    /// A copy for every party waiting on a connection that has ended with this error.
    /// `std::io::Error` is not `Clone`, so I/O errors are rebuilt from their kind and text.
    pub(crate) fn duplicate(&self) -> ClientError {
        match self {
            ClientError::Io(e) => ClientError::Io(std::io::Error::new(e.kind(), e.to_string())),
            ClientError::Protocol(e) => ClientError::Protocol(e.clone()),
            ClientError::Broker { message, body } => ClientError::Broker {
                message: message.clone(),
                body: body.clone(),
            },
            ClientError::Timeout => ClientError::Timeout,
            ClientError::Closed => ClientError::Closed,
            ClientError::HeartBeatTimeout(d) => ClientError::HeartBeatTimeout(*d),
            ClientError::Unexpected(s) => ClientError::Unexpected(s.clone()),
            ClientError::Unsupported(s) => ClientError::Unsupported(s.clone()),
        }
    }

    /// The error an ERROR frame stands for.
    pub(crate) fn from_error_frame(frame: &ferromq_stomp::Frame) -> ClientError {
        ClientError::Broker {
            message: frame.get("message").unwrap_or_default().to_owned(),
            body: String::from_utf8_lossy(&frame.body).into_owned(),
        }
    }
}
