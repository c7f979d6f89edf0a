#!/usr/bin/env bash
# Builds the Java and Go test harnesses that drive the official clients:
#   tests/java (Maven: SDK (core and query checks), consumer library, producer, each one
#              runnable jar; common code;
#              the Flink job, a thin jar with its libraries in flink/target/lib)
#   tests/go   (Go module: one binary, tests/go/bin/sls-go)
# Dependencies come from Maven Central and the Go module proxy on the first run. A harness
# whose outputs are newer than its sources is not rebuilt.
set -euo pipefail
cd "$(dirname "$0")/.."

# True when $1 exists and nothing under the other arguments is newer.
fresh() {
  local out=$1
  shift
  [ -e "$out" ] && [ -z "$(find "$@" -newer "$out" -type f -print -quit 2>/dev/null)" ]
}

java_sources=(tests/java/pom.xml tests/java/*/pom.xml tests/java/*/src)
stale_java=""
for module in sdk consumer producer flink; do
  fresh "tests/java/$module/target/sls-java-$module.jar" "${java_sources[@]}" || stale_java=1
done
if [ -n "$stale_java" ]; then
  echo "build-harnesses: mvn package (tests/java)"
  # Debian's Maven 3.8 prints stray colour resets even in batch mode: filter them out.
  (cd tests/java && mvn -q -B package -DskipTests 2>&1 | sed 's/\x1b\[0m//g')
fi

if ! fresh tests/go/bin/sls-go tests/go; then
  echo "build-harnesses: go build (tests/go)"
  (cd tests/go && go build -o bin/sls-go .)
fi
