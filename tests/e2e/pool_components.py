"""A test-only component provider whose task starts a crypto process pool and holds it.

Registered by tests.e2e.test_no_orphans_e2e as provider `pooltest:1.0@local`.
"""

from __future__ import annotations

import json
import os
import threading
from concurrent.futures import Executor
from typing import TextIO

from fate_grpc.components.context import ComponentContext
from fate_grpc.crypto import paillier
from fate_grpc.domain.component_spec import ComponentSpec, ParamSpec, StageSpec

POOL_WORKERS = 2


def _worker_pid(_index: int) -> int:
    return os.getpid()


def start_pool_and_report(out: TextIO) -> Executor:
    """Start the shared Paillier pool with all its workers running; write {"task", "workers"} as JSON.

    The caller keeps the executor: one that is garbage collected shuts its workers down.
    """
    executor = paillier.make_executor(POOL_WORKERS)
    workers: set[int] = set()
    while len(workers) < POOL_WORKERS:
        futures = [executor.submit(_worker_pid, index) for index in range(8 * POOL_WORKERS)]
        workers.update(future.result() for future in futures)
    out.write(json.dumps({"task": os.getpid(), "workers": sorted(workers)}) + "\n")
    out.flush()
    return executor


def hold_pool(ctx: ComponentContext) -> None:
    """Start the pool, write its pids to `ready_file`, then wait for ever (until killed)."""
    with open(str(ctx.parameters["ready_file"]) + ".part", "w") as out:
        executor = start_pool_and_report(out)
    # Renamed into place whole, so the test never reads half a record.
    os.replace(str(ctx.parameters["ready_file"]) + ".part", str(ctx.parameters["ready_file"]))
    threading.Event().wait()
    executor.shutdown()


CATALOG = {
    "pooltest_hold": ComponentSpec(
        name="pooltest_hold",
        roles=frozenset({"guest", "host", "arbiter"}),
        stages={"default": StageSpec()},
        parameters={"ready_file": ParamSpec("ready_file", (str,), required=True)},
    )
}
RUNNERS = {"pooltest_hold": hold_pool}
