#!/usr/bin/env bash
# Regenerates the golden OpenWire files from Debian's ActiveMQ 5.17 jars (libactivemq-java).
# Usage: capture.sh [OUT_DIR]   (default: the golden/ folder above this script)
# Needs javac/java 17 and python3. Uses ports 61699/61700 on 127.0.0.1.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/..}"
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
J=/usr/share/java
CP="$J/activemq-broker.jar:$J/activemq-client.jar:$J/geronimo-jms_1.1_spec.jar"
CP="$CP:$J/geronimo-j2ee-management-1.1-spec.jar:$J/hawtbuf.jar:$J/slf4j-api.jar"
CP="$CP:$J/slf4j-simple.jar:$J/jaxb-api.jar"
javac -d "$work" -cp "$CP" "$here"/Broker.java "$here"/Client.java "$here"/Marshal.java

java -cp "$CP:$work" Broker 61700 120000 > "$work/broker.log" 2>&1 &
python3 "$here/proxy.py" 61699 61700 "$work/frames" > "$work/proxy.log" 2>&1 &
until grep -q READY "$work/broker.log" 2>/dev/null && grep -q READY "$work/proxy.log"; do
    sleep 0.2
done
java -cp "$CP:$work" Client 61699 | grep '^STEP'
sleep 1

# One file per connection and direction: the frames in arrival order, back to back.
mkdir -p "$out/session" "$out/marshalled"
for c in 1 2 3; do
    cat "$work"/frames/*-c$c-c2b-*.bin > "$out/session/conn$c-client.bin"
    cat "$work"/frames/*-c$c-b2c-*.bin > "$out/session/conn$c-broker.bin"
done
java -cp "$CP:$work" Marshal "$out/marshalled"
echo "golden files written to $out"
