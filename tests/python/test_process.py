"""The broker process contract (docs/CONTRACTS.md): config errors, port in
use, SIGTERM."""

import re
import signal
import socket
import subprocess

import pytest

from helpers import Client, unique

pytestmark = pytest.mark.own_broker

EXIT_TIMEOUT = 15


def _run_to_exit(handle):
    proc = handle.spawn()
    try:
        code = proc.wait(EXIT_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(EXIT_TIMEOUT)
        raise AssertionError("broker kept running; log:\n%s" % handle.log())
    return code, handle.log()


def test_unknown_config_key_exits_2_naming_file_line_and_key(broker_factory, tmp_path):
    data_dir = tmp_path / "never-created"
    config = "\n".join([
        "# line 1",
        "# line 2",
        "[broker]",
        'name = "bad"',
        "data_dir = %s" % ('"%s"' % data_dir),
        "persistent = true",
        "",
        "# a misspelt key follows",
        "",
        "",
        "",
        "max_redelivery_typo = 3",  # line 12
        "",
        "[[transport_connector]]",
        'name = "stomp"',
        'uri = "stomp://127.0.0.1:0"',
        "",
    ])
    handle = broker_factory(start=False, raw_config=config)
    code, log = _run_to_exit(handle)
    assert code == 2, log
    assert str(handle.config_path) in log or handle.config_path.name in log, log
    assert "max_redelivery_typo" in log, log
    assert re.search(r"line\D{0,3}12\b|:12(:|\b)", log), "no line 12 in:\n" + log
    assert not data_dir.exists(), "data_dir was created before the config was valid"


@pytest.mark.parametrize("bad_line", [
    'persistent = "yes"',                    # wrong type
    'dead_letter_strategy = "sometimes"',    # bad enum value
])
def test_invalid_config_value_exits_2(broker_factory, bad_line):
    handle = broker_factory(start=False)
    text = handle.config_text().replace('name = "pytest"', 'name = "pytest"\n' + bad_line, 1)
    handle.config_path.write_text(text)
    code, log = _run_to_exit(handle)
    assert code == 2, log
    assert bad_line.split(" ")[0] in log, log


def test_bad_uri_exits_2(broker_factory):
    handle = broker_factory(start=False)
    text = handle.config_text().replace("stomp://127.0.0.1:0", "stomp://127.0.0.1:notaport")
    handle.config_path.write_text(text)
    code, log = _run_to_exit(handle)
    assert code == 2, log


def test_missing_config_file_is_an_error(broker_factory, tmp_path):
    handle = broker_factory(start=False)
    handle.config_path.unlink()
    code, log = _run_to_exit(handle)
    assert code != 0, log
    assert handle.config_path.name in log, log


def test_port_in_use_exits_1_naming_the_uri(broker_factory):
    blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        port = blocker.getsockname()[1]
        uri = "stomp://127.0.0.1:%d" % port
        handle = broker_factory(start=False)
        handle.config_path.write_text(handle.config_text().replace("stomp://127.0.0.1:0", uri))
        code, log = _run_to_exit(handle)
    finally:
        blocker.close()
    assert code == 1, log
    assert uri in log, log
    assert not handle.runtime_path.exists()


def test_sigterm_exits_0_and_removes_runtime_file(broker):
    assert broker.runtime_path.exists()
    client = Client(broker.host, broker.port)
    queue = "/queue/" + unique("term")
    client.send(queue, "in-flight", persistent="true")
    broker.proc.send_signal(signal.SIGTERM)
    code = broker.proc.wait(EXIT_TIMEOUT)
    assert code == 0, broker.log()
    assert not broker.runtime_path.exists(), "runtime file left after graceful shutdown"
    client.drop()
    broker.start()
    reader = Client(broker.host, broker.port)
    reader.subscribe(queue)
    assert reader.recv().body == "in-flight"
    reader.drop()


def test_sigint_exits_0(broker):
    broker.proc.send_signal(signal.SIGINT)
    assert broker.proc.wait(EXIT_TIMEOUT) == 0, broker.log()
    assert not broker.runtime_path.exists()


def test_runtime_file_contents(broker):
    import tomllib
    runtime = tomllib.loads(broker.runtime_path.read_text())
    assert runtime["pid"] == broker.proc.pid
    host, _, port = runtime["connectors"]["stomp"].rpartition(":")
    assert host == "127.0.0.1"
    assert int(port) == broker.port > 0


def test_shutdown_tells_connected_clients(broker):
    client = Client(broker.host, broker.port)
    broker.proc.send_signal(signal.SIGTERM)
    assert broker.proc.wait(EXIT_TIMEOUT) == 0, broker.log()
    assert client.listener.disconnected.wait(EXIT_TIMEOUT), "client never saw the connection end"
