"""Options of the chaos tests: `pytest tests/chaos --runs 50 --seed 7` (or FATE_GRPC_CHAOS_RUNS/_SEED)."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("chaos")
    group.addoption("--runs", type=int, default=None, help="chaos runs (default 10, or FATE_GRPC_CHAOS_RUNS)")
    group.addoption("--seed", type=int, default=None, help="seed of the first run (or FATE_GRPC_CHAOS_SEED)")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The success rate of mid-job kills, recorded whenever chaos runs took place."""
    from tests.chaos.test_chaos import RESULTS

    if not RESULTS:
        return
    mid_job = [r for r in RESULTS if r.mid_job]
    completed = sum(r.outcome == "completed" for r in mid_job)
    terminalreporter.write_line(
        f"chaos: {completed} of {len(mid_job)} mid-job kills ended in success ({len(RESULTS)} runs;"
        f" first seed {RESULTS[0].seed})"
    )
