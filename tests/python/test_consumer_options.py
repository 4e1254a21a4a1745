"""`activemq.prefetchSize` and `activemq.exclusive` on SUBSCRIBE."""

from helpers import unique

PREFETCH_1 = {"activemq.prefetchSize": "1"}


def test_prefetch_one_lets_a_second_consumer_take_the_next(connect):
    producer = connect()
    queue = "/queue/" + unique("pf")
    first = connect()
    first.subscribe(queue, ack="client", headers=PREFETCH_1)
    for i in range(3):
        producer.send(queue, "m%d" % i)
    held = first.recv()
    assert held.body == "m0"
    # first holds m0 unacked and may not get more; m1 waits for a consumer.
    second = connect()
    second.subscribe(queue, ack="client", headers=PREFETCH_1)
    taken = second.recv()
    assert taken.body == "m1"
    assert first.pending() == []
    first.ack(held)
    assert first.recv().body == "m2"
    assert second.pending() == []


def test_prefetch_limits_unacked_deliveries(connect):
    producer = connect()
    queue = "/queue/" + unique("pf3")
    for i in range(10):
        producer.send(queue, "m%d" % i, receipt=(i == 9))
    consumer = connect()
    consumer.subscribe(queue, ack="client-individual", headers={"activemq.prefetchSize": "3"})
    frames = consumer.recv_n(3)
    assert [f.body for f in frames] == ["m0", "m1", "m2"]
    # Prove no 4th was dispatched: another consumer gets m3 next.
    other = connect()
    other.subscribe(queue, ack="client-individual", headers=PREFETCH_1)
    assert other.recv().body == "m3"
    assert consumer.pending() == []
    consumer.ack(frames[0])
    assert consumer.recv().body == "m4"


def test_exclusive_consumer_gets_everything_while_it_lives(connect):
    producer = connect()
    queue = "/queue/" + unique("excl")
    exclusive, other = connect(), connect()
    exclusive.subscribe(queue, headers={"activemq.exclusive": "true"})
    other.subscribe(queue)
    for i in range(10):
        producer.send(queue, "e%d" % i)
    assert [f.body for f in exclusive.recv_n(10)] == ["e%d" % i for i in range(10)]
    # Queue semantics: had `other` got any, `exclusive` could not have all 10.
    assert other.pending() == []

    exclusive.disconnect()
    for i in range(3):
        producer.send(queue, "f%d" % i)
    assert [f.body for f in other.recv_n(3)] == ["f0", "f1", "f2"]


def test_exclusive_consumer_subscribing_second_takes_over(connect):
    producer = connect()
    queue = "/queue/" + unique("excl2")
    plain = connect()
    plain.subscribe(queue)
    exclusive = connect()
    exclusive.subscribe(queue, headers={"activemq.exclusive": "true"})
    for i in range(6):
        producer.send(queue, "m%d" % i)
    assert [f.body for f in exclusive.recv_n(6)] == ["m%d" % i for i in range(6)]
    assert plain.pending() == []


def test_exclusive_unacked_go_to_the_next_consumer(connect):
    producer = connect()
    queue = "/queue/" + unique("excl3")
    exclusive = connect()
    exclusive.subscribe(queue, ack="client", headers={"activemq.exclusive": "true"})
    backup = connect()
    backup.subscribe(queue, ack="client")
    producer.send(queue, "held")
    assert exclusive.recv().body == "held"
    exclusive.drop()
    frame = backup.recv()
    assert frame.body == "held"
    assert frame.headers.get("redelivered") == "true"
