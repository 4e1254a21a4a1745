//! Producer flow control: producers wait (or are refused) at a memory limit and nothing
//! accepted is lost.

use std::time::Duration;

use ferromq_client::{AckMode, Command, Frame};
use ferromq_testkit::{broker_error, next_message, TestBroker, WAIT};

fn message(destination: &str, size: usize) -> Frame {
    Frame::new(Command::Send)
        .header("destination", destination)
        .with_body(vec![b'x'; size])
}

#[tokio::test]
async fn producer_waits_at_the_destination_limit_until_a_consumer_drains() {
    let broker = TestBroker::with("destination_memory_limit = \"8 KiB\"", "").await;
    let (producer, _) = broker.client().await;
    // Each message takes about 1.2 KiB of accounted memory: the limit admits a handful.
    let mut receipts = Vec::new();
    for _ in 0..40 {
        receipts.push(
            producer
                .start_receipt(message("/queue/limited", 1024))
                .await
                .unwrap(),
        );
    }
    let mut answered = 0;
    let mut waiting = Vec::new();
    for receipt in receipts {
        waiting.push(tokio::spawn(receipt));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    for task in &waiting {
        if task.is_finished() {
            answered += 1;
        }
    }
    assert!(answered > 0, "the first messages fit under the limit");
    assert!(
        answered < 40,
        "the producer must be held at the limit, got {answered} receipts"
    );

    let (consumer, mut messages) = broker.client().await;
    consumer
        .subscribe("/queue/limited", "s", AckMode::ClientIndividual, &[])
        .await
        .unwrap();
    for _ in 0..40 {
        let frame = next_message(&mut messages).await;
        consumer.ack(&frame, None).await.unwrap();
    }
    for task in waiting {
        tokio::time::timeout(WAIT, task)
            .await
            .expect("receipt after draining")
            .unwrap()
            .unwrap();
    }
}

#[tokio::test]
async fn send_fail_if_no_space_refuses_but_keeps_the_connection() {
    let broker = TestBroker::with(
        "destination_memory_limit = \"4 KiB\"\nsend_fail_if_no_space = true",
        "",
    )
    .await;
    let (producer, _) = broker.client().await;
    let mut refused = None;
    for _ in 0..20 {
        if let Err(err) = producer
            .send_with_receipt(message("/queue/full", 1024))
            .await
        {
            refused = Some(Err(err));
            break;
        }
    }
    let text = broker_error(refused.expect("a send over the limit is refused"));
    assert!(text.contains("memory limit"), "{text}");
    // The same connection still works for another destination.
    producer
        .send_with_receipt(message("/queue/other", 10))
        .await
        .unwrap();
}
