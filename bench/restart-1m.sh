#!/usr/bin/env bash
# Restart time with a deep persistent backlog (issue 4, "Restart with 1M stored messages"):
# fills a FerroMQ broker with RESTART_COUNT persistent messages, stops it with SIGTERM,
# restarts it and times start -> runtime file (the broker writes it once it accepts
# connections), kills it with SIGKILL and times the next start, then drains the queue and
# reports disk use once everything is consumed. See bench/README.md ("Persistent backlog").
#
# Environment (all optional):
#   RESTART_COUNT=N     messages to store (default 1000000)
#   RESTART_SIZE=B      body size in bytes (default 256)
#   RESTART_SYNC=never  store.sync for the whole run (default always)
#   BENCH_OUT=DIR       where logs and the summary go (default target/bench-results/restart-DATE)
#   FERROMQ_BIN=PATH    use this ferromq binary instead of building one
#   KEEP=1              keep the scratch data directory
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
count=${RESTART_COUNT:-1000000}
size=${RESTART_SIZE:-256}
sync=${RESTART_SYNC:-always}
out=${BENCH_OUT:-$root/target/bench-results/restart-$(date +%Y%m%d-%H%M%S)}
queue=queue://restart

# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
build_ferromq

mkdir -p "$out"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/ferromq-restart.XXXXXX")
data=$scratch/data
store=$data/store
runtime=$data/ferromq.runtime.toml
broker_log=$out/broker.log

cleanup() {
  if [[ -n $broker_pid ]]; then kill -KILL "$broker_pid" 2>/dev/null || true; fi
  if [[ ${KEEP:-0} == 1 ]]; then echo "scratch kept in $scratch" >&2; else rm -rf "$scratch"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Default memory limits: past 70 % of the destination limit the backlog stays on disk only
# (paging), so RSS with the backlog shows what paging saves. The console is off: it is not
# measured here.
cat >"$scratch/ferromq.toml" <<EOF
[broker]
name = "restart-bench"
data_dir = "$data"

[store]
sync = "$sync"

[console]
enabled = false

[[transport_connector]]
name = "stomp"
uri = "stomp://127.0.0.1:0"
EOF

# start_broker LABEL: starts the broker, waits for a runtime file naming its pid, and sets
# `port` and `ready_ms` (launch to runtime file, polled every 5 ms).
start_broker() {
  local label=$1 t0 deadline
  echo "===== $label =====" >>"$broker_log"
  t0=$(now_ms)
  FERROMQ_LOG=${FERROMQ_LOG:-info} "$bin" broker --config "$scratch/ferromq.toml" >>"$broker_log" 2>&1 &
  broker_pid=$!
  deadline=$((t0 + 120000))
  until [[ -s $runtime ]] && grep -q "^pid *= *$broker_pid\$" "$runtime" \
      && grep -q '^stomp *=' "$runtime"; do
    kill -0 "$broker_pid" 2>/dev/null || die "broker exited during start ($label); see $broker_log"
    (( $(now_ms) < deadline )) || die "broker not ready after 120 s ($label)"
    sleep 0.005
  done
  ready_ms=$(( $(now_ms) - t0 ))
  port=$(sed -n 's/^stomp *= *"[^"]*:\([0-9]*\)".*/\1/p' "$runtime" | head -1)
  [[ -n $port ]] || die "no stomp port in $runtime"
}

# SIGTERM and wait, never SIGKILL (lib.sh's stop_broker kills after 20 s): the next start
# measures recovery after a clean close, so a close that does not finish is an error here.
stop_gracefully() {
  local pid=$broker_pid
  broker_pid=
  kill -TERM "$pid"
  for _ in $(seq 1 600); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  die "broker ignored SIGTERM for 60 s"
}

kill_broker() {
  kill -KILL "$broker_pid"
  wait "$broker_pid" 2>/dev/null || true
  broker_pid=
}

disk() { # bytes and segment count of the store
  local bytes segs
  bytes=$(du -sb "$store" | cut -f1)
  segs=$(find "$store" -name 'journal-*.log' | wc -l)
  echo "$(awk -v b="$bytes" 'BEGIN { printf "%.1f MiB", b / 1048576 }') in $segs segment(s)"
}

rss() { awk '$1 == "VmRSS:" { printf "%.0f MiB", $2 / 1024 }' "/proc/$broker_pid/status"; }

# The last "journal recovered" / "store recovered" lines of the log, shortened.
recovery_line() {
  grep -a 'journal recovered' "$broker_log" | tail -1 | grep -o 'duration_ms=[0-9]*\|clean_shutdown=[a-z]*\|messages=[0-9]*' | tr '\n' ' '
}

declare -a summary
note() { summary+=("$(printf '%-44s %s' "$1" "$2")"); log "$1: $2"; }

start_broker "empty start"
note "start, empty store (ms)" "$ready_ms"

log "filling $queue with $count persistent messages of $size B (receipt window 64)"
t0=$(now_ms)
"$bin" producer --url "stomp://127.0.0.1:$port" --destination "$queue" --count "$count" \
  --size "$size" --persistent --receipt-window 64 --timeout 3600 >"$out/producer.log" 2>&1 \
  || die "producer failed; see $out/producer.log"
fill_ms=$(( $(now_ms) - t0 ))
note "fill rate (msg/s)" "$(( count * 1000 / (fill_ms > 0 ? fill_ms : 1) ))"
note "RSS with the backlog" "$(rss)"
stop_gracefully
note "store after fill and SIGTERM" "$(disk)"
grep -a 'journal closed' "$broker_log" | tail -1 | sed 's/^.*journal closed/journal closed:/' >"$out/fill-stats.txt" || true
[[ -s $out/fill-stats.txt ]] && note "journal stats of the fill" "$(cat "$out/fill-stats.txt")"

start_broker "restart after SIGTERM"
note "restart after SIGTERM: start to ready (ms)" "$ready_ms"
note "  journal recovery" "$(recovery_line)"
note "  RSS after restart" "$(rss)"
kill_broker

start_broker "restart after kill -9"
note "restart after kill -9: start to ready (ms)" "$ready_ms"
note "  journal recovery" "$(recovery_line)"

log "draining $queue"
t0=$(now_ms)
"$bin" consumer --url "stomp://127.0.0.1:$port" --destination "$queue" --count "$count" \
  --timeout 3600 >"$out/consumer.log" 2>&1 || die "consumer failed; see $out/consumer.log"
drain_ms=$(( $(now_ms) - t0 ))
note "drain rate (msg/s)" "$(( count * 1000 / (drain_ms > 0 ? drain_ms : 1) ))"
# Dead segments go right after the group commit that killed them and compaction runs in the
# background: give the writer a moment before looking.
sleep 2
note "store after draining (broker running)" "$(disk)"
stop_gracefully
note "store after draining and SIGTERM" "$(disk)"
start_broker "restart with an empty queue"
note "restart after draining: start to ready (ms)" "$ready_ms"
stop_gracefully

{
  echo "restart-1m: $count x $size B persistent messages, store.sync = $sync, $(nproc) cores"
  printf '%s\n' "${summary[@]}"
} | tee "$out/summary.txt"
echo "logs: $out"
