"""JMS selectors on SUBSCRIBE (the `selector` header)."""

import pytest

from helpers import unique

# (body, headers) sent to a topic; each case lists the bodies it must select.
MESSAGES = [
    ("m1", {"priority": "7", "color": "red", "name": "abc", "size": "3"}),
    ("m2", {"priority": "3", "color": "red", "name": "xab"}),
    ("m3", {"priority": "9", "color": "blue", "name": "ab"}),
    ("m4", {"color": "green", "name": "a_c"}),
    ("m5", {"priority": "8", "size": "12"}),
]

CASES = [
    ("JMSPriority > 5 AND color = 'red'", ["m1"]),
    ("name LIKE 'ab%'", ["m1", "m3"]),
    ("name LIKE 'a\\_c' ESCAPE '\\'", ["m4"]),
    ("color IN ('red', 'green')", ["m1", "m2", "m4"]),
    ("color NOT IN ('red', 'green')", ["m3"]),
    ("size IS NULL", ["m2", "m3", "m4"]),
    ("color IS NOT NULL AND JMSPriority < 5", ["m2", "m4"]),
    ("JMSPriority BETWEEN 7 AND 8", ["m1", "m5"]),
    ("JMSPriority * 2 > 15", ["m3", "m5"]),
    ("NOT (color = 'red') OR name = 'abc'", ["m1", "m3", "m4"]),
]


@pytest.mark.parametrize("selector, expected", CASES, ids=[c[0] for c in CASES])
def test_selector_filters_topic_messages(connect, selector, expected):
    client = connect()
    topic = "/topic/" + unique("sel")
    client.subscribe(topic, headers={"selector": selector})
    producer = connect()
    for body, headers in MESSAGES:
        producer.send_h(topic, body, headers)
    # No marker matches every selector, so a second, selector-free
    # subscription on the same connection sees the marker: topic messages
    # reach a connection's subscriptions in send order.
    client.subscribe(topic, sub_id="all")
    producer.send(topic, "marker")
    selected = []
    while True:
        frame = client.recv()
        if frame.headers["subscription"] == "all":
            if frame.body == "marker":
                break
            continue
        if frame.body != "marker":  # it may match the selector too
            selected.append(frame.body)
    assert selected == expected


def test_selector_on_queue_leaves_others_in_the_queue(connect):
    producer = connect()
    queue = "/queue/" + unique("selq")
    for body, headers in MESSAGES:
        producer.send_h(queue, body, headers)
    picky = connect()
    picky.subscribe(queue, headers={"selector": "color = 'red'"})
    # Sorted: m5 (priority 8) may overtake m4 (priority 4) where the broker
    # orders by priority (FerroMQ does, ActiveMQ does not by default).
    assert sorted(f.body for f in picky.recv_n(2)) == ["m1", "m2"]
    rest = connect()
    rest.subscribe(queue)
    assert sorted(f.body for f in rest.recv_n(3)) == ["m3", "m4", "m5"]


def test_selector_on_jms_headers(connect):
    client = connect()
    topic = "/topic/" + unique("seljms")
    client.subscribe(topic, headers={
        "selector": "JMSType = 'order' AND JMSCorrelationID = 'c-1' AND JMSDeliveryMode = 'PERSISTENT'"})
    client.send_h(topic, "yes", {"type": "order", "correlation-id": "c-1", "persistent": "true"})
    client.send_h(topic, "no-np", {"type": "order", "correlation-id": "c-1", "persistent": "false"})
    client.send_h(topic, "no-type", {"type": "other", "correlation-id": "c-1", "persistent": "true"})
    client.send_h(topic, "marker", {"type": "order", "correlation-id": "c-1", "persistent": "true"})
    assert [f.body for f in client.recv_until("marker")] == ["yes"]


def test_invalid_selector_is_an_error(raw, connect, is_activemq):
    conn = raw()
    conn.connect()
    queue = "/queue/" + unique("badsel")
    conn.send_frame("SUBSCRIBE", [("destination", queue), ("id", "s"),
                                  ("selector", "color = = 'red' AND")])
    frame = conn.read_frame()
    assert frame.command == "ERROR"
    assert frame.headers.get("message")
    if not is_activemq:  # ActiveMQ sends the ERROR but keeps the connection
        assert conn.wait_closed()
    # The broker still serves others.
    client = connect()
    client.subscribe(queue)
    client.send(queue, "ok")
    assert client.recv().body == "ok"
