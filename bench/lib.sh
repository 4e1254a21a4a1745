# Shared by the benchmark scripts (sourced, not run): small helpers (restart-1m.sh uses only
# these and build_ferromq), and for the side-by-side scripts the start → measure → run
# workloads → stop sequence for each broker. Such a script sets `root`, `out`,
# `bin` and `scratch`, defines `run_workloads BROKER PORT`, and calls `bench_activemq` and
# `bench_ferromq`; results land in the `start_ms`, `idle_rss` and `peak_rss` arrays and
# `failures`.

die() { echo "error: $*" >&2; exit 1; }
log() { echo "== $*" >&2; }
now_ms() { date +%s%3N; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
rss_mib() { awk -v f="$2" '$1 == f":" { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || true; }
json_field() { grep -o "\"$2\":[^,}]*" "$1" 2>/dev/null | head -1 | cut -d: -f2 || true; }
ratio() { awk -v a="$1" -v f="$2" 'BEGIN { if (a > 0 && f > 0) printf "%.2f", f / a; else print "-" }'; }
cell() { [[ -n $1 ]] && echo "$1" || echo "-"; }
whole() { [[ -n $1 ]] && awk -v x="$1" 'BEGIN { printf "%.0f", x }'; return 0; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
clk_tck=$(getconf CLK_TCK 2>/dev/null || echo 100)
# CPU time (user + system, ms) a process has used so far; fields 14 and 15 of /proc/PID/stat,
# counted after the command name in parentheses.
cpu_ms() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk -v hz="$clk_tck" '{ printf "%d", ($12 + $13) * 1000 / hz }'; }
result() { # result BROKER NAME FIELD: a field of a completed run, empty otherwise
  [[ $(json_field "$out/$1-$2.json" completed) == true ]] && json_field "$out/$1-$2.json" "$3"
  return 0
}

declare -A start_ms idle_rss peak_rss
failures=0
broker_pid=
start_timeout_ms=${start_timeout_ms:-60000}

# Builds ferromq in release mode unless FERROMQ_BIN names a binary; sets `bin`.
build_ferromq() {
  if [[ -n ${FERROMQ_BIN:-} ]]; then
    bin=$FERROMQ_BIN
  else
    log "building ferromq (release)"
    (cd "$root" && cargo build --release -p ferromq)
    bin=${CARGO_TARGET_DIR:-$root/target}/release/ferromq
  fi
  [[ -x $bin ]] || die "no ferromq binary at $bin"
}

# Polls every 10 ms until `$1` succeeds, at most start_timeout_ms; prints the elapsed ms since $2.
wait_until() {
  local check=$1 started=$2 deadline=$(( $(now_ms) + start_timeout_ms ))
  until eval "$check"; do
    kill -0 "$broker_pid" 2>/dev/null || return 1
    (( $(now_ms) < deadline )) || return 1
    sleep 0.01
  done
  echo $(( $(now_ms) - started ))
}

# log_field LINE NAME: the value of NAME=value (or NAME="value") in a tracing log line.
log_field() { sed -n "s/.* $2=\"\{0,1\}\([0-9.]*\).*/\1/p" <<<"$1"; }

# journal_summary: FerroMQ's group-commit figures over the whole run (its persistent messages
# are workload b's), from the "journal closed" line the broker logs at SIGTERM.
journal_summary() {
  local line
  line=$(grep -h 'journal closed' "$out/ferromq-broker.log" 2>/dev/null | tail -n 1 || true)
  [[ -n $line ]] || return 0
  echo "FerroMQ journal over the run: $(log_field "$line" batches) batches (about one per persistent send)," \
    "$(log_field "$line" fsyncs) fsyncs, $(log_field "$line" batches_per_fsync) messages per fsync," \
    "fsync mean $(log_field "$line" fsync_mean_us) µs, p99 <= $(log_field "$line" fsync_p99_le_s) s"
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

# Measures start-up and memory around the workloads of the broker started just before.
measure_broker() { # measure_broker NAME PORT T0
  local name=$1 port=$2 t0=$3
  if [[ -n $port ]] && start_ms[$name]=$(wait_until "port_open $port" "$t0"); then
    sleep 1
    idle_rss[$name]=$(rss_mib "$broker_pid" VmRSS)
    run_workloads "$name" "$port"
    peak_rss[$name]=$(rss_mib "$broker_pid" VmHWM)
  else
    echo "warning: $name did not start; see $out/$name-broker.log" >&2
    start_ms[$name]=
    failures=$((failures + 1))
  fi
  if [[ -n $broker_pid ]]; then stop_broker; fi
}

# Apache ActiveMQ 5.17 on both its ports; workloads run against `client_port`.
bench_activemq() { # bench_activemq STOMP_PORT OPENWIRE_PORT CLIENT_PORT
  local p
  for p in "$1" "$2"; do
    port_open "$p" && die "port $p is already in use; set AMQ_STOMP_PORT / AMQ_OPENWIRE_PORT"
  done
  log "starting Apache ActiveMQ on 127.0.0.1:$3"
  local t0
  t0=$(now_ms)
  bash "$root/bench/activemq/run.sh" "$scratch/activemq" "$1" "$2" >"$out/activemq-broker.log" 2>&1 &
  broker_pid=$!   # run.sh execs java, so this is the JVM's pid
  measure_broker activemq "$3" "$t0"
}

# FerroMQ with one connector on port 0 (the runtime file reports the port, docs/CONTRACTS.md)
# and the console off, so a run never depends on port 8161 being free.
bench_ferromq() { # bench_ferromq CONNECTOR_NAME URI
  local name=$1 uri=$2 runtime=$scratch/ferromq/data/ferromq.runtime.toml port= t0
  mkdir -p "$scratch/ferromq"
  printf '[broker]\nname = "bench"\ndata_dir = "data"\npersistent = true\n\n[console]\nenabled = false\n\n[[transport_connector]]\nname = "%s"\nuri = "%s"\n' \
    "$name" "$uri" >"$scratch/ferromq/ferromq.toml"
  log "starting FerroMQ"
  t0=$(now_ms)
  "$bin" broker --config "$scratch/ferromq/ferromq.toml" >"$out/ferromq-broker.log" 2>&1 &
  broker_pid=$!
  if wait_until "[[ -s $runtime ]] && grep -q '^$name *=' $runtime" "$t0" >/dev/null; then
    port=$(sed -n "s/^$name *= *\"[^\"]*:\([0-9]*\)\".*/\1/p" "$runtime" | head -1)
  fi
  measure_broker ferromq "$port" "$t0"
}
