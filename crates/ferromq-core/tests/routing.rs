use ferromq_core::{AckMode, CoreConfig, CoreError, Destination, DestinationKind, Selector};

use crate::support::*;

#[tokio::test]
async fn topics_fan_out_and_wildcards_match() {
    let handle = core(CoreConfig::default());
    let mut exact = session(&handle, None).await;
    subscribe(&exact, spec(topic("prices.eu.gold"), AckMode::Auto)).await;
    let mut one_level = session(&handle, None).await;
    subscribe(&one_level, spec(topic("prices.*.gold"), AckMode::Auto)).await;
    let mut rest = session(&handle, None).await;
    subscribe(&rest, spec(topic("prices.>"), AckMode::Auto)).await;
    let producer = session(&handle, None).await;
    send(&producer, text(topic("prices.eu.gold"), "g")).await;
    send(&producer, text(topic("prices.eu"), "eu")).await;
    assert_eq!(body(&deliver(&mut exact).await), "g");
    assert_eq!(body(&deliver(&mut one_level).await), "g");
    assert_eq!(body(&deliver(&mut rest).await), "g");
    assert_eq!(body(&deliver(&mut rest).await), "eu");
    quiet(&mut exact).await;
    quiet(&mut one_level).await;
}

#[tokio::test]
async fn a_topic_message_without_subscribers_is_dropped_and_a_queue_message_waits() {
    let handle = core(CoreConfig::default());
    let mut session = session(&handle, None).await;
    send(&session, text(topic("t"), "lost")).await;
    send(&session, text(queue("q"), "kept")).await;
    subscribe(&session, spec(topic("t"), AckMode::Auto)).await;
    subscribe(&session, spec(queue("q"), AckMode::Auto)).await;
    assert_eq!(body(&deliver(&mut session).await), "kept");
    quiet(&mut session).await;
}

#[tokio::test]
async fn composite_destinations_deliver_to_every_part() {
    let handle = core(CoreConfig::default());
    let mut session = session(&handle, None).await;
    subscribe(&session, spec(queue("a"), AckMode::Auto)).await;
    subscribe(&session, spec(topic("b"), AckMode::Auto)).await;
    send(
        &session,
        text(Destination::queue("queue://a,topic://b").unwrap(), "both"),
    )
    .await;
    let first = deliver(&mut session).await;
    let second = deliver(&mut session).await;
    let mut names = vec![
        first.message.destination.key(),
        second.message.destination.key(),
    ];
    names.sort();
    assert_eq!(names, ["queue://a", "topic://b"]);
}

#[tokio::test]
async fn queue_selectors_pick_messages_per_consumer() {
    let handle = core(CoreConfig::default());
    let mut red = session(&handle, None).await;
    let mut red_spec = spec(queue("colors"), AckMode::Auto);
    red_spec.selector = Some(Selector::parse("color = 'red'").unwrap());
    subscribe(&red, red_spec).await;
    let producer = session(&handle, None).await;
    for color in ["blue", "red", "green", "red"] {
        let mut message = text(queue("colors"), color);
        message.properties.push((
            "color".into(),
            ferromq_core::PropertyValue::String(color.into()),
        ));
        send(&producer, message).await;
    }
    assert_eq!(body(&deliver(&mut red).await), "red");
    assert_eq!(body(&deliver(&mut red).await), "red");
    quiet(&mut red).await;
}

#[tokio::test]
async fn only_the_exclusive_consumer_receives_while_it_lives() {
    let handle = core(CoreConfig::default());
    let mut normal = session(&handle, None).await;
    subscribe(&normal, spec(queue("ex"), AckMode::Auto)).await;
    let mut exclusive = session(&handle, None).await;
    let mut exclusive_spec = spec(queue("ex"), AckMode::Auto);
    exclusive_spec.exclusive = true;
    let exclusive_id = subscribe(&exclusive, exclusive_spec).await;
    let producer = session(&handle, None).await;
    for i in 0..5 {
        send(&producer, text(queue("ex"), &i.to_string())).await;
    }
    for _ in 0..5 {
        let delivery = deliver(&mut exclusive).await;
        // What a protocol adapter does once it has written an auto-ack delivery.
        exclusive
            .auto_ack(exclusive_id, delivery.tag)
            .await
            .unwrap();
    }
    quiet(&mut normal).await;
    exclusive.unsubscribe(exclusive_id).await.unwrap();
    send(&producer, text(queue("ex"), "after")).await;
    assert_eq!(body(&deliver(&mut normal).await), "after");
}

#[tokio::test]
async fn temporary_queues_belong_to_their_connection() {
    let handle = core(CoreConfig::default());
    let mut owner = session_with_prefix(&handle, "OWN:").await;
    let other = session(&handle, None).await;
    let temp = Destination::new(DestinationKind::TempQueue, "OWN:replies").unwrap();
    let refused = other
        .send(text(temp.clone(), "early"), None)
        .await
        .unwrap()
        .await
        .unwrap();
    assert!(
        matches!(refused, Err(CoreError::UnknownTempDestination(_))),
        "only the owner creates it"
    );
    subscribe(&owner, spec(temp.clone(), AckMode::Auto)).await;
    send(&other, text(temp.clone(), "reply")).await;
    assert_eq!(body(&deliver(&mut owner).await), "reply");
    owner.close().await;
    let after = other
        .send(text(temp, "late"), None)
        .await
        .unwrap()
        .await
        .unwrap();
    assert!(
        matches!(after, Err(CoreError::UnknownTempDestination(_))),
        "deleted with its connection"
    );
}

#[tokio::test]
async fn durable_subscriptions_keep_messages_while_offline() {
    let handle = core(CoreConfig::default());
    let mut durable_spec = spec(topic("news"), AckMode::Auto);
    durable_spec.durable_name = Some("n".into());
    let subscriber = session(&handle, Some("c1")).await;
    subscribe(&subscriber, durable_spec.clone()).await;
    subscriber.close().await;
    let producer = session(&handle, None).await;
    send(&producer, text(topic("news"), "while away")).await;
    let mut back = session(&handle, Some("c1")).await;
    subscribe(&back, durable_spec).await;
    assert_eq!(body(&deliver(&mut back).await), "while away");
    assert!(matches!(
        session(&handle, None)
            .await
            .remove_durable("n".into())
            .await,
        Err(CoreError::DurableWithoutClientId)
    ));
}
