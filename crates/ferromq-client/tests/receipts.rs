//! Receipt matching: pipelined requests, out-of-order receipts, ERROR answers, and receipts
//! that must not get stuck behind messages nobody is reading yet.

use ferromq_client::{AckMode, ClientError};
use ferromq_stomp::{Command, Frame};

use crate::fake_broker::{connect_with, connected, is_broker_error, quiet_options, within};

#[tokio::test]
async fn receipts_are_matched_by_id_whatever_their_order() {
    let (client, _messages, mut peer, _) = connect_with(connected("1.2"), quiet_options()).await;
    within(async {
        let mut pending = Vec::new();
        for i in 0..3 {
            let frame = Frame::new(Command::Send)
                .header("destination", "/queue/a")
                .with_body(format!("m{i}"));
            pending.push(client.start_receipt(frame).await.unwrap());
        }
        let mut sent = Vec::new();
        for _ in 0..3 {
            sent.push(peer.next_frame().await);
        }
        let ids: Vec<_> = sent.iter().map(|f| f.get("receipt").unwrap()).collect();
        assert!(
            ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2],
            "{ids:?}"
        );
        for (future, frame) in pending.iter().zip(&sent) {
            assert_eq!(Some(future.receipt_id()), frame.get("receipt"));
        }
        // A receipt nobody asked for is ignored, then the real ones arrive backwards.
        peer.send(&Frame::new(Command::Receipt).header("receipt-id", "stray"))
            .await;
        for frame in sent.iter().rev() {
            peer.receipt_for(frame).await;
        }
        for future in pending {
            future.await.unwrap();
        }
    })
    .await;
}

#[tokio::test]
async fn transactions_and_subscriptions_wait_for_their_receipts() {
    let (client, _messages, mut peer, _) = connect_with(connected("1.2"), quiet_options()).await;
    within(async {
        let broker = async {
            let subscribe = peer.next_frame().await;
            assert_eq!(subscribe.command, Command::Subscribe);
            assert_eq!(subscribe.get("destination"), Some("/queue/a"));
            assert_eq!(subscribe.get("id"), Some("sub-1"));
            assert_eq!(subscribe.get("ack"), Some("client-individual"));
            assert_eq!(subscribe.get("selector"), Some("x > 1"));
            peer.receipt_for(&subscribe).await;
            for expected in [Command::Begin, Command::Commit, Command::Unsubscribe] {
                let frame = peer.next_frame().await;
                assert_eq!(frame.command, expected);
                peer.receipt_for(&frame).await;
            }
        };
        let user = async {
            client
                .subscribe(
                    "/queue/a",
                    "sub-1",
                    AckMode::ClientIndividual,
                    &[("selector", "x > 1")],
                )
                .await
                .unwrap();
            client.begin("tx-1").await.unwrap();
            client.commit("tx-1").await.unwrap();
            client.unsubscribe("sub-1").await.unwrap();
        };
        tokio::join!(broker, user);
    })
    .await;
}

fn refusal(request: &Frame, message: &str) -> Frame {
    let mut error = Frame::new(Command::Error)
        .header("message", message)
        .with_body("details for humans");
    if let Some(id) = request.get("receipt") {
        error.push_header("receipt-id", id);
    }
    error
}

fn send_to(destination: &str) -> Frame {
    Frame::new(Command::Send).header("destination", destination)
}

#[tokio::test]
async fn an_error_answering_a_request_fails_only_that_request() {
    // ActiveMQ's behaviour: ERROR with the request's receipt-id, connection left open.
    let (client, mut messages, mut peer, _) = connect_with(connected("1.2"), quiet_options()).await;
    within(async {
        let broker = async {
            let commit = peer.next_frame().await;
            peer.send(&refusal(&commit, "Invalid transaction id: t"))
                .await;
            let send = peer.next_frame().await;
            peer.receipt_for(&send).await;
            peer.send(&Frame::new(Command::Message).header("message-id", "m"))
                .await;
        };
        let user = async {
            match client.commit("t").await {
                Err(ClientError::Broker { message, body }) => {
                    assert_eq!(message, "Invalid transaction id: t");
                    assert_eq!(body, "details for humans");
                }
                other => panic!("expected a broker error, got {other:?}"),
            }
            client.send_with_receipt(send_to("/queue/a")).await.unwrap();
        };
        tokio::join!(broker, user);
        let message = messages.recv().await.unwrap().unwrap();
        assert_eq!(message.get("message-id"), Some("m"));
    })
    .await;
}

#[tokio::test]
async fn an_error_then_a_close_ends_the_stream_with_that_error() {
    // The spec's behaviour: ERROR, then the broker closes the connection.
    let (client, mut messages, mut peer, _) = connect_with(connected("1.2"), quiet_options()).await;
    within(async {
        let broker = async {
            let send = peer.next_frame().await;
            peer.send(&refusal(&send, "not authorized")).await;
            drop(peer);
        };
        let (result, ()) = tokio::join!(client.send_with_receipt(send_to("/queue/secret")), broker);
        let failed = result.unwrap_err();
        assert!(is_broker_error(&failed, "not authorized"), "{failed:?}");
        let end = messages.recv().await.unwrap().unwrap_err();
        assert!(is_broker_error(&end, "not authorized"), "{end:?}");
        assert!(messages.recv().await.is_none());
        let later = client.send(send_to("/queue/a")).await.unwrap_err();
        assert!(is_broker_error(&later, "not authorized"), "{later:?}");
    })
    .await;
}

#[tokio::test]
async fn an_unsolicited_error_ends_the_connection() {
    let (client, mut messages, mut peer, _) = connect_with(connected("1.2"), quiet_options()).await;
    within(async {
        let pending = client.start_receipt(send_to("/queue/a")).await.unwrap();
        peer.next_frame().await;
        peer.send(&refusal(&Frame::new(Command::Ack), "bad ack"))
            .await;
        let end = messages.recv().await.unwrap().unwrap_err();
        assert!(is_broker_error(&end, "bad ack"), "{end:?}");
        assert!(messages.recv().await.is_none());
        let failed = pending.await.unwrap_err();
        assert!(is_broker_error(&failed, "bad ack"), "{failed:?}");
        // The client hangs up even though this broker did not.
        assert!(peer.next_item().await.is_none());
    })
    .await;
}

#[tokio::test]
async fn a_receipt_is_not_stuck_behind_messages_nobody_reads_yet() {
    const BACKLOG: usize = 1_000;
    let (client, mut messages, mut peer, _) = connect_with(connected("1.2"), quiet_options()).await;
    within(async {
        let broker = async {
            let subscribe = peer.next_frame().await;
            for i in 0..BACKLOG {
                let message = Frame::new(Command::Message)
                    .header("subscription", "s")
                    .header("message-id", format!("m-{i}"))
                    .header("ack", format!("a-{i}"))
                    .with_body(format!("body {i}"));
                peer.send(&message).await;
            }
            peer.receipt_for(&subscribe).await;
        };
        // More messages than the stream buffers arrive before the receipt, and the caller
        // reads none of them until subscribe returns.
        let (subscribed, ()) = tokio::join!(
            client.subscribe("/queue/a", "s", AckMode::Auto, &[]),
            broker
        );
        subscribed.unwrap();
        for i in 0..BACKLOG {
            let message = messages.recv().await.unwrap().unwrap();
            assert_eq!(message.get("message-id"), Some(format!("m-{i}").as_str()));
        }
    })
    .await;
}
