"""Ack modes: auto, client (cumulative), client-individual, NACK, and
redelivery of what a departed consumer never acknowledged."""

import pytest

from helpers import unique


def _fill(client, queue, count, prefix="m"):
    for i in range(count):
        client.send(queue, "%s%d" % (prefix, i), receipt=(i == count - 1))


def _leftovers(connect, queue):
    """Everything still in ``queue`` (body, redelivered), read by a new consumer."""
    reader = connect()
    reader.subscribe(queue)
    reader.send(queue, "marker")
    return [(f.body, f.headers.get("redelivered", "false")) for f in reader.recv_until("marker")]


def test_auto_ack_consumes(connect):
    client = connect()
    queue = "/queue/" + unique("auto")
    _fill(client, queue, 3)
    sub = client.subscribe(queue, ack="auto")
    assert [f.body for f in client.recv_n(3)] == ["m0", "m1", "m2"]
    client.unsubscribe(sub)
    client.drop()
    assert _leftovers(connect, queue) == []


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_client_ack_is_cumulative(connect, version):
    client = connect(version=version)
    queue = "/queue/" + unique("client")
    _fill(client, queue, 5)
    client.subscribe(queue, ack="client")
    frames = client.recv_n(5)
    # Acking m2 in client mode acknowledges m0, m1 and m2.
    client.ack(frames[2])
    client.drop()
    assert _leftovers(connect, queue) == [("m3", "true"), ("m4", "true")]


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_client_individual_ack_acks_one(connect, version):
    client = connect(version=version)
    queue = "/queue/" + unique("indiv")
    _fill(client, queue, 4)
    client.subscribe(queue, ack="client-individual")
    frames = client.recv_n(4)
    client.ack(frames[1])
    client.ack(frames[3])
    client.drop()
    assert _leftovers(connect, queue) == [("m0", "true"), ("m2", "true")]


def test_unacked_messages_go_to_another_consumer_on_disconnect(connect):
    producer = connect()
    queue = "/queue/" + unique("failover")
    holder = connect()
    holder.subscribe(queue, ack="client-individual")
    other = connect()
    _fill(producer, queue, 3)
    held = holder.recv_n(3)
    assert [f.body for f in held] == ["m0", "m1", "m2"]
    # A second consumer subscribes while the first holds everything unacked.
    other.subscribe(queue, ack="client-individual")
    holder.drop()
    frames = other.recv_n(3)
    assert [f.body for f in frames] == ["m0", "m1", "m2"]
    assert all(f.headers.get("redelivered") == "true" for f in frames), \
        [f.headers for f in frames]
    for frame in frames:
        other.ack(frame)


def test_unacked_messages_redelivered_after_clean_disconnect(connect):
    client = connect()
    queue = "/queue/" + unique("cleandisc")
    _fill(client, queue, 2)
    client.subscribe(queue, ack="client")
    client.recv_n(2)
    client.disconnect()
    assert _leftovers(connect, queue) == [("m0", "true"), ("m1", "true")]


def test_acked_in_client_mode_is_not_redelivered(connect):
    client = connect()
    queue = "/queue/" + unique("acked")
    _fill(client, queue, 2)
    client.subscribe(queue, ack="client")
    frames = client.recv_n(2)
    client.ack(frames[-1])
    client.disconnect()
    assert _leftovers(connect, queue) == []


@pytest.mark.ferromq_only(reason="ActiveMQ 5.17 treats a STOMP NACK as a poison ack: "
                          "the message goes straight to the DLQ instead of being redelivered")
@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_nack_redelivers_with_redelivered_header(connect, version):
    client = connect(version=version)
    queue = "/queue/" + unique("nack")
    client.send(queue, "again")
    client.subscribe(queue, ack="client-individual")
    first = client.recv()
    assert first.headers.get("redelivered", "false") == "false"
    client.nack(first)
    second = client.recv()
    assert second.body == "again"
    assert second.headers.get("redelivered") == "true"
    assert second.headers["message-id"] == first.headers["message-id"]
    client.ack(second)
    client.drop()
    assert _leftovers(connect, queue) == []


def test_nack_takes_message_out_of_the_consumer(connect, is_activemq):
    """Portable part of NACK: the message is no longer held by this consumer
    and no other message is lost (ActiveMQ moves it to the DLQ, FerroMQ
    redelivers it)."""
    client = connect()
    queue = "/queue/" + unique("nack2")
    _fill(client, queue, 2)
    client.subscribe(queue, ack="client-individual")
    first, second = client.recv_n(2)
    client.nack(first)
    client.ack(second)
    if not is_activemq:
        again = client.recv()
        assert again.body == "m0"
        client.ack(again)
    client.drop()
    assert _leftovers(connect, queue) == []
