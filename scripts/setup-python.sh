#!/usr/bin/env bash
# Creates the Python virtual environment used by the end-to-end tests in
# tests/python/ (and the CLI, aliyunlog) and installs the pinned packages of
# tests/python/requirements.txt.
#
#   scripts/setup-python.sh          # -> $REPO/.venv
#
# Idempotent: when $REPO/.venv/.requirements.sha holds the sha256 of
# requirements.txt (written only after a successful install), it does nothing.
# Set PYTHON to choose the interpreter that creates the venv (default python3).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO/.venv"
REQ="$REPO/tests/python/requirements.txt"
STAMP="$VENV/.requirements.sha"
PYTHON="${PYTHON:-python3}"

want="$(sha256sum "$REQ" | cut -d' ' -f1)"

# A venv whose interpreter no longer starts (e.g. the base Python moved) is rebuilt.
venv_ok() { [[ -x "$VENV/bin/python" ]] && "$VENV/bin/python" -c '' 2>/dev/null; }

if venv_ok && [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
    echo "setup-python: $VENV is up to date"
    exit 0
fi

if ! venv_ok; then
    echo "setup-python: creating $VENV with $("$PYTHON" --version 2>&1)"
    "$PYTHON" -m venv --clear "$VENV"
fi

rm -f "$STAMP"
echo "setup-python: installing $REQ"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$REQ"
# Fail here, not in the tests, if the SDK, its compression modules or the CLI do not import.
"$VENV/bin/python" -c 'import aliyun.log, lz4.block, zstd, aliyunlogcli.cli_core; from aliyun.log.compress import zstd_available; assert zstd_available'
[[ -x "$VENV/bin/aliyunlog" ]] || { echo "setup-python: $VENV/bin/aliyunlog is missing" >&2; exit 1; }
printf '%s\n' "$want" > "$STAMP"
echo "setup-python: done ($("$VENV/bin/python" -c 'from aliyun.log.version import __version__ as v; from aliyunlogcli.version import __version__ as c; print("aliyun-log-python-sdk " + v + ", aliyun-log-cli " + c)'))"
