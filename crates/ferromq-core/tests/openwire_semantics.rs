//! Core behaviour the OpenWire adapter relies on: POISON / EXPIRED / DELIVERED and range acks,
//! rollbacks that keep deliveries with the consumer, consumer close with
//! `lastDeliveredSequenceId`, and prefetch-0 pulls.

use ferromq_core::{AckKind, AckMode, CoreConfig, LastDelivered, Outbound};

use crate::support::*;

#[tokio::test]
async fn poison_ack_dead_letters_at_once() {
    let handle = core(CoreConfig::default());
    let mut session = session(&handle, None).await;
    let consumer = subscribe(&session, spec(queue("w"), AckMode::Individual)).await;
    send(&session, text(queue("w"), "bad")).await;
    let delivery = deliver(&mut session).await;
    session
        .ack(consumer, delivery.tag, AckKind::Poison, None, false)
        .await
        .unwrap();
    let dlq = handle.browse(queue("ActiveMQ.DLQ"), 10).await.unwrap();
    assert_eq!(dlq.len(), 1, "first poison ack goes straight to the DLQ");
}

#[tokio::test]
async fn range_acks_settle_exactly_the_range() {
    let handle = core(CoreConfig::default());
    let mut session = session(&handle, None).await;
    let consumer = subscribe(&session, spec(queue("r"), AckMode::Client)).await;
    for i in 0..5 {
        send(&session, text(queue("r"), &i.to_string())).await;
    }
    let mut tags = Vec::new();
    for _ in 0..5 {
        tags.push(deliver(&mut session).await.tag);
    }
    session
        .ack_range(
            consumer,
            Some(tags[1]),
            tags[3],
            AckKind::Cumulative,
            None,
            false,
        )
        .await
        .unwrap();
    let left: Vec<bool> = handle
        .browse(queue("r"), 10)
        .await
        .unwrap()
        .iter()
        .map(|b| b.in_flight)
        .collect();
    assert_eq!(
        left,
        [true, true],
        "deliveries 0 and 4 are still unacknowledged"
    );
}

#[tokio::test]
async fn delivered_acks_open_the_window_without_settling() {
    let handle = core(CoreConfig::default());
    let mut session = session(&handle, None).await;
    let mut narrow = spec(queue("d"), AckMode::Client);
    narrow.prefetch = 2;
    let consumer = subscribe(&session, narrow).await;
    for i in 0..4 {
        send(&session, text(queue("d"), &i.to_string())).await;
    }
    let first = deliver(&mut session).await;
    let second = deliver(&mut session).await;
    quiet(&mut session).await;
    session
        .ack_range(consumer, None, second.tag, AckKind::Delivered, None, false)
        .await
        .unwrap();
    deliver(&mut session).await;
    deliver(&mut session).await;
    let stats = handle.stats().await.unwrap();
    let space = stats
        .spaces
        .iter()
        .find(|s| s.destination == queue("d"))
        .unwrap();
    assert_eq!(
        space.in_flight, 4,
        "delivered-acked messages stay unacknowledged"
    );
    session
        .ack_range(
            consumer,
            None,
            first.tag.max(second.tag) + 2,
            AckKind::Cumulative,
            None,
            false,
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn an_openwire_rollback_keeps_deliveries_with_the_consumer() {
    let handle = core(CoreConfig::default());
    let mut session = session(&handle, None).await;
    let consumer = subscribe(&session, spec(queue("t"), AckMode::Client)).await;
    send(&session, text(queue("t"), "m")).await;
    let delivery = deliver(&mut session).await;
    session.begin_replayable("tx".into()).await.unwrap();
    session.begin_replayable("tx".into()).await.unwrap();
    session
        .ack(
            consumer,
            delivery.tag,
            AckKind::Cumulative,
            Some("tx".into()),
            false,
        )
        .await
        .unwrap();
    session
        .rollback_keeping_deliveries("tx".into())
        .await
        .unwrap();
    quiet(&mut session).await;
    // Still in flight: the client redelivers it locally and acks it again.
    session
        .ack(consumer, delivery.tag, AckKind::Cumulative, None, false)
        .await
        .unwrap();
    assert!(handle.browse(queue("t"), 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn closing_with_nothing_delivered_does_not_count_a_redelivery() {
    let handle = core(CoreConfig::default());
    let mut first = session(&handle, None).await;
    let consumer = subscribe(&first, spec(queue("c"), AckMode::Client)).await;
    send(&first, text(queue("c"), "a")).await;
    send(&first, text(queue("c"), "b")).await;
    let a = deliver(&mut first).await;
    deliver(&mut first).await;
    first
        .unsubscribe_after(consumer, LastDelivered::UpTo(a.tag))
        .await
        .unwrap();
    let mut second = session(&handle, None).await;
    subscribe(&second, spec(queue("c"), AckMode::Auto)).await;
    let again_a = deliver(&mut second).await;
    let again_b = deliver(&mut second).await;
    assert!(again_a.redelivered, "a reached the application");
    assert!(!again_b.redelivered, "b never did");
}

#[tokio::test]
async fn prefetch_zero_consumers_receive_only_what_they_pull() {
    let handle = core(CoreConfig::default());
    let mut session = session(&handle, None).await;
    let mut pulling = spec(queue("p"), AckMode::Individual);
    pulling.prefetch = 0;
    let consumer = subscribe(&session, pulling).await;
    session.pull(consumer, false).await.unwrap();
    match tokio::time::timeout(WAIT, session.next_outbound()).await {
        Ok(Some(Outbound::PullEmpty { consumer: c })) => assert_eq!(c, consumer),
        other => panic!("expected an empty pull answer, got {other:?}"),
    }
    send(&session, text(queue("p"), "one")).await;
    send(&session, text(queue("p"), "two")).await;
    quiet(&mut session).await;
    session.pull(consumer, true).await.unwrap();
    assert_eq!(body(&deliver(&mut session).await), "one");
    quiet(&mut session).await;
    session.pull(consumer, true).await.unwrap();
    assert_eq!(body(&deliver(&mut session).await), "two");
    session.pull(consumer, true).await.unwrap();
    session.cancel_pull(consumer).await.unwrap();
    assert!(matches!(
        tokio::time::timeout(WAIT, session.next_outbound()).await,
        Ok(Some(Outbound::PullEmpty { .. }))
    ));
}

#[tokio::test]
async fn resends_of_the_same_producer_sequence_are_dropped() {
    use ferromq_core::ProducerSequence;
    let handle = core(CoreConfig::default());
    let mut session = session(&handle, None).await;
    subscribe(&session, spec(queue("dup"), AckMode::Auto)).await;
    for (sequence, body) in [(1, "a"), (2, "b"), (2, "b again"), (1, "a again"), (3, "c")] {
        let mut message = text(queue("dup"), body);
        message.producer_sequence = Some(ProducerSequence {
            producer: "ID:p-1:1:1".into(),
            sequence,
        });
        send(&session, message).await;
    }
    let bodies = [
        body(&deliver(&mut session).await).to_owned(),
        body(&deliver(&mut session).await).to_owned(),
        body(&deliver(&mut session).await).to_owned(),
    ];
    assert_eq!(bodies, ["a", "b", "c"]);
    quiet(&mut session).await;
}

#[tokio::test]
async fn a_reconnecting_client_takes_its_client_id_over() {
    use ferromq_core::{ConnectRequest, CoreError};
    let handle = core(CoreConfig::default());
    let mut old = session(&handle, Some("app")).await;
    let request = |take_over| ConnectRequest {
        client_id: Some("app".into()),
        temp_prefix: "X:".into(),
        outbound_capacity: 8,
        peer: "test".into(),
        take_over,
    };
    assert!(matches!(
        handle.connect(request(false)).await,
        Err(CoreError::ClientIdInUse(_))
    ));
    let _new = handle.connect(request(true)).await.unwrap();
    assert!(matches!(
        tokio::time::timeout(WAIT, old.next_outbound()).await,
        Ok(Some(Outbound::Close { .. }))
    ));
}

#[tokio::test]
async fn temp_destination_advisories_are_published_and_replayed() {
    use ferromq_core::advisory::Advisory;
    use ferromq_core::{Destination, DestinationKind};
    let handle = core(CoreConfig::default());
    let owner = session_with_prefix(&handle, "ID:c1:").await;
    let early = Destination::new(DestinationKind::TempQueue, "ID:c1:1").unwrap();
    owner.temp_destination(early.clone(), true).await.unwrap();
    // The Java client listens on one composite subscription for both kinds.
    let mut watcher = session(&handle, None).await;
    let both = topic("ActiveMQ.Advisory.TempQueue,ActiveMQ.Advisory.TempTopic");
    subscribe(&watcher, spec(both, AckMode::Auto)).await;
    let replayed = deliver(&mut watcher).await;
    assert_eq!(replayed.message.message_type.as_deref(), Some("Advisory"));
    assert!(
        matches!(&replayed.message.advisory, Some(Advisory::TempDestination { destination, added: true, .. }) if *destination == early)
    );
    let later = Destination::new(DestinationKind::TempTopic, "ID:c1:2").unwrap();
    owner.temp_destination(later.clone(), true).await.unwrap();
    let added = deliver(&mut watcher).await;
    assert!(
        matches!(&added.message.advisory, Some(Advisory::TempDestination { destination, added: true, .. }) if *destination == later)
    );
    owner.close().await;
    let mut removed = Vec::new();
    for _ in 0..2 {
        if let Some(Advisory::TempDestination {
            destination,
            added: false,
            ..
        }) = deliver(&mut watcher).await.message.advisory.clone()
        {
            removed.push(destination);
        }
    }
    removed.sort();
    let mut expected = vec![early, later];
    expected.sort();
    assert_eq!(removed, expected, "both die with their connection");
}

#[tokio::test]
async fn consumer_advisories_follow_consumers() {
    use ferromq_core::advisory::Advisory;
    let handle = core(CoreConfig::default());
    let mut watcher = session(&handle, None).await;
    subscribe(
        &watcher,
        spec(
            topic("ActiveMQ.Advisory.Consumer.Queue.orders"),
            AckMode::Auto,
        ),
    )
    .await;
    let consumer_session = session(&handle, None).await;
    let consumer = subscribe(&consumer_session, spec(queue("orders"), AckMode::Auto)).await;
    match deliver(&mut watcher).await.message.advisory.clone() {
        Some(Advisory::Consumer {
            added: true,
            consumer_count: 1,
            consumer: id,
            ..
        }) => assert_eq!(id, consumer),
        other => panic!("expected a consumer-added advisory, got {other:?}"),
    }
    consumer_session.unsubscribe(consumer).await.unwrap();
    assert!(matches!(
        deliver(&mut watcher).await.message.advisory,
        Some(Advisory::Consumer { added: false, .. })
    ));
}

#[tokio::test]
async fn a_consumer_replayed_with_prefetch_zero_resumes_when_its_prefetch_is_restored() {
    let handle = core(CoreConfig::default());
    let mut session = session(&handle, None).await;
    let mut replayed = spec(queue("f"), AckMode::Client);
    replayed.prefetch = 0;
    let consumer = subscribe(&session, replayed).await;
    send(&session, text(queue("f"), "waiting")).await;
    quiet(&mut session).await;
    session.set_prefetch(consumer, 1000).await.unwrap();
    assert_eq!(body(&deliver(&mut session).await), "waiting");
}

#[tokio::test]
async fn connection_destination_and_producer_advisories() {
    use ferromq_core::advisory::Advisory;
    let handle = core(CoreConfig::default());
    let mut watcher = session(&handle, None).await;
    for name in [
        "ActiveMQ.Advisory.Connection",
        "ActiveMQ.Advisory.Queue",
        "ActiveMQ.Advisory.Producer.Queue.jobs",
    ] {
        subscribe(&watcher, spec(topic(name), AckMode::Auto)).await;
    }
    let other = session(&handle, Some("app")).await;
    match deliver(&mut watcher).await.message.advisory.clone() {
        Some(Advisory::Connection {
            added: true,
            client_id,
            ..
        }) => assert_eq!(client_id.as_deref(), Some("app")),
        advisory => panic!("expected a connection advisory, got {advisory:?}"),
    }
    send(&other, text(queue("jobs"), "first")).await;
    assert!(matches!(
        deliver(&mut watcher).await.message.advisory.clone(),
        Some(Advisory::Destination { added: true, destination }) if destination == queue("jobs")
    ));
    other
        .announce_producer(queue("jobs"), "ID:p:1:1".into(), true)
        .await
        .unwrap();
    assert!(matches!(
        deliver(&mut watcher).await.message.advisory,
        Some(Advisory::Producer { added: true, .. })
    ));
    other.close().await;
    assert!(matches!(
        deliver(&mut watcher).await.message.advisory,
        Some(Advisory::Connection { added: false, .. })
    ));
}
