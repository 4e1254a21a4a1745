"""SEND / SUBSCRIBE / UNSUBSCRIBE on queues and topics."""

import time

import pytest

from helpers import unique


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_queue_send_and_receive(connect, version):
    client = connect(version=version)
    queue = "/queue/" + unique("basic")
    client.subscribe(queue)
    client.send(queue, "hello")
    frame = client.recv()
    assert frame.body == "hello"
    assert frame.headers["destination"] == queue
    assert frame.headers.get("message-id")
    if version != "1.0":
        assert frame.headers["subscription"] in client.subs


def test_message_frame_headers_like_activemq(connect):
    client = connect()
    queue = "/queue/" + unique("hdrs")
    sub = client.subscribe(queue, ack="client-individual")
    client.send(queue, "x")
    frame = client.recv()
    assert frame.headers["subscription"] == sub
    assert frame.headers.get("ack"), "STOMP 1.2 MESSAGE with client ack needs an ack header"
    # ActiveMQ always stamps these JMS fields on a MESSAGE.
    assert frame.headers["priority"] == "4"
    assert frame.headers["expires"] == "0"
    assert int(frame.headers["timestamp"]) > 0
    assert "redelivered" not in frame.headers or frame.headers["redelivered"] == "false"


def test_topic_send_and_receive(connect):
    client = connect()
    topic = "/topic/" + unique("basic")
    client.subscribe(topic)
    client.send(topic, "news")
    frame = client.recv()
    assert frame.body == "news"
    assert frame.headers["destination"] == topic


def test_queue_message_waits_for_a_consumer(connect):
    producer = connect()
    queue = "/queue/" + unique("wait")
    producer.send(queue, "stored")
    producer.disconnect()
    consumer = connect()
    consumer.subscribe(queue)
    assert consumer.recv().body == "stored"


def test_topic_message_without_subscriber_is_dropped(connect):
    client = connect()
    topic = "/topic/" + unique("drop")
    client.send(topic, "nobody-listens")
    client.subscribe(topic)
    client.send(topic, "marker")
    assert client.recv_until("marker") == []


def test_queue_competing_consumers_share_the_load(connect):
    producer = connect()
    queue = "/queue/" + unique("compete")
    first, second = connect(), connect()
    first.subscribe(queue, headers={"activemq.prefetchSize": "1"}, ack="client-individual")
    second.subscribe(queue, headers={"activemq.prefetchSize": "1"}, ack="client-individual")
    count = 100
    for i in range(count):
        producer.send(queue, "m%d" % i, receipt=(i == count - 1))
    got = {"first": [], "second": []}
    # Each consumer acks what it gets, so both keep pulling until all arrived.
    deadline = time.monotonic() + 20
    while len(got["first"]) + len(got["second"]) < count:
        assert time.monotonic() < deadline, "only %d of %d delivered" % (
            len(got["first"]) + len(got["second"]), count)
        for name, client in (("first", first), ("second", second)):
            for frame in client.pending():
                got[name].append(frame.body)
                client.ack(frame, receipt=False)
        time.sleep(0.005)
    bodies = got["first"] + got["second"]
    assert sorted(bodies) == sorted("m%d" % i for i in range(count)), "lost or duplicated"
    assert got["first"], "first consumer got nothing"
    assert got["second"], "second consumer got nothing"


def test_queue_round_robin_with_default_prefetch(connect):
    producer = connect()
    queue = "/queue/" + unique("rr")
    first, second = connect(), connect()
    first.subscribe(queue)
    second.subscribe(queue)
    for i in range(100):
        producer.send(queue, "m%d" % i, receipt=(i == 99))
    producer.send(queue, "done-1")
    producer.send(queue, "done-2")
    # Both consumers are online before the first send, so a fair broker
    # gives each some of the 100 (ActiveMQ alternates).
    deadline = time.monotonic() + 20
    got = {"first": [], "second": []}
    while sum(len(v) for v in got.values()) < 102:
        assert time.monotonic() < deadline, got
        for name, client in (("first", first), ("second", second)):
            got[name] += [f.body for f in client.pending()]
        time.sleep(0.01)
    assert len([b for b in got["first"] if b.startswith("m")]) > 0
    assert len([b for b in got["second"] if b.startswith("m")]) > 0
    assert sorted(got["first"] + got["second"]) == sorted(
        ["m%d" % i for i in range(100)] + ["done-1", "done-2"])


def test_topic_fan_out_to_every_subscriber(connect):
    topic = "/topic/" + unique("fan")
    subscribers = [connect() for _ in range(3)]
    for client in subscribers:
        client.subscribe(topic)
    producer = connect()
    for i in range(5):
        producer.send(topic, "t%d" % i)
    for client in subscribers:
        assert [f.body for f in client.recv_n(5)] == ["t%d" % i for i in range(5)]


def test_two_subscriptions_on_one_connection_each_get_topic_messages(connect):
    client = connect()
    topic = "/topic/" + unique("twosubs")
    a = client.subscribe(topic)
    b = client.subscribe(topic)
    client.send(topic, "both")
    frames = client.recv_n(2)
    assert sorted(f.headers["subscription"] for f in frames) == sorted([a, b])


def test_unsubscribe_stops_delivery(connect):
    client = connect()
    queue = "/queue/" + unique("unsub")
    sub = client.subscribe(queue)
    client.send(queue, "one")
    assert client.recv().body == "one"
    client.unsubscribe(sub)
    client.send(queue, "two")
    # "two" stays in the queue for the next consumer.
    other = connect()
    other.subscribe(queue)
    assert other.recv().body == "two"
    assert client.pending() == []


def test_unsubscribe_topic(connect):
    client = connect()
    topic = "/topic/" + unique("unsub")
    keep = client.subscribe(topic)
    drop = client.subscribe(topic)
    client.unsubscribe(drop)
    client.send(topic, "after")
    frame = client.recv()
    assert frame.headers["subscription"] == keep
    client.send(topic, "marker")
    assert client.recv_until("marker") == []


def test_fifo_order_on_a_queue(connect):
    client = connect()
    queue = "/queue/" + unique("fifo")
    for i in range(50):
        client.send(queue, "m%02d" % i, receipt=(i == 49))
    client.subscribe(queue)
    assert [f.body for f in client.recv_n(50)] == ["m%02d" % i for i in range(50)]
