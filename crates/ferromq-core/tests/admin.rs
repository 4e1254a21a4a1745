use ferromq_core::{AckKind, AckMode, CoreConfig, CoreError};

use crate::support::*;

#[tokio::test]
async fn stats_count_pending_in_flight_and_consumers() {
    let handle = core(CoreConfig::default());
    let mut session = session(&handle, None).await;
    for i in 0..3 {
        send(&session, text(queue("orders"), &i.to_string())).await;
    }
    let mut spec = spec(queue("orders"), AckMode::Individual);
    spec.prefetch = 1;
    subscribe(&session, spec).await;
    deliver(&mut session).await;
    send(&session, text(topic("news"), "n")).await;
    let stats = handle.stats().await.unwrap();
    let orders = stats
        .spaces
        .iter()
        .find(|s| s.destination == queue("orders"))
        .unwrap();
    assert_eq!(
        (
            orders.pending,
            orders.in_flight,
            orders.consumers,
            orders.enqueued
        ),
        (2, 1, 1, 3)
    );
    assert_eq!(stats.connections.len(), 1);
    assert_eq!(stats.topics, vec![(topic("news"), 1)]);
    assert!(stats.memory_used > 0);
}

#[tokio::test]
async fn browse_purge_and_delete() {
    let handle = core(CoreConfig::default());
    let session = session(&handle, None).await;
    for body in ["a", "b", "c"] {
        send(&session, text(queue("q"), body)).await;
    }
    let browsed = handle.browse(queue("q"), 10).await.unwrap();
    let bodies: Vec<String> = browsed
        .iter()
        .map(|b| format!("{:?}", b.message.body))
        .collect();
    assert_eq!(bodies.len(), 3);
    assert!(bodies[0].contains("\"a\""));
    assert_eq!(handle.purge(queue("q")).await.unwrap(), 3);
    assert!(handle.browse(queue("q"), 10).await.unwrap().is_empty());
    handle.delete_queue(queue("q")).await.unwrap();
    assert!(matches!(
        handle.browse(queue("q"), 10).await,
        Err(CoreError::UnknownDestination(_))
    ));
}

#[tokio::test]
async fn move_and_retry_from_the_dlq() {
    let handle = core(CoreConfig {
        max_redeliveries: 0,
        ..CoreConfig::default()
    });
    let mut session = session(&handle, None).await;
    let consumer = subscribe(&session, spec(queue("work"), AckMode::Individual)).await;
    send(&session, text(queue("work"), "x")).await;
    let delivery = deliver(&mut session).await;
    let id = delivery.message.id.clone();
    session
        .ack(consumer, delivery.tag, AckKind::Nack, None, false)
        .await
        .unwrap();
    let dead = handle.browse(queue("ActiveMQ.DLQ"), 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(
        handle
            .retry(queue("ActiveMQ.DLQ"), id.clone())
            .await
            .unwrap(),
        queue("work")
    );
    let again = deliver(&mut session).await;
    assert_eq!(again.message.id, id);
    session
        .ack(consumer, again.tag, AckKind::Individual, None, false)
        .await
        .unwrap();

    send(&session, text(queue("elsewhere"), "m")).await;
    let moving = handle.browse(queue("elsewhere"), 1).await.unwrap()[0]
        .message
        .id
        .clone();
    handle
        .move_message(queue("elsewhere"), moving.clone(), queue("work"))
        .await
        .unwrap();
    assert_eq!(deliver(&mut session).await.message.id, moving);
    assert!(matches!(
        handle.remove_message(queue("work"), "nope".into()).await,
        Err(CoreError::UnknownMessage(_))
    ));
}
