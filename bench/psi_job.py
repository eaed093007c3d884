"""Submit-to-success wall time of the two-party reader -> psi job, and the scheduling overhead per task.

Starts a guest (9999) and a host (10000) node as separate processes on loopback, uploads the breast
tables, runs the job N times and prints the median wall time (submit until the client sees SUCCESS)
and the per-task overhead: (wall - sum over the task chain of the slowest party's component compute)
/ number of tasks. Component compute times come from the task logs.

Usage: python bench/psi_job.py [--runs 5] [--tls]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from common import machine_line, median, prepare_psi, run_psi_job

from fate_grpc.cli.local_cluster import LocalCluster


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tls", action="store_true", help="provision certificates and use mutual TLS")
    args = parser.parse_args()
    runs = []
    with (
        tempfile.TemporaryDirectory() as workdir,
        LocalCluster(Path(workdir), ["9999", "10000"], tls=args.tls) as cluster,
    ):
        prepare_psi(cluster)
        for number in range(args.runs):
            run = run_psi_job(cluster)
            runs.append(run)
            print(
                f"run {number + 1}: {run.status} wall {run.wall_s:.3f}s compute {run.compute_s:.3f}s"
                f" overhead/task {run.overhead_per_task_s * 1000:.0f}ms"
            )
    print(machine_line())
    print(
        f"median submit-to-success wall time over {args.runs} runs: {median([r.wall_s for r in runs]):.3f}s"
    )
    print(
        f"median scheduling overhead per task: {median([r.overhead_per_task_s for r in runs]) * 1000:.0f}ms"
    )


if __name__ == "__main__":
    main()
