"""Many small jobs at once: do they all drain, how fast, and how quickly do ready tasks start?

Starts a guest (9999), a host (10000) and an arbiter (9998) node as separate processes, uploads a
20-row table at each, submits N small jobs at once (reader at all three parties -> psi at guest and
host) and waits until every job has ended. Prints jobs/second and the p50/p95 of the wait between a
task's dependencies finishing (the scheduler sees the last one succeed) and the task starting at each
of its parties.

Each node's core budget (--cores, default 8 = two jobs at a time) bounds how many jobs run at once;
the rest wait in the scheduler's queue.

Usage: python bench/many_jobs.py [--jobs 200] [--workers 16] [--cores 8]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import yaml
from common import machine_line

from fate_grpc.cli.demo import upload
from fate_grpc.cli.local_cluster import LocalCluster
from fate_grpc.flow_answers.jobs import job_status_name

GUEST, HOST, ARBITER = "9999", "10000", "9998"
ROWS = 20


def small_table(path: Path, header: str, with_label: bool) -> Path:
    lines = [header]
    for i in range(ROWS):
        values = [str(i), *(["1"] if with_label else []), f"{i * 0.1:.2f}", f"{i * 0.2:.2f}"]
        lines.append(",".join(values))
    path.write_text("\n".join(lines) + "\n")
    return path


def small_dag() -> str:
    parties = [
        {"role": "guest", "party_id": [GUEST]},
        {"role": "host", "party_id": [HOST]},
        {"role": "arbiter", "party_id": [ARBITER]},
    ]
    psi_parties = parties[:2]

    def reader_params(party: dict) -> dict:
        return {
            "parties": [party],
            "tasks": {"reader_0": {"parameters": {"namespace": "experiment", "name": "small"}}},
        }

    document = {
        "schema_version": "2.1.0",
        "dag": {
            "parties": parties,
            "conf": {"scheduler_party_id": GUEST},
            "party_tasks": {f"{p['role']}_{p['party_id'][0]}": reader_params(p) for p in parties},
            "tasks": {
                "reader_0": {"component_ref": "reader"},
                "psi_0": {
                    "component_ref": "psi",
                    "parties": psi_parties,
                    "inputs": {
                        "data": {
                            "input_data": {
                                "task_output_artifact": {
                                    "producer_task": "reader_0",
                                    "output_artifact_key": "output_data",
                                    "parties": psi_parties,
                                }
                            }
                        }
                    },
                },
            },
        },
    }
    return yaml.safe_dump(document, sort_keys=False)


def start_waits_ms(store_path: Path) -> list[int]:
    """For psi_0 at each party: its start time minus the time reader_0 succeeded at the scheduler."""
    with closing(sqlite3.connect(store_path)) as db:
        rows = db.execute(
            "SELECT s.start_time_ms - r.end_time_ms FROM schedule_tasks s"
            " JOIN task_attempts r ON r.job_id = s.job_id AND r.task_name = 'reader_0'"
            " WHERE s.task_name = 'psi_0' AND s.start_time_ms > 0 AND r.status = 'success'"
        ).fetchall()
    return [int(r[0]) for r in rows]


def percentile(values: list[int], fraction: float) -> float:
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--workers", type=int, default=16, help="client threads submitting at once")
    parser.add_argument("--cores", type=int, default=8, help="core budget of each node (a job takes 4)")
    args = parser.parse_args()
    conf = {
        "resources": {"cores": args.cores},
        "limits": {"max_unfinished_jobs_per_partner": 100_000, "max_pending_creates_per_partner": 1_000},
    }
    with (
        tempfile.TemporaryDirectory() as workdir,
        LocalCluster(Path(workdir), [GUEST, HOST, ARBITER], extra_conf=conf) as cluster,
    ):
        for pid, label in ((GUEST, True), (HOST, False), (ARBITER, False)):
            header = "id,y,x0,x1" if label else "id,x0,x1"
            table = small_table(Path(workdir) / f"small_{pid}.csv", header, label)
            with cluster.client(pid) as client:
                upload(client, table, "small", "y" if label else "")
        dag = small_dag()
        with cluster.client(GUEST) as guest:
            started = time.monotonic()
            with ThreadPoolExecutor(args.workers) as pool:
                job_ids = list(pool.map(lambda _: guest.submit_job(dag).job_id, range(args.jobs)))
            submitted = time.monotonic() - started
            statuses = [
                job_status_name(guest.wait_job(job_id, timeout_s=3600, interval_s=0.2).status)
                for job_id in job_ids
            ]
            drained = time.monotonic() - started
        waits = start_waits_ms(cluster.parties[GUEST].data_dir / "node.sqlite3")
    ended = {s: statuses.count(s) for s in set(statuses)}
    print(f"{args.jobs} jobs submitted in {submitted:.1f}s, all ended after {drained:.1f}s: {ended}")
    print(f"throughput: {args.jobs / drained:.2f} jobs/s")
    if waits:
        print(
            f"wait from dependencies done to task start, per party ({len(waits)} starts):"
            f" p50 {statistics.median(waits):.0f} ms, p95 {percentile(waits, 0.95):.0f} ms,"
            f" max {max(waits)} ms"
        )
    print(machine_line())


if __name__ == "__main__":
    main()
