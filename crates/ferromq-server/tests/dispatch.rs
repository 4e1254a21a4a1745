//! Dispatch fairness and isolation between consumers.

use std::time::Duration;

use ferromq_client::{AckMode, Command, Frame};
use ferromq_testkit::{next_message, no_message, TestBroker};

async fn fill(broker: &TestBroker, destination: &str, count: usize) {
    let (producer, _) = broker.client().await;
    for i in 0..count {
        let frame = Frame::new(Command::Send)
            .header("destination", destination)
            .header("n", i.to_string())
            .with_body("m");
        producer.send(frame).await.unwrap();
    }
    producer.disconnect().await.unwrap();
}

#[tokio::test]
async fn a_stalled_consumer_does_not_hold_up_the_others() {
    let broker = TestBroker::start().await;
    let (stalled, mut stalled_messages) = broker.client().await;
    stalled
        .subscribe(
            "/queue/work",
            "a",
            AckMode::ClientIndividual,
            &[("activemq.prefetchSize", "5")],
        )
        .await
        .unwrap();
    let (busy, mut busy_messages) = broker.client().await;
    busy.subscribe(
        "/queue/work",
        "b",
        AckMode::ClientIndividual,
        &[("activemq.prefetchSize", "5")],
    )
    .await
    .unwrap();
    fill(&broker, "/queue/work", 100).await;
    // The stalled consumer takes its 5 and never acks; the other must get the remaining 95.
    for _ in 0..5 {
        next_message(&mut stalled_messages).await;
    }
    for _ in 0..95 {
        let frame = next_message(&mut busy_messages).await;
        busy.ack(&frame, None).await.unwrap();
    }
    no_message(&mut busy_messages, Duration::from_millis(200)).await;
}

#[tokio::test]
async fn competing_consumers_share_a_queue() {
    let broker = TestBroker::start().await;
    let (first, mut first_messages) = broker.client().await;
    first
        .subscribe(
            "/queue/shared",
            "1",
            AckMode::Auto,
            &[("activemq.prefetchSize", "1")],
        )
        .await
        .unwrap();
    let (second, mut second_messages) = broker.client().await;
    second
        .subscribe(
            "/queue/shared",
            "2",
            AckMode::Auto,
            &[("activemq.prefetchSize", "1")],
        )
        .await
        .unwrap();
    fill(&broker, "/queue/shared", 20).await;
    let (mut a, mut b) = (0, 0);
    for _ in 0..20 {
        tokio::select! {
            Some(Ok(_)) = first_messages.recv() => a += 1,
            Some(Ok(_)) = second_messages.recv() => b += 1,
        }
    }
    assert_eq!(a + b, 20);
    assert!(a >= 5 && b >= 5, "round-robin dispatch, got {a} and {b}");
}

#[tokio::test]
async fn priority_beats_arrival_order() {
    let broker = TestBroker::start().await;
    let (producer, _) = broker.client().await;
    for (priority, body) in [
        ("1", "low-1"),
        ("1", "low-2"),
        ("9", "high-1"),
        ("9", "high-2"),
        ("4", "mid"),
    ] {
        let frame = Frame::new(Command::Send)
            .header("destination", "/queue/p")
            .header("priority", priority)
            .with_body(body);
        producer.send_with_receipt(frame).await.unwrap();
    }
    let (consumer, mut messages) = broker.client().await;
    consumer
        .subscribe("/queue/p", "s", AckMode::Auto, &[])
        .await
        .unwrap();
    let mut order = Vec::new();
    for _ in 0..5 {
        order.push(String::from_utf8(next_message(&mut messages).await.body.to_vec()).unwrap());
    }
    assert_eq!(order, ["high-1", "high-2", "mid", "low-1", "low-2"]);
}
