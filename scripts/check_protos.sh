#!/usr/bin/env bash
# buf lint and buf breaking over protos/ (configuration and reasons in buf.yaml).
#
# breaking compares protos/ with the last committed protos (git HEAD): a clean working tree passes,
# an uncommitted change that would break clients fails. A branch can be compared with its base
# instead, e.g. in CI: BUF_AGAINST='.git#branch=main,subdir=protos' scripts/check_protos.sh
# (a fresh clone of main that is checked out at main has nothing to compare but HEAD).
set -euo pipefail
cd "$(dirname "$0")/.."
buf=.venv/bin/buf
if [ ! -x "$buf" ]; then
  buf=$(command -v buf || true)
fi
if [ -z "$buf" ]; then
  echo "SKIPPED buf lint and buf breaking: buf is not installed (scripts/bootstrap.sh dev installs the buf-bin wheel)" >&2
  exit 0
fi
"$buf" lint
if ! git rev-parse --verify --quiet HEAD >/dev/null 2>&1; then
  echo "SKIPPED buf breaking: no git history to compare protos/ with" >&2
  exit 0
fi
"$buf" breaking --against "${BUF_AGAINST:-.git#ref=HEAD,subdir=protos}"
echo "buf lint and buf breaking: ok"
