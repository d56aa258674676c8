#!/usr/bin/env bash
# The main job: installs and builds Loam, starts the server on a fresh data directory and
# runs the end-to-end demo against it with the real clients.
#   scripts/demo.sh [--keep-running]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

KEEP=0
[[ "${1:-}" == "--keep-running" ]] && KEEP=1
DATA_DIR=${LOAM_DEMO_DATA:-$(pwd)/demo-data}
PORT=${LOAM_DEMO_PORT:-7070}
rm -rf "$DATA_DIR"
mkdir -p "$DATA_DIR"

build/loam server --data-dir "$DATA_DIR" --port "$PORT" --python "$(pwd)/.venv/bin/python" 2>"$DATA_DIR/server.log" &
SERVER=$!
cleanup() { if ((KEEP == 0)); then kill -TERM "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi; }
trap cleanup EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
  kill -0 "$SERVER" 2>/dev/null || { cat "$DATA_DIR/server.log"; exit 1; }
  sleep 0.1
done

.venv/bin/python python/demo/tracking_demo.py --tracking-uri "http://127.0.0.1:$PORT" --data-dir "$DATA_DIR"
.venv/bin/python python/demo/training_demo.py --endpoint "http://127.0.0.1:$PORT" --data-dir "$DATA_DIR"
.venv/bin/python python/demo/hosting_demo.py --endpoint "http://127.0.0.1:$PORT"
.venv/bin/python python/demo/workflow_demo.py --endpoint "http://127.0.0.1:$PORT"

if ((KEEP)); then
  echo "Loam keeps running (pid $SERVER) at http://127.0.0.1:$PORT; stop it with: kill $SERVER"
  trap - EXIT
else
  echo "Start it again on the same data with: build/loam server --data-dir $DATA_DIR --port $PORT"
fi
