//! Opening a connection: TCP connect, CONNECT, and reading the CONNECTED (or ERROR) reply.
//!
//! Owns version and heart-beat negotiation from the client's side. Runs before the reader and
//! writer tasks exist, so it reads and writes the socket directly; it spawns nothing.

use std::time::Duration;

use bytes::BytesMut;
use ferromq_stomp::{Codec, Command, Frame, Item, Limits, Version};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::{ClientError, ConnectOptions};

/// A connection that has completed the STOMP handshake.
#[derive(Debug)]
pub(crate) struct Established {
    pub(crate) stream: TcpStream,
    pub(crate) codec: Codec,
    /// Bytes that arrived after CONNECTED; they belong to the reader.
    pub(crate) leftover: BytesMut,
    pub(crate) connected: Frame,
    /// How often we must send something, if heart-beating out is on.
    pub(crate) send_every: Option<Duration>,
    /// How often the broker promised to send something, if heart-beating in is on.
    pub(crate) expect_every: Option<Duration>,
}

/// Connects and handshakes, all within `opts.connect_timeout`.
pub(crate) async fn establish(
    addr: &str,
    opts: &ConnectOptions,
) -> Result<Established, ClientError> {
    tokio::time::timeout(opts.connect_timeout, establish_inner(addr, opts))
        .await
        .map_err(|_| ClientError::Timeout)?
}

async fn establish_inner(addr: &str, opts: &ConnectOptions) -> Result<Established, ClientError> {
    let mut stream = TcpStream::connect(addr).await?;
    // Small frames (ACKs, receipts) must not wait for Nagle's timer.
    stream.set_nodelay(true)?;

    let mut codec = Codec::new(Limits::default());
    let mut out = BytesMut::new();
    codec.encode(&connect_frame(opts), &mut out);
    stream.write_all(&out).await?;

    let mut buf = BytesMut::with_capacity(4096);
    let reply = loop {
        match codec.decode(&mut buf)? {
            Some(Item::Frame(frame)) => break frame,
            Some(Item::HeartBeat) => continue,
            None => {}
        }
        if stream.read_buf(&mut buf).await? == 0 {
            return Err(ClientError::Closed);
        }
    };
    match reply.command {
        Command::Connected => {}
        Command::Error => return Err(ClientError::from_error_frame(&reply)),
        other => {
            return Err(ClientError::Unexpected(format!(
                "expected CONNECTED, got {other}"
            )))
        }
    }

    let version = negotiated_version(&reply, opts)?;
    codec.set_version(version);
    let (send_every, expect_every) = heart_beats(opts.heart_beat, reply.get("heart-beat"));
    Ok(Established {
        stream,
        codec,
        leftover: buf,
        connected: reply,
        send_every,
        expect_every,
    })
}

fn connect_frame(opts: &ConnectOptions) -> Frame {
    let mut frame = Frame::new(Command::Connect);
    if !opts.accept_version.is_empty() {
        frame.push_header("accept-version", opts.accept_version.as_str());
    }
    frame.push_header("host", opts.host.as_str());
    if let Some(login) = &opts.login {
        frame.push_header("login", login.as_str());
    }
    if let Some(passcode) = &opts.passcode {
        frame.push_header("passcode", passcode.as_str());
    }
    if let Some(id) = &opts.client_id {
        frame.push_header("client-id", id.as_str());
    }
    let (cx, cy) = opts.heart_beat;
    frame.push_header("heart-beat", format!("{cx},{cy}"));
    for (name, value) in &opts.extra_headers {
        frame.push_header(name.as_str(), value.as_str());
    }
    frame
}

/// The version the broker chose; it must be one we offered. No `version` header means 1.0.
fn negotiated_version(reply: &Frame, opts: &ConnectOptions) -> Result<Version, ClientError> {
    let Some(raw) = reply.get("version") else {
        return Ok(Version::V1_0);
    };
    let offered: Vec<Version> = opts
        .accept_version
        .split(',')
        .filter_map(Version::parse)
        .collect();
    match Version::parse(raw) {
        Some(v) if offered.contains(&v) || (offered.is_empty() && v == Version::V1_0) => Ok(v),
        _ => Err(ClientError::Unexpected(format!(
            "broker chose STOMP version `{raw}`, which was not offered ({})",
            opts.accept_version
        ))),
    }
}

/// Applies the spec's rule to `(cx, cy)` and the broker's `sx,sy`: each direction runs at the
/// slower of what one side can do and the other wants, and is off if either says 0.
fn heart_beats(ours: (u32, u32), theirs: Option<&str>) -> (Option<Duration>, Option<Duration>) {
    let (sx, sy) = theirs.and_then(parse_heart_beat).unwrap_or((0, 0));
    let (cx, cy) = ours;
    let pick =
        |a: u32, b: u32| (a > 0 && b > 0).then(|| Duration::from_millis(u64::from(a.max(b))));
    (pick(cx, sy), pick(cy, sx))
}

fn parse_heart_beat(value: &str) -> Option<(u32, u32)> {
    let (a, b) = value.split_once(',')?;
    Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heart_beat_negotiation_follows_the_spec() {
        let ms = |n| Some(Duration::from_millis(n));
        assert_eq!(heart_beats((100, 200), Some("300,50")), (ms(100), ms(300)));
        assert_eq!(heart_beats((100, 200), Some("0,500")), (ms(500), None));
        assert_eq!(heart_beats((0, 200), Some("300,50")), (None, ms(300)));
        assert_eq!(heart_beats((100, 200), None), (None, None));
        assert_eq!(heart_beats((100, 200), Some("junk")), (None, None));
    }

    #[test]
    fn the_broker_must_pick_an_offered_version() {
        let opts = ConnectOptions {
            accept_version: "1.1,1.2".into(),
            ..ConnectOptions::default()
        };
        let reply = |v: &str| Frame::new(Command::Connected).header("version", v);
        assert_eq!(
            negotiated_version(&reply("1.2"), &opts).ok(),
            Some(Version::V1_2)
        );
        assert!(negotiated_version(&reply("1.0"), &opts).is_err());
        assert_eq!(
            negotiated_version(&Frame::new(Command::Connected), &opts).ok(),
            Some(Version::V1_0)
        );
    }

    #[test]
    fn connect_frame_carries_every_option() {
        let opts = ConnectOptions {
            login: Some("u".into()),
            passcode: Some("p".into()),
            client_id: Some("c".into()),
            heart_beat: (5, 6),
            extra_headers: vec![("x".into(), "y".into())],
            ..ConnectOptions::default()
        };
        let f = connect_frame(&opts);
        assert_eq!(f.command, Command::Connect);
        assert_eq!(f.get("accept-version"), Some("1.0,1.1,1.2"));
        assert_eq!(f.get("host"), Some("localhost"));
        assert_eq!(f.get("login"), Some("u"));
        assert_eq!(f.get("passcode"), Some("p"));
        assert_eq!(f.get("client-id"), Some("c"));
        assert_eq!(f.get("heart-beat"), Some("5,6"));
        assert_eq!(f.get("x"), Some("y"));
    }
}
