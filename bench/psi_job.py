"""Submit-to-success wall time of the two-party reader -> psi job, and the scheduling overhead per task.

Starts a guest (9999) and a host (10000) node as separate processes on loopback, uploads the breast
tables, runs the job N times and prints the median wall time (submit until the client sees SUCCESS)
and the per-task overhead: (wall - sum over the task chain of the slowest party's component compute)
/ number of tasks. Component compute times come from the task logs.

Usage: python bench/psi_job.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
from pathlib import Path

from fate_grpc.cli.demo import upload
from fate_grpc.cli.local_cluster import LocalCluster
from fate_grpc.cli.render import job_status_name

ROOT = Path(__file__).resolve().parents[1]
FINISHED = re.compile(r"component finished in ([0-9.]+)s")
TASK_CHAIN = ("reader_0", "psi_0")


def compute_seconds(cluster: LocalCluster, job_id: str, task: str) -> float:
    slowest = 0.0
    for party in cluster.parties.values():
        for log in (party.data_dir / "jobs" / job_id).glob(f"*/{task}/*/task.log"):
            found = FINISHED.search(log.read_text())
            if found:
                slowest = max(slowest, float(found.group(1)))
    return slowest


def wait_pools_warm(cluster: LocalCluster, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    for pid in cluster.parties:
        with cluster.client(pid) as client:
            while client.node_info().ready_task_processes < cluster.warm_processes:
                if time.monotonic() > deadline:
                    return
                time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    dag = (ROOT / "examples" / "dags" / "psi.yaml").read_text()
    walls, overheads = [], []
    with tempfile.TemporaryDirectory() as workdir, LocalCluster(Path(workdir), ["9999", "10000"]) as cluster:
        guest, host = cluster.client("9999"), cluster.client("10000")
        upload(guest, ROOT / "examples" / "data" / "breast_hetero_guest.csv", "breast_hetero_guest", "y")
        upload(host, ROOT / "examples" / "data" / "breast_hetero_host.csv", "breast_hetero_host", "")
        for run in range(args.runs):
            wait_pools_warm(cluster)
            started = time.monotonic()
            job_id = guest.submit_job(dag).job_id
            view = guest.wait_job(job_id, interval_s=0.01)
            wall = time.monotonic() - started
            status = job_status_name(view.status)
            compute = sum(compute_seconds(cluster, job_id, task) for task in TASK_CHAIN)
            overhead = (wall - compute) / len(TASK_CHAIN)
            walls.append(wall)
            overheads.append(overhead)
            timing = f"wall {wall:.3f}s compute {compute:.3f}s overhead/task {overhead * 1000:.0f}ms"
            print(f"run {run + 1}: {status} {timing}")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    print(f"median submit-to-success wall time over {args.runs} runs: {statistics.median(walls):.3f}s")
    print(f"median scheduling overhead per task: {statistics.median(overheads) * 1000:.0f}ms")


if __name__ == "__main__":
    main()
