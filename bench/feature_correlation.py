"""feature_correlation across node processes on breast (569 rows; guest 10 + host 20 features) and
default_credit (30,000 rows; 13 + 10): wall time of the task and the shares spent in Paillier crypto and in
transfer (sending, and waiting for the other party's messages, which includes its compute).

Starts a guest (9999) and a host (10000) node as separate processes, uploads the tables and runs reader ->
psi -> feature_correlation (FATE's defaults: cross correlations, local correlation and VIF) from
examples/dags/feature_correlation.yaml. The task's own timings come from its task logs at each party:
"correlation: <step> in <s>s" for each crypto step (the guest's key generation and packed-row encryption,
the host's homomorphic products and masking, the guest's decryption) and
"correlation: finished crypto=<s>s transfer=<s>s". Then, in this process, the crypto of the cross product on
2,000 rows with the guest's columns packed several per ciphertext against one per ciphertext. The load
average is printed before and after, since the machine's two cores may be shared.

Usage: python bench/feature_correlation.py [--runs 1] [--datasets breast default_credit]
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from common import machine_line, median

from fate_grpc.cli.local_cluster import LocalCluster
from fate_grpc.client.v1 import client_pb2
from fate_grpc.components.feature_correlation import protocol
from fate_grpc.crypto import cross_product, paillier
from fate_grpc.ml import correlation

GUEST, HOST = "9999", "10000"
ROOT = Path(__file__).resolve().parents[1]
TASK = "feature_corr_0"
STEP = re.compile(r"correlation: (.*) in (\d+\.\d+)s")
FINISHED = re.compile(r"correlation: finished crypto=(\d+\.\d+)s transfer=(\d+\.\d+)s")
SUCCESS = 3  # JOB_STATUS_SUCCESS


def dag(dataset: str) -> str:
    document = yaml.safe_load((ROOT / "examples" / "dags" / "feature_correlation.yaml").read_text())
    dag_section = document["dag"]
    for name in ("feature_corr_1", "feature_corr_2"):
        del dag_section["tasks"][name]
    for alias, role in (("guest_9999", "guest"), ("host_10000", "host")):
        tasks = dag_section["party_tasks"][alias]["tasks"]
        tasks.pop("feature_corr_1", None)
        tasks["reader_0"]["parameters"]["name"] = f"{dataset}_hetero_{role}"
    return yaml.safe_dump(document)


def upload(cluster: LocalCluster, dataset: str) -> None:
    for role, party, label in (("guest", GUEST, "y"), ("host", HOST, "")):
        header = client_pb2.UploadTableHeader(
            namespace="experiment",
            name=f"{dataset}_hetero_{role}",
            head=True,
            delimiter=",",
            match_id_name="id",
            label_name=label,
            overwrite=True,
        )
        with cluster.client(party) as client:
            client.upload_table(header, ROOT / "examples" / "data" / f"{dataset}_hetero_{role}.csv")


def task_logs(cluster: LocalCluster, job_id: str) -> dict[str, str]:
    logs = {}
    for role, party in (("guest", GUEST), ("host", HOST)):
        paths = (cluster.parties[party].data_dir / "jobs" / job_id).glob(f"{role}_{party}/{TASK}/*/task.log")
        logs[role] = "\n".join(path.read_text() for path in paths)
    return logs


def run_job(cluster: LocalCluster, text: str) -> tuple[dict[str, float], dict[str, str]]:
    with cluster.client(GUEST) as client:
        job_id = client.submit_job(text).job_id
        view = client.wait_job(job_id, timeout_s=900)
        tasks = {(t.role, t.task_name): t for t in client.query_tasks(job_id).tasks}
    if view.status != SUCCESS:
        raise SystemExit(f"job {job_id} did not succeed: {view.status_reason}")
    walls = {role: tasks[(role, TASK)].elapsed_ms / 1000 for role in ("guest", "host")}
    return walls, task_logs(cluster, job_id)


def report(dataset: str, run: int, walls: dict[str, float], logs: dict[str, str]) -> float:
    print(f"{dataset} run {run + 1}:")
    for role in ("guest", "host"):
        wall = walls[role]
        finished = FINISHED.search(logs[role])
        crypto, transfer = (float(finished.group(1)), float(finished.group(2))) if finished else (0.0, 0.0)
        print(
            f"  {role}: task {wall:.2f}s, crypto {crypto:.2f}s ({100 * crypto / wall:.0f}%),"
            f" transfer+wait {transfer:.2f}s ({100 * transfer / wall:.0f}%)"
        )
        for match in STEP.finditer(logs[role]):
            print(f"    {match.group(1)}: {float(match.group(2)):.3f}s")
    return max(walls.values())


def packing_gain(rows: int = 2000) -> None:
    """In this process, on default_credit's first rows: the crypto of the cross product with the guest's
    columns packed into shared ciphertexts, against one column per ciphertext."""
    guest = pd.read_csv(ROOT / "examples" / "data" / "default_credit_hetero_guest.csv", nrows=rows)
    host = pd.read_csv(ROOT / "examples" / "data" / "default_credit_hetero_host.csv", nrows=rows)
    left = correlation.standardise(guest.drop(columns=["id", "y"]).to_numpy(dtype=np.float64))
    right = correlation.standardise(host.drop(columns=["id"]).to_numpy(dtype=np.float64))
    public, _ = paillier.generate_keypair(1024)
    packed = protocol.layout_for(public.key_bits, rows)
    for name, layout in (("packed", packed), ("one per ciphertext", replace(packed, slots=1))):
        started = time.perf_counter()
        groups = cross_product.encrypt_rows(public, correlation.encode_fixed(left), layout)
        encrypted = time.perf_counter() - started
        cross_product.block_products(groups, right.values, precision_bits=correlation.PRECISION_BITS)
        multiplied = time.perf_counter() - started - encrypted
        print(
            f"  {name} ({layout.groups(left.values.shape[1])} ciphertexts per row): encrypt {encrypted:.2f}s,"
            f" products {multiplied:.2f}s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--datasets", nargs="+", default=["breast", "default_credit"])
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as workdir, LocalCluster(Path(workdir), [GUEST, HOST]) as cluster:
        for dataset in args.datasets:
            upload(cluster, dataset)
            text = dag(dataset)
            walls = [report(dataset, run, *run_job(cluster, text)) for run in range(args.runs)]
            wall = median(walls)
            print(f"{dataset}: median feature_correlation task wall {wall:.2f}s over {args.runs} run(s)")
    print("packing, in this process, default_credit's first 2,000 rows (13 x 10 features, one thread):")
    packing_gain()
    print(machine_line())


if __name__ == "__main__":
    main()
