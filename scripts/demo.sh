#!/usr/bin/env bash
# Set up and run the local multi-process simulation: a guest (9999) and a host (10000) node as
# separate processes, the breast tables uploaded, reader -> psi submitted, the result printed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/fate-grpc demo "$@"
