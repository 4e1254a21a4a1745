//! CONNECT/CONNECTED: what the client sends, what it learns, and how refusal looks.

use std::time::Duration;

use ferromq_client::{Client, ClientError, ConnectOptions, Version};
use ferromq_stomp::{Command, Frame};

use crate::fake_broker::{connect_with, connected, quiet_options, within, FakeBroker};

#[tokio::test]
async fn negotiates_the_version_and_keeps_the_connected_headers() {
    let opts = ConnectOptions {
        login: Some("admin".into()),
        passcode: Some("secret".into()),
        client_id: Some("c-1".into()),
        heart_beat: (0, 0),
        ..ConnectOptions::default()
    };
    let (client, _messages, _peer, connect) = connect_with(connected("1.1"), opts).await;
    assert_eq!(connect.get("accept-version"), Some("1.0,1.1,1.2"));
    assert_eq!(connect.get("host"), Some("localhost"));
    assert_eq!(connect.get("login"), Some("admin"));
    assert_eq!(connect.get("passcode"), Some("secret"));
    assert_eq!(connect.get("client-id"), Some("c-1"));
    assert_eq!(client.version(), Version::V1_1);
    assert!(client
        .connected_headers()
        .contains(&("server".to_owned(), "fake/0".to_owned())));
}

#[tokio::test]
async fn no_version_header_means_stomp_1_0() {
    let reply = Frame::new(Command::Connected);
    let (client, _messages, _peer, _) = connect_with(reply, quiet_options()).await;
    assert_eq!(client.version(), Version::V1_0);
    let nack = client.nack(&Frame::new(Command::Message), None).await;
    assert!(matches!(nack, Err(ClientError::Unsupported(_))), "{nack:?}");
}

#[tokio::test]
async fn an_error_reply_to_connect_is_a_broker_error() {
    let broker = FakeBroker::bind().await;
    let (result, ()) = within(async {
        tokio::join!(Client::connect(&broker.addr, quiet_options()), async {
            let mut peer = broker.accept().await;
            let refusal = Frame::new(Command::Error)
                .header("message", "bad credentials")
                .with_body("user admin is unknown");
            peer.handshake(refusal).await;
        })
    })
    .await;
    match result {
        Err(ClientError::Broker { message, body }) => {
            assert_eq!(message, "bad credentials");
            assert_eq!(body, "user admin is unknown");
        }
        other => panic!("expected a broker error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_mute_broker_makes_connect_time_out() {
    let broker = FakeBroker::bind().await;
    let opts = ConnectOptions {
        connect_timeout: Duration::from_millis(200),
        ..quiet_options()
    };
    let (result, _peer) =
        within(async { tokio::join!(Client::connect(&broker.addr, opts), broker.accept()) }).await;
    assert!(matches!(result, Err(ClientError::Timeout)), "{result:?}");
}
