#!/usr/bin/env bash
# Runs the same `ferromq bench` STOMP workloads against Apache ActiveMQ 5.17 and against FerroMQ
# on this machine (127.0.0.1 only) and prints throughput, start-up time and idle memory side by
# side. See bench/README.md.
#
# Environment (all optional):
#   AMQ_STOMP_PORT / AMQ_OPENWIRE_PORT  ActiveMQ's ports (default 62613 / 62616)
#   BENCH_QUICK=1       a tenth of the messages, for checking the script itself
#   BENCH_OUT=DIR       where the JSON results and logs go (default target/bench-results/DATE)
#   FERROMQ_BIN=PATH    use this ferromq binary instead of building one
#   BENCH_SKIP_AMQ=1 / BENCH_SKIP_FERROMQ=1   run one side only
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
amq_jar=/usr/share/activemq/bin/activemq.jar
amq_stomp_port=${AMQ_STOMP_PORT:-62613}
amq_openwire_port=${AMQ_OPENWIRE_PORT:-62616}
# Each workload gets this long inside the tool, and the tool this long from outside; with two
# brokers and two workloads the script stays well under ten minutes even when everything stalls.
bench_timeout=90
hard_timeout=110
out=${BENCH_OUT:-$root/target/bench-results/$(date +%Y%m%d-%H%M%S)}
divisor=1
[[ ${BENCH_QUICK:-0} == 1 ]] && divisor=10

# name | description | ferromq bench flags. Warm-up lets ActiveMQ's JIT compile its hot paths
# before measuring; it is excluded from the numbers on both sides.
workloads=(
  "a|non-persistent 256 B, 1 producer / 1 consumer|--producers 1 --consumers 1 --size 256 --count $((200000 / divisor)) --warmup $((20000 / divisor))"
  "b|persistent 256 B, 8 producers (receipt each) / 2 consumers|--producers 8 --consumers 2 --size 256 --count $((20000 / divisor)) --warmup $((2000 / divisor)) --persistent --receipt-every 1"
)

die() { echo "error: $*" >&2; exit 1; }
log() { echo "== $*" >&2; }
now_ms() { date +%s%3N; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
rss_mib() { awk -v f="$2" '$1 == f":" { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || true; }
json_field() { grep -o "\"$2\":[^,}]*" "$1" 2>/dev/null | head -1 | cut -d: -f2 || true; }

if [[ ${BENCH_SKIP_AMQ:-0} != 1 ]]; then
  [[ -f $amq_jar ]] || die "Apache ActiveMQ is not installed ($amq_jar missing). Install it with:
    apt-get install activemq libactivemq-java
or run only FerroMQ with BENCH_SKIP_AMQ=1."
  command -v java >/dev/null || die "java is not on PATH (ActiveMQ 5.17 needs Java 11 or 17)"
fi

if [[ -n ${FERROMQ_BIN:-} ]]; then
  bin=$FERROMQ_BIN
else
  log "building ferromq (release)"
  (cd "$root" && cargo build --release -p ferromq)
  bin=${CARGO_TARGET_DIR:-$root/target}/release/ferromq
fi
[[ -x $bin ]] || die "no ferromq binary at $bin"

mkdir -p "$out"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/ferromq-bench.XXXXXX")
broker_pid=
cleanup() {
  if [[ -n $broker_pid ]]; then stop_broker; fi
  rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Polls every 10 ms until `$1` succeeds, at most 60 s; prints the elapsed ms since $2.
wait_until() {
  local check=$1 started=$2 deadline=$(( $(now_ms) + 60000 ))
  until eval "$check"; do
    kill -0 "$broker_pid" 2>/dev/null || return 1
    (( $(now_ms) < deadline )) || return 1
    sleep 0.01
  done
  echo $(( $(now_ms) - started ))
}

stop_broker() {
  local pid=$broker_pid
  broker_pid=
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.2
  done
  echo "warning: broker $pid ignored SIGTERM for 20 s; killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# run_workloads BROKER PORT: one JSON result per workload in $out/BROKER-NAME.json.
run_workloads() {
  local broker=$1 port=$2 spec name desc flags
  for spec in "${workloads[@]}"; do
    IFS='|' read -r name desc flags <<<"$spec"
    log "$broker: workload $name ($desc)"
    # shellcheck disable=SC2086 # flags are deliberately split into words
    if ! timeout "$hard_timeout" "$bin" bench --url "stomp://127.0.0.1:$port" \
        --destination "queue://ferromq.bench.$name" --label "$name" --timeout "$bench_timeout" \
        --json --progress-every 5 $flags >"$out/$broker-$name.json" 2>"$out/$broker-$name.log"; then
      echo "warning: $broker workload $name failed; see $out/$broker-$name.log" >&2
      tail -n 3 "$out/$broker-$name.log" >&2 || true
      failures=$((failures + 1))
    fi
  done
}

declare -A start_ms idle_rss peak_rss
failures=0
if [[ ${BENCH_SKIP_AMQ:-0} != 1 ]]; then
  for p in "$amq_stomp_port" "$amq_openwire_port"; do
    port_open "$p" && die "port $p is already in use; set AMQ_STOMP_PORT / AMQ_OPENWIRE_PORT"
  done
  log "starting Apache ActiveMQ on 127.0.0.1:$amq_stomp_port"
  t0=$(now_ms)
  bash "$root/bench/activemq/run.sh" "$scratch/activemq" "$amq_stomp_port" "$amq_openwire_port" \
    >"$out/activemq-broker.log" 2>&1 &
  broker_pid=$!   # run.sh execs java, so this is the JVM's pid
  if start_ms[activemq]=$(wait_until "port_open $amq_stomp_port" "$t0"); then
    sleep 1
    idle_rss[activemq]=$(rss_mib "$broker_pid" VmRSS)
    run_workloads activemq "$amq_stomp_port"
    peak_rss[activemq]=$(rss_mib "$broker_pid" VmHWM)
  else
    echo "warning: ActiveMQ did not start; see $out/activemq-broker.log" >&2
    start_ms[activemq]=
    failures=$((failures + 1))
  fi
  stop_broker
fi

if [[ ${BENCH_SKIP_FERROMQ:-0} != 1 ]]; then
  # Port 0: the broker picks a free port and reports it in its runtime file (docs/CONTRACTS.md).
  mkdir -p "$scratch/ferromq"
  cat >"$scratch/ferromq/ferromq.toml" <<'EOF'
[broker]
name = "bench"
data_dir = "data"
persistent = true

[console]
enabled = false

[[transport_connector]]
name = "stomp"
uri = "stomp://127.0.0.1:0"
EOF
  runtime=$scratch/ferromq/data/ferromq.runtime.toml
  log "starting FerroMQ"
  t0=$(now_ms)
  "$bin" broker --config "$scratch/ferromq/ferromq.toml" >"$out/ferromq-broker.log" 2>&1 &
  broker_pid=$!
  port=
  if wait_until "[[ -s $runtime ]] && grep -q '^stomp *=' $runtime" "$t0" >/dev/null; then
    port=$(sed -n 's/^stomp *= *"[^"]*:\([0-9]*\)".*/\1/p' "$runtime" | head -1)
  fi
  if [[ -n $port ]] && start_ms[ferromq]=$(wait_until "port_open $port" "$t0"); then
    sleep 1
    idle_rss[ferromq]=$(rss_mib "$broker_pid" VmRSS)
    run_workloads ferromq "$port"
    peak_rss[ferromq]=$(rss_mib "$broker_pid" VmHWM)
  else
    echo "warning: FerroMQ did not start; see $out/ferromq-broker.log" >&2
    start_ms[ferromq]=
    failures=$((failures + 1))
  fi
  if [[ -n $broker_pid ]]; then stop_broker; fi
fi

ratio() { awk -v a="$1" -v f="$2" 'BEGIN { if (a > 0 && f > 0) printf "%.2f", f / a; else print "-" }'; }
cell() { [[ -n $1 ]] && echo "$1" || echo "-"; }
whole() { [[ -n $1 ]] && awk -v x="$1" 'BEGIN { printf "%.0f", x }'; return 0; }
result() { # result BROKER NAME FIELD: a field of a completed run, empty otherwise
  [[ $(json_field "$out/$1-$2.json" completed) == true ]] && json_field "$out/$1-$2.json" "$3"
  return 0
}
p99_ms() { local us; us=$(grep -o '"latency_us":{[^}]*}' "$out/$1-$2.json" 2>/dev/null | grep -o '"p99":[0-9]*' | cut -d: -f2); [[ -n $us ]] && awk -v u="$us" 'BEGIN { printf "%.2f", u / 1000 }'; return 0; }

echo
printf '%-62s %14s %14s %7s\n' "workload" "ActiveMQ msg/s" "FerroMQ msg/s" "ratio"
for spec in "${workloads[@]}"; do
  IFS='|' read -r name desc _ <<<"$spec"
  a=$(whole "$(result activemq "$name" msg_per_s)"); f=$(whole "$(result ferromq "$name" msg_per_s)")
  printf '%-62s %14s %14s %7s\n' "$name: $desc" "$(cell "$a")" "$(cell "$f")" "$(ratio "$a" "$f")"
done
for spec in "${workloads[@]}"; do
  IFS='|' read -r name _ _ <<<"$spec"
  printf '%-62s %14s %14s\n' "$name: end-to-end latency p99 (ms)" \
    "$(cell "$(p99_ms activemq "$name")")" "$(cell "$(p99_ms ferromq "$name")")"
done
printf '%-62s %14s %14s\n' "start to accepting STOMP (ms)" "$(cell "${start_ms[activemq]:-}")" "$(cell "${start_ms[ferromq]:-}")"
printf '%-62s %14s %14s\n' "idle RSS after start (MiB)" "$(cell "${idle_rss[activemq]:-}")" "$(cell "${idle_rss[ferromq]:-}")"
printf '%-62s %14s %14s\n' "peak RSS over the run (MiB)" "$(cell "${peak_rss[activemq]:-}")" "$(cell "${peak_rss[ferromq]:-}")"
echo
echo "JSON results and logs: $out"
if (( failures > 0 )); then
  echo "$failures step(s) failed; the table shows '-' for them" >&2
  exit 1
fi
