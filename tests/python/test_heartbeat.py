"""Heart-beats in both directions (STOMP 1.1+)."""

import time

from helpers import unique


def _count_heartbeats(conn, seconds):
    """Reads for ``seconds``; returns how many heart-beat EOLs arrived."""
    deadline = time.monotonic() + seconds
    start = conn.heartbeats
    while time.monotonic() < deadline:
        try:
            frame = conn.read_frame(max(0.01, deadline - time.monotonic()))
        except (TimeoutError, OSError):
            continue
        raise AssertionError("unexpected frame %r" % frame)
    return conn.heartbeats - start


def test_broker_sends_heartbeats_when_asked(raw):
    conn = raw()
    frame = conn.connect(extra=[("heart-beat", "0,500")])
    interval = int(frame.headers["heart-beat"].split(",")[0])
    assert 0 < interval <= 500
    # Over 2.5 s at most every 500 ms: at least 3, allowing scheduling slack.
    assert _count_heartbeats(conn, 2.5) >= 3


def test_no_heartbeats_unless_asked(raw):
    conn = raw()
    frame = conn.connect(extra=[("heart-beat", "0,0")])
    assert frame.headers["heart-beat"] == "0,0"
    assert _count_heartbeats(conn, 1.0) == 0


def test_silent_client_is_disconnected(raw):
    conn = raw()
    frame = conn.connect(extra=[("heart-beat", "500,0")])
    expected = int(frame.headers["heart-beat"].split(",")[1])
    assert expected >= 500  # the server will check at (at least) our rate
    started = time.monotonic()
    # ActiveMQ allows a grace factor; a few intervals is plenty.
    assert conn.wait_closed(timeout=max(5.0, 8 * expected / 1000)), \
        "broker kept a silent connection that promised heart-beats"
    elapsed = time.monotonic() - started
    assert elapsed >= expected / 1000 * 0.9, "closed before one interval: %.2fs" % elapsed


def test_client_heartbeats_keep_the_connection(raw):
    conn = raw()
    frame = conn.connect(extra=[("heart-beat", "500,0")])
    expected = int(frame.headers["heart-beat"].split(",")[1]) / 1000
    deadline = time.monotonic() + max(3.0, 5 * expected)
    while time.monotonic() < deadline:
        conn.send_bytes(b"\n")
        time.sleep(expected / 3)  # pacing our own heart-beats, not waiting on the broker
    # Still usable: a frame gets its receipt.
    conn.send_frame("SEND", [("destination", "/queue/" + unique("hb")), ("receipt", "alive")],
                    b"x")
    assert conn.read_frame().headers["receipt-id"] == "alive"


def test_any_frame_counts_as_a_heartbeat(raw):
    conn = raw()
    frame = conn.connect(extra=[("heart-beat", "500,0")])
    expected = int(frame.headers["heart-beat"].split(",")[1]) / 1000
    queue = "/queue/" + unique("hbframes")
    deadline = time.monotonic() + max(3.0, 5 * expected)
    i = 0
    while time.monotonic() < deadline:
        i += 1
        conn.send_frame("SEND", [("destination", queue), ("receipt", "r%d" % i)], b"x")
        assert conn.read_frame().headers["receipt-id"] == "r%d" % i
        time.sleep(expected / 3)


def test_stomp_py_heartbeats_both_ways(connect):
    client = connect(heartbeats=(300, 300))
    queue = "/queue/" + unique("hbpy")
    client.subscribe(queue)
    started = time.monotonic()
    # Wait (bounded) until the client has seen a few server heart-beats.
    with client.listener.cond:
        while client.listener.heartbeats < 3:
            remaining = 5.0 - (time.monotonic() - started)
            assert remaining > 0, "only %d heart-beats" % client.listener.heartbeats
            client.listener.cond.wait(remaining)
    client.send(queue, "still-here")
    assert client.recv().body == "still-here"
