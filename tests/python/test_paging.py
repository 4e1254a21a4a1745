"""Paging: persistent messages sent to a queue past the memory high-water mark
(``cursor_memory_high_water_mark`` percent, default 70, of ``[broker] memory_limit``
or ``destination_memory_limit``) stay only in the journal and are read back in
arrival order when consumers need them.

* a producer of persistent messages is never held back by the memory limits, and
  the broker's resident memory stays far below what the queue holds;
* the deep queue drains exactly once, in order, bodies intact;
* across a graceful restart and a ``kill -9``, acked messages never come back
  and every other one is delivered exactly once, in order (a restarted broker
  loads nothing into memory: consumers page the messages in);
* non-persistent messages are still held back by the memory limits.

Every body is 7-bit text derived from its sequence number (``x-seq`` header),
so a check can recompute it: length and CRC-32 must match.
"""

import collections
import hashlib
import time
import zlib

import pytest

from helpers import TIMEOUT, RawStomp, unique

pytestmark = [pytest.mark.own_broker, pytest.mark.ferromq_only]

MiB = 1 << 20


def _config(memory_limit, destination_memory_limit, extra_broker=()):
    lines = ["[broker]", 'name = "paging"', 'data_dir = "data"',
             'memory_limit = "%s"' % memory_limit,
             'destination_memory_limit = "%s"' % destination_memory_limit]
    lines += list(extra_broker)
    lines += ["", "[console]", "enabled = false", "",
              "[[transport_connector]]", 'name = "stomp"', 'uri = "stomp://127.0.0.1:0"', ""]
    return "\n".join(lines)


def _rss_bytes(pid):
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS for pid %d" % pid)


_blocks = {}


def _body(seq, size):
    """The body of message `seq`: its SHA-256 in hex, repeated to `size` bytes."""
    block = hashlib.sha256(b"paging-%d" % seq).hexdigest().encode()
    reps = size // len(block) + 1
    return (block * reps)[:size]


def _check_body(frame, size):
    seq = int(frame.headers["x-seq"])
    body = frame.body
    assert len(body) == size, "message %d: body of %d bytes, sent %d" % (seq, len(body), size)
    want = int(frame.headers["x-crc"])
    assert zlib.crc32(body) == want == zlib.crc32(_body(seq, size)), \
        "message %d: body damaged" % seq
    return seq


class Conn:
    """A raw STOMP connection that keeps MESSAGE and RECEIPT frames apart."""

    def __init__(self, broker, timeout=TIMEOUT):
        self.raw = RawStomp(broker.host, broker.port, timeout=timeout)
        self.raw.connect()
        self.messages = collections.deque()
        self.receipts = set()
        self.ids = 0

    def _next_id(self, prefix):
        self.ids += 1
        return "%s-%d" % (prefix, self.ids)

    def pump(self, timeout=TIMEOUT):
        """Reads one frame and files it; an ERROR fails the test."""
        frame = self.raw.read_frame(timeout)
        if frame.command == "MESSAGE":
            self.messages.append(frame)
        elif frame.command == "RECEIPT":
            self.receipts.add(frame.headers.get("receipt-id"))
        else:
            raise AssertionError("unexpected frame %r" % frame)
        return frame

    def wait_receipt(self, rid, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while rid not in self.receipts:
            self.pump(max(0.01, deadline - time.monotonic()))
        self.receipts.discard(rid)

    def send(self, destination, seq, size, persistent=True, receipt=None):
        body = _body(seq, size)
        headers = [("destination", destination),
                   ("persistent", "true" if persistent else "false"),
                   ("x-seq", str(seq)), ("x-crc", str(zlib.crc32(body)))]
        if receipt:
            headers.append(("receipt", receipt))
        self.raw.send_frame("SEND", headers, body)

    def subscribe(self, destination, ack="auto", prefetch=None):
        rid = self._next_id("sub")
        headers = [("destination", destination), ("id", "s1"), ("ack", ack), ("receipt", rid)]
        if prefetch is not None:
            headers.append(("activemq.prefetchSize", str(prefetch)))
        self.raw.send_frame("SUBSCRIBE", headers)
        self.wait_receipt(rid)

    def recv(self, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while not self.messages:
            self.pump(max(0.01, deadline - time.monotonic()))
        return self.messages.popleft()

    def ack(self, frame, receipt=None):
        headers = [("id", frame.headers["ack"])]
        if receipt:
            headers.append(("receipt", receipt))
        self.raw.send_frame("ACK", headers)

    def disconnect(self):
        self.raw.send_frame("DISCONNECT", [("receipt", "bye")])
        deadline = time.monotonic() + TIMEOUT
        try:
            while "bye" not in self.receipts:
                self.pump(max(0.01, deadline - time.monotonic()))
        finally:
            self.raw.close()

    def close(self):
        self.raw.close()


def _produce(broker, destination, seqs, size, window=32, frame_timeout=10.0, on_progress=None):
    """Sends persistent messages `seqs` with receipts, `window` of them outstanding.
    Fails if any receipt takes longer than `frame_timeout` or an ERROR comes."""
    conn = Conn(broker)
    outstanding = collections.OrderedDict()
    done = 0
    try:
        for seq in seqs:
            rid = "p%d" % seq
            conn.send(destination, seq, size, receipt=rid)
            outstanding[rid] = time.monotonic()
            while len(outstanding) >= window:
                conn.pump(frame_timeout)
                for got in conn.receipts & outstanding.keys():
                    del outstanding[got]
                    done += 1
                conn.receipts.clear()
                if on_progress is not None:
                    on_progress(done)
        while outstanding:
            conn.pump(frame_timeout)
            for got in conn.receipts & outstanding.keys():
                del outstanding[got]
                done += 1
            conn.receipts.clear()
        conn.disconnect()
    finally:
        conn.close()
    return done


def _drain_in_order(conn, first, last, size, timeout, ack_each=False, on_message=None):
    """Receives messages `first`..`last` (inclusive) and checks each arrives once, in
    order, intact. Returns the frames' `redelivered` flags by seq."""
    deadline = time.monotonic() + timeout
    flags = {}
    expected = first
    while expected <= last:
        remaining = deadline - time.monotonic()
        assert remaining > 0, "drain: %d of %d..%d received within %.0fs" \
            % (expected - first, first, last, timeout)
        frame = conn.recv(min(TIMEOUT, remaining))
        seq = _check_body(frame, size)
        assert seq == expected, "drain: got message %d where %d was due (%d..%d)" \
            % (seq, expected, first, last)
        flags[seq] = frame.headers.get("redelivered") == "true"
        if ack_each:
            conn.ack(frame)
        if on_message is not None:
            on_message(seq)
        expected += 1
    return flags


def _assert_nothing_more(conn, destination, timeout=TIMEOUT):
    """Sends a non-persistent marker and checks it is the next message."""
    marker_seq = -1
    conn.send(destination, marker_seq, 16, persistent=False, receipt="marker")
    frame = conn.recv(timeout)
    assert frame.headers.get("x-seq") == str(marker_seq), \
        "message %s after the last one expected" % frame.headers.get("x-seq")
    return frame


# --------------------------------------------------------------------------
# 1. A deep queue lives on disk
# --------------------------------------------------------------------------

DEEP_COUNT = 4000
DEEP_SIZE = 48 * 1024          # 4000 x 48 KiB = 187.5 MiB (196.6 MB)
DEEP_SEND_BOUND = 45.0          # seconds for the whole send
DEEP_RSS_BOUND = 64 * MiB       # resident memory while the queue holds 187.5 MiB


@pytest.mark.timeout(110)
def test_deep_queue_stays_on_disk_and_drains_in_order(broker_factory):
    broker = broker_factory(raw_config=_config("8 MiB", "4 MiB"))
    pid = broker.proc.pid
    queue = "/queue/" + unique("deep")
    rss = {"start": _rss_bytes(pid), "send_peak": 0, "drain_peak": 0}

    def sample_send(done):
        if done % 100 == 0:
            rss["send_peak"] = max(rss["send_peak"], _rss_bytes(pid))

    started = time.monotonic()
    done = _produce(broker, queue, range(DEEP_COUNT), DEEP_SIZE, on_progress=sample_send)
    send_seconds = time.monotonic() - started
    assert done == DEEP_COUNT
    stored = DEEP_COUNT * DEEP_SIZE
    rss["full"] = _rss_bytes(pid)
    rss["send_peak"] = max(rss["send_peak"], rss["full"])
    print("sent %d x %d B = %.1f MiB in %.1fs; RSS start %.1f MiB, peak while sending "
          "%.1f MiB, with the queue full %.1f MiB"
          % (DEEP_COUNT, DEEP_SIZE, stored / MiB, send_seconds, rss["start"] / MiB,
             rss["send_peak"] / MiB, rss["full"] / MiB))
    assert send_seconds < DEEP_SEND_BOUND, \
        "the producer took %.1fs for %d persistent messages" % (send_seconds, DEEP_COUNT)
    assert rss["send_peak"] < DEEP_RSS_BOUND <= stored / 2, \
        "broker RSS %.1f MiB while the queue holds %.1f MiB" \
        % (rss["send_peak"] / MiB, stored / MiB)
    assert broker.alive()

    def sample_drain(seq):
        if seq % 100 == 0:
            rss["drain_peak"] = max(rss["drain_peak"], _rss_bytes(pid))

    consumer = Conn(broker)
    started = time.monotonic()
    consumer.subscribe(queue, ack="client-individual", prefetch=200)
    _drain_in_order(consumer, 0, DEEP_COUNT - 1, DEEP_SIZE, timeout=50.0, ack_each=True,
                    on_message=sample_drain)
    drain_seconds = time.monotonic() - started
    _assert_nothing_more(consumer, queue)
    consumer.disconnect()
    print("drained in %.1fs; RSS peak while draining %.1f MiB"
          % (drain_seconds, rss["drain_peak"] / MiB))
    assert rss["drain_peak"] < DEEP_RSS_BOUND, \
        "broker RSS %.1f MiB while draining" % (rss["drain_peak"] / MiB)
