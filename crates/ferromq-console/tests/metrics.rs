//! `/metrics`: Prometheus text with per-destination figures, connections and the store.

use ferromq_client::{AckMode, Command, Frame};
use ferromq_testkit::{next_message, TestBroker, WAIT};

use crate::support::{metric, Console};

#[tokio::test]
async fn destinations_connections_and_store_are_exported() {
    let broker =
        TestBroker::with_console("max_redeliveries = 0\nexpiry_check_period_ms = 20").await;
    let http = Console {
        addr: broker.console_addr(),
    };
    for body in ["a", "b"] {
        let sent = http
            .post_form("/api/message/m.q?type=queue", &[("body", body)])
            .await;
        assert_eq!(sent.status, 200);
    }
    assert_eq!(
        http.get("/api/message/m.q?type=queue&readTimeout=2000")
            .await
            .text(),
        "a"
    );
    let expiring = http
        .post_form(
            "/api/message/m.expiring?type=queue",
            &[("body", "x"), ("JMSTimeToLive", "1")],
        )
        .await;
    assert_eq!(expiring.status, 200);
    // A client that refuses a message sends it to the DLQ (no redeliveries allowed).
    let (client, mut messages) = broker.client().await;
    client
        .send_with_receipt(
            Frame::new(Command::Send)
                .header("destination", "/queue/m.poison")
                .header("persistent", "true")
                .with_body("p"),
        )
        .await
        .unwrap();
    client
        .subscribe("/queue/m.poison", "s", AckMode::ClientIndividual, &[])
        .await
        .unwrap();
    let message = next_message(&mut messages).await;
    client.nack(&message, None).await.unwrap();

    let queue = |name: &str, metric: &str| {
        format!("ferromq_{metric}{{destination=\"{name}\",kind=\"queue\",subscription=\"\"}}")
    };
    let deadline = tokio::time::Instant::now() + WAIT;
    let text = loop {
        let reply = http.get("/metrics").await;
        assert_eq!(reply.status, 200);
        assert!(reply
            .header("content-type")
            .unwrap()
            .starts_with("application/openmetrics-text"));
        let text = reply.text();
        let settled = metric(&text, &queue("m.expiring", "destination_expired_total")) == Some(1.0)
            && metric(&text, &queue("m.poison", "destination_dead_lettered_total")) == Some(1.0);
        if settled {
            break text;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "expiry or DLQ never counted:\n{text}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(
        metric(&text, &queue("m.q", "destination_pending_messages")),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        metric(&text, &queue("m.q", "destination_enqueued_total")),
        Some(2.0)
    );
    assert_eq!(
        metric(&text, &queue("m.q", "destination_dequeued_total")),
        Some(1.0)
    );
    assert_eq!(
        metric(&text, &queue("m.poison", "destination_consumers")),
        Some(1.0)
    );
    assert_eq!(
        metric(
            &text,
            &queue("ActiveMQ.DLQ", "destination_pending_messages")
        ),
        Some(2.0),
        "the expired persistent message and the poison one"
    );
    assert_eq!(metric(&text, "ferromq_connections "), Some(1.0));
    assert!(metric(&text, "ferromq_store_live_bytes ").unwrap() > 0.0);
    assert!(metric(&text, "ferromq_store_disk_bytes ").unwrap() > 0.0);
    assert!(metric(&text, "ferromq_store_fsyncs_total ").unwrap() > 0.0);
    // Compaction counters are exported (zero on a fresh, small store).
    assert_eq!(
        metric(&text, "ferromq_store_segments_compacted_total "),
        Some(0.0)
    );
    assert_eq!(
        metric(&text, "ferromq_store_bytes_compacted_total "),
        Some(0.0)
    );
    // Paging and group-commit counters are exported too.
    assert!(metric(&text, "ferromq_store_messages_read_total ").is_some());
    assert!(metric(&text, "ferromq_store_group_holds_total ").is_some());
    assert!(metric(&text, "ferromq_memory_limit_bytes ").unwrap() > 0.0);
    // Every fsync lands in the latency histogram's +Inf bucket.
    let fsyncs = metric(&text, "ferromq_store_fsyncs_total ").unwrap();
    let observed = metric(
        &text,
        "ferromq_store_fsync_duration_seconds_bucket{le=\"+Inf\"}",
    )
    .unwrap();
    assert!(observed > 0.0 && fsyncs > 0.0, "{text}");
    assert!(
        text.contains("# TYPE ferromq_store_fsync_duration_seconds histogram"),
        "{text}"
    );
    assert!(
        text.contains("ferromq_store_fsync_duration_seconds_bucket{le=\"0.001\"}"),
        "{text}"
    );
    assert!(text.contains("ferromq_broker_info{name=\"test\""), "{text}");
    assert!(text.contains("# TYPE ferromq_network_bridge_forwarded counter"));
    assert!(text.trim_end().ends_with("# EOF"));
}
