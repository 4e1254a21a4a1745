#!/usr/bin/env bash
# Runs the same JMS workloads, with the same Java load program (bench/java, built on the genuine
# ActiveMQ 5.17 client), against Apache ActiveMQ 5.17 and against FerroMQ over OpenWire on this
# machine (127.0.0.1 only) and prints throughput, latency, start-up time and memory side by side.
# See bench/README.md.
#
# Environment (all optional):
#   AMQ_OPENWIRE_PORT / AMQ_STOMP_PORT  ActiveMQ's ports (default 62616 / 62613)
#   BENCH_QUICK=1       a tenth of the messages, for checking the script itself
#   BENCH_WORKLOADS="a b"  which workloads to run (default both)
#   BENCH_OUT=DIR       where the JSON results and logs go (default target/bench-results/ow-DATE)
#   FERROMQ_BIN=PATH    use this ferromq binary instead of building one
#   BENCH_SKIP_AMQ=1 / BENCH_SKIP_FERROMQ=1   run one side only
#   BENCH_JAVA_OPTS     JVM options for the load program (default "-Xms512m -Xmx512m")
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
amq_jar=/usr/share/activemq/bin/activemq.jar
jars=/usr/share/java
amq_openwire_port=${AMQ_OPENWIRE_PORT:-62616}
amq_stomp_port=${AMQ_STOMP_PORT:-62613}
# The load program gives up after bench_timeout (set-up, warm-up and measured phase together)
# and is killed from outside after hard_timeout. Two brokers x two workloads x 100 s plus two
# broker starts (at most 45 s each) and stops (at most 20 s each) stay under ten minutes.
bench_timeout=85
hard_timeout=100
start_timeout_ms=45000
out=${BENCH_OUT:-$root/target/bench-results/ow-$(date +%Y%m%d-%H%M%S)}
divisor=1
[[ ${BENCH_QUICK:-0} == 1 ]] && divisor=10
selected=${BENCH_WORKLOADS:-a b}
java_opts=${BENCH_JAVA_OPTS:--Xms512m -Xmx512m}
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"

# name | description | target ratio | JmsLoad flags. Warm-up lets both JVMs (ActiveMQ's and the
# load program's) compile their hot paths before measuring; it is excluded from the numbers.
all_workloads=(
  "a|non-persistent 256 B, 1 producer / 1 consumer|3|--producers 1 --consumers 1 --size 256 --count $((200000 / divisor)) --warmup $((20000 / divisor))"
  "b|persistent 256 B, 8 producers (sync send) / 2 consumers|5|--producers 8 --consumers 2 --size 256 --count $((20000 / divisor)) --warmup $((2000 / divisor)) --persistent"
)
workloads=()
for spec in "${all_workloads[@]}"; do
  [[ " $selected " == *" ${spec%%|*} "* ]] && workloads+=("$spec")
done

(( ${#workloads[@]} > 0 )) || die "BENCH_WORKLOADS='$selected' selects no workload (known: a b)"
command -v java >/dev/null || die "java is not on PATH (needs a Java 17 runtime)"
command -v javac >/dev/null || die "javac is not on PATH (apt-get install openjdk-17-jdk-headless)"
compile_cp=
for j in activemq-client geronimo-jms_1.1_spec hawtbuf slf4j-api geronimo-j2ee-management-1.1-spec; do
  [[ -f $jars/$j.jar ]] || die "$jars/$j.jar is missing: apt-get install libactivemq-java"
  compile_cp+=${compile_cp:+:}$jars/$j.jar
done
if [[ ${BENCH_SKIP_AMQ:-0} != 1 && ! -f $amq_jar ]]; then
  die "Apache ActiveMQ is not installed ($amq_jar missing). Install it with:
    apt-get install activemq libactivemq-java
or run only FerroMQ with BENCH_SKIP_AMQ=1."
fi


build_ferromq
mkdir -p "$out"
classes=$out/classes
log "compiling bench/java"
javac -d "$classes" -cp "$compile_cp" "$root"/bench/java/src/ferromq/bench/*.java
# slf4j-simple (when installed) makes the client's own warnings visible in the load logs.
run_cp=$classes:$compile_cp
[[ -f $jars/slf4j-simple.jar ]] && run_cp+=:$jars/slf4j-simple.jar
{
  echo "date: $(date -Is)"
  echo "commit: $(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown)"
  echo "host: $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr)"
  echo "java: $(java -version 2>&1 | head -1)"
  echo "ferromq: $bin"
} >"$out/meta.txt"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/ferromq-owbench.XXXXXX")
cleanup() {
  if [[ -n $broker_pid ]]; then stop_broker; fi
  rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT TERM


declare -A load_at broker_cpu
# run_workloads BROKER PORT: one JSON result per workload in $out/BROKER-NAME.json.
run_workloads() {
  local broker=$1 port=$2 spec name desc flags cpu0 cpu1
  for spec in "${workloads[@]}"; do
    IFS='|' read -r name desc _ flags <<<"$spec"
    load_at[$broker-$name]=$(loadavg)
    cpu0=$(cpu_ms "$broker_pid")
    log "$broker: workload $name ($desc); load average ${load_at[$broker-$name]}"
    # shellcheck disable=SC2086 # flags and java_opts are deliberately split into words
    if ! timeout -k 5 "$hard_timeout" java $java_opts -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
        -cp "$run_cp" ferromq.bench.JmsLoad --url "tcp://127.0.0.1:$port" \
        --destination "queue://ferromq.bench.ow.$name" --label "$name" --timeout "$bench_timeout" \
        --progress-every 5 $flags >"$out/$broker-$name.json" 2>"$out/$broker-$name.log"; then
      echo "warning: $broker workload $name failed; see $out/$broker-$name.log" >&2
      tail -n 5 "$out/$broker-$name.log" >&2 || true
      failures=$((failures + 1))
    else
      tail -n 1 "$out/$broker-$name.log" >&2
    fi
    cpu1=$(cpu_ms "$broker_pid")
    [[ -n $cpu0 && -n $cpu1 ]] && broker_cpu[$broker-$name]=$((cpu1 - cpu0))
    grep -h '^warning' "$out/$broker-$name.log" >&2 || true
  done
}

if [[ ${BENCH_SKIP_AMQ:-0} != 1 ]]; then
  bench_activemq "$amq_stomp_port" "$amq_openwire_port" "$amq_openwire_port"
fi
if [[ ${BENCH_SKIP_FERROMQ:-0} != 1 ]]; then
  bench_ferromq openwire "tcp://127.0.0.1:0"
fi

verdict() { awk -v r="$1" -v t="$2" 'BEGIN { if (r == "-") print "-"; else if (r + 0 >= t) print "met"; else print "NOT met" }'; }
lat_ms() { # lat_ms BROKER NAME PERCENTILE: from a completed run, in ms
  local us
  [[ $(json_field "$out/$1-$2.json" completed) == true ]] || return 0
  us=$(grep -o '"latency_us":{[^}]*}' "$out/$1-$2.json" 2>/dev/null | grep -o "\"$3\":[0-9]*" | cut -d: -f2)
  [[ -n $us ]] && awk -v u="$us" 'BEGIN { printf "%.2f", u / 1000 }'
  return 0
}

echo
printf '%-58s %14s %14s %7s %8s\n' "workload" "ActiveMQ msg/s" "FerroMQ msg/s" "ratio" "target"
for spec in "${workloads[@]}"; do
  IFS='|' read -r name desc target _ <<<"$spec"
  a=$(whole "$(result activemq "$name" msg_per_s)"); f=$(whole "$(result ferromq "$name" msg_per_s)")
  r=$(ratio "$a" "$f")
  printf '%-58s %14s %14s %7s %8s\n' "$name: $desc" "$(cell "$a")" "$(cell "$f")" "$r" \
    ">=${target}x $(verdict "$r" "$target")"
done
for spec in "${workloads[@]}"; do
  IFS='|' read -r name _ _ _ <<<"$spec"
  for p in p50 p99 p999; do
    printf '%-58s %14s %14s\n' "$name: end-to-end latency $p (ms)" \
      "$(cell "$(lat_ms activemq "$name" "$p")")" "$(cell "$(lat_ms ferromq "$name" "$p")")"
  done
  printf '%-58s %14s %14s\n' "$name: client set-up, all connections (ms)" \
    "$(cell "$(json_field "$out/activemq-$name.json" setup_ms)")" \
    "$(cell "$(json_field "$out/ferromq-$name.json" setup_ms)")"
  printf '%-58s %14s %14s\n' "$name: broker CPU time, whole workload (ms)" \
    "$(cell "${broker_cpu[activemq-$name]:-}")" "$(cell "${broker_cpu[ferromq-$name]:-}")"
  printf '%-58s %14s %14s\n' "$name: load program CPU time (ms)" \
    "$(cell "$(json_field "$out/activemq-$name.json" client_cpu_ms)")" \
    "$(cell "$(json_field "$out/ferromq-$name.json" client_cpu_ms)")"
  printf '%-58s %14s %14s\n' "$name: load average at start (1/5/15 min)" \
    "$(cell "${load_at[activemq-$name]:-}" | tr ' ' /)" "$(cell "${load_at[ferromq-$name]:-}" | tr ' ' /)"
done
printf '%-58s %14s %14s\n' "start to accepting OpenWire (ms)" "$(cell "${start_ms[activemq]:-}")" "$(cell "${start_ms[ferromq]:-}")"
printf '%-58s %14s %14s\n' "idle RSS after start (MiB)" "$(cell "${idle_rss[activemq]:-}")" "$(cell "${idle_rss[ferromq]:-}")"
printf '%-58s %14s %14s\n' "peak RSS over the run (MiB)" "$(cell "${peak_rss[activemq]:-}")" "$(cell "${peak_rss[ferromq]:-}")"
echo
journal_summary
if [[ -f $out/ferromq-broker.log ]] && grep -qE ' (WARN|ERROR) ' "$out/ferromq-broker.log"; then
  echo "FerroMQ logged warnings or errors (first 10):"
  grep -E ' (WARN|ERROR) ' "$out/ferromq-broker.log" | head -n 10
  echo
fi
echo "JSON results and logs: $out"
if (( failures > 0 )); then
  echo "$failures step(s) failed; the table shows '-' for them" >&2
  exit 1
fi
