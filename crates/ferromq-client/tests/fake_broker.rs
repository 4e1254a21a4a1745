//! A scripted STOMP peer: each test drives the broker side by hand, frame by frame.

use std::future::Future;
use std::time::Duration;

use bytes::BytesMut;
use ferromq_client::{Client, ClientError, ConnectOptions, Messages};
use ferromq_stomp::{Codec, Command, Frame, Item, Limits, Version};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Upper bound for any one test, so a bug shows up as a failure instead of a hang.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn within<T>(fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(TEST_TIMEOUT, fut)
        .await
        .expect("test step timed out")
}

pub struct FakeBroker {
    listener: TcpListener,
    pub addr: String,
}

impl FakeBroker {
    pub async fn bind() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        FakeBroker { listener, addr }
    }

    pub async fn accept(&self) -> Peer {
        let (stream, _) = self.listener.accept().await.unwrap();
        Peer {
            stream,
            codec: Codec::new(Limits::default()),
            buf: BytesMut::new(),
        }
    }
}

/// The broker's end of one connection.
pub struct Peer {
    pub stream: TcpStream,
    pub codec: Codec,
    buf: BytesMut,
}

impl Peer {
    /// The next item, or `None` once the client has closed the connection.
    pub async fn next_item(&mut self) -> Option<Item> {
        loop {
            if let Some(item) = self.codec.decode(&mut self.buf).unwrap() {
                return Some(item);
            }
            if self.stream.read_buf(&mut self.buf).await.unwrap_or(0) == 0 {
                return None;
            }
        }
    }

    /// The next frame, skipping heart-beats.
    pub async fn next_frame(&mut self) -> Frame {
        loop {
            match self.next_item().await {
                Some(Item::Frame(f)) => return f,
                Some(Item::HeartBeat) => {}
                None => panic!("client closed the connection while a frame was expected"),
            }
        }
    }

    pub async fn send(&mut self, frame: &Frame) {
        let mut out = BytesMut::new();
        self.codec.encode(frame, &mut out);
        self.stream.write_all(&out).await.unwrap();
    }

    /// Reads CONNECT, answers with `connected` and switches to its `version`.
    pub async fn handshake(&mut self, connected: Frame) -> Frame {
        let connect = self.next_frame().await;
        assert_eq!(connect.command, Command::Connect);
        self.send(&connected).await;
        let version = connected
            .get("version")
            .and_then(Version::parse)
            .unwrap_or(Version::V1_0);
        self.codec.set_version(version);
        connect
    }

    pub async fn receipt_for(&mut self, frame: &Frame) {
        let id = frame.get("receipt").expect("frame asked for no receipt");
        self.send(&Frame::new(Command::Receipt).header("receipt-id", id))
            .await;
    }
}

pub fn connected(version: &str) -> Frame {
    connected_beating(version, "0,0")
}

/// A CONNECTED frame whose `heart-beat` header is `sx,sy`.
pub fn connected_beating(version: &str, heart_beat: &str) -> Frame {
    Frame::new(Command::Connected)
        .header("version", version)
        .header("server", "fake/0")
        .header("heart-beat", heart_beat)
}

pub fn quiet_options() -> ConnectOptions {
    ConnectOptions {
        heart_beat: (0, 0),
        connect_timeout: Duration::from_secs(5),
        ..ConnectOptions::default()
    }
}

/// Connects a client while the fake broker answers the handshake with `reply`.
pub async fn connect_with(reply: Frame, opts: ConnectOptions) -> (Client, Messages, Peer, Frame) {
    let broker = FakeBroker::bind().await;
    let (client, (peer, connect)) = within(async {
        tokio::join!(Client::connect(&broker.addr, opts), async {
            let mut peer = broker.accept().await;
            let connect = peer.handshake(reply).await;
            (peer, connect)
        })
    })
    .await;
    let (client, messages) = client.unwrap();
    (client, messages, peer, connect)
}

pub fn is_broker_error(e: &ClientError, want: &str) -> bool {
    matches!(e, ClientError::Broker { message, .. } if message == want)
}
