//! OpenWire at the socket: bad input gets a reason and a closed connection, never a crash, and
//! other connections carry on. (The Java client suite covers the happy paths.)

use std::time::Duration;

use bytes::{BufMut, BytesMut};
use ferromq_openwire::{self as wire, Codec, Command};
use ferromq_server::{BrokerConfig, Protocol, RunningServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const WAIT: Duration = Duration::from_secs(5);

async fn broker(dir: &std::path::Path) -> RunningServer {
    let text = "[broker]\ndata_dir = \"data\"\n[console]\nenabled = false\n\n[[transport_connector]]\nname = \"openwire\"\nuri = \"tcp://127.0.0.1:0?wireFormat.maxFrameSize=65536\"\n";
    RunningServer::start(BrokerConfig::parse(text, "openwire-test.toml", dir).unwrap())
        .await
        .unwrap()
}

/// A raw OpenWire peer that has done the WireFormatInfo exchange.
struct RawClient {
    stream: TcpStream,
    codec: Codec,
    buf: BytesMut,
}

impl RawClient {
    async fn connect(server: &RunningServer) -> RawClient {
        let address = server.address_of(Protocol::OpenWire).unwrap();
        let stream = TcpStream::connect(address).await.unwrap();
        let mut client = RawClient {
            stream,
            codec: Codec::new(wire::Config::default()),
            buf: BytesMut::new(),
        };
        let offer = client.codec.local_wire_format();
        client.send(offer.into()).await;
        match client.next().await {
            Some(Command::WireFormatInfo(info)) => {
                client.codec.negotiate(&info).unwrap();
            }
            other => panic!("expected WireFormatInfo, got {other:?}"),
        }
        assert!(matches!(client.next().await, Some(Command::BrokerInfo(_))));
        client
    }

    async fn send(&mut self, command: Command) {
        let mut out = BytesMut::new();
        self.codec.encode(&command, &mut out).unwrap();
        self.stream.write_all(&out).await.unwrap();
    }

    async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    /// The next command, or `None` once the broker closed the connection.
    async fn next(&mut self) -> Option<Command> {
        loop {
            if let Some(command) = self.codec.decode(&mut self.buf).unwrap() {
                return Some(command);
            }
            let read = tokio::time::timeout(WAIT, self.stream.read_buf(&mut self.buf))
                .await
                .expect("broker answers in time");
            if read.unwrap_or(0) == 0 {
                return None;
            }
        }
    }

    /// Skips keep-alives; returns the next other command.
    async fn next_meaningful(&mut self) -> Option<Command> {
        loop {
            match self.next().await {
                Some(Command::KeepAliveInfo(_)) => continue,
                other => return other,
            }
        }
    }

    async fn expect_closed(&mut self) {
        while let Some(command) = self.next().await {
            assert!(
                matches!(
                    command,
                    Command::KeepAliveInfo(_)
                        | Command::ConnectionError(_)
                        | Command::ExceptionResponse(_)
                ),
                "{command:?}"
            );
        }
    }

    async fn open(&mut self) {
        let info = wire::ConnectionInfo {
            command_id: 1,
            response_required: true,
            connection_id: Some(wire::ConnectionId {
                value: format!("ID:raw-{}", std::process::id()),
            }),
            client_id: None,
            ..wire::ConnectionInfo::default()
        };
        self.send(info.into()).await;
        assert!(
            matches!(self.next_meaningful().await, Some(Command::Response(r)) if r.correlation_id == 1)
        );
    }
}

fn reason(command: Option<Command>) -> String {
    let exception = match command {
        Some(Command::ConnectionError(error)) => error.exception,
        Some(Command::ExceptionResponse(response)) => response.exception,
        other => panic!("expected an error answer, got {other:?}"),
    };
    exception.and_then(|e| e.message).unwrap_or_default()
}

#[tokio::test]
async fn an_unknown_type_id_gets_a_connection_error_and_a_close() {
    let dir = tempfile::tempdir().unwrap();
    let server = broker(dir.path()).await;
    let mut bad = RawClient::connect(&server).await;
    let mut frame = BytesMut::new();
    frame.put_i32(3);
    frame.put_slice(&[250, 0, 0]);
    bad.send_raw(&frame).await;
    let text = reason(bad.next_meaningful().await);
    assert!(text.contains("invalid OpenWire data"), "{text}");
    bad.expect_closed().await;
    // Another connection is untouched.
    let mut good = RawClient::connect(&server).await;
    good.open().await;
    server.shutdown().await;
}

#[tokio::test]
async fn an_oversized_frame_is_refused_from_its_size_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let server = broker(dir.path()).await;
    let mut bad = RawClient::connect(&server).await;
    let mut frame = BytesMut::new();
    frame.put_i32(50_000_000);
    frame.put_u8(wire::type_id::CONNECTION_INFO);
    bad.send_raw(&frame).await;
    let text = reason(bad.next_meaningful().await);
    assert!(text.contains("invalid OpenWire data"), "{text}");
    bad.expect_closed().await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_producer_on_an_unknown_session_is_refused_and_closed() {
    let dir = tempfile::tempdir().unwrap();
    let server = broker(dir.path()).await;
    let mut client = RawClient::connect(&server).await;
    client.open().await;
    let producer = wire::ProducerInfo {
        command_id: 2,
        response_required: true,
        producer_id: Some(wire::ProducerId {
            connection_id: "ID:raw".into(),
            session_id: 7,
            value: 1,
        }),
        ..wire::ProducerInfo::default()
    };
    client.send(producer.into()).await;
    let text = reason(client.next_meaningful().await);
    assert!(text.contains("session 7 is not open"), "{text}");
    client.expect_closed().await;
    server.shutdown().await;
}

#[tokio::test]
async fn commands_before_connection_info_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = broker(dir.path()).await;
    let mut client = RawClient::connect(&server).await;
    let session = wire::SessionInfo {
        command_id: 1,
        response_required: true,
        session_id: Some(wire::SessionId {
            connection_id: "ID:raw".into(),
            value: 1,
        }),
    };
    client.send(session.into()).await;
    let text = reason(client.next_meaningful().await);
    assert!(text.contains("no ConnectionInfo"), "{text}");
    client.expect_closed().await;
    server.shutdown().await;
}

#[tokio::test]
async fn xa_transactions_are_answered_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let server = broker(dir.path()).await;
    let mut client = RawClient::connect(&server).await;
    client.open().await;
    let xa = wire::TransactionInfo {
        command_id: 2,
        response_required: true,
        transaction_id: Some(wire::TransactionId::Xa(wire::XaTransactionId::default())),
        transaction_type: wire::TransactionType::BEGIN,
        ..wire::TransactionInfo::default()
    };
    client.send(xa.into()).await;
    let text = reason(client.next_meaningful().await);
    assert!(text.contains("XA transactions are not supported"), "{text}");
    // Not a protocol error: the connection stays usable.
    client
        .send(
            wire::KeepAliveInfo {
                command_id: 3,
                response_required: true,
            }
            .into(),
        )
        .await;
    assert!(matches!(
        client.next().await,
        Some(Command::KeepAliveInfo(_))
    ));
    server.shutdown().await;
}

#[tokio::test]
async fn commands_in_the_same_packet_as_the_handshake_are_answered_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = broker(dir.path()).await;
    let address = server.address_of(Protocol::OpenWire).unwrap();
    let mut stream = TcpStream::connect(address).await.unwrap();
    let mut codec = Codec::new(wire::Config::default());
    let mut out = BytesMut::new();
    codec
        .encode(&codec.local_wire_format().into(), &mut out)
        .unwrap();
    let info = wire::ConnectionInfo {
        command_id: 1,
        response_required: true,
        connection_id: Some(wire::ConnectionId {
            value: "ID:eager".into(),
        }),
        ..wire::ConnectionInfo::default()
    };
    codec.encode(&info.into(), &mut out).unwrap();
    stream.write_all(&out).await.unwrap();
    let mut buf = BytesMut::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    loop {
        while let Some(command) = codec.decode(&mut buf).unwrap() {
            if let Command::WireFormatInfo(peer) = &command {
                codec.negotiate(peer).unwrap();
            }
            if matches!(command, Command::Response(ref r) if r.correlation_id == 1) {
                server.shutdown().await;
                return;
            }
        }
        let read = tokio::time::timeout_at(deadline, stream.read_buf(&mut buf)).await;
        assert!(
            matches!(read, Ok(Ok(n)) if n > 0),
            "no Response to a ConnectionInfo sent with the handshake"
        );
    }
}
