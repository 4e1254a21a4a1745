"""Persistent messages across graceful and `kill -9` restarts."""

import pytest

from helpers import unique

pytestmark = pytest.mark.own_broker


def _send(client, queue, prefix, count, persistent):
    for i in range(count):
        # A RECEIPT for a persistent SEND means "stored" (issue contract).
        client.send(queue, "%s%d" % (prefix, i), persistent="true" if persistent else "false")


def _drain(connect, queue):
    reader = connect()
    reader.subscribe(queue)
    reader.send(queue, "marker", persistent="false")
    bodies = [f.body for f in reader.recv_until("marker")]
    reader.disconnect()
    return bodies


def test_persistent_messages_survive_graceful_restart(broker, connect):
    queue = "/queue/" + unique("persist")
    client = connect()
    _send(client, queue, "p", 20, persistent=True)
    client.disconnect()
    broker.restart()
    assert _drain(connect, queue) == ["p%d" % i for i in range(20)]


def test_receipted_persistent_messages_survive_kill9(broker, connect):
    queue = "/queue/" + unique("kill")
    client = connect()
    _send(client, queue, "k", 20, persistent=True)
    broker.kill9()
    broker.restart()
    assert _drain(connect, queue) == ["k%d" % i for i in range(20)]


def test_non_persistent_messages_do_not_survive_restart(broker, connect):
    queue = "/queue/" + unique("np")
    client = connect()
    client.send(queue, "np", persistent="false")
    client.send(queue, "p", persistent="true")
    client.disconnect()
    broker.restart()
    assert _drain(connect, queue) == ["p"]


def test_default_send_is_not_persistent_like_activemq(broker, connect):
    # ActiveMQ's STOMP default is non-persistent unless `persistent:true`.
    queue = "/queue/" + unique("dflt")
    client = connect()
    client.send(queue, "no-header")
    client.disconnect()
    broker.restart()
    assert _drain(connect, queue) == []


def _send_and_ack_some(connect, queue):
    client = connect()
    _send(client, queue, "a", 4, persistent=True)
    client.subscribe(queue, ack="client-individual")
    frames = client.recv_n(4)
    client.ack(frames[0])
    client.ack(frames[2])
    client.disconnect()


def test_acked_messages_stay_consumed_after_restart(broker, connect):
    queue = "/queue/" + unique("acked")
    _send_and_ack_some(connect, queue)
    broker.restart()
    assert _drain(connect, queue) == ["a1", "a3"]


@pytest.mark.ferromq_only
def test_kill9_after_receipted_acks_keeps_them_acked(broker, connect):
    """An ACK answered with a RECEIPT is on disk: after kill -9 its message stays
    consumed, and no unacked message is lost. (ActiveMQ receipts an ACK before
    KahaDB has synced it, so there the acked message may come back.)"""
    queue = "/queue/" + unique("ackedkill")
    _send_and_ack_some(connect, queue)
    broker.kill9()
    broker.restart()
    assert _drain(connect, queue) == ["a1", "a3"]


def test_committed_transaction_survives_restart(broker, connect):
    queue = "/queue/" + unique("txp")
    client = connect()
    tx = client.begin()
    client.send(queue, "t1", persistent="true", transaction=tx)
    client.send(queue, "t2", persistent="true", transaction=tx)
    client.commit(tx)
    uncommitted = client.begin()
    client.send(queue, "never", persistent="true", transaction=uncommitted)
    broker.kill9()
    broker.restart()
    assert _drain(connect, queue) == ["t1", "t2"]


def test_memory_only_broker_keeps_nothing(broker_factory, connect):
    broker = broker_factory(persistent=False)
    queue = "/queue/" + unique("mem")
    client = connect(target=broker)
    client.send(queue, "p", persistent="true")
    client.disconnect()
    broker.restart()
    assert _drain(lambda **kw: connect(target=broker, **kw), queue) == []
    assert broker.stop() == 0
    leftovers = [p for p in broker.data_dir.rglob("*") if p.is_file() and p.stat().st_size > 0]
    assert leftovers == [], "persistent=false wrote %s" % leftovers


def test_runtime_file_replaced_after_kill9(broker):
    first_port = broker.port
    broker.kill9()
    assert broker.runtime_path.exists(), "kill -9 cannot remove the runtime file"
    broker.restart()  # waits for a runtime file naming the new pid
    assert broker.port > 0
    assert first_port > 0


@pytest.mark.ferromq_only
def test_messages_recovered_after_a_crash_are_flagged_redelivered(broker, connect):
    """After kill -9 the broker cannot know which stored messages were already out with a
    consumer, so it flags every recovered message as redelivered (JMS: "likely, but not
    guaranteed"); after a graceful restart only those that were delivered carry the flag."""
    queue = "/queue/" + unique("crashflag")
    client = connect()
    _send(client, queue, "c", 2, persistent=True)
    client.disconnect()
    broker.kill9()
    broker.restart()
    reader = connect()
    reader.subscribe(queue)
    frames = reader.recv_n(2)
    assert [f.body for f in frames] == ["c0", "c1"]
    assert [f.headers.get("redelivered") for f in frames] == ["true", "true"]
    reader.disconnect()
    broker.restart()
    queue2 = "/queue/" + unique("cleanflag")
    writer = connect()
    _send(writer, queue2, "g", 1, persistent=True)
    writer.disconnect()
    broker.restart()
    fresh = connect()
    fresh.subscribe(queue2)
    assert fresh.recv_n(1)[0].headers.get("redelivered") == "false"
