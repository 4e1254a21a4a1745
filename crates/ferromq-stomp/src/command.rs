//! STOMP command names: the closed set of frame types the codec understands.
//!
//! Owns the mapping between [`Command`] and its wire spelling. It knows nothing about which side
//! may send which command; that policy belongs to the broker and the client.

/// Every frame type defined by STOMP 1.0, 1.1 and 1.2.
///
/// Client frames (`CONNECT`, `SEND`, ...) and server frames (`CONNECTED`, `MESSAGE`, ...) share
/// one enum because the codec is symmetric: the same decoder runs in the broker and the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    Connect,
    /// The 1.1+ spelling of `CONNECT`; brokers treat it the same.
    Stomp,
    Connected,
    Send,
    Subscribe,
    Unsubscribe,
    Ack,
    Nack,
    Begin,
    Commit,
    Abort,
    Disconnect,
    Message,
    Receipt,
    Error,
}

impl Command {
    /// Every command, in the order the STOMP spec lists them. Handy for tests and generators.
    pub const ALL: [Command; 15] = [
        Command::Connect,
        Command::Stomp,
        Command::Connected,
        Command::Send,
        Command::Subscribe,
        Command::Unsubscribe,
        Command::Ack,
        Command::Nack,
        Command::Begin,
        Command::Commit,
        Command::Abort,
        Command::Disconnect,
        Command::Message,
        Command::Receipt,
        Command::Error,
    ];

    /// The command as it appears on the wire, e.g. `"SEND"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Command::Connect => "CONNECT",
            Command::Stomp => "STOMP",
            Command::Connected => "CONNECTED",
            Command::Send => "SEND",
            Command::Subscribe => "SUBSCRIBE",
            Command::Unsubscribe => "UNSUBSCRIBE",
            Command::Ack => "ACK",
            Command::Nack => "NACK",
            Command::Begin => "BEGIN",
            Command::Commit => "COMMIT",
            Command::Abort => "ABORT",
            Command::Disconnect => "DISCONNECT",
            Command::Message => "MESSAGE",
            Command::Receipt => "RECEIPT",
            Command::Error => "ERROR",
        }
    }

    /// Parses a command line (without its EOL). Matching is exact and case-sensitive, as the spec
    /// requires; `None` for anything else.
    pub fn from_bytes(b: &[u8]) -> Option<Command> {
        Command::ALL
            .iter()
            .copied()
            .find(|c| c.as_str().as_bytes() == b)
    }

    /// Whether header values in this frame are escaped in STOMP 1.1/1.2. The spec exempts the
    /// connection handshake so that a peer can read it before the version is known.
    pub fn escapes_headers(self) -> bool {
        !matches!(self, Command::Connect | Command::Stomp | Command::Connected)
    }
}

impl std::fmt::Display for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_round_trips_through_its_name() {
        for c in Command::ALL {
            assert_eq!(Command::from_bytes(c.as_str().as_bytes()), Some(c));
        }
    }

    #[test]
    fn matching_is_exact_and_case_sensitive() {
        assert_eq!(Command::from_bytes(b"send"), None);
        assert_eq!(Command::from_bytes(b"SEND "), None);
        assert_eq!(Command::from_bytes(b""), None);
    }

    #[test]
    fn handshake_frames_are_never_escaped() {
        assert!(!Command::Connect.escapes_headers());
        assert!(!Command::Stomp.escapes_headers());
        assert!(!Command::Connected.escapes_headers());
        assert!(Command::Message.escapes_headers());
    }
}
