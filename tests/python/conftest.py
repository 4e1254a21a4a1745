"""Fixtures that run the real ``ferromq`` binary (or point at a running
Apache ActiveMQ) for the STOMP integration tests.

Target selection (environment):

* ``FERROMQ_BIN`` (default ``target/debug/ferromq``): the binary each test
  starts with its own config and data dir, STOMP on ``127.0.0.1:0``.
* ``FERROMQ_TEST_TARGET=activemq:HOST:PORT``: start nothing and run against
  a broker that is already running (Apache ActiveMQ 5.17, the behaviour
  reference). Tests marked ``own_broker`` (they restart, kill or configure
  the broker) and ``ferromq_only`` (FerroMQ deliberately differs) are
  skipped there. Tests use unique destination names, so they can share it.
"""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from helpers import TIMEOUT, Client, RawStomp, poll_until

REPO_ROOT = Path(__file__).resolve().parents[2]
RUNTIME_FILE = "ferromq.runtime.toml"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 15.0

import tomllib  # Python 3.11+


def _target():
    spec = os.environ.get("FERROMQ_TEST_TARGET", "").strip()
    if not spec or spec == "ferromq":
        return None
    kind, _, rest = spec.partition(":")
    host, _, port = rest.rpartition(":")
    if kind != "activemq" or not host or not port.isdigit():
        raise pytest.UsageError("FERROMQ_TEST_TARGET must be 'activemq:HOST:PORT', got %r" % spec)
    return host, int(port)


TARGET = _target()
IS_ACTIVEMQ = TARGET is not None


def pytest_configure(config):
    config.addinivalue_line("markers", "ferromq_only(reason): FerroMQ deliberately differs "
                            "from ActiveMQ 5.17 here; skipped against ActiveMQ")
    config.addinivalue_line("markers", "own_broker: needs to start, restart, kill or configure "
                            "the broker; skipped against an external broker")
    config.addinivalue_line("markers", "broker_config(**keys): extra [broker] keys and "
                            "connector 'query' for the default broker fixture")


def pytest_report_header(config):
    if IS_ACTIVEMQ:
        return "STOMP target: external ActiveMQ at %s:%d" % TARGET
    return "STOMP target: FerroMQ binary %s" % _binary()


def pytest_collection_modifyitems(config, items):
    if not IS_ACTIVEMQ:
        return
    for item in items:
        marker = item.get_closest_marker("ferromq_only")
        if marker is not None:
            why = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "")
            item.add_marker(pytest.mark.skip(reason="FerroMQ differs from ActiveMQ: %s" % why))
        elif item.get_closest_marker("own_broker") or item.get_closest_marker("broker_config"):
            item.add_marker(pytest.mark.skip(reason="needs a broker the test starts itself"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, "rep_" + report.when, report)


def _binary():
    path = Path(os.environ.get("FERROMQ_BIN", "target/debug/ferromq"))
    if not path.is_absolute():
        path = REPO_ROOT / path
    return path


def toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(str(value))  # a TOML basic string is a JSON string


def read_runtime(path):
    return tomllib.loads(path.read_text())


class FerroBroker:
    """One ``ferromq broker`` process with its own config file and data dir.

    ``host``/``port`` are the STOMP connector's bound address; they change
    on every (re)start because the connector binds port 0.
    """

    external = False

    def __init__(self, workdir, broker_keys=None, query="", raw_config=None, console=False):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.data_dir = self.workdir / "data"
        self.config_path = self.workdir / "ferromq.toml"
        self.log_path = self.workdir / "broker.log"
        self.runtime_path = self.data_dir / RUNTIME_FILE
        self.broker_keys = dict(broker_keys or {})
        self.query = query
        # The web console stays off unless a test asks for it, so tests never fight over
        # 8161; when asked for it binds an ephemeral port, read from the runtime file.
        self.console = console
        self.console_address = None
        self.uri = "stomp://127.0.0.1:0" + (("?" + query.lstrip("?")) if query else "")
        self.proc = None
        self.host = None
        self.port = None
        self.starts = 0
        self.config_path.write_text(raw_config if raw_config is not None else self.config_text())

    def config_text(self):
        lines = ["[broker]", 'name = "pytest"', "data_dir = %s" % toml_value(str(self.data_dir))]
        for key, value in self.broker_keys.items():
            lines.append("%s = %s" % (key, toml_value(value)))
        lines += ["", "[console]"]
        if self.console:
            lines.append('listen = "127.0.0.1:0"')
        else:
            lines.append("enabled = false")
        lines += ["", "[[transport_connector]]", 'name = "stomp"',
                  "uri = %s" % toml_value(self.uri), ""]
        return "\n".join(lines)

    # -- lifecycle -----------------------------------------------------------
    def spawn(self):
        """Starts the process without waiting for it to be ready."""
        binary = _binary()
        if not binary.exists():
            pytest.fail("broker binary %s not found (run `cargo build --bins` or set FERROMQ_BIN)"
                        % binary)
        self.starts += 1
        log = open(self.log_path, "ab")
        log.write(("\n===== start %d: %s broker --config %s =====\n"
                   % (self.starts, binary, self.config_path)).encode())
        log.flush()
        env = dict(os.environ)
        env.setdefault("RUST_BACKTRACE", "1")
        self.proc = subprocess.Popen(
            [str(binary), "broker", "--config", str(self.config_path)],
            cwd=str(self.workdir), stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env)
        log.close()
        return self.proc

    def start(self):
        proc = self.spawn()
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise AssertionError("broker exited with %s before it was ready; log:\n%s"
                                     % (proc.returncode, self.log()))
            runtime = self._fresh_runtime(proc.pid)
            if runtime is not None:
                break
            if time.monotonic() >= deadline:
                raise AssertionError("no %s with pid %d within %.0fs; log:\n%s"
                                     % (self.runtime_path, proc.pid, START_TIMEOUT, self.log()))
            time.sleep(0.02)
        address = runtime["connectors"]["stomp"]
        host, _, port = address.rpartition(":")
        self.host = host.strip("[]") or "127.0.0.1"
        if self.host in ("0.0.0.0", "::"):
            self.host = "127.0.0.1"
        self.port = int(port)
        self.console_address = runtime.get("console", {}).get("address")
        return self

    def _fresh_runtime(self, pid):
        # A stale file from a kill -9 may still be there: wait for ours.
        try:
            runtime = read_runtime(self.runtime_path)
        except (OSError, ValueError):
            return None
        if runtime.get("pid") != pid or "stomp" not in runtime.get("connectors", {}):
            return None
        return runtime

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM and wait; returns the exit code (None if never started)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
                raise AssertionError("broker ignored SIGTERM for %.0fs; log:\n%s"
                                     % (timeout, self.log()))
        return self.proc.returncode

    def kill9(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(STOP_TIMEOUT)

    def restart(self):
        """Graceful stop (exit code 0 required) and start again."""
        if self.alive():
            code = self.stop()
            assert code == 0, "broker exited with %s on SIGTERM; log:\n%s" % (code, self.log())
        return self.start()

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"

    def cleanup(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(STOP_TIMEOUT)


class ExternalBroker:
    """A broker someone else runs (ActiveMQ); it can't be restarted here."""

    external = True

    def __init__(self, host, port):
        self.host, self.port = host, port

    def alive(self):
        return True

    def _unsupported(self, *_args, **_kwargs):
        pytest.skip("not possible against an external broker")

    restart = kill9 = stop = start = _unsupported

    def log(self):
        return "(external broker)"


@pytest.fixture
def broker_factory(tmp_path, request):
    """``broker_factory(query="", start=True, console=False, **broker_keys)``
    starts a broker with extra ``[broker]`` keys and connector URI query
    options; ``console=True`` turns the web console on (ephemeral port, in
    ``console_address``)."""
    brokers = []

    def make(query="", start=True, raw_config=None, console=False, **broker_keys):
        if IS_ACTIVEMQ:
            if broker_keys or query or raw_config is not None or console:
                pytest.skip("broker options need a broker the test starts itself")
            return ExternalBroker(*TARGET)
        handle = FerroBroker(tmp_path / ("broker%d" % len(brokers)), broker_keys, query, raw_config,
                             console)
        brokers.append(handle)
        if start:
            handle.start()
        return handle

    yield make

    failed = any(getattr(request.node, "rep_" + when, None) is not None
                 and getattr(request.node, "rep_" + when).failed for when in ("setup", "call"))
    for handle in brokers:
        handle.cleanup()
        if failed:
            print("----- broker log (%s) -----\n%s" % (handle.workdir, handle.log()))


@pytest.fixture
def broker(broker_factory, request):
    """The default broker, with any ``@pytest.mark.broker_config(...)`` keys."""
    marker = request.node.get_closest_marker("broker_config")
    keys = dict(marker.kwargs) if marker else {}
    return broker_factory(**keys)


# `connect` and `raw` depend on broker_factory so that their clients are
# closed before the brokers are stopped (fixtures tear down in reverse).
@pytest.fixture
def connect(request, broker_factory):
    """``connect(version="1.2", client_id=None, heartbeats=(0, 0), target=None)``
    opens a stomp.py client to ``target`` (default: the ``broker`` fixture,
    started on first use) at its current port; closed at teardown."""
    clients = []

    def make(version="1.2", target=None, **kwargs):
        target = target or request.getfixturevalue("broker")
        client = Client(target.host, target.port, version=version, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        try:
            client.drop()
        except Exception:
            pass


@pytest.fixture
def raw(request, broker_factory):
    """``raw(target=None)`` opens a ``RawStomp`` socket to ``target`` (default:
    the ``broker`` fixture); closed at teardown."""
    socks = []

    def make(target=None):
        target = target or request.getfixturevalue("broker")
        sock = RawStomp(target.host, target.port)
        socks.append(sock)
        return sock

    yield make
    for sock in socks:
        sock.close()


@pytest.fixture
def is_activemq():
    return IS_ACTIVEMQ


__all__ = ["FerroBroker", "ExternalBroker", "IS_ACTIVEMQ", "TIMEOUT", "poll_until"]
