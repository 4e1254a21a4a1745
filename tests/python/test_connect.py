"""CONNECT / STOMP frames, version negotiation and the CONNECTED headers."""

import pytest


@pytest.mark.parametrize("command", ["CONNECT", "STOMP"])
def test_connect_and_stomp_commands_are_accepted(raw, command):
    conn = raw()
    frame = conn.connect(version="1.2", command=command)
    assert frame.headers["version"] == "1.2"


@pytest.mark.parametrize("offered, expected", [
    ("1.0", "1.0"),
    ("1.1", "1.1"),
    ("1.2", "1.2"),
    ("1.0,1.1", "1.1"),
    ("1.1,1.2", "1.2"),
    ("1.0,1.1,1.2", "1.2"),
    ("1.2,1.0", "1.2"),
])
def test_version_negotiation_picks_highest_common(raw, offered, expected):
    frame = raw().connect(version=offered, command="CONNECT")
    assert frame.headers["version"] == expected


def test_connect_without_accept_version_is_stomp_1_0(raw):
    conn = raw()
    conn.send_bytes(b"CONNECT\nlogin:guest\npasscode:guest\n\n\x00")
    frame = conn.read_frame()
    assert frame.command == "CONNECTED"
    # STOMP 1.0 servers need not send `version`; if they do it must say 1.0.
    assert frame.headers.get("version", "1.0") == "1.0"


def test_no_common_version_is_an_error_and_closes(raw):
    conn = raw()
    conn.send_frame("CONNECT", [("accept-version", "2.0,3.1"), ("host", "localhost")])
    error = conn.expect_error_and_close()
    assert error.headers.get("message")
    # STOMP 1.2: the ERROR should say which versions the server speaks.
    text = error.headers["message"] + error.body.decode("utf-8", "replace")
    assert "1.2" in text


def test_connected_headers(raw):
    frame = raw().connect(version="1.1,1.2", extra=[("heart-beat", "0,0")])
    assert frame.headers["version"] == "1.2"
    assert frame.headers.get("server"), "CONNECTED has no server header"
    assert "/" in frame.headers["server"], "server header should be name/version"
    assert frame.headers.get("session"), "CONNECTED has no session header"
    send_ms, recv_ms = (int(x) for x in frame.headers["heart-beat"].split(","))
    assert send_ms >= 0 and recv_ms >= 0


def test_sessions_are_distinct(raw):
    first = raw().connect()
    second = raw().connect()
    assert first.headers["session"] != second.headers["session"]


def test_heart_beat_header_answers_client_request(raw):
    # The client can receive every 500 ms, so the server offers to send (cx > 0);
    # the client sends nothing, so the server expects nothing (cy == 0).
    frame = raw().connect(extra=[("heart-beat", "0,500")])
    send_ms, recv_ms = (int(x) for x in frame.headers["heart-beat"].split(","))
    assert send_ms > 0
    assert recv_ms == 0


def test_stomp_py_client_connects_with_each_version(connect):
    for version in ("1.0", "1.1", "1.2"):
        client = connect(version=version)
        assert client.connected.headers.get("version", "1.0") == version
        client.disconnect()
