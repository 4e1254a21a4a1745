"""Wildcard subscriptions, composite destinations and temporary queues."""

import pytest

from helpers import unique


def test_star_matches_exactly_one_segment(connect):
    base = unique("wcs")
    client = connect()
    client.subscribe("/topic/%s.*" % base)
    producer = connect()
    producer.send("/topic/%s.a" % base, "one-segment")
    producer.send("/topic/%s.a.b" % base, "two-segments")
    producer.send("/topic/%s" % base, "no-segment")
    producer.send("/topic/%s.b" % base, "marker")
    frames = client.recv_until("marker")
    assert [f.body for f in frames] == ["one-segment"]
    # The MESSAGE names the destination it was sent to, not the wildcard.
    assert frames[0].headers["destination"] == "/topic/%s.a" % base


def test_gt_matches_all_deeper_segments(connect):
    base = unique("wcg")
    client = connect()
    client.subscribe("/topic/%s.>" % base)
    producer = connect()
    producer.send("/topic/%s.a" % base, "one")
    producer.send("/topic/%s.a.b.c" % base, "three")
    producer.send("/topic/other.%s.a" % base, "elsewhere")
    producer.send("/topic/%s.z" % base, "marker")
    assert [f.body for f in client.recv_until("marker")] == ["one", "three"]


def test_gt_also_matches_the_parent_like_activemq(connect):
    """ActiveMQ 5.17's `a.>` also matches `a` itself (its docs say "one or
    more" segments, the broker matches zero or more)."""
    base = unique("wcp")
    client = connect()
    client.subscribe("/topic/%s.>" % base)
    producer = connect()
    producer.send("/topic/%s" % base, "parent")
    producer.send("/topic/%s.m" % base, "marker")
    assert [f.body for f in client.recv_until("marker")] == ["parent"]


def test_wildcards_in_the_middle(connect):
    base = unique("wcm")
    client = connect()
    client.subscribe("/topic/%s.*.price" % base)
    producer = connect()
    producer.send("/topic/%s.ibm.price" % base, "ibm")
    producer.send("/topic/%s.ibm.volume" % base, "volume")
    producer.send("/topic/%s.x.price" % base, "marker")
    assert [f.body for f in client.recv_until("marker")] == ["ibm"]


def test_one_message_per_matching_subscription(connect):
    base = unique("wcboth")
    client = connect()
    star = client.subscribe("/topic/%s.*" % base)
    deep = client.subscribe("/topic/%s.>" % base)
    exact = client.subscribe("/topic/%s.x" % base)
    client.send("/topic/%s.x" % base, "hit")
    frames = client.recv_n(3)
    assert sorted(f.headers["subscription"] for f in frames) == sorted([star, deep, exact])
    client.send("/topic/%s.x" % base, "marker")
    assert client.recv_until("marker") == []


def test_queue_wildcard_consumer(connect):
    base = unique("wcq")
    consumer = connect()
    consumer.subscribe("/queue/%s.*" % base)
    producer = connect()
    producer.send("/queue/%s.a" % base, "qa")
    producer.send("/queue/%s.b" % base, "qb")
    producer.send("/queue/%s.a.deeper" % base, "not-matched")
    frames = consumer.recv_n(2)
    assert sorted(f.body for f in frames) == ["qa", "qb"]
    assert sorted(f.headers["destination"] for f in frames) == [
        "/queue/%s.a" % base, "/queue/%s.b" % base]


def test_composite_send_to_two_queues(connect):
    a, b = "/queue/" + unique("ca"), "/queue/" + unique("cb")
    producer = connect()
    producer.send("%s,%s" % (a, b), "both")
    consumer = connect()
    consumer.subscribe(a)
    consumer.subscribe(b)
    frames = consumer.recv_n(2)
    assert [f.body for f in frames] == ["both", "both"]
    assert sorted(f.headers["destination"] for f in frames) == sorted([a, b])


def test_composite_send_to_queue_and_topic(connect):
    queue, topic = "/queue/" + unique("cq"), "/topic/" + unique("ct")
    consumer = connect()
    consumer.subscribe(topic)
    producer = connect()
    producer.send("%s,%s" % (queue, topic), "mixed")
    assert consumer.recv().headers["destination"] == topic
    consumer.subscribe(queue)
    assert consumer.recv().headers["destination"] == queue


def test_temp_queue_request_reply_within_one_connection(connect):
    client = connect()
    temp = "/temp-queue/" + unique("tq")
    client.subscribe(temp)
    client.send(temp, "to-myself")
    assert client.recv().body == "to-myself"


def test_temp_queue_as_reply_to_across_connections(connect):
    service_queue = "/queue/" + unique("svc")
    requester, service = connect(), connect()
    temp = "/temp-queue/" + unique("reply")
    requester.subscribe(temp)
    service.subscribe(service_queue)
    requester.send(service_queue, "request", reply_to=temp)
    request = service.recv()
    reply_to = request.headers["reply-to"]
    assert reply_to  # ActiveMQ rewrites it to /remote-temp-queue/ID:...
    service.send(reply_to, "reply", correlation_id="c1")
    reply = requester.recv()
    assert reply.body == "reply"
    assert reply.headers["correlation-id"] == "c1"


def test_temp_queue_gone_after_its_connection_closes(connect):
    service_queue = "/queue/" + unique("svc")
    requester, service = connect(), connect()
    temp = "/temp-queue/" + unique("gone")
    requester.subscribe(temp)
    requester.send(service_queue, "request", reply_to=temp)
    service.subscribe(service_queue)
    reply_to = service.recv().headers["reply-to"]
    requester.disconnect()
    # Like ActiveMQ: sending to a deleted temporary destination is refused.
    service.send(reply_to, "late-reply", receipt=False)
    error = service.wait_error()
    assert error.headers.get("message")
    # Nobody else can pick it up under the old name either.
    newcomer = connect()
    newcomer.subscribe(temp)
    newcomer.send(temp, "marker")
    assert newcomer.recv_until("marker") == []


@pytest.mark.parametrize("kind", ["queue", "topic"])
def test_temp_destination_names_are_private_to_a_connection(connect, kind):
    name = "/temp-%s/%s" % (kind, unique("priv"))
    a, b = connect(), connect()
    a.subscribe(name)
    b.subscribe(name)
    a.send(name, "from-a")
    b.send(name, "from-b")
    assert a.recv().body == "from-a"
    assert b.recv().body == "from-b"
    assert a.pending() == [] and b.pending() == []
