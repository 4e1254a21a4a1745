//! A session's life: messages and acks, disconnect, and a broker hanging up.

use std::time::Duration;

use ferromq_client::{ClientError, Version};
use ferromq_stomp::{Command, Frame};

use crate::fake_broker::{connect_with, connected, quiet_options, within};

fn message(n: u32) -> Frame {
    Frame::new(Command::Message)
        .header("destination", "/queue/a")
        .header("subscription", "s-1")
        .header("message-id", format!("m-{n}"))
        .header("ack", format!("a-{n}"))
        .with_body(format!("payload {n}"))
}

#[tokio::test]
async fn acks_and_nacks_use_the_headers_of_the_negotiated_version() {
    for version in ["1.1", "1.2"] {
        let (client, mut messages, mut peer, _) =
            connect_with(connected(version), quiet_options()).await;
        within(async {
            peer.send(&message(1)).await;
            peer.send(&message(2)).await;
            let first = messages.recv().await.unwrap().unwrap();
            let second = messages.recv().await.unwrap().unwrap();
            assert_eq!(&first.body[..], b"payload 1");
            client.ack(&first, Some("tx-9")).await.unwrap();
            client.nack(&second, None).await.unwrap();
            let ack = peer.next_frame().await;
            let nack = peer.next_frame().await;
            assert_eq!((ack.command, nack.command), (Command::Ack, Command::Nack));
            assert_eq!(ack.get("transaction"), Some("tx-9"));
            if client.version() == Version::V1_2 {
                assert_eq!(ack.get("id"), Some("a-1"));
                assert_eq!(nack.get("id"), Some("a-2"));
            } else {
                assert_eq!(ack.get("message-id"), Some("m-1"));
                assert_eq!(ack.get("subscription"), Some("s-1"));
                assert_eq!(nack.get("message-id"), Some("m-2"));
            }
        })
        .await;
    }
}

#[tokio::test]
async fn disconnect_waits_for_its_receipt_then_ends_the_stream() {
    let (client, mut messages, mut peer, _) = connect_with(connected("1.2"), quiet_options()).await;
    within(async {
        let broker = async {
            peer.send(&message(1)).await;
            let disconnect = peer.next_frame().await;
            assert_eq!(disconnect.command, Command::Disconnect);
            peer.receipt_for(&disconnect).await;
            // The client closes its side once the receipt is in.
            assert!(peer.next_item().await.is_none());
        };
        let (result, ()) = tokio::join!(client.disconnect(), broker);
        result.unwrap();
        let early = messages.recv().await.unwrap().unwrap();
        assert_eq!(early.get("message-id"), Some("m-1"));
        assert!(messages.recv().await.is_none());
    })
    .await;
}

#[tokio::test]
async fn a_broker_hanging_up_is_reported_once_then_the_stream_ends() {
    let (client, mut messages, peer, _) = connect_with(connected("1.2"), quiet_options()).await;
    drop(peer);
    within(async {
        let end = messages.recv().await.unwrap().unwrap_err();
        assert!(matches!(end, ClientError::Closed), "{end:?}");
        assert!(messages.recv().await.is_none());
        let receipt = client.send_with_receipt(Frame::new(Command::Begin)).await;
        assert!(matches!(receipt, Err(ClientError::Closed)), "{receipt:?}");
    })
    .await;
}

#[tokio::test]
async fn the_connection_lives_while_either_handle_or_stream_is_held() {
    let (client, mut messages, mut peer, _) = connect_with(connected("1.2"), quiet_options()).await;
    within(async {
        // An auto-ack consumer needs only the stream.
        drop(client);
        peer.send(&message(1)).await;
        let got = messages.recv().await.unwrap().unwrap();
        assert_eq!(got.get("message-id"), Some("m-1"));
        drop(messages);
        assert!(peer.next_item().await.is_none(), "client should hang up");
    })
    .await;
}

#[tokio::test]
async fn a_slow_reader_pushes_back_on_the_broker() {
    let (_client, mut messages, mut peer, _) =
        connect_with(connected("1.2"), quiet_options()).await;
    let big = Frame::new(Command::Message)
        .header("message-id", "big")
        .with_body(vec![b'x'; 64 * 1024]);
    let mut accepted = 0usize;
    // Nobody reads `messages`, so the client must stop reading the socket: the broker's
    // writes stall once the bounded queue and the kernel's socket buffers are full.
    while tokio::time::timeout(Duration::from_millis(500), peer.send(&big))
        .await
        .is_ok()
    {
        accepted += 1;
        assert!(accepted < 1024, "64 MiB taken in without anyone reading");
    }
    within(async {
        let first = messages.recv().await.unwrap().unwrap();
        assert_eq!(first.body.len(), 64 * 1024);
    })
    .await;
}
