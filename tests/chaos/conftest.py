"""Options of the chaos tests: `pytest tests/chaos --runs 50 --seed 7` (or FATE_GRPC_CHAOS_RUNS/_SEED)."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("chaos")
    group.addoption("--runs", type=int, default=None, help="chaos runs (default 10, or FATE_GRPC_CHAOS_RUNS)")
    group.addoption("--seed", type=int, default=None, help="seed of the first run (or FATE_GRPC_CHAOS_SEED)")
