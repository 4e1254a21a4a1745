"""Memory limits seen from a STOMP producer."""

import pytest

from helpers import RawStomp, unique

pytestmark = pytest.mark.own_broker


def test_send_fail_if_no_space_gives_producer_an_error(broker_factory, connect):
    broker = broker_factory(destination_memory_limit="64 KiB", send_fail_if_no_space=True)
    queue = "/queue/" + unique("full")
    conn = RawStomp(broker.host, broker.port)
    body = b"x" * 1024
    accepted = 0
    error = None
    try:
        conn.connect()
        # 64 KiB fills after ~64 messages; 1000 bounds the loop generously.
        for i in range(1000):
            conn.send_frame("SEND", [("destination", queue), ("persistent", "false"),
                                     ("receipt", "r%d" % i)], body)
            frame = conn.read_frame()
            if frame.command == "ERROR":
                error = frame
                break
            assert frame.headers["receipt-id"] == "r%d" % i
            accepted += 1
    finally:
        conn.close()
    assert error is not None, "broker accepted 1000 KiB into a 64 KiB destination"
    assert error.headers.get("message")
    assert accepted > 0
    assert broker.alive()
    # Every message the broker accepted is still there.
    reader = connect(target=broker)
    reader.subscribe(queue)
    assert len(reader.recv_n(accepted)) == accepted
