//! Paging: persistent messages past the memory high-water mark stay on disk, producers keep
//! going, and consumers get every message once, in the order sent, across restarts.

use ferromq_client::{AckMode, Client, Command, ConnectOptions, Frame, Messages};
use ferromq_core::{BrokerHandle, Destination};
use ferromq_server::{BrokerConfig, Protocol, RunningServer};
use ferromq_testkit::next_message;

/// Small limits: 64 KiB per destination before paging, 4 KiB bodies.
const LIMITS: &str = "memory_limit = \"1 MiB\"\ndestination_memory_limit = \"128 KiB\"\ncursor_memory_high_water_mark = 50";
const BODY: usize = 4096;

async fn start(dir: &std::path::Path) -> RunningServer {
    start_with(dir, "").await
}

async fn start_with(dir: &std::path::Path, extra: &str) -> RunningServer {
    let text = format!(
        "[broker]\ndata_dir = \"data\"\n{LIMITS}\n{extra}\n[console]\nenabled = false\n\n[[transport_connector]]\nname = \"stomp\"\nuri = \"stomp://127.0.0.1:0\"\n"
    );
    let config = BrokerConfig::parse(&text, "paging-test.toml", dir).unwrap();
    RunningServer::start(config).await.unwrap()
}

async fn client(server: &RunningServer) -> (Client, Messages) {
    let address = server.address_of(Protocol::Stomp).unwrap().to_string();
    let options = ConnectOptions {
        heart_beat: (0, 0),
        ..ConnectOptions::default()
    };
    Client::connect(&address, options).await.unwrap()
}

/// The body of message `n`: every byte depends on `n`.
fn body_of(n: usize) -> Vec<u8> {
    (0..BODY).map(|i| ((i + n * 7) % 251) as u8).collect()
}

/// Message `n`: its number in a header and [`body_of`] it.
fn numbered(queue: &str, n: usize) -> Frame {
    Frame::new(Command::Send)
        .header("destination", queue)
        .header("persistent", "true")
        .header("n", n.to_string())
        .with_body(body_of(n))
}

fn number_of(frame: &Frame) -> usize {
    let n: usize = frame.get("n").and_then(|n| n.parse().ok()).unwrap();
    assert_eq!(frame.body, body_of(n), "body of message {n}");
    n
}

async fn subscribe(consumer: &Client, queue: &str, mode: AckMode, prefetch: &str) {
    consumer
        .subscribe(queue, "s", mode, &[("activemq.prefetchSize", prefetch)])
        .await
        .unwrap();
}

async fn send_range(server: &RunningServer, queue: &str, range: std::ops::Range<usize>) {
    let (producer, _) = client(server).await;
    for n in range {
        producer
            .send_with_receipt(numbered(queue, n))
            .await
            .unwrap();
    }
    producer.disconnect().await.unwrap();
}

async fn queue_state(broker: &BrokerHandle, queue: &str) -> (usize, usize, usize) {
    let stats = broker.stats().await.unwrap();
    let destination = Destination::queue(queue.trim_start_matches("/queue/")).unwrap();
    let space = stats
        .spaces
        .iter()
        .find(|space| space.destination == destination)
        .unwrap();
    (space.pending, space.memory_bytes, stats.memory_used)
}

#[tokio::test]
async fn a_deep_queue_stays_on_disk_and_drains_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let queue = "/queue/deep";
    // 2000 × 4 KiB = 8 MiB, eight times the broker's whole memory limit: without paging the
    // producer would be held by flow control long before the end.
    send_range(&server, queue, 0..2000).await;
    let (pending, space_memory, broker_memory) = queue_state(server.broker(), queue).await;
    assert_eq!(pending, 2000);
    assert!(space_memory <= 64 * 1024, "in memory: {space_memory}");
    assert!(broker_memory <= 64 * 1024, "in memory: {broker_memory}");

    let (consumer, mut messages) = client(&server).await;
    subscribe(&consumer, queue, AckMode::Client, "100").await;
    let (producer, _) = client(&server).await;
    let mut expected = 0;
    while expected < 2500 {
        let message = next_message(&mut messages).await;
        assert_eq!(number_of(&message), expected, "arrival order");
        expected += 1;
        if expected % 50 == 0 {
            consumer.ack(&message, None).await.unwrap();
        }
        // Sent while the queue still has a disk tail: they join it and come after it.
        if expected == 100 {
            for n in 2000..2500 {
                producer
                    .send_with_receipt(numbered(queue, n))
                    .await
                    .unwrap();
            }
        }
    }
    let (pending, _, _) = queue_state(server.broker(), queue).await;
    assert_eq!(pending, 0);
    assert!(server.journal().unwrap().stats().messages_read >= 2000);
    server.shutdown().await;
}

#[tokio::test]
async fn paged_out_messages_survive_a_restart_and_none_comes_back_twice() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let queue = "/queue/restart";
    send_range(&server, queue, 0..600).await;
    // Take and acknowledge the first 200, then stop with the rest on disk.
    let (consumer, mut messages) = client(&server).await;
    subscribe(&consumer, queue, AckMode::ClientIndividual, "10").await;
    for n in 0..200 {
        let message = next_message(&mut messages).await;
        assert_eq!(number_of(&message), n);
        consumer.ack(&message, None).await.unwrap();
    }
    consumer.disconnect().await.unwrap();
    server.shutdown().await;

    let server = start(dir.path()).await;
    // Nothing is read at start: everything waits on disk until a consumer comes.
    let (pending, space_memory, _) = queue_state(server.broker(), queue).await;
    assert_eq!(pending, 400);
    assert_eq!(space_memory, 0);
    // Sent after the restart, before anything was paged in: it waits behind the stored
    // messages instead of overtaking them.
    let (producer, _) = client(&server).await;
    let late = Frame::new(Command::Send)
        .header("destination", queue)
        .header("persistent", "false")
        .with_body("late".to_owned());
    producer.send_with_receipt(late).await.unwrap();
    let (pending, _, _) = queue_state(server.broker(), queue).await;
    assert_eq!(pending, 401);
    let (consumer, mut messages) = client(&server).await;
    consumer
        .subscribe(queue, "s", AckMode::Auto, &[])
        .await
        .unwrap();
    for n in 200..600 {
        assert_eq!(number_of(&next_message(&mut messages).await), n);
    }
    assert_eq!(next_message(&mut messages).await.body, "late".as_bytes());
    ferromq_testkit::no_message(&mut messages, std::time::Duration::from_millis(300)).await;
    server.shutdown().await;
}

#[tokio::test]
async fn purging_a_paged_queue_drops_the_disk_tail_but_not_deliveries_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let queue = "/queue/purged";
    send_range(&server, queue, 0..300).await;
    let (consumer, mut messages) = client(&server).await;
    subscribe(&consumer, queue, AckMode::ClientIndividual, "1").await;
    let held = next_message(&mut messages).await;
    assert_eq!(number_of(&held), 0);
    let destination = Destination::queue("purged").unwrap();
    let purged = server.broker().purge(destination).await.unwrap();
    assert_eq!(purged, 299, "everything but the delivery in flight");
    // Sent after the purge: kept.
    send_range(&server, queue, 300..302).await;
    server.shutdown().await;

    let server = start(dir.path()).await;
    let (consumer, mut messages) = client(&server).await;
    consumer
        .subscribe(queue, "s", AckMode::Auto, &[])
        .await
        .unwrap();
    let first = next_message(&mut messages).await;
    assert_eq!(number_of(&first), 0, "the unacknowledged delivery is kept");
    assert_eq!(first.get("redelivered"), Some("true"));
    assert_eq!(number_of(&next_message(&mut messages).await), 300);
    assert_eq!(number_of(&next_message(&mut messages).await), 301);
    ferromq_testkit::no_message(&mut messages, std::time::Duration::from_millis(300)).await;
    server.shutdown().await;
}

#[tokio::test]
async fn an_offline_durable_subscriber_pages_its_backlog_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let address = server.address_of(Protocol::Stomp).unwrap().to_string();
    let options = || ConnectOptions {
        heart_beat: (0, 0),
        client_id: Some("pager".into()),
        ..ConnectOptions::default()
    };
    let durable = [("activemq.subscriptionName", "backlog")];
    let (subscriber, _) = Client::connect(&address, options()).await.unwrap();
    subscriber
        .subscribe("/topic/feed", "d", AckMode::Auto, &durable)
        .await
        .unwrap();
    subscriber.disconnect().await.unwrap();
    send_range(&server, "/topic/feed", 0..800).await;
    let stats = server.broker().stats().await.unwrap();
    let backlog = stats
        .spaces
        .iter()
        .find(|space| {
            space
                .subscription
                .as_ref()
                .is_some_and(|(_, name)| name == "backlog")
        })
        .unwrap();
    assert_eq!(backlog.pending, 800);
    assert!(
        backlog.memory_bytes <= 64 * 1024,
        "{}",
        backlog.memory_bytes
    );

    let (subscriber, mut messages) = Client::connect(&address, options()).await.unwrap();
    subscriber
        .subscribe("/topic/feed", "d", AckMode::Auto, &durable)
        .await
        .unwrap();
    for n in 0..800 {
        assert_eq!(number_of(&next_message(&mut messages).await), n);
    }
    server.shutdown().await;
}

#[tokio::test]
async fn a_message_dead_lettered_into_a_paged_dlq_joins_the_end_of_its_tail() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with(dir.path(), "max_redeliveries = 0").await;
    let dlq = "/queue/ActiveMQ.DLQ";
    send_range(&server, dlq, 0..300).await;
    send_range(&server, "/queue/work", 300..301).await;
    // With max_redeliveries = 0, the first refusal dead-letters the message; its copy is
    // written with the next journal batch, behind the 300 already on disk.
    let (worker, mut work) = client(&server).await;
    subscribe(&worker, "/queue/work", AckMode::ClientIndividual, "1").await;
    let refused = next_message(&mut work).await;
    worker.nack(&refused, None).await.unwrap();
    worker.disconnect().await.unwrap();

    let (consumer, mut messages) = client(&server).await;
    subscribe(&consumer, dlq, AckMode::Auto, "50").await;
    for n in 0..=300 {
        assert_eq!(number_of(&next_message(&mut messages).await), n);
    }
    ferromq_testkit::no_message(&mut messages, std::time::Duration::from_millis(300)).await;
    server.shutdown().await;
}
