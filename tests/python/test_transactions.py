"""BEGIN / COMMIT / ABORT covering SEND and ACK."""

from helpers import unique


def test_commit_delivers_transacted_sends(connect):
    client = connect()
    queue = "/queue/" + unique("txc")
    consumer = connect()
    consumer.subscribe(queue)
    tx = client.begin()
    client.send(queue, "a", transaction=tx)
    client.send(queue, "b", transaction=tx)
    # Nothing is visible before COMMIT: the marker overtakes both.
    client.send(queue, "marker")
    assert consumer.recv_until("marker") == []
    client.commit(tx)
    assert [f.body for f in consumer.recv_n(2)] == ["a", "b"]


def test_abort_discards_transacted_sends(connect):
    client = connect()
    queue = "/queue/" + unique("txa")
    tx = client.begin()
    client.send(queue, "discarded", transaction=tx)
    client.abort(tx)
    client.send(queue, "kept")
    client.subscribe(queue)
    client.send(queue, "marker")
    assert [f.body for f in client.recv_until("marker")] == ["kept"]


def test_transactions_are_independent(connect):
    client = connect()
    queue = "/queue/" + unique("txi")
    tx1, tx2 = client.begin(), client.begin()
    client.send(queue, "one", transaction=tx1)
    client.send(queue, "two", transaction=tx2)
    client.abort(tx1)
    client.commit(tx2)
    client.subscribe(queue)
    client.send(queue, "marker")
    assert [f.body for f in client.recv_until("marker")] == ["two"]


def test_ack_in_committed_transaction_consumes(connect):
    producer = connect()
    queue = "/queue/" + unique("txack")
    producer.send(queue, "m")
    consumer = connect()
    consumer.subscribe(queue, ack="client-individual")
    frame = consumer.recv()
    tx = consumer.begin()
    consumer.ack(frame, transaction=tx)
    consumer.commit(tx)
    consumer.disconnect()
    reader = connect()
    reader.subscribe(queue)
    producer.send(queue, "marker")
    assert reader.recv_until("marker") == []


def test_ack_in_aborted_transaction_is_undone(connect):
    producer = connect()
    queue = "/queue/" + unique("txackabort")
    producer.send(queue, "m")
    consumer = connect()
    consumer.subscribe(queue, ack="client-individual")
    frame = consumer.recv()
    tx = consumer.begin()
    consumer.ack(frame, transaction=tx)
    consumer.abort(tx)
    # The ACK never happened: once its consumer is gone the message is
    # redelivered (ActiveMQ keeps it with the consumer until then).
    consumer.disconnect()
    reader = connect()
    reader.subscribe(queue)
    again = reader.recv()
    assert again.body == "m"
    assert again.headers.get("redelivered") == "true"


def test_client_ack_mode_in_transaction_is_cumulative(connect):
    producer = connect()
    queue = "/queue/" + unique("txcum")
    for i in range(3):
        producer.send(queue, "m%d" % i)
    consumer = connect()
    consumer.subscribe(queue, ack="client")
    frames = consumer.recv_n(3)
    tx = consumer.begin()
    consumer.ack(frames[1], transaction=tx)
    consumer.commit(tx)
    consumer.drop()
    reader = connect()
    reader.subscribe(queue)
    producer.send(queue, "marker")
    assert [f.body for f in reader.recv_until("marker")] == ["m2"]


def test_unknown_transaction_on_commit_is_an_error(raw, is_activemq):
    conn = raw()
    conn.connect()
    conn.send_frame("COMMIT", [("transaction", "no-such-tx"), ("receipt", "c1")])
    frame = conn.read_frame()
    assert frame.command == "ERROR"
    assert frame.headers.get("message")
    # Both ActiveMQ and FerroMQ tie the ERROR to the frame's receipt.
    assert frame.headers.get("receipt-id") == "c1"
    if not is_activemq:  # ActiveMQ keeps the connection open
        assert conn.wait_closed()


def test_unknown_transaction_on_send_is_an_error(raw, connect, is_activemq):
    queue = "/queue/" + unique("txunk")
    conn = raw()
    conn.connect()
    conn.send_frame("SEND", [("destination", queue), ("transaction", "nope")], b"lost")
    frame = conn.read_frame()
    assert frame.command == "ERROR"
    assert frame.headers.get("message")
    if not is_activemq:
        assert conn.wait_closed()
    reader = connect()
    reader.subscribe(queue)
    reader.send(queue, "marker")
    assert reader.recv_until("marker") == []


def test_begin_twice_is_an_error(raw):
    conn = raw()
    conn.connect()
    conn.send_frame("BEGIN", [("transaction", "t")])
    conn.send_frame("BEGIN", [("transaction", "t")])
    frame = conn.read_frame()
    assert frame.command == "ERROR"
    assert frame.headers.get("message")


def test_disconnect_aborts_open_transaction(connect):
    client = connect()
    queue = "/queue/" + unique("txdisc")
    tx = client.begin()
    client.send(queue, "never", transaction=tx)
    client.disconnect()
    reader = connect()
    reader.subscribe(queue)
    reader.send(queue, "marker")
    assert reader.recv_until("marker") == []
