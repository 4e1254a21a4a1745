//! The server-rendered pages and the form posts behind their buttons, without a browser.

use ferromq_client::{AckMode, ConnectOptions};
use ferromq_testkit::TestBroker;
use hyper::Method;

use crate::support::{As, Console};

#[tokio::test]
async fn every_page_renders_with_live_regions() {
    let broker = TestBroker::with_console("").await;
    let http = Console {
        addr: broker.console_addr(),
    };
    let (client, _messages) = broker
        .client_with(ConnectOptions {
            client_id: Some("page-client".into()),
            ..ConnectOptions::default()
        })
        .await;
    client
        .subscribe(
            "/topic/t.pages",
            "d",
            AckMode::Auto,
            &[("activemq.subscriptionName", "sub-1")],
        )
        .await
        .unwrap();
    http.post_form("/api/message/q.pages?type=queue", &[("body", "x")])
        .await;
    let pages = [
        ("/", "Overview", "live-overview", "stomp"),
        ("/queues", "Queues", "live-queues", "q.pages"),
        ("/queues/q.pages", "Queue q.pages", "live-messages", "x"),
        ("/topics", "Topics", "live-topics", "t.pages"),
        ("/subscribers", "Subscribers", "live-subscribers", "sub-1"),
        (
            "/connections",
            "Connections",
            "live-connections",
            "page-client",
        ),
        (
            "/bridges",
            "Network bridges",
            "live-bridges",
            "not implement",
        ),
    ];
    for (path, title, live, content) in pages {
        let page = http.get(path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.text());
        assert!(page
            .header("content-type")
            .unwrap()
            .starts_with("text/html"));
        let html = page.text();
        assert!(
            html.contains(&format!("<h1>{title}</h1>")),
            "{path}: {html}"
        );
        assert!(html.contains(&format!("id=\"{live}\" data-live")), "{path}");
        assert!(html.contains(content), "{path} lacks {content}: {html}");
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "{path} loads nothing from elsewhere"
        );
    }
    let missing = http.get("/queues/nope").await;
    assert_eq!(missing.status, 404);
    assert!(
        missing
            .text()
            .contains("queue &#39;nope&#39; does not exist"),
        "{}",
        missing.text()
    );
}

#[tokio::test]
async fn browse_shows_headers_and_escaped_body() {
    let broker = TestBroker::with_console("").await;
    let http = Console {
        addr: broker.console_addr(),
    };
    http.post_form(
        "/api/message/q.browse?type=queue",
        &[
            ("body", "<script>alert(1)</script>"),
            ("JMSCorrelationID", "corr-7"),
            ("region", "eu"),
        ],
    )
    .await;
    let html = http.get("/queues/q.browse").await.text();
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(
        !html.contains("<script>alert(1)"),
        "the body must be escaped"
    );
    assert!(html.contains("corr-7") && html.contains("region") && html.contains("eu"));
    assert!(html.contains("id=\"queue-pending\">1<"), "{html}");
}

#[tokio::test]
async fn form_posts_work_with_and_without_javascript() {
    let broker = TestBroker::with_console("").await;
    let http = Console {
        addr: broker.console_addr(),
    };
    let form = [
        ("kind", "queue"),
        ("destination", "q.forms"),
        ("body", "from the form"),
        ("priority", "6"),
        ("ttl", "0"),
        ("persistent", "true"),
        ("properties", "a=1\nb = two"),
        ("back", "/queues"),
    ];
    // Without JavaScript: a redirect back with a notice.
    let plain = http.post_form("/actions/send", &form).await;
    assert_eq!(plain.status, 303);
    let location = plain.header("location").unwrap();
    assert!(location.starts_with("/queues?notice=Sent"), "{location}");
    // From the page script: JSON.
    let fetch = [
        ("content-type", "application/x-www-form-urlencoded"),
        ("x-requested-with", "fetch"),
    ];
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let scripted = http
        .request(
            Method::POST,
            "/actions/send",
            As::Admin,
            &fetch,
            body.into_bytes(),
        )
        .await;
    assert_eq!(scripted.status, 200, "{}", scripted.text());
    assert!(scripted.json()["notice"]
        .as_str()
        .unwrap()
        .starts_with("Sent ID:"));

    let messages = http.get("/api/v1/queues/q.forms/messages").await.json();
    assert_eq!(messages.as_array().unwrap().len(), 2);
    assert_eq!(messages[0]["priority"], 6);
    assert_eq!(
        messages[0]["properties"],
        serde_json::json!({ "a": "1", "b": "two" })
    );

    // Errors: JSON 400 for the script, a redirect with the error otherwise.
    let bad = "kind=queue&destination=q.forms&body=x&priority=99&back=%2Fqueues";
    let scripted = http
        .request(
            Method::POST,
            "/actions/send",
            As::Admin,
            &fetch,
            bad.as_bytes().to_vec(),
        )
        .await;
    assert!(scripted.error(400).contains("JMSPriority"));
    let plain = http
        .request(
            Method::POST,
            "/actions/send",
            As::Admin,
            &fetch[..1],
            bad.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(plain.status, 303);
    assert!(
        plain.header("location").unwrap().contains("error="),
        "{:?}",
        plain.header("location")
    );
    let missing = http
        .request(
            Method::POST,
            "/actions/send",
            As::Admin,
            &fetch,
            b"kind=queue".to_vec(),
        )
        .await;
    assert!(missing.error(400).contains("destination"));

    // Message and queue buttons.
    let id = messages[0]["id"].as_str().unwrap().to_owned();
    let moved = http
        .post_form(
            &format!("/queues/q.forms/messages/{id}/move"),
            &[("to", "q.other"), ("back", "/queues/q.forms")],
        )
        .await;
    assert_eq!(moved.status, 303);
    assert!(moved
        .header("location")
        .unwrap()
        .starts_with("/queues/q.forms?notice=Moved"));
    let id = messages[1]["id"].as_str().unwrap().to_owned();
    let removed = http
        .post_form(
            &format!("/queues/q.forms/messages/{id}/delete"),
            &[("back", "/queues/q.forms")],
        )
        .await;
    assert!(removed
        .header("location")
        .unwrap()
        .contains("notice=Deleted"));
    let purged = http
        .post_form("/queues/q.other/purge", &[("back", "/queues")])
        .await;
    assert!(
        purged
            .header("location")
            .unwrap()
            .contains("notice=Purged%201"),
        "{:?}",
        purged.header("location")
    );
    let retry = http
        .request(
            Method::POST,
            "/queues/q.other/messages/ID:none/retry",
            As::Admin,
            &fetch,
            b"back=%2Fqueues".to_vec(),
        )
        .await;
    retry.error(404);
    let deleted = http
        .request(
            Method::POST,
            "/queues/q.other/delete",
            As::Admin,
            &fetch,
            b"back=%2Fqueues%2Fq.other".to_vec(),
        )
        .await;
    assert_eq!(
        deleted.json()["redirect"]
            .as_str()
            .unwrap()
            .split('?')
            .next(),
        Some("/queues")
    );
    http.get("/api/v1/queues/q.other").await.error(404);
}
