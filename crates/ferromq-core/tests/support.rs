use std::time::Duration;

use ferromq_core::broker::{self, BrokerHandle};
use ferromq_core::{
    AckMode, Body, ConnectRequest, ConsumerId, ConsumerSpec, CoreConfig, Delivery, Destination,
    Message, Outbound, Session,
};

pub const WAIT: Duration = Duration::from_secs(5);

pub fn core(config: CoreConfig) -> BrokerHandle {
    let (handle, _task) = broker::spawn(config, None);
    handle
}

pub async fn session(handle: &BrokerHandle, client_id: Option<&str>) -> Session {
    connect(handle, client_id, format!("T{}:", rand_suffix())).await
}

pub async fn session_with_prefix(handle: &BrokerHandle, prefix: &str) -> Session {
    connect(handle, None, prefix.to_owned()).await
}

async fn connect(handle: &BrokerHandle, client_id: Option<&str>, temp_prefix: String) -> Session {
    let request = ConnectRequest {
        client_id: client_id.map(str::to_owned),
        temp_prefix,
        outbound_capacity: 64,
        peer: "test".into(),
        take_over: false,
    };
    handle.connect(request).await.unwrap()
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

pub fn spec(destination: Destination, ack_mode: AckMode) -> ConsumerSpec {
    ConsumerSpec {
        destination,
        selector: None,
        ack_mode,
        prefetch: 100,
        exclusive: false,
        durable_name: None,
        no_local: false,
    }
}

pub fn queue(name: &str) -> Destination {
    Destination::queue(name).unwrap()
}

pub fn topic(name: &str) -> Destination {
    Destination::topic(name).unwrap()
}

pub fn text(destination: Destination, body: &str) -> Message {
    Message::new(String::new(), destination, Body::Text(body.to_owned()))
}

pub async fn send(session: &Session, message: Message) {
    let answer = session.send(message, None).await.unwrap();
    answer.await.unwrap().unwrap();
}

pub async fn subscribe(session: &Session, spec: ConsumerSpec) -> ConsumerId {
    session.subscribe(spec).await.unwrap()
}

pub async fn deliver(session: &mut Session) -> Delivery {
    match tokio::time::timeout(WAIT, session.next_outbound()).await {
        Ok(Some(Outbound::Deliver(delivery))) => delivery,
        other => panic!("expected a delivery, got {other:?}"),
    }
}

pub async fn quiet(session: &mut Session) {
    if let Ok(Some(outbound)) =
        tokio::time::timeout(Duration::from_millis(100), session.next_outbound()).await
    {
        panic!("expected nothing, got {outbound:?}");
    }
}

pub fn body(delivery: &Delivery) -> &str {
    match &delivery.message.body {
        Body::Text(text) => text,
        other => panic!("expected text, got {other:?}"),
    }
}
