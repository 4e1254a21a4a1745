//! Store-related behaviour that needs its own `[store]` settings: the size limit, and the
//! redelivered flag surviving a graceful restart.

use ferromq_client::{AckMode, Client, Command, ConnectOptions, Frame};
use ferromq_server::{BrokerConfig, Protocol, RunningServer};
use ferromq_testkit::{broker_error, next_message};

async fn start(dir: &std::path::Path, extra: &str) -> RunningServer {
    let text = format!(
        "[broker]\ndata_dir = \"data\"\n{extra}\n[console]\nenabled = false\n\n[[transport_connector]]\nname = \"stomp\"\nuri = \"stomp://127.0.0.1:0\"\n"
    );
    let config = BrokerConfig::parse(&text, "store-test.toml", dir).unwrap();
    RunningServer::start(config).await.unwrap()
}

async fn client(server: &RunningServer) -> (Client, ferromq_client::Messages) {
    let address = server.address_of(Protocol::Stomp).unwrap().to_string();
    let options = ConnectOptions {
        heart_beat: (0, 0),
        ..ConnectOptions::default()
    };
    Client::connect(&address, options).await.unwrap()
}

fn persistent(destination: &str, body: &str) -> Frame {
    Frame::new(Command::Send)
        .header("destination", destination)
        .header("persistent", "true")
        .with_body(body.to_owned())
}

#[tokio::test]
async fn a_delivered_message_comes_back_flagged_after_a_graceful_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), "").await;
    let (producer, _) = client(&server).await;
    producer
        .send_with_receipt(persistent("/queue/r", "seen"))
        .await
        .unwrap();
    producer
        .send_with_receipt(persistent("/queue/r", "unseen"))
        .await
        .unwrap();
    let (consumer, mut messages) = client(&server).await;
    let prefetch = [("activemq.prefetchSize", "1")];
    consumer
        .subscribe("/queue/r", "s", AckMode::ClientIndividual, &prefetch)
        .await
        .unwrap();
    let first = next_message(&mut messages).await;
    assert_eq!(first.get("redelivered"), Some("false"));
    server.shutdown().await;

    let server = start(dir.path(), "").await;
    let (consumer, mut messages) = client(&server).await;
    consumer
        .subscribe("/queue/r", "s", AckMode::ClientIndividual, &[])
        .await
        .unwrap();
    let again = next_message(&mut messages).await;
    assert_eq!(again.body, "seen".as_bytes());
    assert_eq!(
        again.get("redelivered"),
        Some("true"),
        "it was delivered before the restart"
    );
    let other = next_message(&mut messages).await;
    assert_eq!(other.body, "unseen".as_bytes());
    assert_eq!(
        other.get("redelivered"),
        Some("false"),
        "never delivered, so not flagged"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn the_store_limit_refuses_persistent_sends_but_not_others() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(
        dir.path(),
        "send_fail_if_no_space = true\n[store]\nlimit = \"16 KiB\"\n",
    )
    .await;
    let (producer, _) = client(&server).await;
    let body = "x".repeat(1024);
    let mut refused = None;
    for _ in 0..64 {
        if let Err(err) = producer
            .send_with_receipt(persistent("/queue/big", &body))
            .await
        {
            refused = Some(Err(err));
            break;
        }
    }
    let text = broker_error(refused.expect("the store limit is reached"));
    assert!(text.contains("message store"), "{text}");
    let transient = Frame::new(Command::Send)
        .header("destination", "/queue/big")
        .with_body("np");
    producer.send_with_receipt(transient).await.unwrap();
    server.shutdown().await;
}
