//! Heart-beats: the client sends them at the negotiated rate and notices a silent broker.

use std::time::{Duration, Instant};

use ferromq_client::{ClientError, ConnectOptions};
use ferromq_stomp::{Command, Frame, Item};

use crate::fake_broker::{connect_with, connected_beating, quiet_options, within};

#[tokio::test]
async fn heart_beats_go_out_at_the_negotiated_interval() {
    // We offer 50 ms, the broker wants one every 80 ms: the slower, 80 ms, applies.
    let opts = ConnectOptions {
        heart_beat: (50, 0),
        ..quiet_options()
    };
    let reply = connected_beating("1.2", "0,80");
    let (_client, _messages, mut peer, connect) = connect_with(reply, opts).await;
    assert_eq!(connect.get("heart-beat"), Some("50,0"));
    within(async {
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(peer.next_item().await, Some(Item::HeartBeat));
        }
        assert!(
            start.elapsed() >= Duration::from_millis(200),
            "{:?}",
            start.elapsed()
        );
    })
    .await;
}

#[tokio::test]
async fn a_broker_that_goes_silent_is_declared_dead() {
    let opts = ConnectOptions {
        heart_beat: (0, 50),
        ..quiet_options()
    };
    let reply = connected_beating("1.2", "50,0");
    let (client, mut messages, _peer, _) = connect_with(reply, opts).await;
    within(async {
        let pending = client
            .start_receipt(Frame::new(Command::Begin))
            .await
            .unwrap();
        let end = messages.recv().await.unwrap().unwrap_err();
        assert!(
            matches!(end, ClientError::HeartBeatTimeout(d) if d == Duration::from_millis(100)),
            "{end:?}"
        );
        assert!(matches!(
            pending.await,
            Err(ClientError::HeartBeatTimeout(_))
        ));
    })
    .await;
}

#[tokio::test]
async fn broker_heart_beats_keep_the_connection_alive() {
    let opts = ConnectOptions {
        heart_beat: (0, 100),
        ..quiet_options()
    };
    let reply = connected_beating("1.2", "100,0");
    let (_client, mut messages, mut peer, _) = connect_with(reply, opts).await;
    within(async {
        // Several times the 200 ms dead-broker threshold, bridged by heart-beats.
        for _ in 0..30 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            peer.stream.try_write(b"\n").unwrap();
        }
        peer.send(&Frame::new(Command::Message).header("message-id", "m"))
            .await;
        let message = messages.recv().await.unwrap().unwrap();
        assert_eq!(message.get("message-id"), Some("m"));
    })
    .await;
}
