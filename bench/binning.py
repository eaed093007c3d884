"""Hetero feature binning on default_credit (30,000 rows; guest 13 + host 10 features) across node
processes: wall time of the binning task, and the share spent in Paillier crypto.

Starts a guest (9999) and a host (10000) node as separate processes, uploads default_credit, runs
reader -> psi -> hetero_feature_binning (quantile, 10 bins, Paillier 1024 bits unless --bits), and reads
the binning task's own timings from its task logs: the guest's key generation + label encryption and
its decryption of the host's packed bin sums, and the host's homomorphic group-by sums + packing.
Then, in this process, encryptions/s and ct+ct additions/s of the crypto layer against the same
arithmetic written as raw gmpy2 loops (the ratio is measured in one run; bench/paillier_ops.py has more).

Usage: python bench/binning.py [--bits 1024] [--runs 3]
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from pathlib import Path

import gmpy2
import numpy as np
import yaml
from common import machine_line, median

from fate_grpc.cli.local_cluster import LocalCluster
from fate_grpc.client.v1 import client_pb2
from fate_grpc.crypto import paillier

GUEST, HOST = "9999", "10000"
ROOT = Path(__file__).resolve().parents[1]
TIMING = re.compile(r"binning: (.*) in (\d+\.\d+)s")


def dag(bits: int) -> str:
    document = yaml.safe_load((ROOT / "examples" / "dags" / "feature_engineering.yaml").read_text())
    tasks = document["dag"]["tasks"]
    for name in ("scale_0", "selection_0"):
        del tasks[name]
    for key, party in (("guest_9999", "guest"), ("host_10000", "host")):
        document["dag"]["party_tasks"][key]["tasks"]["reader_0"]["parameters"]["name"] = (
            f"default_credit_hetero_{party}"
        )
    binning = tasks["binning_0"]
    binning["dependent_tasks"] = ["psi_0"]
    binning["inputs"]["data"]["train_data"]["task_output_artifact"]["producer_task"] = "psi_0"
    binning["inputs"]["data"]["train_data"]["task_output_artifact"]["output_artifact_key"] = "output_data"
    binning["parameters"]["he_param"]["key_length"] = bits
    return yaml.safe_dump(document)


def upload(cluster: LocalCluster) -> None:
    for role, party, label in (("guest", GUEST, "y"), ("host", HOST, "")):
        header = client_pb2.UploadTableHeader(
            namespace="experiment",
            name=f"default_credit_hetero_{role}",
            head=True,
            delimiter=",",
            match_id_name="id",
            label_name=label,
            overwrite=True,
        )
        with cluster.client(party) as client:
            client.upload_table(header, ROOT / "examples" / "data" / f"default_credit_hetero_{role}.csv")


def timings(cluster: LocalCluster, job_id: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for role, party in (("guest", GUEST), ("host", HOST)):
        for log in (cluster.parties[party].data_dir / "jobs" / job_id).glob(
            f"{role}_{party}/binning_0/*/task.log"
        ):
            for match in TIMING.finditer(log.read_text()):
                found[f"{role}: {match.group(1)}"] = float(match.group(2))
    return found


def run_job(cluster: LocalCluster, text: str) -> tuple[float, dict[str, float]]:
    with cluster.client(GUEST) as client:
        job_id = client.submit_job(text).job_id
        view = client.wait_job(job_id, timeout_s=600)
        tasks = {t.task_name: t for t in client.query_tasks(job_id).tasks if t.role == "guest"}
    if client_pb2 and view.status != 3:
        raise SystemExit(f"job {job_id} did not succeed: {view.status_reason}")
    return tasks["binning_0"].elapsed_ms / 1000, timings(cluster, job_id)


def layer_vs_raw(bits: int, count: int = 2000) -> None:
    public, _ = paillier.generate_keypair(bits)
    values = np.random.default_rng(1).integers(0, 2, count)
    started = time.perf_counter()
    encrypted = paillier.encrypt(public, values)
    layer_encrypt = time.perf_counter() - started
    n, n2 = gmpy2.mpz(public.n), gmpy2.mpz(public.n2)
    started = time.perf_counter()
    raw = [(1 + int(m) * n) * gmpy2.powmod(gmpy2.mpz(3 + i), n, n2) % n2 for i, m in enumerate(values)]
    raw_encrypt = time.perf_counter() - started
    started = time.perf_counter()
    _ = encrypted + encrypted
    layer_add = time.perf_counter() - started
    started = time.perf_counter()
    _ = [a * b % n2 for a, b in zip(raw, raw, strict=True)]
    raw_add = time.perf_counter() - started
    print(f"crypto layer vs raw gmpy2 ({bits}-bit key, {count} values, one process):")
    print(
        f"  encryptions/s: layer {count / layer_encrypt:,.0f} vs raw powmod {count / raw_encrypt:,.0f}"
        f" (x{raw_encrypt / layer_encrypt:.2f})"
    )
    print(
        f"  additions/s:   layer {count / layer_add:,.0f} vs raw {count / raw_add:,.0f}"
        f" (x{raw_add / layer_add:.2f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bits", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    text = dag(args.bits)
    walls: list[float] = []
    crypto: list[float] = []
    with tempfile.TemporaryDirectory() as workdir, LocalCluster(Path(workdir), [GUEST, HOST]) as cluster:
        upload(cluster)
        for run in range(args.runs):
            wall, found = run_job(cluster, text)
            spent = sum(found.values())
            walls.append(wall)
            crypto.append(spent)
            print(f"run {run + 1}: binning task {wall:.2f}s, crypto {spent:.2f}s ({100 * spent / wall:.0f}%)")
            for what, seconds in sorted(found.items()):
                print(f"    {what}: {seconds:.3f}s")
    wall, spent = median(walls), median(crypto)
    print(
        f"default_credit binning (30,000 rows, 13 + 10 features, Paillier {args.bits}): median task wall"
        f" {wall:.2f}s, crypto {spent:.2f}s = {100 * spent / wall:.0f}% of it"
    )
    layer_vs_raw(args.bits)
    print(machine_line())


if __name__ == "__main__":
    main()
