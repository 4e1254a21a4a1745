"""The store under ``kill -9`` (issue 4, "Tests"): producers send persistent
messages and wait for receipts while a consumer acks with receipts; the broker
is killed at random moments, restarted, and checked after every restart:

* every message whose SEND was receipted is there exactly once, unless its
  ACK was receipted (an ACK's RECEIPT means the removal is durable);
* a message whose ACK was receipted never comes back;
* a durable subscription keeps its backlog across kills;
* a message that comes back although it was delivered before the crash (its
  ACK not receipted, or never sent) carries ``redelivered:true`` (see
  ``CORE_FLAGS_CRASH_REDELIVERIES``).

The default run takes about a minute; ``FERROMQ_SOAK=1`` runs for
``FERROMQ_SOAK_SECONDS`` (default 600) instead.
"""

import collections
import os
import random
import socket
import threading
import time
import zlib

import pytest

from helpers import TIMEOUT, ConnectionClosed, RawStomp, unique

pytestmark = [pytest.mark.own_broker, pytest.mark.ferromq_only]

# The core marks every message recovered after an unclean shutdown (the journal's
# `Recovered::clean_shutdown == false`) as redelivered. FERROMQ_EXPECT_CRASH_REDELIVERED=0
# turns the check off (the loop then only reports how many came back unflagged, and the
# dedicated test is expected to fail).
CORE_FLAGS_CRASH_REDELIVERIES = os.environ.get("FERROMQ_EXPECT_CRASH_REDELIVERED", "1") == "1"

SOAK = os.environ.get("FERROMQ_SOAK") == "1"
BUDGET = float(os.environ.get("FERROMQ_SOAK_SECONDS", "600")) if SOAK else 60.0
MIN_CYCLES = 12
SEGMENT_SIZE = "64 KiB"  # small, so segments roll, die and get compacted during the test

# Small memory limits, so queues and the durable backlog are paged out to the journal while
# the broker runs, not only after each restart (when every stored message starts on disk).
CONFIG = """[broker]
name = "crash"
data_dir = "data"
memory_limit = "1 MiB"
destination_memory_limit = "128 KiB"

[store]
segment_size = "%s"

[console]
enabled = false

[[transport_connector]]
name = "stomp"
uri = "stomp://127.0.0.1:0"
""" % SEGMENT_SIZE


class Ledger:
    """What the clients know about each message, by body. Thread-safe."""

    def __init__(self):
        self.lock = threading.RLock()
        self.attempted = set()   # SEND written to the socket
        self.stored = set()      # SEND receipted: must survive
        self.acked = set()       # ACK receipted: must never come back
        self.ack_sent = set()    # ACK written, receipt not (yet) seen
        self.delivered = set()   # delivered at least once, not acked for sure

    def sent(self, body):
        with self.lock:
            self.attempted.add(body)

    def receipted(self, body):
        with self.lock:
            self.stored.add(body)

    def ack_written(self, body):
        with self.lock:
            self.ack_sent.add(body)

    def ack_receipted(self, body):
        with self.lock:
            self.acked.add(body)
            self.ack_sent.discard(body)
            self.delivered.discard(body)


class Violations:
    """Broken promises, and returns after a crash that lack the redelivered flag."""

    def __init__(self):
        self.lock = threading.Lock()
        self.broken = []
        self.unflagged = []

    def add(self, text):
        with self.lock:
            self.broken.append(text)

    def check(self):
        with self.lock:
            assert not self.broken, "\n".join(self.broken[:20])


def _connect(broker, client_id=None, timeout=5.0):
    conn = RawStomp(broker.host, broker.port, timeout=timeout)
    extra = [("client-id", client_id)] if client_id else []
    conn.connect(extra=extra)
    return conn


def _produce(broker, destination, prefix, ledger, stop, window=8, rate=1500):
    """Sends persistent messages with receipts, `window` outstanding and about `rate`
    per second (enough to roll segments; more only slows the drains down), until the
    broker goes away (or `stop`). `prefix` must be new for every call: bodies are ids."""
    outstanding = {}
    n = 0
    started = time.monotonic()
    try:
        conn = _connect(broker)
        while not stop.is_set():
            ahead = n / rate - (time.monotonic() - started)
            if ahead > 0 and not outstanding:
                time.sleep(ahead)
            while len(outstanding) < window and n < rate * (time.monotonic() - started + 0.05):
                body = "%s-%06d" % (prefix, n)
                n += 1
                ledger.sent(body)
                conn.send_frame("SEND", [("destination", destination), ("persistent", "true"),
                                         ("receipt", "s:" + body)], body)
                outstanding["s:" + body] = body
            frame = conn.read_frame(timeout=5.0)
            if frame.command == "RECEIPT":
                body = outstanding.pop(frame.headers.get("receipt-id"), None)
                if body is not None:
                    ledger.receipted(body)
            elif frame.command == "ERROR":
                return
    except (ConnectionClosed, OSError, socket.timeout):
        return


def _consume(broker, destination, ledger, violations, stop, seen):
    """Receives and acks (client-individual, ACK with receipt); leaves one message in
    25 unacked, as a consumer that crashes with the broker would."""
    try:
        conn = _connect(broker)
        conn.send_frame("SUBSCRIBE", [("destination", destination), ("id", "load"),
                                      ("ack", "client-individual"),
                                      ("activemq.prefetchSize", "200")])
        while not stop.is_set():
            frame = conn.read_frame(timeout=5.0)
            if frame.command == "RECEIPT":
                rid = frame.headers.get("receipt-id", "")
                if rid.startswith("a:"):
                    ledger.ack_receipted(rid[2:])
                continue
            if frame.command != "MESSAGE":
                return
            body = frame.body.decode()
            with ledger.lock:
                if body in ledger.acked:
                    violations.add("acked message %s delivered again" % body)
                if body in seen:
                    violations.add("%s delivered twice to the same consumer" % body)
                seen.add(body)
                ledger.delivered.add(body)
            if zlib.crc32(body.encode()) % 25 == 0:
                continue
            ledger.ack_written(body)
            conn.send_frame("ACK", [("id", frame.headers["ack"]), ("receipt", "a:" + body)])
    except (ConnectionClosed, OSError, socket.timeout):
        return


def _drain(broker, destination, prefixes, ledger, violations, label, subscribe_extra=(),
           client_id=None):
    """Takes every pending message (acking each with a receipt) up to a marker and
    checks it against the ledger: every receipted message whose body starts with one of
    `prefixes` and whose ACK was not receipted must be there. Returns the bodies drained."""
    conn = _connect(broker, client_id=client_id, timeout=TIMEOUT)
    conn.send_frame("SUBSCRIBE", [("destination", destination), ("id", "drain"),
                                  ("ack", "client-individual"),
                                  ("activemq.prefetchSize", "500"), ("receipt", "sub")]
                    + list(subscribe_extra))
    marker = unique("marker")
    conn.send_frame("SEND", [("destination", destination), ("persistent", "false"),
                             ("receipt", "marker")], marker)
    drained, waiting = [], set()
    deadline = time.monotonic() + 60
    while True:
        frame = conn.read_frame(timeout=max(0.1, deadline - time.monotonic()))
        if frame.command == "RECEIPT":
            waiting.discard(frame.headers.get("receipt-id"))
            continue
        assert frame.command == "MESSAGE", frame
        body = frame.body.decode()
        ack = frame.headers["ack"]
        if body == marker:
            conn.send_frame("ACK", [("id", ack)])
            break
        drained.append(body)
        redelivered = frame.headers.get("redelivered") == "true"
        with ledger.lock:
            if body not in ledger.attempted:
                violations.add("%s: unknown message %r" % (label, body))
            if body in ledger.acked:
                violations.add("%s: %s came back although its ACK was receipted" % (label, body))
            if (body in ledger.delivered or body in ledger.ack_sent) and not redelivered:
                violations.unflagged.append("%s: %s was delivered before the crash but came "
                                            "back without redelivered:true" % (label, body))
        waiting.add("a:" + body)
        conn.send_frame("ACK", [("id", ack), ("receipt", "a:" + body)])
    while waiting:
        frame = conn.read_frame(timeout=TIMEOUT)
        if frame.command == "RECEIPT":
            waiting.discard(frame.headers.get("receipt-id"))
    conn.send_frame("DISCONNECT", [("receipt", "bye")])
    conn.wait_closed(TIMEOUT)
    conn.close()

    dupes = [body for body, n in collections.Counter(drained).items() if n > 1]
    if dupes:
        violations.add("%s: drained twice: %s" % (label, sorted(dupes)[:5]))
    with ledger.lock:
        mine = tuple(prefixes)
        # An ACK written but not receipted may or may not have taken effect before the kill.
        lost = {b for b in ledger.stored if b.startswith(mine)}
        lost -= ledger.acked | ledger.ack_sent | set(drained)
        if lost:
            violations.add("%s: %d receipted messages lost, e.g. %s"
                           % (label, len(lost), sorted(lost)[:5]))
        # Settled now: drained ones are acked with receipts, and an unconfirmed ACK whose
        # message did not come back took effect. Neither may ever come back.
        settled = [b for b in ledger.ack_sent if b.startswith(mine)] + drained
        for body in settled:
            ledger.ack_receipted(body)
    return drained


def _restart(broker, rng):
    """Starts the broker; now and then kills it once more while it recovers."""
    if rng.random() < 0.15:
        broker.spawn()
        time.sleep(rng.uniform(0.0, 0.15))
        broker.kill9()
    broker.start()


def _store_segments(broker):
    return sorted((broker.data_dir / "store").glob("journal-*.log"))


@pytest.mark.timeout(BUDGET + 120)
def test_kill9_loop_keeps_receipted_messages_exactly_once(broker_factory):
    rng = random.Random(os.environ.get("FERROMQ_CRASH_SEED", "ferromq"))
    broker = broker_factory(raw_config=CONFIG)
    ledger = Ledger()
    violations = Violations()
    run = unique("crash")
    queue, pinned, topic = "/queue/%s.q" % run, "/queue/%s.pinned" % run, "/topic/%s.t" % run
    durable = [("activemq.subscriptionName", "backlog")]
    client_id = run + ".durable"

    # A durable subscription that stays offline, and a few messages that stay stored for
    # the whole run (they pin old segments until compaction moves them).
    on_queue, on_topic, on_pinned = (run + ".q",), (run + ".t",), (run + ".pinned",)
    _drain(broker, topic, on_topic, ledger, violations, "create durable", durable, client_id)
    stop = threading.Event()
    _produce_n(broker, pinned, run + ".pinned", ledger, 30)

    started = time.monotonic()
    cycles = 0
    while cycles < MIN_CYCLES or time.monotonic() - started < BUDGET:
        cycles += 1
        label = "cycle %d" % cycles
        _drain(broker, queue, on_queue, ledger, violations, label + " queue")
        if cycles % 3 == 0:
            _drain(broker, topic, on_topic, ledger, violations, label + " durable", durable,
                   client_id)
        violations.check()

        stop.clear()
        seen = set()
        threads = [
            threading.Thread(target=_produce,
                             args=(broker, queue, "%s.q-%d" % (run, cycles), ledger, stop)),
            threading.Thread(target=_produce,
                             args=(broker, queue, "%s.q2-%d" % (run, cycles), ledger, stop)),
            threading.Thread(target=_produce,
                             args=(broker, topic, "%s.t-%d" % (run, cycles), ledger, stop)),
            threading.Thread(target=_consume,
                             args=(broker, queue, ledger, violations, stop, seen)),
        ]
        for thread in threads:
            thread.start()
        time.sleep(rng.uniform(0.2, 1.5))
        broker.kill9()
        stop.set()
        for thread in threads:
            thread.join(TIMEOUT)
            assert not thread.is_alive(), "a client thread hung after the kill"
        _restart(broker, rng)

    _drain(broker, queue, on_queue, ledger, violations, "final queue")
    _drain(broker, topic, on_topic, ledger, violations, "final durable", durable, client_id)
    pinned_back = _drain(broker, pinned, on_pinned, ledger, violations, "pinned")
    violations.check()
    assert len(pinned_back) == 30
    with ledger.lock:
        stored, acked = len(ledger.stored), len(ledger.acked)
    print("%d kill -9 cycles; %d messages receipted, %d acked with receipts; "
          "%d came back unflagged after a crash"
          % (cycles, stored, acked, len(violations.unflagged)))
    compactions = broker.log().count("compacted segment")
    print("compactions logged: %d" % compactions)
    if CORE_FLAGS_CRASH_REDELIVERIES:
        assert not violations.unflagged, "\n".join(violations.unflagged[:20])

    # Everything is consumed: the store shrinks back to about one segment.
    assert broker.stop() == 0
    segments = _store_segments(broker)
    assert len(segments) <= 2, segments


def _produce_n(broker, destination, prefix, ledger, count):
    conn = _connect(broker, timeout=TIMEOUT)
    for n in range(count):
        body = "%s-%06d" % (prefix, n)
        ledger.sent(body)
        conn.send_frame("SEND", [("destination", destination), ("persistent", "true"),
                                 ("receipt", "s:" + body)], body)
        frame = conn.read_frame(timeout=TIMEOUT)
        assert frame.command == "RECEIPT", frame
        ledger.receipted(body)
    conn.close()


@pytest.mark.xfail(not CORE_FLAGS_CRASH_REDELIVERIES, strict=True,
                   reason="FERROMQ_EXPECT_CRASH_REDELIVERED=0: not expecting the core to flag "
                          "messages recovered after a crash as redelivered")
def test_a_delivery_interrupted_by_kill9_comes_back_redelivered(broker_factory):
    broker = broker_factory(raw_config=CONFIG)
    queue = "/queue/" + unique("interrupted")
    conn = _connect(broker, timeout=TIMEOUT)
    conn.send_frame("SEND", [("destination", queue), ("persistent", "true"),
                             ("receipt", "r")], "in-flight")
    assert conn.read_frame().command == "RECEIPT"
    conn.send_frame("SUBSCRIBE", [("destination", queue), ("id", "s"),
                                  ("ack", "client-individual")])
    frame = conn.read_frame()
    assert frame.command == "MESSAGE" and frame.body == b"in-flight"
    broker.kill9()
    conn.close()
    broker.start()
    reader = _connect(broker, timeout=TIMEOUT)
    reader.send_frame("SUBSCRIBE", [("destination", queue), ("id", "s"), ("ack", "auto")])
    frame = reader.read_frame()
    assert frame.body == b"in-flight"
    assert frame.headers.get("redelivered") == "true", frame
    reader.close()


def test_a_clean_restart_does_not_flag_undelivered_messages(broker_factory):
    broker = broker_factory(raw_config=CONFIG)
    queue = "/queue/" + unique("clean")
    conn = _connect(broker, timeout=TIMEOUT)
    conn.send_frame("SEND", [("destination", queue), ("persistent", "true"),
                             ("receipt", "r")], "never delivered")
    assert conn.read_frame().command == "RECEIPT"
    conn.close()
    broker.restart()
    assert "clean_shutdown=true" in broker.log()
    reader = _connect(broker, timeout=TIMEOUT)
    reader.send_frame("SUBSCRIBE", [("destination", queue), ("id", "s"), ("ack", "auto")])
    frame = reader.read_frame()
    assert frame.body == b"never delivered"
    assert frame.headers.get("redelivered", "false") == "false", frame
    reader.close()
