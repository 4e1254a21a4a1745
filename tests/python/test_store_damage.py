"""Damaged store files between restarts (issue 4, corruption at process level): the
broker must start, log what it dropped, and keep every intact message.

The tests read the journal's documented format (crates/ferromq-journal/ARCHITECTURE.md)
to find where each message's record is, damage the files of a stopped broker, restart
it and compare what a consumer gets with what the undamaged records held.
"""

import re
import shutil
import struct

import pytest

from helpers import TIMEOUT, RawStomp, unique

pytestmark = [pytest.mark.own_broker, pytest.mark.ferromq_only]

HEADER_LEN = 36
KIND_BATCH = 1
COUNT = 400

CONFIG = """[broker]
name = "damage"
data_dir = "data"

[store]
segment_size = "64 KiB"

[console]
enabled = false

[[transport_connector]]
name = "stomp"
uri = "stomp://127.0.0.1:0"
"""


def records(data):
    """(offset, length, kind, payload) of each record of a segment, up to the first
    impossible length."""
    out = []
    pos = HEADER_LEN
    while pos + 8 <= len(data):
        length, _crc = struct.unpack_from("<II", data, pos)
        if length == 0 or pos + 8 + length > len(data):
            break
        out.append((pos, 8 + length, data[pos + 8], data[pos + 9:pos + 8 + length]))
        pos += 8 + length
    return out


class Store:
    """A stopped broker's segments and which message ids each record holds."""

    def __init__(self, broker, run):
        self.dir = broker.data_dir / "store"
        self.pattern = re.compile(re.escape(run.encode()) + rb"-\d{5}")
        self.segments = sorted(self.dir.glob("journal-*.log"))
        assert len(self.segments) >= 3, "the test needs sealed segments: %s" % self.segments
        self.records = {path: records(path.read_bytes()) for path in self.segments}

    def ids(self, path, first=0, last=None):
        """Message ids in records `first..last` of segment `path`."""
        found = set()
        for _, _, kind, payload in self.records[path][first:last]:
            if kind == KIND_BATCH:
                found.update(m.decode() for m in self.pattern.findall(payload))
        return found

    def all_ids(self):
        return set().union(*(self.ids(path) for path in self.segments))

    def batch_indexes(self, path):
        return [i for i, (_, _, kind, _) in enumerate(self.records[path]) if kind == KIND_BATCH]


def _fill(broker, queue, run):
    conn = RawStomp(broker.host, broker.port)
    conn.connect()
    for i in range(COUNT):
        body = "%s-%05d-%s" % (run, i, "x" * 200)
        conn.send_frame("SEND", [("destination", queue), ("persistent", "true"),
                                 ("receipt", "r%d" % i)], body)
        frame = conn.read_frame()
        assert frame.command == "RECEIPT", frame
    conn.close()


def _drain(broker, queue, run):
    conn = RawStomp(broker.host, broker.port)
    conn.connect()
    conn.send_frame("SUBSCRIBE", [("destination", queue), ("id", "d"), ("ack", "auto")])
    marker = unique("marker")
    conn.send_frame("SEND", [("destination", queue)], marker)
    got = []
    while True:
        frame = conn.read_frame(timeout=TIMEOUT)
        assert frame.command == "MESSAGE", frame
        body = frame.body.decode()
        if body == marker:
            break
        got.append(body[:len(run) + 6])
    conn.close()
    assert len(got) == len(set(got)), "duplicates after recovery"
    return set(got)


@pytest.fixture
def stopped(broker_factory):
    """A broker holding COUNT persistent messages over several segments, stopped."""
    broker = broker_factory(raw_config=CONFIG)
    run = unique("dmg")
    queue = "/queue/" + run
    _fill(broker, queue, run)
    assert broker.stop() == 0
    store = Store(broker, run)
    assert store.all_ids() == {"%s-%05d" % (run, i) for i in range(COUNT)}
    return broker, queue, run, store


def _restart_and_check(broker, queue, run, expected, log_says):
    mark = len(broker.log())
    broker.start()
    assert _drain(broker, queue, run) == expected
    log = broker.log()[mark:]
    for text in log_says:
        assert text in log, "log does not say %r:\n%s" % (text, log)


def _patch(path, offset, data):
    content = bytearray(path.read_bytes())
    content[offset:offset + len(data)] = data
    path.write_bytes(bytes(content))


def test_a_flipped_bit_loses_only_its_record(stopped):
    broker, queue, run, store = stopped
    first = store.segments[0]
    victim = store.batch_indexes(first)[10]
    offset, length, _, _ = store.records[first][victim]
    _patch(first, offset + length - 5, bytes([first.read_bytes()[offset + length - 5] ^ 0x08]))
    expected = store.all_ids() - store.ids(first, victim, victim + 1)
    assert len(expected) == COUNT - 1
    _restart_and_check(broker, queue, run, expected,
                       ["skipping damaged record (checksum mismatch)", first.name])


def test_a_damaged_length_loses_the_rest_of_that_segment_only(stopped):
    broker, queue, run, store = stopped
    middle = store.segments[1]
    victim = store.batch_indexes(middle)[5]
    offset = store.records[middle][victim][0]
    _patch(middle, offset, struct.pack("<I", 0xFFFFFFFF))
    expected = store.all_ids() - store.ids(middle, victim)
    assert COUNT - len(expected) > 10
    _restart_and_check(broker, queue, run, expected,
                       ["damaged data at the end of a sealed segment", middle.name])


def test_a_damaged_header_sets_the_segment_aside(stopped):
    broker, queue, run, store = stopped
    first = store.segments[0]
    _patch(first, 0, b"NOTAJRNL")
    expected = store.all_ids() - store.ids(first)
    _restart_and_check(broker, queue, run, expected, ["setting the segment aside", first.name])
    assert first.with_suffix(".corrupt").exists()


def test_garbage_after_the_last_record_is_cut(stopped):
    broker, queue, run, store = stopped
    last = store.segments[-1]
    with open(last, "ab") as f:
        f.write(b"\0" * 100 + b"\x30\0\0\0partial")
    _restart_and_check(broker, queue, run, store.all_ids(), ["truncating torn tail", last.name])


def test_torn_tails_keep_every_record_before_the_cut(stopped):
    broker, queue, run, store = stopped
    last = store.segments[-1]
    pristine = store.dir.parent / "store.pristine"
    shutil.copytree(store.dir, pristine)
    batches = store.batch_indexes(last)
    assert len(batches) >= 3
    cuts = []
    for index in batches[-3:]:
        offset, length, _, _ = store.records[last][index]
        cuts += [(index, offset + 1), (index, offset + length // 2), (index, offset + length - 1)]
    for index, cut in cuts:
        shutil.rmtree(store.dir)
        shutil.copytree(pristine, store.dir)
        with open(last, "r+b") as f:
            f.truncate(cut)
        expected = store.all_ids() - store.ids(last, index)
        _restart_and_check(broker, queue, run, expected, ["truncating torn tail", last.name])
        assert broker.stop() == 0
