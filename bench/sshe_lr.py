"""sshe_lr side by side with coordinated_lr on the same data across node processes (guest 9999; host 10000,
also coordinated_lr's arbiter): reader -> psi -> model -> evaluation, each model with the same epochs,
batch size and zero initial weights. Prints per model: DAG wall time, the model task's time and time per
epoch, where each party's training time goes (encryption, homomorphic arithmetic, decryption, share
arithmetic (sshe), transfer = sending and waiting for the peer), scheduling (DAG wall minus the time its
tasks ran), and the AUC of the training scores next to the same SSHE training in plaintext (numpy) and
scikit-learn's logistic regression on the joined data.

Usage: python bench/sshe_lr.py [--data breast|default_credit] [--epochs 3] [--batch-size 300]
       [--learning-rate 0.15] [--skip-coordinated]
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from click.testing import CliRunner
from common import machine_line
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from fate_grpc.cli.flow_cli import cli
from fate_grpc.cli.local_cluster import LocalCluster
from fate_grpc.client.v1 import client_pb2

GUEST, HOST = "9999", "10000"
ROOT = Path(__file__).resolve().parents[1]
TIMINGS = re.compile(r"(?:sshe|coordinated) timings: total=([0-9.]+)s (.*)")
PART = re.compile(r"(\w+)=([0-9.]+)s")
CRYPTO = ("encrypt", "homomorphic", "decrypt")


def dag(model: str, data: str, epochs: int, batch_size: int | None, learning_rate: float) -> tuple[str, str]:
    """(DAG text, model task name) of the example DAG for ``model`` on ``data``."""
    name = "sshe_lr.yaml" if model == "sshe_lr" else "coordinated_lr.yaml"
    document = yaml.safe_load((ROOT / "examples" / "dags" / name).read_text())
    for key, role in (("guest_9999", "guest"), ("host_10000", "host")):
        document["dag"]["party_tasks"][key]["tasks"]["reader_0"]["parameters"]["name"] = (
            f"{data}_hetero_{role}"
        )
    task = "sshe_lr_0" if model == "sshe_lr" else "lr_0"
    params = document["dag"]["tasks"][task]["parameters"]
    params.update(epochs=epochs, batch_size=batch_size, init_param={"method": "zeros", "fit_intercept": True})
    if model == "sshe_lr":
        params["learning_rate"] = learning_rate
    else:  # plain SGD at the same rate, no penalty, constant rate: the closest coordinated_lr setting
        params["optimizer"] = {
            "method": "sgd",
            "penalty": "none",
            "alpha": 0.0,
            "optimizer_params": {"lr": learning_rate},
        }
        params["learning_rate_scheduler"] = {"method": "constant", "scheduler_params": {"factor": 1.0}}
    params["tol"] = 0.0  # every epoch runs
    document["dag"]["conf"].pop("model_id", None)
    document["dag"]["conf"].pop("model_version", None)
    return yaml.safe_dump(document), task


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


def run_job(cluster: LocalCluster, text: str, task: str) -> dict[str, Any]:
    with cluster.client(GUEST) as client:
        started = time.monotonic()
        job_id = client.submit_job(text).job_id
        view = client.wait_job(job_id, timeout_s=7200, interval_s=0.05)
        wall = time.monotonic() - started
        if view.status != 3:
            raise SystemExit(f"job {job_id} did not succeed: {view.status_reason}")
        tasks = client.query_tasks(job_id).tasks
    ran: dict[str, float] = {}
    for t in tasks:
        ran[t.task_name] = max(ran.get(t.task_name, 0.0), t.elapsed_ms / 1000)
    return {
        "job_id": job_id,
        "wall": wall,
        "task": ran[task],
        "scheduling": wall - sum(ran.values()),
        "timings": party_timings(cluster, job_id, task),
    }


def party_timings(cluster: LocalCluster, job_id: str, task: str) -> dict[str, dict[str, float]]:
    found: dict[str, dict[str, float]] = {}
    for party in cluster.parties.values():
        for log in (party.data_dir / "jobs" / job_id).glob(f"*/{task}/*/task.log"):
            match = TIMINGS.search(log.read_text())
            if match:
                role = log.parents[2].name
                found[role] = {"total": float(match.group(1))}
                found[role].update({k: float(v) for k, v in PART.findall(match.group(2))})
    return found


def training_auc(cluster: LocalCluster, job_id: str, task: str) -> float:
    """The evaluation task's AUC of the training scores, read with `flow output query-metric`."""
    args = ["--node", cluster.parties[GUEST].address, "output", "query-metric", "-j", job_id]
    answer = json.loads(
        CliRunner().invoke(cli, [*args, "-r", "guest", "-p", GUEST, "-tn", "evaluation_0"]).output
    )
    for record in answer["data"]:
        if record["name"] == "evaluation":
            return float(record["data"][0]["metric"][task]["train_set"][0]["val"])
    raise SystemExit("no evaluation metric found")


def references(data: str, epochs: int, batch_size: int | None, learning_rate: float) -> tuple[float, float]:
    """AUC of the same SSHE training in plaintext, and of scikit-learn's logistic regression."""
    guest = pd.read_csv(ROOT / "examples" / "data" / f"{data}_hetero_guest.csv")
    host = (
        pd.read_csv(ROOT / "examples" / "data" / f"{data}_hetero_host.csv").set_index("id").loc[guest["id"]]
    )
    x_guest = np.hstack([guest.drop(columns=["id", "y"]).to_numpy(float), np.ones((len(guest), 1))])
    x_host, y = host.to_numpy(float), guest["y"].to_numpy(float)
    w_guest, w_host = np.zeros(x_guest.shape[1]), np.zeros(x_host.shape[1])
    size = batch_size or len(y)
    for _ in range(epochs):
        for start in range(0, len(y), size):
            xg, xh, yb = x_guest[start : start + size], x_host[start : start + size], y[start : start + size]
            dz = 0.25 * (xg @ w_guest + xh @ w_host) + 0.5 - yb
            w_guest, w_host = (
                w_guest - learning_rate * xg.T @ dz / len(yb),
                w_host - learning_rate * xh.T @ dz / len(yb),
            )
    plain = roc_auc_score(y, x_guest @ w_guest + x_host @ w_host)
    joined = np.hstack([x_guest[:, :-1], x_host])
    fitted = LogisticRegression(max_iter=2000).fit(joined, y)
    return float(plain), float(roc_auc_score(y, fitted.decision_function(joined)))


def report(model: str, result: dict[str, Any], epochs: int) -> None:
    print(
        f"{model}: DAG {result['wall']:.2f}s, task {result['task']:.2f}s"
        f" = {result['task'] / epochs:.2f}s/epoch, scheduling {result['scheduling']:.2f}s"
    )
    for role, spent in sorted(result["timings"].items()):
        total = spent.pop("total")
        crypto = sum(spent.get(k, 0.0) for k in CRYPTO)
        parts = ", ".join(f"{k} {v:.2f}s ({100 * v / total:.0f}%)" for k, v in spent.items())
        print(
            f"    {role}: training {total:.2f}s, crypto {crypto:.2f}s ({100 * crypto / total:.0f}%): {parts}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", default="breast", choices=("breast", "default_credit"))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=300)
    parser.add_argument("--learning-rate", type=float, default=0.15)
    parser.add_argument("--skip-coordinated", action="store_true")
    args = parser.parse_args()
    batch = args.batch_size or None
    models = ["sshe_lr"] if args.skip_coordinated else ["sshe_lr", "coordinated_lr"]
    print(
        f"{args.data}: {args.epochs} epochs, batch {batch}, learning rate {args.learning_rate}, 1024-bit keys"
    )
    print(machine_line())
    with tempfile.TemporaryDirectory() as workdir, LocalCluster(Path(workdir), [GUEST, HOST]) as cluster:
        upload(cluster, args.data)
        for model in models:
            text, task = dag(model, args.data, args.epochs, batch, args.learning_rate)
            result = run_job(cluster, text, task)
            report(model, result, args.epochs)
            print(f"    AUC of the training scores {training_auc(cluster, result['job_id'], task):.4f}")
    plain, sklearn = references(args.data, args.epochs, batch, args.learning_rate)
    print(f"plaintext SSHE training AUC {plain:.4f}; scikit-learn logistic regression AUC {sklearn:.4f}")
    print(machine_line())


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
