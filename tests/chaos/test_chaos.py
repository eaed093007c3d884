"""Chaos: SIGKILL a random node (guest/scheduler, host or arbiter) at a random moment of a four-task job
across three node processes, restart it 1-3 s later on the same conf, store and port, and check what must
hold after every run: each party ended the job and they agree, no process of the killed node outlived it,
the outputs of tasks finished before the kill are unchanged, and the cores came back (a job needing all of
them succeeds). A failed job must say which party was killed.

Bounded for CI (10 runs); more with `pytest tests/chaos --runs 50` or FATE_GRPC_CHAOS_RUNS=50; a run is
replayed with `--seed` (each run prints its seed). bench/chaos.py prints the same figures for many runs.
"""

from __future__ import annotations

import os
import random
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chaos.harness import ChaosCluster, RunResult, kill_run

pytestmark = [
    pytest.mark.timeout(600),
    pytest.mark.skipif(not Path("/proc").is_dir() or not hasattr(signal, "SIGKILL"), reason="needs /proc"),
]
DEFAULT_RUNS = 10
# A node killed and restarted within the task's deadline must not fail the job: the scheduler gives the
# tasks lost with it a new attempt (scheduler.max_task_attempts). A job that fails all the same must
# say which party was killed.
EXPECT_RESUME = True
RESULTS: list[RunResult] = []


def _setting(config: pytest.Config, option: str, variable: str) -> int | None:
    value = config.getoption(option, default=None)
    if value is None and os.environ.get(variable):
        value = int(os.environ[variable])
    return value


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "seed" not in metafunc.fixturenames:
        return
    runs = _setting(metafunc.config, "--runs", "FATE_GRPC_CHAOS_RUNS") or DEFAULT_RUNS
    first = _setting(metafunc.config, "--seed", "FATE_GRPC_CHAOS_SEED")
    first = random.SystemRandom().randrange(1_000_000) if first is None else first
    # Ids by run number, not seed, so that every collection of the same suite names the same tests.
    metafunc.parametrize("seed", [first + i for i in range(runs)], ids=[f"run{i}" for i in range(runs)])


@pytest.fixture(scope="module")
def chaos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChaosCluster]:
    with ChaosCluster(tmp_path_factory.mktemp("chaos")) as cluster:
        yield cluster
    assert cluster.leftovers() == [], "processes outlived the stopped nodes"


def test_a_node_killed_and_restarted_mid_job_leaves_the_parties_agreeing_and_nothing_behind(
    chaos: ChaosCluster, seed: int
) -> None:
    result = kill_run(chaos, seed)
    RESULTS.append(result)
    print(result.summary())

    assert not result.stuck, f"a party never ended the job: {result.summary()}"
    assert result.agreed, f"the parties disagree: {result.summary()}"
    assert result.orphans == [], f"processes outlived the killed node: {result.summary()}"
    assert result.changed_outputs == [], f"finished tasks' outputs changed: {result.summary()}"
    assert result.next_job.startswith("success"), f"the next job did not get its cores: {result.summary()}"
    if result.outcome == "completed":
        return
    assert not (EXPECT_RESUME and result.mid_job), f"the job failed instead of resuming: {result.summary()}"
    assert result.target in result.reason, f"the reason does not name the killed party: {result.summary()}"
