#!/usr/bin/env bash
# Create .venv (if missing) and install the project into it. Usage: scripts/bootstrap.sh [extra]
set -euo pipefail
cd "$(dirname "$0")/.."
python_bin="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$python_bin" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
target="."
if [ "${1:-}" != "" ]; then
  target=".[$1]"
fi
.venv/bin/python -m pip install --quiet -e "$target"

# The board's browser test drives Debian's Chromium (never a browser downloaded by Playwright).
# Installed when missing and this user may install packages; otherwise that test skips and says why.
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    apt_get="env DEBIAN_FRONTEND=noninteractive apt-get"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    apt_get="sudo -n env DEBIAN_FRONTEND=noninteractive apt-get"
  else
    apt_get=""
  fi
  if [ -n "$apt_get" ]; then
    echo "installing Debian's chromium for the board's browser test" >&2
    { $apt_get update -qq && $apt_get install -y -qq chromium >/dev/null; } ||
      echo "could not install chromium; the board's browser test will be skipped" >&2
  else
    echo "chromium is missing and cannot be installed here; the board's browser test will be skipped" >&2
  fi
fi

# The Node.js client test (tests/clients/test_node_client.py) needs node and npm; with them, the
# client's pinned packages are installed here once (npm ci from the committed lock file) into the
# cache folder the test reads, never into the checkout. Without them that test skips and says why.
if [ "${1:-}" = "dev" ]; then
  if ! command -v npm >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ]; then
      apt_get="env DEBIAN_FRONTEND=noninteractive apt-get"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      apt_get="sudo -n env DEBIAN_FRONTEND=noninteractive apt-get"
    else
      apt_get=""
    fi
    if [ -n "$apt_get" ]; then
      echo "installing Debian's nodejs and npm for the Node.js client test" >&2
      { $apt_get update -qq && $apt_get install -y -qq nodejs npm >/dev/null; } ||
        echo "could not install nodejs and npm; the Node.js client test will be skipped" >&2
    else
      echo "node/npm are missing and cannot be installed here; the Node.js client test will be skipped" >&2
    fi
  fi
  if command -v npm >/dev/null 2>&1; then
    lock_hash=$(sha256sum tests/clients/node/package-lock.json | cut -c1-16)
    node_cache="${FATE_GRPC_NODE_CACHE:-$HOME/.cache/fate-grpc/node-client}/$lock_hash"
    if [ ! -d "$node_cache/node_modules/@grpc/grpc-js" ]; then
      mkdir -p "$node_cache"
      cp tests/clients/node/package.json tests/clients/node/package-lock.json "$node_cache/"
      (cd "$node_cache" && npm ci --ignore-scripts --no-audit --no-fund --silent) ||
        echo "npm ci failed; the Node.js client test will try again and skip if it cannot" >&2
    fi
  fi
fi
