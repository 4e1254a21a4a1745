"""OpenWire acceptance: the genuine ActiveMQ Java client against the real broker (issue 5).

The scenarios are Java programs in ``tests/java`` built on Debian's ``libactivemq-java`` jars;
this file compiles them once per session and runs each one as a subprocess against a broker
with a STOMP and an OpenWire (``tcp://``) connector. A scenario prints ``PASS <name>`` or
``FAIL <name>: <reason>`` and exits non-zero on failure; its output is shown on failure.

Targets:

* FerroMQ (default): each test starts ``$FERROMQ_BIN`` with its own config. While FerroMQ
  refuses ``tcp://`` connectors (exit code 2, "not implemented yet") every test is skipped with
  that reason.
* ActiveMQ: ``FERROMQ_TEST_TARGET=activemq:HOST:STOMP_PORT`` (as for the whole suite) plus
  ``FERROMQ_TEST_OPENWIRE=HOST:PORT`` for its OpenWire connector. The scenarios that restart the
  broker run only if ``FERROMQ_TEST_ACTIVEMQ_RUN`` names a start script with
  ``bench/activemq/run.sh``'s arguments (``BASE_DIR STOMP_PORT OPENWIRE_PORT HEAP``): they
  then start a private ActiveMQ on free ports and restart it themselves.

A scenario that needs a restart prints ``@@RESTART``; the runner here restarts the broker on
the same ports and answers ``@@RESTARTED`` on the scenario's stdin.
"""

import os
import queue
import shutil
import signal
import socket
import subprocess
import threading
import time
import tomllib
from pathlib import Path

import pytest

from conftest import IS_ACTIVEMQ
from helpers import unique

REPO_ROOT = Path(__file__).resolve().parents[2]
JAVA_SOURCES = REPO_ROOT / "tests" / "java" / "src"
JAR_DIR = Path(os.environ.get("FERROMQ_TEST_JAVA_LIB", "/usr/share/java"))
# What the ActiveMQ 5.17 client needs at run time (Debian: libactivemq-java and its
# dependencies); slf4j-simple, if present, prints the client's warnings to stderr.
JARS = ["activemq-client.jar", "geronimo-jms_1.1_spec.jar", "hawtbuf.jar", "slf4j-api.jar",
        "geronimo-j2ee-management-1.1-spec.jar"]
OPTIONAL_JARS = ["slf4j-simple.jar"]
# Below pytest.ini's 120 s safety net; the Java side fails itself a little earlier.
SCENARIO_TIMEOUT = 100
RESTART_SCENARIO_TIMEOUT = 200
ACTIVEMQ_START_TIMEOUT = 60.0

NOT_IMPLEMENTED = "not implemented"
PRIORITY_ORDER = ("ActiveMQ 5.17 orders queued messages by priority only with "
                  "prioritizedMessages=true; FerroMQ always does")


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _address(text, what):
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise pytest.UsageError("%s must be HOST:PORT, got %r" % (what, text))
    return host.strip("[]"), int(port)


# --------------------------------------------------------------------------
# Brokers: a STOMP host/port (for conftest's `connect` and `raw`) and an OpenWire url
# --------------------------------------------------------------------------

class FerroOpenWire:
    """A FerroMQ broker (conftest's FerroBroker) with a stomp and an openwire connector."""

    def __init__(self, handle, openwire_port):
        self.handle = handle
        self.fixed_port = openwire_port or None
        self.openwire = None

    @staticmethod
    def config(openwire_port):
        return "\n".join([
            "[broker]", 'name = "openwire-java"', 'data_dir = "data"', "",
            "[console]", "enabled = false", "",
            "[[transport_connector]]", 'name = "stomp"', 'uri = "stomp://127.0.0.1:0"', "",
            "[[transport_connector]]", 'name = "openwire"',
            'uri = "tcp://127.0.0.1:%d"' % openwire_port, ""])

    @property
    def host(self):
        return self.handle.host

    @property
    def port(self):
        return self.handle.port

    @property
    def url(self):
        return "tcp://%s:%d" % self.openwire

    def start(self):
        try:
            self.handle.start()
        except AssertionError:
            proc = self.handle.proc
            log = self.handle.log()
            if proc is not None and proc.returncode == 2 and NOT_IMPLEMENTED in log:
                line = next((line.strip() for line in log.splitlines()
                             if NOT_IMPLEMENTED in line), NOT_IMPLEMENTED)
                # From "scheme ..." on: without the per-test config path, -ra folds the skips.
                reason = line[line.find("scheme"):] if "scheme" in line else line
                pytest.skip("FerroMQ refuses the tcp:// (OpenWire) connector: %s" % reason)
            raise
        return self._read_openwire()

    def restart(self):
        """Graceful stop and start (FerroBroker.restart); the OpenWire port is kept when it
        was fixed in the config."""
        self.handle.restart()
        return self._read_openwire()

    def _read_openwire(self):
        runtime = tomllib.loads(self.handle.runtime_path.read_text())
        address = runtime.get("connectors", {}).get("openwire")
        assert address, "no openwire address in %s: %r" % (self.handle.runtime_path, runtime)
        host, port = _address(address, "the runtime file's openwire address")
        if host in ("0.0.0.0", "::"):
            host = "127.0.0.1"
        assert self.fixed_port is None or port == self.fixed_port, \
            "openwire bound %d, not the configured %d" % (port, self.fixed_port)
        self.openwire = (host, port)
        return self

    def log(self):
        return self.handle.log()


class ExternalActiveMQ:
    """The ActiveMQ named by FERROMQ_TEST_TARGET / FERROMQ_TEST_OPENWIRE; never restarted."""

    def __init__(self, stomp, openwire):
        self.host, self.port = stomp.host, stomp.port
        self.openwire = openwire

    @property
    def url(self):
        return "tcp://%s:%d" % self.openwire

    def restart(self):
        raise AssertionError("an external broker cannot be restarted")

    def log(self):
        return "(external broker)"


class ManagedActiveMQ:
    """A private Apache ActiveMQ started with FERROMQ_TEST_ACTIVEMQ_RUN on fixed free ports,
    so that it can be restarted on the same ports (failover reconnects to the same URL)."""

    def __init__(self, script, workdir):
        self.script = script
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.workdir / "activemq.log"
        self.host = "127.0.0.1"
        self.port = _free_port()
        self.openwire = ("127.0.0.1", _free_port())
        self.proc = None

    @property
    def url(self):
        return "tcp://%s:%d" % self.openwire

    def start(self):
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [str(self.script), str(self.workdir / "base"), str(self.port),
                 str(self.openwire[1]), "512M"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + ACTIVEMQ_START_TIMEOUT
        pending = [(self.host, self.port), self.openwire]
        while pending:
            if self.proc.poll() is not None:
                raise AssertionError("ActiveMQ exited with %s; log:\n%s"
                                     % (self.proc.returncode, self.log()))
            if time.monotonic() >= deadline:
                raise AssertionError("ActiveMQ not listening on %s within %.0fs; log:\n%s"
                                     % (pending, ACTIVEMQ_START_TIMEOUT, self.log()))
            try:
                socket.create_connection(pending[0], timeout=1).close()
                pending.pop(0)
            except OSError:
                time.sleep(0.1)
        return self

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(ACTIVEMQ_START_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(ACTIVEMQ_START_TIMEOUT)

    def restart(self):
        self.stop()
        return self.start()

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")[-20000:]
        except OSError:
            return "(no log)"


def _external_openwire():
    spec = os.environ.get("FERROMQ_TEST_OPENWIRE", "").strip()
    if not spec:
        pytest.skip("set FERROMQ_TEST_OPENWIRE=HOST:PORT (ActiveMQ's OpenWire connector) "
                    "to run the OpenWire tests against ActiveMQ")
    return _address(spec, "FERROMQ_TEST_OPENWIRE")


def _activemq_script():
    spec = os.environ.get("FERROMQ_TEST_ACTIVEMQ_RUN", "").strip()
    if not spec:
        return None
    path = Path(spec)
    return path if path.is_absolute() else REPO_ROOT / path


@pytest.fixture
def openwire(broker_factory, tmp_path, request):
    """``openwire(restartable=False)``: a broker with STOMP (``host``, ``port``) and OpenWire
    (``url``). ``restartable`` is for scenarios that restart it: its OpenWire port is then a
    fixed free one, kept across restarts, because the scenario reconnects to the same URL."""
    managed = []

    def make(restartable=False):
        if IS_ACTIVEMQ:
            if restartable:
                script = _activemq_script()
                if script is None:
                    pytest.skip("restarts the broker: set FERROMQ_TEST_ACTIVEMQ_RUN="
                                "bench/activemq/run.sh to run it on a private ActiveMQ")
                amq = ManagedActiveMQ(script, tmp_path / ("activemq%d" % len(managed)))
                managed.append(amq)
                return amq.start()
            return ExternalActiveMQ(broker_factory(), _external_openwire())
        port = _free_port() if restartable else 0
        handle = broker_factory(start=False, raw_config=FerroOpenWire.config(port))
        return FerroOpenWire(handle, port).start()

    yield make
    failed = any(getattr(request.node, "rep_" + when, None) is not None
                 and getattr(request.node, "rep_" + when).failed for when in ("setup", "call"))
    for amq in managed:
        amq.stop()
        if failed:
            print("----- ActiveMQ log (%s) -----\n%s" % (amq.workdir, amq.log()))


# --------------------------------------------------------------------------
# Java: compile once, run one scenario per test
# --------------------------------------------------------------------------

class Java:
    def __init__(self, java, classpath):
        self.java = java
        self.classpath = classpath

    def run(self, scenario, target, timeout=SCENARIO_TIMEOUT, **params):
        """Runs one scenario against ``target``; returns its output lines. Restarts the
        target when the scenario asks. Fails with the whole output unless it passed."""
        args = [self.java, "-cp", self.classpath,
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-Dorg.slf4j.simpleLogger.showDateTime=true",
                "ferromq.jms.Main", scenario, "url=" + target.url,
                "deadline-s=%d" % (timeout - 5)]
        args += ["%s=%s" % (key.replace("_", "-"), value) for key, value in params.items()]
        proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, bufsize=1)
        lines = queue.Queue()

        def pump():
            for line in proc.stdout:
                lines.put(line.rstrip("\n"))
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        output = []
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
                except queue.Empty:
                    raise AssertionError("scenario %s still running after %ds:\n%s"
                                         % (scenario, timeout, "\n".join(output))) from None
                if line is None:
                    break
                output.append(line)
                if line.strip() == "@@RESTART":
                    self._restart(proc, target, output)
            proc.wait(max(1.0, deadline - time.monotonic()))
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        text = "\n".join(output)
        print(text)
        results = [line.split(" ")[:2] for line in output if line.startswith(("PASS ", "FAIL "))]
        assert proc.returncode == 0 and results == [["PASS", scenario]], \
            "scenario %s failed (exit %s):\n%s" % (scenario, proc.returncode, text)
        return output

    @staticmethod
    def _restart(proc, target, output):
        started = time.monotonic()
        try:
            target.restart()
        except BaseException as error:
            first_line = (str(error).splitlines() or [type(error).__name__])[0]
            proc.stdin.write("@@RESTART-FAILED %s\n" % first_line)
            proc.stdin.flush()
            raise
        output.append("  (runner: broker restarted in %.1fs)" % (time.monotonic() - started))
        proc.stdin.write("@@RESTARTED\n")
        proc.stdin.flush()


@pytest.fixture(scope="session")
def java(tmp_path_factory):
    """The scenarios compiled once per session; skips if no JDK or client jars."""
    javac, java_bin = shutil.which("javac"), shutil.which("java")
    missing = [jar for jar in JARS if not (JAR_DIR / jar).is_file()]
    if javac is None or java_bin is None or missing:
        pytest.skip("needs a JDK and Debian's libactivemq-java (scripts/test java installs "
                    "them); missing: %s" % ", ".join(
                        ([] if javac else ["javac"]) + ([] if java_bin else ["java"]) + missing))
    jars = [str(JAR_DIR / jar) for jar in JARS]
    out = tmp_path_factory.mktemp("java-classes")
    sources = sorted(str(path) for path in JAVA_SOURCES.rglob("*.java"))
    build = subprocess.run([javac, "-Xlint:all", "-Werror", "--release", "11", "-d", str(out),
                            "-cp", os.pathsep.join(jars)] + sources,
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, "javac failed:\n%s%s" % (build.stdout, build.stderr)
    extra = [str(JAR_DIR / jar) for jar in OPTIONAL_JARS if (JAR_DIR / jar).is_file()]
    return Java(java_bin, os.pathsep.join([str(out)] + jars + extra))


# --------------------------------------------------------------------------
# The scenarios (tests/java/src/ferromq/jms/Main.java lists them)
# --------------------------------------------------------------------------

def test_every_message_type_with_properties_and_headers(java, openwire):
    java.run("message-types", openwire())


def test_large_and_compressed_bodies(java, openwire):
    java.run("large-bodies", openwire())


def test_queue_and_topic(java, openwire):
    java.run("queue-and-topic", openwire())


def test_durable_subscriber_gets_what_was_sent_while_offline(java, openwire):
    java.run("durable-offline", openwire())


@pytest.mark.timeout(RESTART_SCENARIO_TIMEOUT + 30)
def test_durable_subscriber_across_broker_restart(java, openwire):
    java.run("durable-restart", openwire(restartable=True), timeout=RESTART_SCENARIO_TIMEOUT)


def test_transacted_send_commit_and_rollback(java, openwire):
    java.run("tx-send", openwire())


def test_transacted_receive_commit_and_rollback(java, openwire):
    java.run("tx-receive", openwire())


def test_client_acknowledge_recover_redelivers(java, openwire):
    java.run("client-ack-recover", openwire())


def test_individual_acknowledge(java, openwire):
    java.run("individual-ack", openwire())


def test_selectors(java, openwire):
    java.run("selectors", openwire())


def test_temporary_queue_request_reply(java, openwire):
    java.run("request-reply", openwire())


def test_priority_header_round_trips(java, openwire):
    java.run("priority", openwire())


@pytest.mark.ferromq_only(reason=PRIORITY_ORDER)
def test_priority_order_of_queued_messages(java, openwire):
    java.run("priority", openwire(), strict="true")


def test_time_to_live(java, openwire):
    java.run("time-to-live", openwire())


def test_dead_letter_queue_after_maximum_redeliveries(java, openwire):
    java.run("dead-letter", openwire())


def test_prefetch_zero_consumer(java, openwire):
    java.run("prefetch-zero", openwire())


def test_queue_browser(java, openwire):
    java.run("queue-browser", openwire())


def test_async_send_with_producer_window(java, openwire):
    java.run("async-send", openwire())


def test_inactivity_monitor_keeps_idle_connection(java, openwire):
    java.run("inactivity", openwire())


@pytest.mark.timeout(RESTART_SCENARIO_TIMEOUT + 30)
def test_failover_across_broker_restart(java, openwire):
    java.run("failover-restart", openwire(restartable=True),
             timeout=RESTART_SCENARIO_TIMEOUT)


# -- cross-protocol: the STOMP half here, the OpenWire half in CrossProtocol.java -----------

STOMP_TEXT = "from stomp \u2713 \u00e9"
STOMP_BYTES = b"bin\x00ary\xff"


def test_stomp_to_jms(java, openwire, connect):
    target = openwire()
    destination, reply = unique("xproto.s2j"), unique("xproto.reply")
    expires = int(time.time() * 1000) + 3_600_000
    client = connect(target=target)
    client.conn.auto_content_length = False  # no content-length: a TextMessage
    client.send_h("/queue/" + destination, STOMP_TEXT, {
        "correlation-id": "corr-stomp-1", "type": "StompType", "reply-to": "/queue/" + reply,
        "priority": "7", "persistent": "true", "expires": str(expires),
        "color": "red", "amount": "42", "odd": "a:b \u2713", "seq": "1"})
    client.conn.auto_content_length = True  # content-length: a BytesMessage
    client.send_h("/queue/" + destination, STOMP_BYTES, {"seq": "2"})
    java.run("stomp-to-jms", target, queue=destination, reply=reply, expires=expires)


def test_jms_to_stomp(java, openwire, raw):
    target = openwire()
    destination, reply = unique("xproto.j2s"), unique("xproto.reply")
    output = java.run("jms-to-stomp", target, queue=destination, reply=reply)
    sent = {}
    for line in output:
        if line.startswith("@@SENT "):
            _, kind, message_id, expiration = line.split(" ")
            sent[kind] = (message_id, int(expiration))
    assert set(sent) == {"text", "bytes"}, output

    conn = raw(target=target)
    conn.connect(version="1.2")
    conn.send_frame("SUBSCRIBE", [("destination", "/queue/" + destination), ("id", "s"),
                                  ("ack", "auto")])
    # Either order: one is persistent, the other not, and JMS orders them independently.
    frames = {}
    for _ in range(2):
        frame = conn.read_frame()
        assert frame.command == "MESSAGE", frame
        frames[frame.headers["message-id"]] = frame
    assert set(frames) == {sent["text"][0], sent["bytes"][0]}, frames

    text = frames[sent["text"][0]]
    assert text.body.decode("utf-8") == "from jms \u2713 \u00e9"
    headers = text.headers
    assert headers["destination"] == "/queue/" + destination
    assert headers["correlation-id"] == "corr-jms-1"
    assert headers["type"] == "JmsType"
    assert headers["reply-to"] == "/queue/" + reply
    assert headers["priority"] == "6"
    assert headers["persistent"] == "true"
    assert headers["expires"] == str(sent["text"][1])
    assert headers["color"] == "blue"
    assert headers["count"] == "42"
    assert headers["big"] == str(1 << 40)
    assert headers["flag"] == "true"
    assert headers["ratio"] == "1.5"

    data = frames[sent["bytes"][0]]
    assert data.body == STOMP_BYTES
    assert data.headers["content-length"] == str(len(STOMP_BYTES))
    assert data.headers["seq"] == "2"
    assert data.headers.get("persistent", "false") == "false"
