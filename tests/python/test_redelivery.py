"""Redelivery limits and dead-letter queues.

FerroMQ redelivers a NACKed message (and one whose consumer left without
acking) with an incremented count; after `max_redeliveries` (default 6, as
ActiveMQ's maximumRedeliveries) the next failure moves it to the DLQ.
ActiveMQ 5.17 instead dead-letters a STOMP NACK at once, and never counts
STOMP disconnects towards a limit, so those tests are FerroMQ-only. The
DLQ names and headers are ActiveMQ's.
"""

import socket
import struct
import time

import pytest

from helpers import unique

NACK_REDELIVERS = "ActiveMQ 5.17 dead-letters a STOMP NACK at once (poison ack)"


def _nack_until_gone(client, times):
    """NACKs the same message ``times`` times; returns the frames seen."""
    frames = []
    for _ in range(times):
        frame = client.recv()
        frames.append(frame)
        client.nack(frame)
    return frames


def _dlq_reader(connect, dlq, tag):
    reader = connect()
    reader.subscribe(dlq, headers={"selector": "tag = '%s'" % tag})
    return reader


@pytest.mark.ferromq_only(reason=NACK_REDELIVERS)
def test_nack_seven_times_goes_to_shared_dlq(connect):
    client = connect()
    name = unique("poison")
    queue, tag = "/queue/" + name, unique("tag")
    client.send(queue, "poison", tag=tag, persistent="true")
    client.subscribe(queue, ack="client-individual")
    # 1 delivery + 6 redeliveries, each NACKed: the 7th NACK dead-letters it.
    frames = _nack_until_gone(client, 7)
    assert all(f.body == "poison" for f in frames), [f.body for f in frames]
    assert [f.headers.get("redelivered", "false") for f in frames] == ["false"] + ["true"] * 6
    client.send(queue, "marker")
    assert client.recv_until("marker") == []

    dead = _dlq_reader(connect, "/queue/ActiveMQ.DLQ", tag).recv()
    assert dead.body == "poison"
    assert dead.headers["destination"] == "/queue/ActiveMQ.DLQ"
    assert dead.headers.get("original-destination") == queue
    assert dead.headers.get("persistent") == "true"


@pytest.mark.ferromq_only(reason=NACK_REDELIVERS)
@pytest.mark.broker_config(dead_letter_strategy="individual")
def test_individual_dead_letter_strategy(connect):
    client = connect()
    name = unique("indiv")
    queue, tag = "/queue/" + name, unique("tag")
    client.send(queue, "poison", tag=tag, persistent="true")
    client.subscribe(queue, ack="client-individual")
    _nack_until_gone(client, 7)
    dead = _dlq_reader(connect, "/queue/DLQ." + name, tag).recv()
    assert dead.body == "poison"
    assert dead.headers.get("original-destination") == queue
    # Nothing went to the shared DLQ.
    shared = _dlq_reader(connect, "/queue/ActiveMQ.DLQ", tag)
    shared.send_h("/queue/ActiveMQ.DLQ", "marker", {"tag": tag})
    assert shared.recv_until("marker") == []


@pytest.mark.ferromq_only(reason=NACK_REDELIVERS)
@pytest.mark.broker_config(max_redeliveries=2)
def test_configured_max_redeliveries(connect):
    client = connect()
    queue, tag = "/queue/" + unique("max2"), unique("tag")
    client.send(queue, "poison", tag=tag, persistent="true")
    client.subscribe(queue, ack="client-individual")
    frames = _nack_until_gone(client, 3)
    assert len(frames) == 3
    client.send(queue, "marker")
    assert client.recv_until("marker") == []
    assert _dlq_reader(connect, "/queue/ActiveMQ.DLQ", tag).recv().body == "poison"


@pytest.mark.ferromq_only(reason="ActiveMQ 5.17 never dead-letters on STOMP disconnects")
def test_consumer_leaving_unacked_counts_as_redelivery(connect):
    producer = connect()
    queue, tag = "/queue/" + unique("leave"), unique("tag")
    producer.send(queue, "poison", tag=tag, persistent="true")
    for attempt in range(7):
        consumer = connect()
        consumer.subscribe(queue, ack="client-individual")
        frame = consumer.recv()
        assert frame.body == "poison"
        assert frame.headers.get("redelivered", "false") == ("true" if attempt else "false")
        consumer.drop()
    dead = _dlq_reader(connect, "/queue/ActiveMQ.DLQ", tag).recv()
    assert dead.body == "poison"
    producer.subscribe(queue)
    producer.send(queue, "marker")
    assert producer.recv_until("marker") == []


def test_nack_moves_message_out_of_the_queue_eventually(connect, is_activemq):
    """Portable: NACKing a message until the broker gives up dead-letters
    it to ActiveMQ.DLQ with its original destination recorded."""
    client = connect()
    queue, tag = "/queue/" + unique("giveup"), unique("tag")
    client.send(queue, "poison", tag=tag, persistent="true")
    client.subscribe(queue, ack="client-individual")
    _nack_until_gone(client, 1 if is_activemq else 7)
    dead = _dlq_reader(connect, "/queue/ActiveMQ.DLQ", tag).recv()
    assert dead.body == "poison"
    assert dead.headers.get("original-destination") == queue


@pytest.mark.ferromq_only(reason="which deliveries left the broker is FerroMQ's own bookkeeping")
def test_deliveries_that_never_left_the_broker_are_not_flagged(connect, raw):
    """A consumer that stops reading: the broker writes what the socket takes and keeps the
    rest of its prefetch window queued for the connection. When the client goes away, only
    the deliveries the connection took to write come back flagged as redelivered (and count
    towards max_redeliveries); the queued ones never left the broker."""
    queue = "/queue/" + unique("unsent")
    size, count, prefetch = 64 * 1024, 600, 500
    producer = connect()
    body = "x" * size
    for seq in range(count):
        producer.send(queue, body, seq=str(seq))
    stalled = raw()
    stalled.connect()
    stalled.send_frame("SUBSCRIBE", [("id", "s"), ("destination", queue), ("ack", "client"),
                                     ("activemq.prefetchSize", str(prefetch))])
    # The prefetch window (32 MiB) is far more than loopback socket buffers hold, so the
    # connection stalls with most of the window still queued for it.
    time.sleep(1.0)
    # Reset rather than close, so the broker's blocked write fails at once.
    stalled.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    stalled.close()

    reader = connect()
    reader.subscribe(queue, headers={"activemq.prefetchSize": "50"})
    frames = [reader.recv() for _ in range(count)]
    seqs = [int(f.headers["seq"]) for f in frames]
    assert seqs == list(range(count)), "every message once, in order"
    flagged = [int(f.headers["seq"]) for f in frames if f.headers.get("redelivered") == "true"]
    assert flagged == list(range(len(flagged))), "the flagged ones are the first ones"
    assert 0 < len(flagged) < prefetch, \
        "%d of the %d dispatched were flagged as redelivered" % (len(flagged), prefetch)
