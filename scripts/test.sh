#!/usr/bin/env bash
# Set up and run every check: lint, types, the import contracts, buf lint and breaking, generated-code
# freshness and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh dev
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
# The package layers and the no-cycle rule of [tool.importlinter] in pyproject.toml.
.venv/bin/lint-imports --no-cache
scripts/check_protos.sh
status=0
.venv/bin/python -m pytest "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: failing on purpose" >&2
  exit 1
fi
exit "$status"
