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
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
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

if [[ ${BENCH_SKIP_AMQ:-0} != 1 ]]; then
  [[ -f $amq_jar ]] || die "Apache ActiveMQ is not installed ($amq_jar missing). Install it with:
    apt-get install activemq libactivemq-java
or run only FerroMQ with BENCH_SKIP_AMQ=1."
  command -v java >/dev/null || die "java is not on PATH (ActiveMQ 5.17 needs Java 11 or 17)"
fi

build_ferromq
mkdir -p "$out"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/ferromq-bench.XXXXXX")
cleanup() {
  if [[ -n $broker_pid ]]; then stop_broker; fi
  rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

declare -A broker_cpu tool_cpu
# run_workloads BROKER PORT: one JSON result per workload in $out/BROKER-NAME.json, and the CPU
# time the broker and the load tool used for it (bash's `time` counts the tool, a grandchild
# waited for by `timeout`).
run_workloads() {
  local broker=$1 port=$2 spec name desc flags cpu0 cpu1 TIMEFORMAT='%3U %3S'
  for spec in "${workloads[@]}"; do
    IFS='|' read -r name desc flags <<<"$spec"
    log "$broker: workload $name ($desc)"
    cpu0=$(cpu_ms "$broker_pid")
    # shellcheck disable=SC2086 # flags are deliberately split into words
    if ! { time timeout "$hard_timeout" "$bin" bench --url "stomp://127.0.0.1:$port" \
        --destination "queue://ferromq.bench.$name" --label "$name" --timeout "$bench_timeout" \
        --json --progress-every 5 $flags >"$out/$broker-$name.json" 2>"$out/$broker-$name.log"; } \
        2>"$scratch/time"; then
      echo "warning: $broker workload $name failed; see $out/$broker-$name.log" >&2
      tail -n 3 "$out/$broker-$name.log" >&2 || true
      failures=$((failures + 1))
    fi
    cpu1=$(cpu_ms "$broker_pid")
    [[ -n $cpu0 && -n $cpu1 ]] && broker_cpu[$broker-$name]=$((cpu1 - cpu0))
    tool_cpu[$broker-$name]=$(awk '{ printf "%d", ($1 + $2) * 1000 }' "$scratch/time" 2>/dev/null || true)
  done
}

if [[ ${BENCH_SKIP_AMQ:-0} != 1 ]]; then
  bench_activemq "$amq_stomp_port" "$amq_openwire_port" "$amq_stomp_port"
fi
if [[ ${BENCH_SKIP_FERROMQ:-0} != 1 ]]; then
  bench_ferromq stomp "stomp://127.0.0.1:0"
fi

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
for spec in "${workloads[@]}"; do
  IFS='|' read -r name _ _ <<<"$spec"
  printf '%-62s %14s %14s\n' "$name: broker CPU time, whole workload (ms)" \
    "$(cell "${broker_cpu[activemq-$name]:-}")" "$(cell "${broker_cpu[ferromq-$name]:-}")"
  printf '%-62s %14s %14s\n' "$name: load tool CPU time (ms)" \
    "$(cell "${tool_cpu[activemq-$name]:-}")" "$(cell "${tool_cpu[ferromq-$name]:-}")"
done
printf '%-62s %14s %14s\n' "start to accepting STOMP (ms)" "$(cell "${start_ms[activemq]:-}")" "$(cell "${start_ms[ferromq]:-}")"
printf '%-62s %14s %14s\n' "idle RSS after start (MiB)" "$(cell "${idle_rss[activemq]:-}")" "$(cell "${idle_rss[ferromq]:-}")"
printf '%-62s %14s %14s\n' "peak RSS over the run (MiB)" "$(cell "${peak_rss[activemq]:-}")" "$(cell "${peak_rss[ferromq]:-}")"
echo
journal_summary
echo "JSON results and logs: $out"
if (( failures > 0 )); then
  echo "$failures step(s) failed; the table shows '-' for them" >&2
  exit 1
fi
