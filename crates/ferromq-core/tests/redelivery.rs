use ferromq_core::{AckKind, AckMode, CoreConfig, DeadLetterStrategy};

use crate::support::*;

#[tokio::test]
async fn nack_redelivers_then_dead_letters_after_the_limit() {
    let handle = core(CoreConfig {
        max_redeliveries: 2,
        ..CoreConfig::default()
    });
    let mut session = session(&handle, None).await;
    let consumer = subscribe(&session, spec(queue("work"), AckMode::Individual)).await;
    send(&session, text(queue("work"), "poison")).await;
    for attempt in 1..=3u32 {
        let delivery = deliver(&mut session).await;
        assert_eq!(delivery.delivery_count, attempt);
        assert_eq!(delivery.redelivered, attempt > 1);
        session
            .ack(consumer, delivery.tag, AckKind::Nack, None, false)
            .await
            .unwrap();
    }
    quiet(&mut session).await;
    let dlq = subscribe(&session, spec(queue("ActiveMQ.DLQ"), AckMode::Auto)).await;
    let dead = deliver(&mut session).await;
    assert_eq!(dead.consumer, dlq);
    assert_eq!(body(&dead), "poison");
    assert!(dead.message.property("dlqDeliveryFailureCause").is_some());
}

#[tokio::test]
async fn individual_dead_letter_strategy_uses_one_queue_per_destination() {
    let config = CoreConfig {
        max_redeliveries: 0,
        dead_letter: DeadLetterStrategy::Individual {
            prefix: "DLQ.".into(),
        },
        ..CoreConfig::default()
    };
    let handle = core(config);
    let mut session = session(&handle, None).await;
    let consumer = subscribe(&session, spec(queue("orders"), AckMode::Individual)).await;
    send(&session, text(queue("orders"), "x")).await;
    let delivery = deliver(&mut session).await;
    session
        .ack(consumer, delivery.tag, AckKind::Nack, None, false)
        .await
        .unwrap();
    subscribe(&session, spec(queue("DLQ.orders"), AckMode::Auto)).await;
    assert_eq!(body(&deliver(&mut session).await), "x");
}

#[tokio::test]
async fn unacked_messages_go_to_the_next_consumer_when_theirs_leaves() {
    let handle = core(CoreConfig::default());
    let mut first = session(&handle, None).await;
    let consumer = subscribe(&first, spec(queue("q"), AckMode::Individual)).await;
    send(&first, text(queue("q"), "held")).await;
    let delivery = deliver(&mut first).await;
    assert!(!delivery.redelivered);
    first.unsubscribe(consumer).await.unwrap();
    let mut second = session(&handle, None).await;
    subscribe(&second, spec(queue("q"), AckMode::Individual)).await;
    let again = deliver(&mut second).await;
    assert_eq!(body(&again), "held");
    assert!(again.redelivered);
    assert_eq!(again.delivery_count, 2);
}

#[tokio::test]
async fn expired_messages_are_never_delivered_and_persistent_ones_are_dead_lettered() {
    let handle = core(CoreConfig::default());
    let mut session = session(&handle, None).await;
    let mut gone = text(queue("ttl"), "non-persistent");
    gone.expiration = 1;
    send(&session, gone).await;
    let mut kept = text(queue("ttl"), "persistent");
    kept.expiration = 1;
    kept.persistent = true;
    send(&session, kept).await;
    send(&session, text(queue("ttl"), "fresh")).await;
    subscribe(&session, spec(queue("ttl"), AckMode::Auto)).await;
    assert_eq!(body(&deliver(&mut session).await), "fresh");
    quiet(&mut session).await;
    subscribe(&session, spec(queue("ActiveMQ.DLQ"), AckMode::Auto)).await;
    let dead = deliver(&mut session).await;
    assert_eq!(body(&dead), "persistent");
    assert_eq!(
        dead.message.expiration, 0,
        "a dead-lettered message does not expire again"
    );
    quiet(&mut session).await;
}
