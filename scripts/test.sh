#!/usr/bin/env bash
# Runs every test. On a fresh Debian machine it first installs what the tests need:
#   - libnss-myhostname, so <project>.localhost resolves to loopback (how official clients
#     reach the emulator at endpoint localhost:PORT);
#   - python3-venv if `python3 -m venv` is unavailable;
#   - procps if there is no `kill` program (the process-fault harness sends SIGSTOP/SIGCONT/
#     SIGTERM with it);
#   - a venv in .venv with the pinned official Python SDK (scripts/setup-python.sh);
#   - a JDK and Maven if missing (Debian's packages), Go 1.21+ if missing (from the Go module
#     proxy, into .tools/), then the Java and Go harnesses with the pinned official clients
#     (scripts/build-harnesses.sh: Maven Central, Go proxy);
#   - PostgreSQL (Debian's postgresql package) for the Flink job's two-phase-commit sink: the
#     Flink scenarios start throwaway servers of it (initdb in a temporary folder, loopback,
#     max_prepared_transactions > 0), so the package's own cluster is not needed.
# The tests start the emulator themselves, in-process, on free ports.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else echo "test.sh: need root (or sudo) to run: $*" >&2; exit 1
  fi
}

apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if ! getent hosts sls-emu-probe.localhost >/dev/null 2>&1; then
  echo "test.sh: installing libnss-myhostname so *.localhost resolves to loopback"
  apt_install libnss-myhostname
  getent hosts sls-emu-probe.localhost >/dev/null || {
    echo "test.sh: *.localhost still does not resolve; check 'hosts:' in /etc/nsswitch.conf lists myhostname" >&2
    exit 1
  }
fi

# The official Rust SDK builds reqwest with native-tls (OpenSSL).
if ! pkg-config --exists openssl 2>/dev/null; then
  echo "test.sh: installing libssl-dev and pkg-config (the official Rust SDK links OpenSSL)"
  apt_install libssl-dev pkg-config
fi

if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  echo "test.sh: installing python3-venv"
  apt_install python3-venv
fi

if ! [ -x /bin/kill ] && ! [ -x /usr/bin/kill ]; then
  echo "test.sh: installing procps (the kill program)"
  apt_install procps
fi

if ! command -v mvn >/dev/null 2>&1 || ! command -v javac >/dev/null 2>&1; then
  echo "test.sh: installing a JDK and Maven (the Java clients' harness)"
  apt_install default-jdk-headless maven
fi

if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  echo "test.sh: installing PostgreSQL (the Flink two-phase-commit sink's database)"
  apt_install postgresql
fi

# Go 1.21 or newer (the Go SDK's dependencies need it; Debian's golang-go is older): when the
# machine has none, the release the Go module proxy serves as golang.org/toolchain, in .tools/.
go_version="go1.26.8"
if ! go_ok=$(go version 2>/dev/null) || [[ "$go_ok" =~ go1\.(1[0-9]|20)[.\ ] ]]; then
  if [ ! -x ".tools/go/bin/go" ]; then
    echo "test.sh: fetching $go_version from the Go module proxy (golang.org/toolchain)"
    command -v unzip >/dev/null 2>&1 || apt_install unzip
    command -v curl >/dev/null 2>&1 || apt_install curl
    arch=$(uname -m | sed 's/x86_64/amd64/; s/aarch64/arm64/')
    module="v0.0.1-$go_version.linux-$arch"
    mkdir -p .tools && rm -rf .tools/go ".tools/golang.org"
    curl -fsSL -o ".tools/go.zip" "https://proxy.golang.org/golang.org/toolchain/@v/$module.zip"
    unzip -q -d .tools .tools/go.zip && rm .tools/go.zip
    mv ".tools/golang.org/toolchain@$module" .tools/go && rm -rf ".tools/golang.org"
  fi
  export PATH="$PWD/.tools/go/bin:$PATH"
fi

scripts/setup-python.sh
scripts/build-harnesses.sh

export SLS_EMU_PYTHON="$PWD/.venv/bin/python"
# The official clients honour proxy variables; the tests talk to loopback only.
unset HTTP_PROXY http_proxy HTTPS_PROXY https_proxy ALL_PROXY all_proxy

# `cargo test --workspace` builds target/debug/sls-emulator with the features the whole workspace
# unifies. The tests that run the emulator as a process use that binary. Otherwise each would
# run `cargo build -p sls-emulator`, whose narrower features rebuild DataFusion (~2.5 min and
# ~0.5 GB in CI).
if [ $# -eq 0 ] && [ -z "${SLS_EMU_BIN:-}" ]; then
  SLS_EMU_BIN="$(realpath -m "${CARGO_TARGET_DIR:-target}")/debug/sls-emulator"
  export SLS_EMU_BIN
fi
cargo test --workspace --locked "$@"
