"""No orphans: every process a task starts (its crypto pool included) ends with the task and with the node.

Each test marks its node process with an environment variable that every descendant inherits, then finds
the processes by that mark in /proc: a process re-parented to init after its parent died is still found.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from fate_grpc.cli.local_cluster import LocalCluster
from fate_grpc.client.v1 import client_pb2
from tests.lifecycle.dags import dag, task
from tests.support.nodes import ROOT

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc"),
]
MARK = "FATE_GRPC_ORPHAN_TEST_MARK"
PARTY = "9999"
# Generous: the kernel's and the watchers' own reactions are what the tests wait on.
DEADLINE_S = 60.0


def marked_processes(mark: str) -> dict[int, str]:
    """pid -> command line of every live process whose environment carries the mark."""
    wanted = f"{MARK}={mark}".encode()
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environment = (entry / "environ").read_bytes().split(b"\0")
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        # A zombie has an empty environment: it is dead, only not reaped yet.
        if wanted in environment:
            found[int(entry.name)] = command.strip()
    return found


def wait_until(check, what: str, deadline_s: float = DEADLINE_S):  # type: ignore[no-untyped-def]
    """Poll the process table (or a file) until `check` returns a true value; fail after the deadline."""
    deadline = time.monotonic() + deadline_s
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"not true after {deadline_s}s: {what}"
        time.sleep(0.05)


@pytest.fixture
def mark(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    value = uuid.uuid4().hex
    monkeypatch.setenv(MARK, value)
    yield value
    # Whatever a failed test left behind is ours to end (found by the mark, never by name).
    for pid in marked_processes(value):
        if pid != os.getpid():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def start_pool_task(cluster: LocalCluster, ready_file: Path) -> tuple[int, set[int]]:
    """Submit a one-task job whose task starts a two-worker pool; returns the task's and workers' pids."""
    with cluster.client(PARTY) as client:
        client.register_provider(
            client_pb2.ProviderInfo(
                name="pooltest",
                version="1.0",
                device="local",
                module="tests.e2e.pool_components",
                path=str(ROOT),
            )
        )
        conf = {"task": {"provider": "pooltest:1.0@local"}}
        document = dag(
            {"hold": task("pooltest_hold", ready_file=str(ready_file))}, parties=(PARTY,), conf=conf
        )
        job_id = client.submit_job(document).job_id
        assert job_id
    text = wait_until(lambda: ready_file.exists() and ready_file.read_text(), "the task's pool is up")
    ready = json.loads(text)
    return int(ready["task"]), {int(pid) for pid in ready["workers"]}


def pool_processes(mark: str, task_pid: int, node_pid: int) -> dict[int, str]:
    return {pid: cmd for pid, cmd in marked_processes(mark).items() if pid not in (task_pid, node_pid)}


def test_a_killed_task_takes_its_crypto_pool_with_it(tmp_path: Path, mark: str) -> None:
    with LocalCluster(tmp_path, [PARTY]) as cluster:
        node = cluster.parties[PARTY].process
        assert node is not None
        task_pid, workers = start_pool_task(cluster, tmp_path / "ready.json")
        before = marked_processes(mark)
        started_by_task = {
            pid for pid in before if pid not in (node.pid, task_pid) and _descends(pid, task_pid)
        }
        # Two workers, the fork server and its resource tracker.
        assert len(started_by_task) >= 3, before
        assert workers <= started_by_task

        os.kill(task_pid, signal.SIGKILL)

        wait_until(
            lambda: not set(marked_processes(mark)) & (started_by_task | {task_pid}),
            "every process of the killed task ended",
        )
        assert node.poll() is None, "the node itself keeps running"


def test_a_killed_node_takes_its_tasks_and_their_pools_with_it(tmp_path: Path, mark: str) -> None:
    with LocalCluster(tmp_path, [PARTY]) as cluster:
        node = cluster.parties[PARTY].process
        assert node is not None
        task_pid, _ = start_pool_task(cluster, tmp_path / "ready.json")
        before = marked_processes(mark)
        assert len(pool_processes(mark, task_pid, node.pid)) >= 4, before  # fork server(s) and the pool

        os.kill(node.pid, signal.SIGKILL)
        node.wait(timeout=DEADLINE_S)

        wait_until(lambda: not marked_processes(mark), "every process of the killed node ended")


def _descends(pid: int, ancestor: int) -> bool:
    """Whether `pid` is `ancestor` or one of its descendants (by the parent pids in /proc)."""
    while pid > 1:
        if pid == ancestor:
            return True
        try:
            pid = int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            return False
    return False


POOL_OWNER = """
import sys, threading
from tests.e2e import pool_components
if __name__ == "__main__":
    executor = pool_components.start_pool_and_report(sys.stdout)
    threading.Event().wait()
    executor.shutdown()
"""


def test_a_pool_ends_with_its_owner_even_outside_a_task_group(tmp_path: Path, mark: str) -> None:
    # No node here to kill the group: only the workers' and the fork server's own guards are at work.
    script = tmp_path / "owner.py"
    script.write_text(POOL_OWNER)
    with subprocess.Popen(
        [sys.executable, str(script)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    ) as owner:
        assert owner.stdout is not None
        ready = json.loads(owner.stdout.readline())
        helpers = set(marked_processes(mark)) - {owner.pid}
        assert set(ready["workers"]) <= helpers and len(helpers) >= 3

        owner.kill()
        owner.wait(timeout=DEADLINE_S)

        wait_until(lambda: not marked_processes(mark), "every process of the pool's owner ended")
