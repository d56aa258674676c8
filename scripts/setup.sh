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
  libre2-dev libarchive-dev libyaml-cpp-dev bubblewrap libssl-dev zlib1g-dev libcurl4-openssl-dev wrk
  libxgboost-dev
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

# Python side: virtualenvs of pinned PyPI packages, each (re)installed when its pins change.
PY=${LOAM_PYTHON:-python3}
ensure_venv() {  # DIR REQUIREMENTS CONSTRAINTS
  local dir=$1 requirements=$2 constraints=$3
  if [[ ! -x $dir/bin/python ]]; then
    echo "==> creating $dir"
    "$PY" -m venv "$dir"
  fi
  if ! cmp -s "$requirements" "$dir/.requirements.installed" 2>/dev/null ||
     ! cmp -s "$constraints" "$dir/.constraints.installed" 2>/dev/null; then
    echo "==> pip install -r $requirements ($dir)"
    "$dir/bin/pip" install -q --upgrade pip
    "$dir/bin/pip" install -q -r "$requirements" -c "$constraints"
    cp "$requirements" "$dir/.requirements.installed"
    cp "$constraints" "$dir/.constraints.installed"
  fi
}
# The real clients the tests and the demo drive Loam with, and light ML libraries.
ensure_venv .venv python/requirements.txt python/constraints.txt
# The current mlflow client (3.x), so the end-to-end suite checks both major versions.
ensure_venv .venv-mlflow3 python/requirements-mlflow3.txt python/constraints-mlflow3.txt
# The SageMaker Python SDK v2: it pins a newer boto3 and pandas than the mlflow 2 client allows.
ensure_venv .venv-sagemaker python/requirements-sagemaker.txt python/constraints-sagemaker.txt

echo "==> building (build/)"
BUILD_TYPE=${LOAM_BUILD_TYPE:-RelWithDebInfo}
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" -DLOAM_WERROR=ON >/dev/null
ninja -C build
echo "==> built $ROOT/build/loam"
