#!/usr/bin/env bash
# Runs the emulator from source with the given flags (see `--help`).
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run --release --locked -p sls-emulator --bin sls-emulator -- "$@"
