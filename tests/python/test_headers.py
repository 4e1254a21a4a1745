"""ActiveMQ's STOMP message headers, bodies with NULs and header escaping."""

import time

import pytest

from helpers import poll_until, unique


def _now_ms():
    return int(time.time() * 1000)


def test_jms_headers_round_trip(connect):
    client = connect()
    queue = "/queue/" + unique("jms")
    client.subscribe(queue)
    client.send_h(queue, "body", {
        "persistent": "true",
        "priority": "6",
        "reply-to": "/queue/replies",
        "correlation-id": "corr-42",
        "type": "OrderPlaced",
        "color": "red",
        "amount": "12",
        "x-custom.dotted": "v",
    })
    headers = client.recv().headers
    assert headers["persistent"] == "true"
    assert headers["priority"] == "6"
    assert headers["reply-to"] == "/queue/replies"
    assert headers["correlation-id"] == "corr-42"
    assert headers["type"] == "OrderPlaced"
    assert headers["color"] == "red"
    assert headers["amount"] == "12"
    assert headers["x-custom.dotted"] == "v"


def test_non_persistent_has_no_persistent_header(connect):
    client = connect()
    queue = "/queue/" + unique("np")
    client.subscribe(queue)
    client.send(queue, "x", persistent="false")
    headers = client.recv().headers
    # ActiveMQ omits the header for non-persistent messages.
    assert headers.get("persistent", "false") == "false"


def test_send_without_persistent_header_is_non_persistent(connect):
    # ActiveMQ's STOMP default; tests/python/test_persistence.py checks that
    # such a message is indeed gone after a restart.
    client = connect()
    queue = "/queue/" + unique("dfltnp")
    client.subscribe(queue)
    client.send(queue, "x")
    assert client.recv().headers.get("persistent", "false") == "false"


def test_expires_header_round_trips(connect):
    client = connect()
    queue = "/queue/" + unique("expkeep")
    client.subscribe(queue)
    expires = _now_ms() + 600_000
    client.send(queue, "x", expires=str(expires))
    assert client.recv().headers["expires"] == str(expires)


def test_message_ids_are_unique(connect):
    client = connect()
    queue = "/queue/" + unique("ids")
    client.subscribe(queue)
    for i in range(20):
        client.send(queue, "m%d" % i, receipt=(i == 19))
    ids = [f.headers["message-id"] for f in client.recv_n(20)]
    assert len(set(ids)) == 20


def test_content_length_body_with_nul_bytes(raw):
    conn = raw()
    conn.connect()
    queue = "/queue/" + unique("nul")
    body = b"\x00start\x00middle\x00\x00end\x00"
    conn.send_frame("SUBSCRIBE", [("destination", queue), ("id", "s")])
    conn.send_frame("SEND", [("destination", queue), ("receipt", "r")], body)
    frames = [conn.read_frame(), conn.read_frame()]
    message = [f for f in frames if f.command == "MESSAGE"][0]
    assert message.body == body
    assert message.headers["content-length"] == str(len(body))


def test_binary_body_round_trip(raw):
    conn = raw()
    conn.connect()
    queue = "/queue/" + unique("bin")
    body = bytes(range(256)) * 8
    conn.send_frame("SEND", [("destination", queue)], body)
    conn.send_frame("SUBSCRIBE", [("destination", queue), ("id", "s")])
    message = conn.read_frame()
    assert message.command == "MESSAGE"
    assert message.body == body


def test_body_without_content_length(raw):
    conn = raw()
    conn.connect()
    queue = "/queue/" + unique("nocl")
    conn.send_frame("SEND", [("destination", queue)], b"plain text", content_length=False)
    conn.send_frame("SUBSCRIBE", [("destination", queue), ("id", "s")])
    assert conn.read_frame().body == b"plain text"


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_header_escaping_round_trips(raw, version):
    conn = raw()
    conn.connect(version=version)
    queue = "/queue/" + unique("esc")
    value = "a:b\nc\\d"
    conn.send_frame("SUBSCRIBE", [("destination", queue), ("id", "s")])
    # encode_frame escapes ':' '\n' '\\' as \c \n \\ for 1.1 and 1.2.
    conn.send_frame("SEND", [("destination", queue), ("weird", value), ("receipt", "r")], b"x")
    frames = [conn.read_frame(), conn.read_frame()]
    message = [f for f in frames if f.command == "MESSAGE"][0]
    assert message.headers["weird"] == value


def test_header_escaping_on_the_wire(raw):
    """The MESSAGE carries the escaped form, not raw ':' or newlines."""
    conn = raw()
    conn.connect(version="1.2")
    queue = "/queue/" + unique("escwire")
    conn.send_frame("SEND", [("destination", queue), ("k", "x:y\nz")], b"x")
    conn.send_frame("SUBSCRIBE", [("destination", queue), ("id", "s")])
    deadline = time.monotonic() + 10
    while b"\x00" not in conn.buf:
        assert time.monotonic() < deadline
        conn._fill(deadline)
    head = conn.buf.split(b"\n\n", 1)[0]
    assert b"\nk:x\\cy\\nz\n" in head + b"\n", head


def test_stomp_py_escaped_headers_round_trip(connect):
    client = connect(version="1.2")
    queue = "/queue/" + unique("escpy")
    client.subscribe(queue)
    client.send_h(queue, "x", {"path": "C:\\dir\\file", "multi": "line1\nline2"})
    headers = client.recv().headers
    assert headers["path"] == "C:\\dir\\file"
    assert headers["multi"] == "line1\nline2"


def test_repeated_header_first_value_wins(raw):
    conn = raw()
    conn.connect(version="1.2")
    queue = "/queue/" + unique("repeat")
    conn.send_frame("SEND", [("destination", queue), ("foo", "first"), ("foo", "second")], b"x")
    conn.send_frame("SUBSCRIBE", [("destination", queue), ("id", "s")])
    assert conn.read_frame().headers["foo"] == "first"


@pytest.mark.ferromq_only(reason="ActiveMQ 5.17 orders by priority only with "
                          "prioritizedMessages=true; FerroMQ always does (like Artemis)")
def test_priority_higher_first_then_fifo(connect):
    client = connect()
    queue = "/queue/" + unique("prio")
    for i in range(10):
        client.send(queue, "low-%d" % i, priority="1", receipt=False)
    for i in range(10):
        client.send(queue, "high-%d" % i, priority="9", receipt=(i == 9))
    client.subscribe(queue)
    bodies = [f.body for f in client.recv_n(20)]
    assert bodies == ["high-%d" % i for i in range(10)] + ["low-%d" % i for i in range(10)]


@pytest.mark.ferromq_only(reason="priority ordering is not ActiveMQ's default")
def test_priority_default_is_4(connect):
    client = connect()
    queue = "/queue/" + unique("prio4")
    client.send(queue, "p3", priority="3")
    client.send(queue, "default")
    client.send(queue, "p5", priority="5")
    client.subscribe(queue)
    frames = client.recv_n(3)
    assert [f.body for f in frames] == ["p5", "default", "p3"]
    assert frames[1].headers["priority"] == "4"


def test_expired_message_is_never_delivered(connect):
    client = connect()
    queue = "/queue/" + unique("exp")
    expires = _now_ms() + 300
    client.send(queue, "expired", expires=str(expires), persistent="false")
    client.send(queue, "fresh")
    # Wait on the clock (not on the broker) until the first one is stale.
    poll_until(lambda: _now_ms() > expires + 50, what="expiry time")
    client.subscribe(queue)
    client.send(queue, "marker")
    assert [f.body for f in client.recv_until("marker")] == ["fresh"]


def test_expired_persistent_message_goes_to_dlq(connect):
    client = connect()
    queue = "/queue/" + unique("expdlq")
    tag = unique("tag")
    expires = _now_ms() + 300
    client.send(queue, "expired", expires=str(expires), persistent="true", tag=tag)
    poll_until(lambda: _now_ms() > expires + 50, what="expiry time")
    # Consuming makes any broker notice the expiry (ActiveMQ checks on
    # dispatch and periodically); the message must not be delivered.
    client.subscribe(queue)
    client.send(queue, "marker")
    assert client.recv_until("marker") == []
    dlq = connect()
    dlq.subscribe("/queue/ActiveMQ.DLQ", headers={"selector": "tag = '%s'" % tag})
    frame = dlq.recv()
    assert frame.body == "expired"
    assert frame.headers["destination"] == "/queue/ActiveMQ.DLQ"
    # ActiveMQ records where it came from and clears the expiry.
    assert frame.headers.get("original-destination") == queue
    assert frame.headers.get("expires", "0") == "0"


def test_expired_non_persistent_message_is_not_dead_lettered(connect):
    client = connect()
    queue = "/queue/" + unique("expnp")
    tag = unique("tag")
    expires = _now_ms() + 300
    client.send(queue, "expired-np", expires=str(expires), persistent="false", tag=tag)
    client.send(queue, "expired-p", expires=str(expires), persistent="true", tag=tag)
    poll_until(lambda: _now_ms() > expires + 50, what="expiry time")
    client.subscribe(queue)
    client.send(queue, "marker")
    assert client.recv_until("marker") == []
    dlq = connect()
    dlq.subscribe("/queue/ActiveMQ.DLQ", headers={"selector": "tag = '%s'" % tag})
    # The persistent one arrives; the non-persistent one must not precede it
    # and a marker sent to the DLQ after it bounds the wait for stragglers.
    assert dlq.recv().body == "expired-p"
    dlq.send_h("/queue/ActiveMQ.DLQ", "dlq-marker", {"tag": tag})
    assert [f.body for f in dlq.recv_until("dlq-marker")] == []
