#!/usr/bin/env bash
# The REST round trip as ActiveMQ users do it with curl, against the real `ferromq broker`
# binary: start it with the console on an ephemeral port, find the port in the runtime file,
# send with `curl -u admin:admin -d body=...`, consume with oneShot/readTimeout, check the
# error codes, and stop it with SIGTERM. Every wait is bounded.
#
#   tests/shell/console_rest.sh [path/to/ferromq]   (default: $FERROMQ_BIN or target/debug/ferromq)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${1:-${FERROMQ_BIN:-$ROOT/${CARGO_TARGET_DIR:-target}/debug/ferromq}}
[ -x "$BIN" ] || { echo "error: broker binary $BIN not found (cargo build --bins)" >&2; exit 1; }
command -v curl >/dev/null || { echo "error: curl is not installed" >&2; exit 1; }

WORK=$(mktemp -d)
PID=
passed=0
failed=0

cleanup() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
        kill -KILL "$PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

check() {
    local name=$1 expected=$2 actual=$3
    if [ "$expected" = "$actual" ]; then
        passed=$((passed + 1))
        echo "ok: $name"
    else
        failed=$((failed + 1))
        echo "FAILED: $name: expected '$expected', got '$actual'"
    fi
}

cat >"$WORK/ferromq.toml" <<TOML
[broker]
name = "shell"
data_dir = "$WORK/data"

[console]
listen = "127.0.0.1:0"

[[transport_connector]]
name = "stomp"
uri = "stomp://127.0.0.1:0"
TOML

"$BIN" broker --config "$WORK/ferromq.toml" >"$WORK/broker.log" 2>&1 &
PID=$!

RUNTIME="$WORK/data/ferromq.runtime.toml"
ADDRESS=
for _ in $(seq 1 200); do
    if [ -f "$RUNTIME" ]; then
        ADDRESS=$(sed -n 's/^address = "\(.*\)"$/\1/p' "$RUNTIME")
        [ -n "$ADDRESS" ] && break
    fi
    kill -0 "$PID" 2>/dev/null || { cat "$WORK/broker.log"; echo "broker exited early"; exit 1; }
    sleep 0.05
done
[ -n "$ADDRESS" ] || { cat "$WORK/broker.log"; echo "no console address in $RUNTIME"; exit 1; }
BASE="http://$ADDRESS"
CURL=(curl --silent --show-error --max-time 10)

sent=$("${CURL[@]}" -u admin:admin -d body=hello "$BASE/api/message/q?type=queue")
check "POST body=hello" "Message sent" "$sent"

"${CURL[@]}" -u admin:admin -d body=world -d JMSPriority=9 -d color=blue "$BASE/api/message/q?type=queue" >/dev/null
got=$("${CURL[@]}" -u admin:admin "$BASE/api/message/q?type=queue&oneShot=true&readTimeout=2000")
check "GET takes the priority 9 message first" "world" "$got"
got=$("${CURL[@]}" -u admin:admin "$BASE/api/message/q?type=queue&oneShot=true&readTimeout=2000")
check "GET takes the other one" "hello" "$got"
code=$("${CURL[@]}" -u admin:admin -o /dev/null -w '%{http_code}' "$BASE/api/message/q?type=queue&oneShot=true&readTimeout=200")
check "GET on an empty queue is 204" "204" "$code"

code=$("${CURL[@]}" -u admin:wrong -o /dev/null -w '%{http_code}' -d body=x "$BASE/api/message/q?type=queue")
check "wrong password is 401" "401" "$code"
code=$("${CURL[@]}" -u admin:admin -o /dev/null -w '%{http_code}' "$BASE/api/v1/queues/nope")
check "unknown queue is 404" "404" "$code"
code=$("${CURL[@]}" -u admin:admin -o /dev/null -w '%{http_code}' -d body=x -d JMSPriority=high "$BASE/api/message/q?type=queue")
check "bad JMSPriority is 400" "400" "$code"
metrics=$("${CURL[@]}" -u admin:admin "$BASE/metrics" | grep -c '^ferromq_destination_dequeued_total{destination="q",kind="queue",subscription=""} 2$' || true)
check "/metrics counts the two dequeues" "1" "$metrics"

kill -TERM "$PID"
for _ in $(seq 1 200); do
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.05
done
if kill -0 "$PID" 2>/dev/null; then
    check "broker stops on SIGTERM" "stopped" "running"
else
    wait "$PID" && status=0 || status=$?
    check "broker exits 0 on SIGTERM" "0" "$status"
    PID=
fi
check "runtime file removed" "absent" "$([ -f "$RUNTIME" ] && echo present || echo absent)"

if [ "$failed" -gt 0 ]; then
    echo "----- broker log -----"
    cat "$WORK/broker.log"
fi
echo "console_rest: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
