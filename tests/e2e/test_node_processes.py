"""Task processes never outlive their node."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from fate_grpc.cli.local_cluster import LocalCluster

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
    with LocalCluster(tmp_path, ["9999"], extra_conf={"warm_task_processes": 2}) as cluster:
        node = cluster.parties["9999"].process
        assert node is not None
        children = children_of(node.pid)
        assert len(children) == 2, "the node keeps two warm task processes"

        os.kill(node.pid, signal.SIGKILL)
        node.wait(timeout=10)

        deadline = time.monotonic() + 10
        while any(alive(c) for c in children) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(alive(c) for c in children)
