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
