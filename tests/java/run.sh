#!/usr/bin/env bash
# Compiles the OpenWire acceptance scenarios and runs them by hand against a running broker.
#
#   tests/java/run.sh URL                        # every scenario that needs no helper
#   tests/java/run.sh URL SCENARIO [key=value]   # one scenario, e.g. priority strict=true
#   tests/java/run.sh --list
#
# URL is the broker's OpenWire address, e.g. tcp://127.0.0.1:61616. durable-restart and
# failover-restart print @@RESTART: restart the broker on the same port, then type @@RESTARTED.
# stomp-to-jms and jms-to-stomp need their STOMP half (tests/python/test_openwire_java.py).
# The pytest file is the usual way to run them all; see tests/java/README.md.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
lib=${FERROMQ_TEST_JAVA_LIB:-/usr/share/java}
out=$root/target/java-tests
jars=
for jar in activemq-client geronimo-jms_1.1_spec hawtbuf slf4j-api geronimo-j2ee-management-1.1-spec; do
    if [[ ! -f $lib/$jar.jar ]]; then
        echo "missing $lib/$jar.jar: apt-get install libactivemq-java (or scripts/test java)" >&2
        exit 3
    fi
    jars=$jars${jars:+:}$lib/$jar.jar
done
classpath=$out:$jars
[[ -f $lib/slf4j-simple.jar ]] && classpath=$classpath:$lib/slf4j-simple.jar

mkdir -p "$out"
mapfile -t sources < <(find "$here/src" -name '*.java' | sort)
javac -Xlint:all -Werror --release 11 -d "$out" -cp "$jars" "${sources[@]}"
run() {
    java -cp "$classpath" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn ferromq.jms.Main "$@"
}

if [[ ${1:-} == --list || $# -eq 0 ]]; then
    run --list
    exit 0
fi
url=$1
shift
if [[ $# -gt 0 ]]; then
    scenario=$1
    shift
    run "$scenario" "url=$url" "$@"
    exit
fi

failed=()
for scenario in $(run --list); do
    case $scenario in
        durable-restart|failover-restart|stomp-to-jms|jms-to-stomp) continue ;;
    esac
    run "$scenario" "url=$url" </dev/null || failed+=("$scenario")
done
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "failed: ${failed[*]}" >&2
    exit 1
fi
echo "all passed"
