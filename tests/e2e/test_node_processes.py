"""Task processes never outlive their node."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from fate_grpc.cli.local_cluster import LocalCluster
from fate_grpc.client.v1 import client_pb2
from fate_grpc.common.v1 import common_pb2
from tests.lifecycle.dags import dag, task
from tests.support.nodes import ROOT

pytestmark = pytest.mark.timeout(120)


def children_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")
def test_task_processes_exit_when_their_node_is_killed(tmp_path: Path) -> None:
    with LocalCluster(tmp_path, ["9999"]) as cluster, cluster.client("9999") as client:
        node = cluster.parties["9999"].process
        assert node is not None
        client.register_provider(
            client_pb2.ProviderInfo(
                name="testkit",
                version="1.0",
                device="local",
                module="tests.support.test_components",
                path=str(ROOT),
            )
        )
        job_id = client.submit_job(dag({"slow": task("testkit_sleep", seconds=60)}, parties=("9999",))).job_id
        deadline = time.monotonic() + 30
        while (
            client.query_job(job_id).job.status != common_pb2.JOB_STATUS_RUNNING
            and time.monotonic() < deadline
        ):
            time.sleep(0.05)
        fork_servers = children_of(node.pid)
        assert len(fork_servers) == 1, "the node runs one task fork server"
        tasks = {pid for server in fork_servers for pid in children_of(server)}
        while not tasks and time.monotonic() < deadline:
            time.sleep(0.05)
            tasks = {pid for server in fork_servers for pid in children_of(server)}
        assert tasks, "the task process runs under the fork server"

        os.kill(node.pid, signal.SIGKILL)
        node.wait(timeout=10)

        everything = fork_servers | tasks
        deadline = time.monotonic() + 10
        while any(alive(p) for p in everything) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(alive(p) for p in everything)
