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
