//! Restarts, graceful shutdown and connection limits.

use std::time::Duration;

use ferromq_client::{AckMode, Client, Command, ConnectOptions, Frame};
use ferromq_testkit::{next_message, no_message, TestBroker, WAIT};

fn persistent(destination: &str, body: String) -> Frame {
    Frame::new(Command::Send)
        .header("destination", destination)
        .header("persistent", "true")
        .with_body(body)
}

#[tokio::test]
async fn persistent_messages_survive_a_restart_and_non_persistent_do_not() {
    let mut broker = TestBroker::start().await;
    let (producer, _) = broker.client().await;
    for i in 0..50 {
        producer
            .send_with_receipt(persistent("/queue/kept", format!("p{i}")))
            .await
            .unwrap();
    }
    let transient = Frame::new(Command::Send)
        .header("destination", "/queue/kept")
        .with_body("gone");
    producer.send_with_receipt(transient).await.unwrap();
    producer.disconnect().await.unwrap();
    broker.restart().await;

    let (consumer, mut messages) = broker.client().await;
    consumer
        .subscribe("/queue/kept", "s", AckMode::Auto, &[])
        .await
        .unwrap();
    for i in 0..50 {
        let frame = next_message(&mut messages).await;
        assert_eq!(frame.body, format!("p{i}").into_bytes());
    }
    no_message(&mut messages, Duration::from_millis(200)).await;
}

#[tokio::test]
async fn acknowledged_messages_stay_gone_after_a_restart() {
    let mut broker = TestBroker::start().await;
    let (client, mut messages) = broker.client().await;
    for i in 0..10 {
        client
            .send_with_receipt(persistent("/queue/acked", format!("{i}")))
            .await
            .unwrap();
    }
    client
        .subscribe("/queue/acked", "s", AckMode::ClientIndividual, &[])
        .await
        .unwrap();
    for _ in 0..4 {
        let frame = next_message(&mut messages).await;
        client.ack(&frame, None).await.unwrap();
    }
    client.disconnect().await.unwrap();
    broker.restart().await;
    let (client, mut messages) = broker.client().await;
    client
        .subscribe("/queue/acked", "s", AckMode::Auto, &[])
        .await
        .unwrap();
    for i in 4..10 {
        assert_eq!(
            next_message(&mut messages).await.body,
            format!("{i}").into_bytes()
        );
    }
    no_message(&mut messages, Duration::from_millis(200)).await;
}

#[tokio::test]
async fn durable_subscription_keeps_its_backlog_across_a_restart() {
    let mut broker = TestBroker::start().await;
    let options = || ConnectOptions {
        client_id: Some("durable-client".into()),
        ..ConnectOptions::default()
    };
    let (subscriber, _) = broker.client_with(options()).await;
    subscriber
        .subscribe(
            "/topic/news",
            "d",
            AckMode::Auto,
            &[("activemq.subscriptionName", "news")],
        )
        .await
        .unwrap();
    subscriber.disconnect().await.unwrap();
    let (producer, _) = broker.client().await;
    for i in 0..5 {
        producer
            .send_with_receipt(persistent("/topic/news", format!("n{i}")))
            .await
            .unwrap();
    }
    producer.disconnect().await.unwrap();
    broker.restart().await;
    let (subscriber, mut messages) = broker.client_with(options()).await;
    subscriber
        .subscribe(
            "/topic/news",
            "d",
            AckMode::Auto,
            &[("activemq.subscriptionName", "news")],
        )
        .await
        .unwrap();
    for i in 0..5 {
        assert_eq!(
            next_message(&mut messages).await.body,
            format!("n{i}").into_bytes()
        );
    }
}

#[tokio::test]
async fn shutdown_answers_pending_sends_and_keeps_what_it_receipted() {
    let mut broker = TestBroker::start().await;
    let (producer, _) = broker.client().await;
    let mut receipts = Vec::new();
    for i in 0..200 {
        receipts.push(
            producer
                .start_receipt(persistent("/queue/drain", format!("{i}")))
                .await
                .unwrap(),
        );
    }
    // Make sure the broker has seen the first half before it is told to stop.
    let rest = receipts.split_off(100);
    for receipt in receipts {
        receipt.await.unwrap();
    }
    broker.stop().await;
    let mut receipted: Vec<usize> = (0..100).collect();
    for (i, receipt) in rest.into_iter().enumerate() {
        // Every pending send is answered, with a receipt or an error, never left hanging.
        if tokio::time::timeout(WAIT, receipt)
            .await
            .expect("answered")
            .is_ok()
        {
            receipted.push(100 + i);
        }
    }
    broker.restart().await;
    let (consumer, mut messages) = broker.client().await;
    consumer
        .subscribe("/queue/drain", "s", AckMode::Auto, &[])
        .await
        .unwrap();
    let mut recovered = Vec::new();
    while let Ok(Some(Ok(frame))) =
        tokio::time::timeout(Duration::from_millis(500), messages.recv()).await
    {
        let body = String::from_utf8(frame.body.to_vec()).unwrap();
        recovered.push(body.parse::<usize>().unwrap());
    }
    let mut in_order = recovered.clone();
    in_order.sort_unstable();
    in_order.dedup();
    assert_eq!(in_order, recovered, "no duplicates, in order");
    for i in &receipted {
        assert!(
            recovered.contains(i),
            "receipted message {i} must survive the shutdown"
        );
    }
}

#[tokio::test]
async fn maximum_connections_holds_extra_clients_back() {
    let broker = TestBroker::with("", "maximumConnections=2").await;
    let (first, _) = broker.client().await;
    let (_second, _) = broker.client().await;
    let options = ConnectOptions {
        heart_beat: (0, 0),
        connect_timeout: Duration::from_millis(300),
        ..ConnectOptions::default()
    };
    assert!(
        Client::connect(&broker.stomp_addr(), options.clone())
            .await
            .is_err(),
        "a third client must wait"
    );
    first.disconnect().await.unwrap();
    let options = ConnectOptions {
        connect_timeout: WAIT,
        ..options
    };
    Client::connect(&broker.stomp_addr(), options)
        .await
        .expect("a slot freed up");
}

#[tokio::test]
async fn frames_in_the_same_packet_as_connect_are_answered_at_once() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let broker = TestBroker::start().await;
    let mut stream = tokio::net::TcpStream::connect(broker.stomp_addr())
        .await
        .unwrap();
    let both = b"CONNECT\naccept-version:1.2\nhost:localhost\n\n\0SEND\ndestination:/queue/eager\nreceipt:r1\n\nhi\0";
    stream.write_all(both).await.unwrap();
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    while !String::from_utf8_lossy(&seen).contains("receipt-id:r1") {
        let mut chunk = [0u8; 1024];
        let read = tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await;
        let n = read.expect("RECEIPT within 2 s").unwrap();
        assert!(
            n > 0,
            "connection closed: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&chunk[..n]);
    }
}
