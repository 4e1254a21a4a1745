#!/usr/bin/env bash
# Starts one Apache ActiveMQ 5.17 broker in the foreground, from Debian's packaged jars, with the
# configuration in this folder. Debian's `activemq` package has no start script usable outside
# its system service, hence this one.
#
# usage: bench/activemq/run.sh BASE_DIR [STOMP_PORT] [OPENWIRE_PORT] [HEAP]
#   BASE_DIR       scratch folder for config, data and temp files (created; reuse keeps data)
#   STOMP_PORT     default 62613        OPENWIRE_PORT  default 62616      HEAP  default 1G
# Needs: apt-get install activemq libactivemq-java  (and a Java 17 runtime)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
jar=/usr/share/activemq/bin/activemq.jar
if [[ ! -f $jar ]]; then
  echo "ActiveMQ is not installed ($jar missing): apt-get install activemq libactivemq-java" >&2
  exit 3
fi
if [[ $# -lt 1 ]]; then
  sed -n '5,9p' "${BASH_SOURCE[0]}" >&2
  exit 2
fi

mkdir -p "$1"
base=$(cd "$1" && pwd)
stomp_port=${2:-62613}
openwire_port=${3:-62616}
heap=${4:-1G}
mkdir -p "$base/conf" "$base/data" "$base/tmp"
sed -e "s|@NAME@|ferromq-bench-baseline|g" -e "s|@DATA@|$base/data|g" \
    -e "s|@OPENWIRE_PORT@|$openwire_port|g" -e "s|@STOMP_PORT@|$stomp_port|g" \
    "$here/activemq.xml.tmpl" >"$base/conf/activemq.xml"
cp "$here/log4j.properties" "$base/conf/log4j.properties"

cd "$base"
# Java 17 closes the JDK internals ActiveMQ 5.17 reflects on; these flags reopen exactly those
# (the same set ActiveMQ's own start script passes).
exec java -Xms"$heap" -Xmx"$heap" -Djava.awt.headless=true -Djava.io.tmpdir="$base/tmp" \
  --add-reads=java.xml=java.logging \
  --add-opens java.base/java.security=ALL-UNNAMED --add-opens java.base/java.net=ALL-UNNAMED \
  --add-opens java.base/java.lang=ALL-UNNAMED --add-opens java.base/java.util=ALL-UNNAMED \
  --add-opens java.naming/javax.naming.spi=ALL-UNNAMED \
  --add-opens java.base/java.util.concurrent=ALL-UNNAMED \
  -Dlog4j.configuration="file:$base/conf/log4j.properties" \
  -Dactivemq.classpath="$base/conf:" -Dactivemq.home=/usr/share/activemq \
  -Dactivemq.base="$base" -Dactivemq.conf="$base/conf" -Dactivemq.data="$base/data" \
  -jar "$jar" start "xbean:file:$base/conf/activemq.xml"
