use ferromq_core::{AckKind, AckMode, CoreConfig, CoreError};

use crate::support::*;

#[tokio::test]
async fn transactional_sends_appear_only_at_commit() {
    let handle = core(CoreConfig::default());
    let mut session = session(&handle, None).await;
    subscribe(&session, spec(queue("tx"), AckMode::Auto)).await;
    session.begin("t1".into()).await.unwrap();
    let answer = session
        .send(text(queue("tx"), "a"), Some("t1".into()))
        .await
        .unwrap();
    answer.await.unwrap().unwrap();
    quiet(&mut session).await;
    session.commit("t1".into()).await.unwrap();
    assert_eq!(body(&deliver(&mut session).await), "a");

    session.begin("t2".into()).await.unwrap();
    let answer = session
        .send(text(queue("tx"), "b"), Some("t2".into()))
        .await
        .unwrap();
    answer.await.unwrap().unwrap();
    session.abort("t2".into()).await.unwrap();
    quiet(&mut session).await;
}

#[tokio::test]
async fn acks_in_an_aborted_transaction_are_redelivered() {
    let handle = core(CoreConfig::default());
    let mut session = session(&handle, None).await;
    let consumer = subscribe(&session, spec(queue("q"), AckMode::Individual)).await;
    send(&session, text(queue("q"), "m")).await;
    let delivery = deliver(&mut session).await;
    session.begin("t".into()).await.unwrap();
    session
        .ack(
            consumer,
            delivery.tag,
            AckKind::Individual,
            Some("t".into()),
            false,
        )
        .await
        .unwrap();
    session.abort("t".into()).await.unwrap();
    let again = deliver(&mut session).await;
    assert!(again.redelivered);
    session.begin("t".into()).await.unwrap();
    session
        .ack(
            consumer,
            again.tag,
            AckKind::Individual,
            Some("t".into()),
            false,
        )
        .await
        .unwrap();
    session.commit("t".into()).await.unwrap();
    quiet(&mut session).await;
}

#[tokio::test]
async fn unknown_transactions_and_acks_are_refused() {
    let handle = core(CoreConfig::default());
    let session = session(&handle, None).await;
    assert!(matches!(
        session.commit("nope".into()).await,
        Err(CoreError::UnknownTransaction(_))
    ));
    let consumer = subscribe(&session, spec(queue("q"), AckMode::Individual)).await;
    assert!(matches!(
        session
            .ack(consumer, 999, AckKind::Individual, None, false)
            .await,
        Err(CoreError::UnknownAck(999))
    ));
    session.begin("t".into()).await.unwrap();
    assert!(matches!(
        session.begin("t".into()).await,
        Err(CoreError::TransactionExists(_))
    ));
}

#[tokio::test]
async fn a_connection_cannot_ack_another_connections_consumer() {
    let handle = core(CoreConfig::default());
    let mut owner = session(&handle, None).await;
    let stranger = session(&handle, None).await;
    let consumer = subscribe(&owner, spec(queue("mine"), AckMode::Individual)).await;
    send(&owner, text(queue("mine"), "m")).await;
    let delivery = deliver(&mut owner).await;
    assert!(matches!(
        stranger
            .ack(consumer, delivery.tag, AckKind::Individual, None, false)
            .await,
        Err(CoreError::UnknownConsumer(id)) if id == consumer
    ));
    let held = handle.browse(queue("mine"), 10).await.unwrap();
    assert!(
        held.len() == 1 && held[0].in_flight,
        "the message is still out with its consumer"
    );
}
