//! `/api/v1/...`: the JSON admin API, every endpoint and its errors.

use ferromq_client::{AckMode, Command, ConnectOptions, Frame};
use ferromq_testkit::{next_message, TestBroker, WAIT};
use hyper::Method;
use serde_json::{json, Value};

use crate::support::{As, Console};

fn console(broker: &TestBroker) -> Console {
    Console {
        addr: broker.console_addr(),
    }
}

async fn send(http: &Console, queue: &str, body: Value) -> String {
    let reply = http
        .post_json(&format!("/api/v1/queues/{queue}/messages"), &body)
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    reply.json()["id"].as_str().unwrap().to_owned()
}

async fn wait_for(http: &Console, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let reply = http.get(path).await;
        if reply.status == 200 && done(&reply.json()) {
            return reply.json();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{path}: {}",
            reply.text()
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn overview_and_lists() {
    let broker = TestBroker::with_console("").await;
    let http = console(&broker);
    let (client, _messages) = broker
        .client_with(ConnectOptions {
            client_id: Some("lister".into()),
            ..ConnectOptions::default()
        })
        .await;
    send(&http, "listed", json!({ "body": "x" })).await;

    let overview = http.get("/api/v1/overview").await.json();
    assert_eq!(overview["name"], "test");
    assert_eq!(overview["role"], "master");
    assert_eq!(overview["version"], env!("CARGO_PKG_VERSION"));
    assert!(overview["memory"]["limit_bytes"].as_u64().unwrap() > 0);
    assert!(overview["store"]["usage"]["used_bytes"].as_u64().unwrap() > 0);
    assert_eq!(overview["connectors"][0]["protocol"], "stomp");
    assert_eq!(overview["connectors"][0]["address"], broker.stomp_addr());
    assert_eq!(overview["totals"]["connections"], 1);

    let queues = http.get("/api/v1/queues").await.json();
    let listed = queues
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == "listed")
        .unwrap();
    assert_eq!(listed["pending"], 1);
    assert_eq!(listed["enqueued"], 1);

    let connections = http.get("/api/v1/connections").await.json();
    assert_eq!(connections.as_array().unwrap().len(), 1, "{connections}");
    assert_eq!(connections[0]["client_id"], "lister");

    client
        .send_with_receipt(
            Frame::new(Command::Send)
                .header("destination", "/topic/prices")
                .with_body("1"),
        )
        .await
        .unwrap();
    let topics = http.get("/api/v1/topics").await.json();
    let prices = topics
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "prices")
        .unwrap();
    assert_eq!(prices["published"], 1);

    assert_eq!(http.get("/api/v1/bridges").await.json(), json!([]));
}

#[tokio::test]
async fn queue_administration() {
    let broker = TestBroker::with_console("").await;
    let http = console(&broker);
    let first = send(
        &http,
        "work",
        json!({ "body": "one", "priority": 9, "properties": { "n": 1, "big": 5_000_000_000_i64, "ok": true, "tag": "a" } }),
    )
    .await;
    let second = send(
        &http,
        "work",
        json!({ "body_base64": "AAEC", "persistent": false }),
    )
    .await;
    let third = send(
        &http,
        "work",
        json!({ "body": "three", "time_to_live_ms": 60000 }),
    )
    .await;

    let queue = http.get("/api/v1/queues/work").await.json();
    assert_eq!(queue["pending"], 3);
    let messages = http
        .get("/api/v1/queues/work/messages?limit=2")
        .await
        .json();
    assert_eq!(messages.as_array().unwrap().len(), 2);
    assert_eq!(messages[0]["id"], first.as_str(), "priority 9 first");
    assert_eq!(
        messages[0]["properties"],
        json!({ "n": 1, "big": 5_000_000_000_i64, "ok": true, "tag": "a" })
    );
    assert_eq!(messages[1]["body_kind"], "bytes");
    assert_eq!(messages[1]["body_base64"], "AAEC");

    let moved = http
        .post_json(
            &format!("/api/v1/queues/work/messages/{second}/move"),
            &json!({ "to": "elsewhere" }),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.text());
    assert_eq!(
        http.get("/api/v1/queues/elsewhere").await.json()["pending"],
        1
    );

    let removed = http
        .delete(&format!("/api/v1/queues/work/messages/{third}"))
        .await;
    assert_eq!(removed.status, 200, "{}", removed.text());
    let purged = http
        .request(
            Method::POST,
            "/api/v1/queues/work/purge",
            As::Admin,
            &[],
            Vec::new(),
        )
        .await;
    assert_eq!(purged.json()["purged"], 1);
    assert_eq!(http.get("/api/v1/queues/work").await.json()["pending"], 0);

    // A queue with a consumer cannot be deleted; without one it can.
    let (consumer, _messages) = broker.client().await;
    consumer
        .subscribe("/queue/work", "c", AckMode::Auto, &[])
        .await
        .unwrap();
    http.delete("/api/v1/queues/work").await.error(409);
    consumer.unsubscribe("c").await.unwrap();
    let deleted = http.delete("/api/v1/queues/work").await;
    assert_eq!(deleted.status, 200, "{}", deleted.text());
    http.get("/api/v1/queues/work").await.error(404);
}

#[tokio::test]
async fn unknown_queues_and_messages_are_404_json() {
    let broker = TestBroker::with_console("").await;
    let http = console(&broker);
    let error = http.get("/api/v1/queues/nope").await.error(404);
    assert!(error.contains("nope"), "{error}");
    http.get("/api/v1/queues/nope/messages").await.error(404);
    http.request(
        Method::POST,
        "/api/v1/queues/nope/purge",
        As::Admin,
        &[],
        Vec::new(),
    )
    .await
    .error(404);
    http.delete("/api/v1/queues/nope").await.error(404);
    http.delete("/api/v1/queues/nope/messages/ID:x")
        .await
        .error(404);
    send(&http, "real", json!({ "body": "x" })).await;
    http.delete("/api/v1/queues/real/messages/ID:missing")
        .await
        .error(404);
    http.request(
        Method::POST,
        "/api/v1/queues/real/messages/ID:missing/retry",
        As::Admin,
        &[],
        Vec::new(),
    )
    .await
    .error(404);
    http.post_json(
        "/api/v1/queues/real/messages/ID:missing/move",
        &json!({ "to": "x" }),
    )
    .await
    .error(404);
    let error = http.get("/api/v1/nothing-here").await.error(404);
    assert!(error.contains("/api/v1/nothing-here"), "{error}");
}

#[tokio::test]
async fn bad_requests_say_why() {
    let broker = TestBroker::with_console("").await;
    let http = console(&broker);
    let bad_json = http
        .request(
            Method::POST,
            "/api/v1/queues/q/messages",
            As::Admin,
            &[],
            b"{not json".to_vec(),
        )
        .await
        .error(400);
    assert!(bad_json.contains("JSON"), "{bad_json}");
    let unknown_field = http
        .post_json("/api/v1/queues/q/messages", &json!({ "bodyy": "x" }))
        .await
        .error(400);
    assert!(unknown_field.contains("bodyy"), "{unknown_field}");
    let priority = http
        .post_json("/api/v1/queues/q/messages", &json!({ "priority": 12 }))
        .await
        .error(400);
    assert!(priority.contains("JMSPriority"), "{priority}");
    let both = http
        .post_json(
            "/api/v1/queues/q/messages",
            &json!({ "body": "a", "body_base64": "YQ==" }),
        )
        .await
        .error(400);
    assert!(both.contains("either"), "{both}");
    let property = http
        .post_json(
            "/api/v1/queues/q/messages",
            &json!({ "properties": { "x": [1] } }),
        )
        .await
        .error(400);
    assert!(property.contains("'x'"), "{property}");
    let wildcard = http
        .post_json("/api/v1/topics/a.%3E/messages", &json!({ "body": "x" }))
        .await
        .error(400);
    assert!(wildcard.contains("wildcard"), "{wildcard}");
    send(&http, "q", json!({ "body": "x" })).await;
    let limit = http
        .get("/api/v1/queues/q/messages?limit=0")
        .await
        .error(400);
    assert!(limit.contains("limit"), "{limit}");
    let id = http.get("/api/v1/queues/q/messages").await.json()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let target = http
        .post_json(
            &format!("/api/v1/queues/q/messages/{id}/move"),
            &json!({ "to": "a..b" }),
        )
        .await
        .error(400);
    assert!(target.contains("destination"), "{target}");
}

#[tokio::test]
async fn retry_sends_a_dead_letter_back() {
    let broker = TestBroker::with_console("max_redeliveries = 0").await;
    let http = console(&broker);
    let (client, mut messages) = broker.client().await;
    client
        .send_with_receipt(
            Frame::new(Command::Send)
                .header("destination", "/queue/jobs")
                .header("persistent", "true")
                .with_body("poison"),
        )
        .await
        .unwrap();
    client
        .subscribe("/queue/jobs", "s", AckMode::ClientIndividual, &[])
        .await
        .unwrap();
    let message = next_message(&mut messages).await;
    client.nack(&message, None).await.unwrap();
    client.unsubscribe("s").await.unwrap();

    let dlq = wait_for(&http, "/api/v1/queues/ActiveMQ.DLQ/messages", |m| {
        m.as_array().is_some_and(|a| !a.is_empty())
    })
    .await;
    assert_eq!(dlq[0]["original_destination"], "queue://jobs");
    let id = dlq[0]["id"].as_str().unwrap().to_owned();
    let retried = http
        .request(
            Method::POST,
            &format!("/api/v1/queues/ActiveMQ.DLQ/messages/{id}/retry"),
            As::Admin,
            &[],
            Vec::new(),
        )
        .await;
    assert_eq!(retried.status, 200, "{}", retried.text());
    assert_eq!(retried.json()["to"], "queue://jobs");
    assert_eq!(http.get("/api/v1/queues/jobs").await.json()["pending"], 1);
    assert_eq!(
        http.get("/api/v1/queues/ActiveMQ.DLQ").await.json()["pending"],
        0
    );
}

#[tokio::test]
async fn subscribers_include_offline_durables() {
    let broker = TestBroker::with_console("").await;
    let http = console(&broker);
    let options = ConnectOptions {
        client_id: Some("reader".into()),
        ..ConnectOptions::default()
    };
    let (durable, _messages) = broker.client_with(options).await;
    durable
        .subscribe(
            "/topic/events",
            "d",
            AckMode::Auto,
            &[("activemq.subscriptionName", "audit")],
        )
        .await
        .unwrap();
    let (live, _live_messages) = broker.client().await;
    live.subscribe("/topic/events", "l", AckMode::Auto, &[])
        .await
        .unwrap();
    let subscribers = http.get("/api/v1/subscribers").await.json();
    assert_eq!(subscribers.as_array().unwrap().len(), 2, "{subscribers}");

    durable.disconnect().await.unwrap();
    let sent = http
        .post_json("/api/v1/topics/events/messages", &json!({ "body": "e1" }))
        .await;
    assert_eq!(sent.status, 201, "{}", sent.text());
    let subscribers = wait_for(&http, "/api/v1/subscribers", |s| {
        s.as_array().is_some_and(|a| {
            a.iter()
                .any(|s| s["durable"] == true && s["active"] == false && s["pending"] == 1)
        })
    })
    .await;
    let offline = subscribers
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["durable"] == true)
        .unwrap();
    assert_eq!(offline["client_id"], "reader");
    assert_eq!(offline["subscription_name"], "audit");
    assert_eq!(offline["topic"], "events");
}
