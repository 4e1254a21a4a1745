//! `/api/message/NAME`, ActiveMQ's message servlet: what `curl -u admin:admin -d body=...`
//! users rely on.

use ferromq_client::{AckMode, Command, Frame};
use ferromq_testkit::{next_message, TestBroker, WAIT};
use hyper::Method;

use crate::support::{As, Console};

fn console(broker: &TestBroker) -> Console {
    Console {
        addr: broker.console_addr(),
    }
}

#[tokio::test]
async fn curl_style_post_then_one_shot_get() {
    let broker = TestBroker::with_console("").await;
    let http = console(&broker);
    let sent = http
        .post_form("/api/message/orders?type=queue", &[("body", "hello")])
        .await;
    assert_eq!(sent.status, 200, "{}", sent.text());
    assert_eq!(sent.text(), "Message sent");
    let id = sent
        .header("messageID")
        .expect("messageID header")
        .to_owned();
    assert!(id.starts_with("ID:"), "{id}");

    let got = http
        .get("/api/message/orders?type=queue&oneShot=true&readTimeout=2000")
        .await;
    assert_eq!(got.status, 200, "{}", got.text());
    assert_eq!(got.text(), "hello");
    assert_eq!(got.header("destination"), Some("queue://orders"));
    assert_eq!(got.header("id"), Some(id.as_str()));
    assert!(got
        .header("content-type")
        .unwrap()
        .starts_with("text/plain"));

    // A receive takes exactly one message: the next one was never delivered, so it does not
    // come back as a redelivery (which would move it toward the DLQ).
    http.post_form("/api/message/orders?type=queue", &[("body", "second")])
        .await;
    http.post_form("/api/message/orders?type=queue", &[("body", "third")])
        .await;
    assert_eq!(
        http.get("/api/message/orders?type=queue").await.text(),
        "second"
    );
    let left = http.get("/api/v1/queues/orders/messages").await.json();
    assert_eq!(left[0]["body"], "third");
    assert_eq!(left[0]["delivery_count"], 0, "{left}");
    assert_eq!(
        http.get("/api/message/orders?type=queue").await.text(),
        "third"
    );

    let empty = http
        .get("/api/message/orders?type=queue&oneShot=true&readTimeout=100")
        .await;
    assert_eq!(empty.status, 204, "the queue is empty now");
    // DELETE consumes too, as in ActiveMQ.
    let deleted = http.delete("/api/message/orders?type=queue").await;
    assert_eq!(deleted.status, 204);
}

#[tokio::test]
async fn raw_body_and_jms_parameters() {
    let broker = TestBroker::with_console("").await;
    let http = console(&broker);
    let sent = http
        .request(
            Method::POST,
            "/api/message/jobs?type=queue&JMSPriority=7&JMSTimeToLive=600000&JMSCorrelationID=c-1&JMSType=job&color=red",
            As::Admin,
            &[("content-type", "application/json")],
            br#"{"job": 1}"#.to_vec(),
        )
        .await;
    assert_eq!(sent.status, 200, "{}", sent.text());
    let non_persistent = http
        .post_form(
            "/api/message/jobs?type=queue",
            &[("body", "later"), ("JMSDeliveryMode", "non-persistent")],
        )
        .await;
    assert_eq!(non_persistent.status, 200, "{}", non_persistent.text());

    let browsed = http.get("/api/v1/queues/jobs/messages").await.json();
    let first = &browsed[0];
    assert_eq!(first["body"], r#"{"job": 1}"#);
    assert_eq!(first["priority"], 7);
    assert_eq!(first["persistent"], true);
    assert_eq!(first["correlation_id"], "c-1");
    assert_eq!(first["type"], "job");
    assert_eq!(first["properties"]["color"], "red");
    let expires_in = first["expiration"].as_i64().unwrap() - first["timestamp"].as_i64().unwrap();
    assert_eq!(expires_in, 600_000);
    assert_eq!(browsed[1]["persistent"], false);
    assert_eq!(browsed[1]["priority"], 5, "ActiveMQ's servlet default");

    let got = http
        .get("/api/message/jobs?type=queue&readTimeout=2000")
        .await;
    assert_eq!(got.status, 200);
    assert_eq!(
        got.header("color"),
        Some("red"),
        "properties come back as headers"
    );
}

#[tokio::test]
async fn without_type_the_destination_is_a_topic_as_in_activemq() {
    let broker = TestBroker::with_console("").await;
    let http = console(&broker);
    let (subscriber, mut messages) = broker.client().await;
    subscriber
        .subscribe("/topic/news", "s", AckMode::Auto, &[])
        .await
        .unwrap();
    let sent = http
        .post_form("/api/message/news", &[("body", "breaking")])
        .await;
    assert_eq!(sent.status, 200, "{}", sent.text());
    assert_eq!(next_message(&mut messages).await.body, b"breaking".to_vec());
    // A path with slashes names a dotted destination; `queue://` overrides the type.
    let sent = http
        .post_form("/api/message/queue://a/b", &[("body", "x")])
        .await;
    assert_eq!(sent.status, 200, "{}", sent.text());
    assert_eq!(http.get("/api/v1/queues/a.b").await.json()["pending"], 1);
}

#[tokio::test]
async fn get_waits_for_a_message_sent_later() {
    let broker = TestBroker::with_console("").await;
    let http = console(&broker);
    let waiting = tokio::spawn(async move {
        http.get("/api/message/later?type=queue&readTimeout=8000")
            .await
    });
    // Send only once the REST consumer is attached, so the test shows the wait, not a race.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let queue = http.get("/api/v1/queues/later").await;
        if queue.status == 200 && queue.json()["consumers"] == 1 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "REST consumer never attached"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (producer, _) = broker.client().await;
    producer
        .send_with_receipt(
            Frame::new(Command::Send)
                .header("destination", "/queue/later")
                .with_body("arrived"),
        )
        .await
        .unwrap();
    let got = waiting.await.unwrap();
    assert_eq!(got.status, 200);
    assert_eq!(got.text(), "arrived");
}

#[tokio::test]
async fn selector_header_picks_the_message() {
    let broker = TestBroker::with_console("").await;
    let http = console(&broker);
    for color in ["red", "blue"] {
        let sent = http
            .post_form(
                "/api/message/paint?type=queue",
                &[("body", color), ("color", color)],
            )
            .await;
        assert_eq!(sent.status, 200);
    }
    let got = http
        .request(
            Method::GET,
            "/api/message/paint?type=queue&readTimeout=2000",
            As::Admin,
            &[("selector", "color = 'blue'")],
            Vec::new(),
        )
        .await;
    assert_eq!(got.text(), "blue");
}

#[tokio::test]
async fn bad_input_is_a_400_with_the_reason() {
    let broker = TestBroker::with_console("").await;
    let http = console(&broker);
    type Form<'a> = &'a [(&'a str, &'a str)];
    let cases: [(&str, Form, &str); 5] = [
        (
            "/api/message/q?type=queue",
            &[("body", "x"), ("JMSPriority", "high")],
            "JMSPriority",
        ),
        (
            "/api/message/q?type=queue",
            &[("body", "x"), ("JMSTimeToLive", "-5")],
            "JMSTimeToLive",
        ),
        ("/api/message/q?type=mailbox", &[("body", "x")], "type"),
        ("/api/message/q?type=queue", &[("hello", "")], "body"),
        (
            "/api/message/a..b?type=queue",
            &[("body", "x")],
            "destination",
        ),
    ];
    for (path, form, word) in cases {
        let error = http.post_form(path, form).await.error(400);
        assert!(error.contains(word), "{path} {form:?}: {error}");
    }
    let error = http
        .get("/api/message/q?type=queue&readTimeout=soon")
        .await
        .error(400);
    assert!(error.contains("readTimeout"), "{error}");
    let error = http
        .request(
            Method::GET,
            "/api/message/q?type=queue",
            As::Admin,
            &[("selector", "color = = 'x'")],
            Vec::new(),
        )
        .await
        .error(400);
    assert!(error.contains("selector"), "{error}");
}
