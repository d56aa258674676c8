#!/usr/bin/env bash
# Installs everything Loam needs on Debian 12 and builds it. Idempotent: re-running only
# installs what is missing and rebuilds what changed.
#   scripts/setup.sh            system packages, Python virtualenv, build (Release + tests)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config git curl ca-certificates
  libboost-dev nlohmann-json3-dev libsqlite3-dev libspdlog-dev libfmt-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev libeigen3-dev sqlite3
  libre2-dev libarchive-dev libyaml-cpp-dev bubblewrap libssl-dev zlib1g-dev libcurl4-openssl-dev
  python3 python3-venv python3-pip
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "==> apt-get install ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Node.js side: the AWS SDK for JavaScript v3 and s3rver (an independent S3 server the tests
# run Loam's external object-store backend against), pinned by tests/node/package-lock.json.
if ! command -v npm >/dev/null 2>&1; then
  echo "==> apt-get install nodejs npm"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm
fi
if ! cmp -s tests/node/package-lock.json tests/node/node_modules/.package-lock.installed 2>/dev/null; then
  echo "==> npm ci (tests/node)"
  (cd tests/node && npm ci --no-audit --no-fund --loglevel=error)
  cp tests/node/package-lock.json tests/node/node_modules/.package-lock.installed
fi

# Python side: the real clients the tests and the demo drive Loam with (pinned).
PY=${LOAM_PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  echo "==> creating .venv"
  "$PY" -m venv .venv
fi
if ! cmp -s python/requirements.txt .venv/.requirements.installed 2>/dev/null ||
   ! cmp -s python/constraints.txt .venv/.constraints.installed 2>/dev/null; then
  echo "==> pip install -r python/requirements.txt"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -r python/requirements.txt -c python/constraints.txt
  cp python/requirements.txt .venv/.requirements.installed
  cp python/constraints.txt .venv/.constraints.installed
fi

# The current mlflow client (3.x) gets a virtualenv of its own, for the end-to-end suite.
if [[ ! -x .venv-mlflow3/bin/python ]]; then
  echo "==> creating .venv-mlflow3"
  "$PY" -m venv .venv-mlflow3
fi
if ! cmp -s python/constraints-mlflow3.txt .venv-mlflow3/.constraints.installed 2>/dev/null; then
  echo "==> pip install -r python/requirements-mlflow3.txt"
  .venv-mlflow3/bin/pip install -q --upgrade pip
  .venv-mlflow3/bin/pip install -q -r python/requirements-mlflow3.txt -c python/constraints-mlflow3.txt
  cp python/constraints-mlflow3.txt .venv-mlflow3/.constraints.installed
fi

# The SageMaker Python SDK v2 gets a virtualenv of its own (.venv-sagemaker): it pins a newer
# boto3 and pandas than the mlflow 2 client of .venv allows.
if [[ -f python/constraints-sagemaker.txt ]]; then
  if [[ ! -x .venv-sagemaker/bin/python ]]; then
    echo "==> creating .venv-sagemaker"
    "$PY" -m venv .venv-sagemaker
  fi
  if ! cmp -s python/constraints-sagemaker.txt .venv-sagemaker/.constraints.installed 2>/dev/null; then
    echo "==> pip install -r python/requirements-sagemaker.txt"
    .venv-sagemaker/bin/pip install -q --upgrade pip
    .venv-sagemaker/bin/pip install -q -r python/requirements-sagemaker.txt -c python/constraints-sagemaker.txt
    cp python/constraints-sagemaker.txt .venv-sagemaker/.constraints.installed
  fi
fi

echo "==> building (build/)"
BUILD_TYPE=${LOAM_BUILD_TYPE:-RelWithDebInfo}
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" -DLOAM_WERROR=ON >/dev/null
ninja -C build
echo "==> built $ROOT/build/loam"
