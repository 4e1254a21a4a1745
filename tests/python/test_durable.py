"""Durable topic subscriptions: `client-id` on CONNECT plus
`activemq.subscriptionName` on SUBSCRIBE, removed ActiveMQ's way with an
UNSUBSCRIBE carrying `activemq.subscriptionName`."""

import pytest

from helpers import poll_until, unique

NAME = "activemq.subscriptionName"


def _connect_as(connect, client_id):
    """Connects with ``client_id``, retrying while the broker still holds the
    previous connection with that id (a dropped socket is noticed async)."""
    found = {}

    def attempt():
        try:
            found["client"] = connect(client_id=client_id)
        except ConnectionError as err:
            found["error"] = err
            return False
        return True

    poll_until(attempt, interval=0.1, what="client-id %s to be free (%s)" % (client_id, found))
    return found["client"]


def _durable(connect, client_id, topic, name, **kwargs):
    client = _connect_as(connect, client_id)
    sub = client.subscribe(topic, headers={NAME: name}, **kwargs)
    return client, sub


def test_offline_messages_delivered_on_reconnect(connect):
    client_id, topic = unique("cid"), "/topic/" + unique("dur")
    client, _ = _durable(connect, client_id, topic, "sub")
    producer = connect()
    producer.send(topic, "online")
    assert client.recv().body == "online"
    client.disconnect()

    for i in range(3):
        producer.send(topic, "offline-%d" % i, persistent="true")
    client, _ = _durable(connect, client_id, topic, "sub")
    assert [f.body for f in client.recv_n(3)] == ["offline-%d" % i for i in range(3)]
    producer.send(topic, "marker")
    assert client.recv_until("marker") == []


def test_non_durable_subscriber_misses_offline_messages(connect):
    topic = "/topic/" + unique("nondur")
    client = connect()
    sub = client.subscribe(topic)
    client.unsubscribe(sub)
    client.send(topic, "missed")
    client.subscribe(topic)
    client.send(topic, "marker")
    assert client.recv_until("marker") == []


def test_durable_subscriptions_are_independent(connect):
    topic = "/topic/" + unique("durind")
    a_id, b_id = unique("cida"), unique("cidb")
    a, _ = _durable(connect, a_id, topic, "s")
    b, _ = _durable(connect, b_id, topic, "s")
    a.disconnect()
    b.disconnect()
    producer = connect()
    producer.send(topic, "for-both", persistent="true")
    a, _ = _durable(connect, a_id, topic, "s")
    assert a.recv().body == "for-both"
    a.disconnect()
    b, _ = _durable(connect, b_id, topic, "s")
    assert b.recv().body == "for-both"


def test_client_ack_on_durable_subscription(connect, is_activemq):
    client_id, topic = unique("cid"), "/topic/" + unique("durack")
    client, _ = _durable(connect, client_id, topic, "sub", ack="client-individual")
    client.disconnect()
    producer = connect()
    producer.send(topic, "one", persistent="true")
    producer.send(topic, "two", persistent="true")
    client, _ = _durable(connect, client_id, topic, "sub", ack="client-individual")
    one, two = client.recv_n(2)
    client.ack(one)
    client.drop()  # "two" stays unacked
    client, _ = _durable(connect, client_id, topic, "sub", ack="client-individual")
    again = client.recv()
    assert again.body == "two"
    if not is_activemq:
        # ActiveMQ 5.17 redelivers to a durable subscription without the
        # flag; FerroMQ flags every redelivery.
        assert again.headers.get("redelivered") == "true"


def test_unsubscribe_with_subscription_name_removes_it(connect):
    client_id, topic = unique("cid"), "/topic/" + unique("durrm")
    client, _ = _durable(connect, client_id, topic, "sub")
    client.disconnect()
    producer = connect()
    producer.send(topic, "backlog", persistent="true")

    # Remove it while offline: a fresh connection with the same client-id.
    client = _connect_as(connect, client_id)
    client.unsubscribe("any-id", headers={NAME: "sub"})
    client.disconnect()
    producer.send(topic, "after-removal", persistent="true")

    # Subscribing again creates a new, empty subscription.
    client, _ = _durable(connect, client_id, topic, "sub")
    producer.send(topic, "marker")
    assert client.recv_until("marker") == []


def test_unsubscribe_active_durable_then_remove(connect):
    client_id, topic = unique("cid"), "/topic/" + unique("durrm2")
    client, sub = _durable(connect, client_id, topic, "sub")
    # ActiveMQ refuses to remove a subscription with a live consumer, so a
    # client first closes the consumer, then removes the subscription.
    client.unsubscribe(sub)
    client.unsubscribe(sub, headers={NAME: "sub"})
    producer = connect()
    producer.send(topic, "gone", persistent="true")
    client.disconnect()
    client, _ = _durable(connect, client_id, topic, "sub")
    producer.send(topic, "marker")
    assert client.recv_until("marker") == []


def test_plain_unsubscribe_keeps_durable_subscription(connect):
    client_id, topic = unique("cid"), "/topic/" + unique("durkeep")
    client, sub = _durable(connect, client_id, topic, "sub")
    client.unsubscribe(sub)  # no subscription name: just goes offline
    producer = connect()
    producer.send(topic, "kept", persistent="true")
    client.disconnect()
    client, _ = _durable(connect, client_id, topic, "sub")
    assert client.recv().body == "kept"


@pytest.mark.own_broker
def test_durable_subscription_survives_restart(broker, connect):
    client_id, topic = unique("cid"), "/topic/" + unique("durrestart")
    client, _ = _durable(connect, client_id, topic, "sub")
    client.disconnect()
    producer = connect()
    for i in range(3):
        producer.send(topic, "p%d" % i, persistent="true")
    producer.disconnect()
    broker.restart()
    client, _ = _durable(connect, client_id, topic, "sub")
    assert [f.body for f in client.recv_n(3)] == ["p0", "p1", "p2"]
    # And it is still subscribed for new messages.
    producer = connect()
    producer.send(topic, "new")
    assert client.recv().body == "new"


@pytest.mark.own_broker
def test_durable_subscription_survives_kill9(broker, connect):
    client_id, topic = unique("cid"), "/topic/" + unique("durkill")
    client, _ = _durable(connect, client_id, topic, "sub")
    client.disconnect()
    producer = connect()
    producer.send(topic, "receipted", persistent="true")
    broker.kill9()
    broker.restart()
    client, _ = _durable(connect, client_id, topic, "sub")
    assert client.recv().body == "receipted"
