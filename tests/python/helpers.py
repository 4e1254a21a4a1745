"""Client-side helpers shared by the STOMP integration tests.

Two ways to talk to a broker:

* ``RawStomp``: a plain socket that sends exact bytes and parses the frames
  that come back. Used for malformed input, version negotiation and anything
  where the test must control every byte or see heart-beat EOLs.
* ``Client``: a thin wrapper over the ``stomp.py`` library that turns its
  callback listener into blocking, timeout-bounded calls (``recv``,
  ``send`` waiting for its RECEIPT, ...). Receipts are the tests'
  synchronisation points: a test never sleeps to "let the broker catch up".

Every wait in this module is bounded by a timeout.
"""

import itertools
import queue
import socket
import threading
import time
import uuid

import stomp

# Generous enough for a loaded 2-core CI machine, small enough that a hung
# broker fails the test quickly.
TIMEOUT = 10.0

_ids = itertools.count(1)


def unique(prefix):
    """A destination-safe name no other test (or earlier run) uses."""
    return "%s.%s" % (prefix, uuid.uuid4().hex[:12])


def poll_until(predicate, timeout=TIMEOUT, interval=0.02, what="condition"):
    """Calls ``predicate`` until it returns a truthy value or ``timeout`` passes.

    Returns the truthy value; raises ``AssertionError`` on timeout.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


# --------------------------------------------------------------------------
# Raw frames
# --------------------------------------------------------------------------

_ESCAPES_12 = {"\\": "\\\\", "\r": "\\r", "\n": "\\n", ":": "\\c"}
_UNESCAPES = {"\\\\": "\\", "\\r": "\r", "\\n": "\n", "\\c": ":"}


def escape_header(text, version="1.2"):
    if version == "1.0":
        return text
    out = []
    for ch in text:
        if ch == "\r" and version == "1.1":
            out.append(ch)
        else:
            out.append(_ESCAPES_12.get(ch, ch))
    return "".join(out)


def unescape_header(text):
    out = []
    i = 0
    while i < len(text):
        pair = text[i:i + 2]
        if pair in _UNESCAPES:
            out.append(_UNESCAPES[pair])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def encode_frame(command, headers=(), body=b"", version="1.2", content_length=None):
    """Builds the bytes of one frame.

    ``headers`` is a dict or a list of pairs (repeated names allowed).
    ``content_length``: None adds one when the body is not empty, False
    never adds one, an int is sent as given.
    """
    if isinstance(headers, dict):
        headers = list(headers.items())
    if isinstance(body, str):
        body = body.encode("utf-8")
    lines = [command]
    escape = command not in ("CONNECT", "STOMP", "CONNECTED")
    for key, value in headers:
        value = str(value)
        if escape:
            key, value = escape_header(key, version), escape_header(value, version)
        lines.append("%s:%s" % (key, value))
    if content_length is None and body:
        lines.append("content-length:%d" % len(body))
    elif content_length not in (None, False):
        lines.append("content-length:%s" % content_length)
    return ("\n".join(lines) + "\n\n").encode("utf-8") + body + b"\x00"


class Frame:
    """A frame read from the wire; ``headers`` keeps the first value of each
    name (as STOMP 1.2 says), ``header_list`` keeps them all in order."""

    def __init__(self, command, header_list, body):
        self.command = command
        self.header_list = header_list
        self.headers = {}
        for key, value in header_list:
            self.headers.setdefault(key, value)
        self.body = body

    def __repr__(self):
        return "Frame(%s, %r, %r)" % (self.command, self.headers, self.body[:200])


class ConnectionClosed(Exception):
    pass


class RawStomp:
    """A STOMP connection over a plain socket, one frame at a time."""

    def __init__(self, host, port, timeout=TIMEOUT):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.eof = False
        self.heartbeats = 0  # EOLs seen between frames
        self.version = "1.2"

    # -- writing -----------------------------------------------------------
    def send_bytes(self, data):
        self.sock.sendall(data)

    def send_frame(self, command, headers=(), body=b"", content_length=None):
        self.send_bytes(encode_frame(command, headers, body, self.version, content_length))

    def connect(self, version="1.2", extra=(), command="STOMP", expect="CONNECTED"):
        headers = [("accept-version", version), ("host", "localhost")] + list(extra)
        self.send_frame(command, headers)
        frame = self.read_frame()
        if expect is not None:
            assert frame.command == expect, frame
        if frame.command == "CONNECTED":
            self.version = frame.headers.get("version", "1.0")
        return frame

    # -- reading -----------------------------------------------------------
    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout("no complete frame before the deadline")
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            data = b""
        if not data:
            self.eof = True
            raise ConnectionClosed("peer closed the connection")
        self.buf += data

    def read_frame(self, timeout=TIMEOUT):
        """Returns the next frame; skips (and counts) heart-beat EOLs.

        Raises ``socket.timeout`` or ``ConnectionClosed``.
        """
        deadline = time.monotonic() + timeout
        while True:
            while self.buf[:1] in (b"\n", b"\r"):
                if self.buf.startswith(b"\r\n"):
                    self.buf = self.buf[2:]
                elif self.buf.startswith(b"\r") and len(self.buf) == 1:
                    break
                else:
                    self.buf = self.buf[1:]
                self.heartbeats += 1
            frame = self._parse()
            if frame is not None:
                # EOLs that arrived with the frame are its optional trailer
                # (ActiveMQ writes NUL + EOL), not heart-beats.
                self.buf = self.buf.lstrip(b"\r\n")
                return frame
            self._fill(deadline)

    def _parse(self):
        end = self.buf.find(b"\n\n")
        end_crlf = self.buf.find(b"\r\n\r\n")
        if end_crlf != -1 and (end == -1 or end_crlf < end):
            head, body_start = self.buf[:end_crlf], end_crlf + 4
        elif end != -1:
            head, body_start = self.buf[:end], end + 2
        else:
            return None
        lines = head.decode("utf-8", "replace").replace("\r\n", "\n").split("\n")
        command = lines[0]
        header_list = []
        for line in lines[1:]:
            key, _, value = line.partition(":")
            if command != "CONNECTED" and self.version != "1.0":
                key, value = unescape_header(key), unescape_header(value)
            header_list.append((key, value))
        length = None
        for key, value in header_list:
            if key == "content-length":
                length = int(value)
                break
        if length is not None:
            if len(self.buf) < body_start + length + 1:
                return None
            body = self.buf[body_start:body_start + length]
            assert self.buf[body_start + length:body_start + length + 1] == b"\x00"
            self.buf = self.buf[body_start + length + 1:]
        else:
            nul = self.buf.find(b"\x00", body_start)
            if nul == -1:
                return None
            body = self.buf[body_start:nul]
            self.buf = self.buf[nul + 1:]
        return Frame(command, header_list, body)

    def expect_error_and_close(self, timeout=TIMEOUT):
        """Reads until an ERROR frame arrives, then until the peer closes.

        Returns the ERROR frame. Fails if the connection stays open.
        """
        deadline = time.monotonic() + timeout
        error = None
        while error is None:
            frame = self.read_frame(max(0.0, deadline - time.monotonic()))
            if frame.command == "ERROR":
                error = frame
        assert self.wait_closed(max(0.1, deadline - time.monotonic())), \
            "connection still open after ERROR %r" % error
        return error

    def wait_closed(self, timeout=TIMEOUT):
        """True once the peer has closed the socket (frames are discarded)."""
        deadline = time.monotonic() + timeout
        while not self.eof:
            if time.monotonic() >= deadline:
                return False
            try:
                self.buf = b""
                self._fill(deadline)
            except ConnectionClosed:
                return True
            except (socket.timeout, TimeoutError):
                return False
            except OSError:
                return True
        return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# --------------------------------------------------------------------------
# stomp.py wrapper
# --------------------------------------------------------------------------

class _Collector(stomp.ConnectionListener):
    def __init__(self):
        self.messages = queue.Queue()
        self.errors = queue.Queue()
        self.receipts = set()
        self.heartbeats = 0
        self.disconnected = threading.Event()
        self.cond = threading.Condition()
        self.connected_frame = None

    def on_connected(self, frame):
        self.connected_frame = frame
        with self.cond:
            self.cond.notify_all()

    def on_message(self, frame):
        self.messages.put(frame)

    def on_error(self, frame):
        self.errors.put(frame)
        with self.cond:
            self.cond.notify_all()

    def on_receipt(self, frame):
        with self.cond:
            self.receipts.add(frame.headers.get("receipt-id"))
            self.cond.notify_all()

    def on_heartbeat(self):
        with self.cond:
            self.heartbeats += 1
            self.cond.notify_all()

    def on_disconnected(self):
        self.disconnected.set()
        with self.cond:
            self.cond.notify_all()


_CONNECTIONS = {"1.0": stomp.Connection10, "1.1": stomp.Connection11, "1.2": stomp.Connection12}


class Client:
    """A stomp.py connection with blocking, bounded helpers.

    ``send``/``subscribe``/... wait for their RECEIPT unless
    ``receipt=False``: once they return, the broker has processed the frame.
    """

    def __init__(self, host, port, version="1.2", client_id=None, heartbeats=(0, 0),
                 connect_headers=None):
        cls = _CONNECTIONS[version]
        kwargs = {"heartbeats": heartbeats} if version != "1.0" else {}
        self.version = version
        self.conn = cls([(host, port)], reconnect_attempts_max=1, timeout=TIMEOUT, **kwargs)
        self.listener = _Collector()
        self.conn.set_listener("collector", self.listener)
        headers = dict(connect_headers or {})
        if client_id is not None:
            headers["client-id"] = client_id
        # stomp.py's own wait has no deadline; wait here with one.
        self.conn.connect(wait=False, headers=headers)
        deadline = time.monotonic() + TIMEOUT
        with self.listener.cond:
            while self.listener.connected_frame is None:
                if not self.listener.errors.empty() or self.listener.disconnected.is_set():
                    self.drop()
                    raise ConnectionError("CONNECT refused: %s" % self.drain_errors())
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self.drop()
                    raise ConnectionError("no CONNECTED within %.1fs" % TIMEOUT)
                self.listener.cond.wait(min(remaining, 0.1))
        self.connected = self.listener.connected_frame
        self.subs = {}

    # -- frames out ----------------------------------------------------------
    def _receipt(self, receipt):
        if receipt is True:
            return "r-%d" % next(_ids)
        return receipt or None

    def wait_receipt(self, receipt_id, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        with self.listener.cond:
            while receipt_id not in self.listener.receipts:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError("no RECEIPT %s within %.1fs (errors: %s)"
                                         % (receipt_id, timeout, self.drain_errors()))
                self.listener.cond.wait(remaining)

    def _frame(self, send, receipt, headers):
        rid = self._receipt(receipt)
        if rid:
            headers["receipt"] = rid
        send(headers)
        if rid:
            self.wait_receipt(rid)
        return rid

    def send(self, destination, body="", receipt=True, **headers):
        headers = {k.replace("_", "-"): v for k, v in headers.items()}
        return self._frame(lambda h: self.conn.send(destination, body, headers=h), receipt, headers)

    def send_h(self, destination, body="", headers=None, receipt=True):
        """Like ``send`` with headers given as a dict (names with '_' or '.')."""
        headers = dict(headers or {})
        return self._frame(lambda h: self.conn.send(destination, body, headers=h), receipt, headers)

    def subscribe(self, destination, sub_id=None, ack="auto", receipt=True, headers=None):
        sub_id = sub_id or "sub-%d" % next(_ids)
        headers = dict(headers or {})
        if self.version == "1.0":
            self._frame(lambda h: self.conn.subscribe(destination, id=sub_id, ack=ack, headers=h),
                        receipt, headers)
        else:
            self._frame(lambda h: self.conn.subscribe(destination, sub_id, ack=ack, headers=h),
                        receipt, headers)
        self.subs[sub_id] = destination
        return sub_id

    def unsubscribe(self, sub_id, receipt=True, headers=None):
        headers = dict(headers or {})
        if self.version == "1.0":
            self._frame(lambda h: self.conn.unsubscribe(id=sub_id, headers=h), receipt, headers)
        else:
            self._frame(lambda h: self.conn.unsubscribe(sub_id, headers=h), receipt, headers)

    def ack(self, frame, transaction=None, receipt=True):
        rid = self._receipt(receipt)
        if self.version == "1.2":
            self.conn.ack(frame.headers["ack"], transaction=transaction, receipt=rid)
        elif self.version == "1.1":
            self.conn.ack(frame.headers["message-id"], frame.headers["subscription"],
                          transaction=transaction, receipt=rid)
        else:
            self.conn.ack(frame.headers["message-id"], transaction=transaction, receipt=rid)
        if rid:
            self.wait_receipt(rid)

    def nack(self, frame, transaction=None, receipt=True):
        rid = self._receipt(receipt)
        if self.version == "1.2":
            self.conn.nack(frame.headers["ack"], transaction=transaction, receipt=rid)
        else:
            self.conn.nack(frame.headers["message-id"], frame.headers["subscription"],
                           transaction=transaction, receipt=rid)
        if rid:
            self.wait_receipt(rid)

    def begin(self, tx=None, receipt=True):
        tx = tx or "tx-%d" % next(_ids)
        self._frame(lambda h: self.conn.begin(tx, headers=h), receipt, {})
        return tx

    def commit(self, tx, receipt=True):
        self._frame(lambda h: self.conn.commit(tx, headers=h), receipt, {})

    def abort(self, tx, receipt=True):
        self._frame(lambda h: self.conn.abort(tx, headers=h), receipt, {})

    # -- frames in -----------------------------------------------------------
    def recv(self, timeout=TIMEOUT):
        try:
            return self.listener.messages.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no MESSAGE within %.1fs (errors: %s)"
                                 % (timeout, self.drain_errors())) from None

    def recv_n(self, count, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        frames = []
        while len(frames) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("got %d of %d messages within %.1fs: %r"
                                     % (len(frames), count, timeout,
                                        [f.body for f in frames]))
            try:
                frames.append(self.listener.messages.get(timeout=remaining))
            except queue.Empty:
                continue
        return frames

    def pending(self):
        """Messages already received and not yet taken by ``recv``."""
        out = []
        while True:
            try:
                out.append(self.listener.messages.get_nowait())
            except queue.Empty:
                return out

    def wait_error(self, timeout=TIMEOUT):
        """The next ERROR frame (a stomp.py frame)."""
        try:
            return self.listener.errors.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no ERROR within %.1fs" % timeout) from None

    def drain_errors(self):
        """ERROR frames received so far, as (message header, body start)."""
        out = []
        while True:
            try:
                frame = self.listener.errors.get_nowait()
            except queue.Empty:
                return out
            out.append((frame.headers.get("message"), str(frame.body)[:200]))

    def recv_until(self, marker_body, timeout=TIMEOUT):
        """Receives until a message whose body is ``marker_body``; returns
        the messages before it. Used to prove something was *not* delivered
        without sleeping: the marker was sent after it."""
        deadline = time.monotonic() + timeout
        before = []
        while True:
            frame = self.recv(max(0.0, deadline - time.monotonic()))
            if frame.body == marker_body:
                return before
            before.append(frame)

    def disconnect(self):
        if self.conn.is_connected():
            try:
                self.conn.disconnect(receipt="bye-%d" % next(_ids))
            except Exception:  # the broker may already have closed it
                pass
        self.listener.disconnected.wait(TIMEOUT)

    def drop(self):
        """Closes the socket without DISCONNECT, like a crashed client."""
        try:
            self.conn.transport.disconnect_socket()
        finally:
            self.conn.transport.stop()
        self.listener.disconnected.wait(TIMEOUT)
