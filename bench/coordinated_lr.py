"""reader -> psi -> coordinated_lr -> evaluation across node processes (guest 9999; host and arbiter 10000,
as FATE's example DAG): wall time of the DAG and of the training task, time per epoch, where each party's
training time goes (encryption, homomorphic arithmetic, decryption, transfer = sending and waiting for
peers), and the AUC against the same model trained in plaintext on the joined data.

Settings are FATE's breast benchmark ones (examples/dags/coordinated_lr.yaml: 10 epochs, batch 300, SGD
lr 0.1, L2 0.001, linear scheduler 0.7/100, zeros init + intercept, Paillier 1024). FATE 2.2 takes 87 s for
this DAG on breast on an idle 2-core machine (fate_components.md); the ratio printed is against that figure.

Usage: python bench/coordinated_lr.py [--data breast|default_credit] [--epochs 10] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from click.testing import CliRunner
from common import machine_line, median

from fate_grpc.cli.flow_cli import cli
from fate_grpc.cli.local_cluster import LocalCluster
from fate_grpc.client.v1 import client_pb2
from fate_grpc.components.coordinated_lr.settings import train_settings
from fate_grpc.ml.evaluation import auc_score
from fate_grpc.ml.linear.plaintext import predict_plaintext, train_plaintext

GUEST, HOST = "9999", "10000"
ROOT = Path(__file__).resolve().parents[1]
FATE_BREAST_DAG_S = 87.0
TIMINGS = re.compile(r"coordinated timings: total=([0-9.]+)s (.*)")
PART = re.compile(r"(\w+)=([0-9.]+)s")


def dag(data: str, epochs: int) -> tuple[str, dict[str, object]]:
    document = yaml.safe_load((ROOT / "examples" / "dags" / "coordinated_lr.yaml").read_text())
    for key, role in (("guest_9999", "guest"), ("host_10000", "host")):
        document["dag"]["party_tasks"][key]["tasks"]["reader_0"]["parameters"]["name"] = (
            f"{data}_hetero_{role}"
        )
    params = document["dag"]["tasks"]["lr_0"]["parameters"]
    params["epochs"] = epochs
    document["dag"]["conf"].pop("model_id", None)
    document["dag"]["conf"].pop("model_version", None)
    return yaml.safe_dump(document), params


def upload(cluster: LocalCluster, data: str) -> None:
    for role, party, label in (("guest", GUEST, "y"), ("host", HOST, "")):
        header = client_pb2.UploadTableHeader(
            namespace="experiment",
            name=f"{data}_hetero_{role}",
            head=True,
            delimiter=",",
            match_id_name="id",
            label_name=label,
            overwrite=True,
        )
        with cluster.client(party) as client:
            client.upload_table(header, ROOT / "examples" / "data" / f"{data}_hetero_{role}.csv")


def party_timings(cluster: LocalCluster, job_id: str) -> dict[str, dict[str, float]]:
    found: dict[str, dict[str, float]] = {}
    for party in cluster.parties.values():
        for log in (party.data_dir / "jobs" / job_id).glob("*/lr_0/*/task.log"):
            match = TIMINGS.search(log.read_text())
            if match:
                role = log.parents[2].name
                found[role] = {"total": float(match.group(1))}
                found[role].update({k: float(v) for k, v in PART.findall(match.group(2))})
    return found


def run_job(cluster: LocalCluster, text: str) -> tuple[float, float, str]:
    with cluster.client(GUEST) as client:
        started = time.monotonic()
        job_id = client.submit_job(text).job_id
        view = client.wait_job(job_id, timeout_s=3600, interval_s=0.02)
        wall = time.monotonic() - started
        if view.status != 3:
            raise SystemExit(f"job {job_id} did not succeed: {view.status_reason}")
        tasks = {(t.task_name, t.role): t for t in client.query_tasks(job_id).tasks}
    return wall, tasks[("lr_0", "arbiter")].elapsed_ms / 1000, job_id


def federated_auc(cluster: LocalCluster, job_id: str) -> float:
    """The evaluation task's AUC, read with `flow output query-metric` as a user would."""
    node = cluster.parties[GUEST].address
    args = [
        "--node",
        node,
        "output",
        "query-metric",
        "-j",
        job_id,
        "-r",
        "guest",
        "-p",
        GUEST,
        "-tn",
        "evaluation_0",
    ]
    answer = json.loads(CliRunner().invoke(cli, args).output)
    for record in answer["data"]:
        if record["name"] == "evaluation":
            return float(record["data"][0]["metric"]["lr_0"]["train_set"][0]["val"])
    raise SystemExit("no evaluation metric found")


def plaintext_auc(data: str, params: dict[str, object]) -> float:
    guest = pd.read_csv(ROOT / "examples" / "data" / f"{data}_hetero_guest.csv")
    host = pd.read_csv(ROOT / "examples" / "data" / f"{data}_hetero_host.csv").set_index("id")
    host = host.loc[guest["id"]].reset_index()
    blocks = [guest.drop(columns=["id", "y"]).to_numpy(float), host.drop(columns=["id"]).to_numpy(float)]
    y = guest["y"].to_numpy(float)
    run = train_plaintext(train_settings("lr", params), blocks, y)
    return auc_score(y, predict_plaintext(run, blocks, "lr"))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", default="breast", choices=("breast", "default_credit"))
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    text, params = dag(args.data, args.epochs)
    walls, tasks = [], []
    with tempfile.TemporaryDirectory() as workdir, LocalCluster(Path(workdir), [GUEST, HOST]) as cluster:
        upload(cluster, args.data)
        for run in range(args.runs):
            wall, task, job_id = run_job(cluster, text)
            walls.append(wall)
            tasks.append(task)
            print(
                f"run {run + 1}: DAG {wall:.2f}s, coordinated_lr task {task:.2f}s"
                f" ({task / args.epochs:.3f}s/epoch)"
            )
            for role, spent in sorted(party_timings(cluster, job_id).items()):
                total = spent.pop("total")
                shares = ", ".join(f"{k} {v:.2f}s ({100 * v / total:.0f}%)" for k, v in spent.items())
                print(f"    {role}: training {total:.2f}s: {shares}")
        auc = federated_auc(cluster, job_id)
    reference = plaintext_auc(args.data, params)
    wall = median(walls)
    print(
        f"{args.data}: median DAG wall {wall:.2f}s, training task {median(tasks):.2f}s"
        f" = {median(tasks) / args.epochs:.3f}s per epoch"
    )
    if args.data == "breast":
        print(
            f"  FATE 2.2 on this DAG: {FATE_BREAST_DAG_S:.0f}s -> {FATE_BREAST_DAG_S / wall:.1f}x faster"
            " (goal 20x)"
        )
    print(f"  AUC federated {auc:.4f} vs plaintext {reference:.4f} (ratio {auc / reference:.4f})")
    print(machine_line())


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
