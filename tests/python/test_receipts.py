"""A RECEIPT for every frame that asks for one."""

import pytest

from helpers import unique


def _expect_receipt(conn, receipt_id):
    frame = conn.read_frame()
    assert frame.command == "RECEIPT", frame
    assert frame.headers["receipt-id"] == receipt_id
    return frame


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_receipt_for_every_frame_type(raw, version):
    conn = raw()
    conn.connect(version=version, command="CONNECT")
    queue = "/queue/" + unique("rcpt")

    conn.send_frame("SEND", [("destination", queue), ("receipt", "r-send")], b"one")
    _expect_receipt(conn, "r-send")

    conn.send_frame("SUBSCRIBE", [("destination", queue), ("id", "s1"), ("ack", "client"),
                                  ("receipt", "r-sub")])
    # RECEIPT and MESSAGE may come in either order.
    frames = [conn.read_frame(), conn.read_frame()]
    by_command = {f.command: f for f in frames}
    assert by_command["RECEIPT"].headers["receipt-id"] == "r-sub"
    message = by_command["MESSAGE"]

    if version == "1.2":
        ack_headers = [("id", message.headers["ack"])]
    else:
        ack_headers = [("message-id", message.headers["message-id"])]
        if version == "1.1":
            ack_headers.append(("subscription", "s1"))
    conn.send_frame("ACK", ack_headers + [("receipt", "r-ack")])
    _expect_receipt(conn, "r-ack")

    conn.send_frame("BEGIN", [("transaction", "t1"), ("receipt", "r-begin")])
    _expect_receipt(conn, "r-begin")
    conn.send_frame("SEND", [("destination", queue), ("transaction", "t1"),
                             ("receipt", "r-txsend")], b"two")
    _expect_receipt(conn, "r-txsend")
    conn.send_frame("COMMIT", [("transaction", "t1"), ("receipt", "r-commit")])
    # The committed message may arrive around the receipt.
    frames = [conn.read_frame(), conn.read_frame()]
    assert sorted(f.command for f in frames) == ["MESSAGE", "RECEIPT"]
    assert [f for f in frames if f.command == "RECEIPT"][0].headers["receipt-id"] == "r-commit"

    conn.send_frame("BEGIN", [("transaction", "t2"), ("receipt", "r-begin2")])
    _expect_receipt(conn, "r-begin2")
    conn.send_frame("ABORT", [("transaction", "t2"), ("receipt", "r-abort")])
    _expect_receipt(conn, "r-abort")

    conn.send_frame("UNSUBSCRIBE", [("id", "s1"), ("receipt", "r-unsub")])
    _expect_receipt(conn, "r-unsub")

    conn.send_frame("DISCONNECT", [("receipt", "r-disc")])
    _expect_receipt(conn, "r-disc")
    assert conn.wait_closed(), "broker kept the connection open after DISCONNECT's RECEIPT"


def test_receipt_for_nack(raw):
    conn = raw()
    conn.connect(version="1.2")
    queue = "/queue/" + unique("rcptnack")
    conn.send_frame("SEND", [("destination", queue)], b"x")
    conn.send_frame("SUBSCRIBE", [("destination", queue), ("id", "s1"),
                                  ("ack", "client-individual")])
    message = conn.read_frame()
    assert message.command == "MESSAGE"
    conn.send_frame("NACK", [("id", message.headers["ack"]), ("receipt", "r-nack")])
    frame = conn.read_frame()
    if frame.command == "MESSAGE":  # FerroMQ may redeliver before the receipt
        frame = conn.read_frame()
    assert frame.command == "RECEIPT"
    assert frame.headers["receipt-id"] == "r-nack"


def test_receipts_come_back_in_order(raw):
    conn = raw()
    conn.connect()
    queue = "/queue/" + unique("rcptorder")
    for i in range(20):
        conn.send_frame("SEND", [("destination", queue), ("receipt", "r%d" % i)], b"m")
    ids = [conn.read_frame().headers["receipt-id"] for _ in range(20)]
    assert ids == ["r%d" % i for i in range(20)]


def test_no_receipt_unless_asked(raw):
    conn = raw()
    conn.connect()
    queue = "/queue/" + unique("norcpt")
    conn.send_frame("SEND", [("destination", queue)], b"m")
    conn.send_frame("SEND", [("destination", queue), ("receipt", "only")], b"m")
    frame = conn.read_frame()
    assert frame.command == "RECEIPT" and frame.headers["receipt-id"] == "only"
