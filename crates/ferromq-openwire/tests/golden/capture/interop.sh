#!/usr/bin/env bash
# Checks the Rust codec against the genuine ActiveMQ 5.17 Java code, both directions:
#  1. 3000 generated commands encoded by Rust are unmarshalled (and re-marshalled) by Java's
#     OpenWireFormat (Verify.java);
#  2. the default-configured Java client runs a short session against the `mock_broker`
#     example (LiveClient.java), with and without compression.
# Run from anywhere; needs javac/java 17, cargo, and port 61698 on 127.0.0.1.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../../../.." && pwd)"
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/tmp/target-openwire}"
J=/usr/share/java
CP="$J/activemq-client.jar:$J/geronimo-jms_1.1_spec.jar:$J/geronimo-j2ee-management-1.1-spec.jar"
CP="$CP:$J/hawtbuf.jar:$J/slf4j-api.jar"
javac -d "$work" -cp "$CP" "$here/Verify.java" "$here/LiveClient.java"

cd "$root"
OPENWIRE_EXPORT="$work/rust.bin" cargo test -q -p ferromq-openwire --test main -- \
    --ignored export_frames_for_the_java_check > /dev/null
java -cp "$CP:$work" Verify "$work/rust.bin" | tail -n 20

cargo build -q -p ferromq-openwire --example mock_broker
"$CARGO_TARGET_DIR/debug/examples/mock_broker" 127.0.0.1:61698 2 > "$work/mock.log" 2>&1 &
until grep -q READY "$work/mock.log" 2>/dev/null; do sleep 0.2; done
java -cp "$CP:$work" LiveClient 127.0.0.1:61698 2>/dev/null
