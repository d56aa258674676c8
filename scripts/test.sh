#!/usr/bin/env bash
# Installs, builds and runs every test: GoogleTest units, then the end-to-end suites that
# start the real server and drive it over HTTP with the real clients.
#   scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

echo "==> unit tests"
ctest --test-dir build --output-on-failure -j "$(nproc)"

echo "==> end-to-end tests"
LOAM_BIN="$(pwd)/build/loam" .venv/bin/python -m pytest tests/e2e -q -p no:cacheprovider
