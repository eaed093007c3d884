"""homo_lr next to coordinated_lr on the same pooled rows, across node processes.

The data (breast: FATE's 569 rows x 30 features; default_credit: 30,000 x 23) is joined from FATE's hetero
tables and standardised once. homo_lr gets it split by rows (guest the first half, host the second; each
with every feature and the label), arbiter 10001 on its own node; coordinated_lr gets it split by columns
(guest the label and the first 10 features, host the rest; host 10000 also the arbiter, as FATE's example).
Each runs its example DAG (examples/dags/homo_lr.yaml, coordinated_lr.yaml) with the same epochs.

Printed per component: the DAG's wall time, the training task's time and time per epoch, and where it
goes: for homo_lr local training, masking (key agreement, fixed-point encoding and masks; summing at the
arbiter) and transfer (sending and waiting for peers); for coordinated_lr encryption, homomorphic
arithmetic, decryption and transfer; for both, other = reading the data and writing the outputs.
Scheduling = the DAG's wall time minus the training component's own time (the reader and psi tasks, task
starts, status rounds). Then each one's AUC on the training rows.

Usage: python bench/homo_lr.py [--data breast|default_credit] [--epochs 10] [--runs 3]
                             [--only homo_lr|coordinated_lr]
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from pathlib import Path

import coordinated_lr as coordinated_bench
import numpy as np
import pandas as pd
import yaml
from click.testing import CliRunner
from common import machine_line, median

from fate_grpc.cli.flow_cli import cli
from fate_grpc.cli.local_cluster import LocalCluster
from fate_grpc.client.v1 import client_pb2
from fate_grpc.ml.evaluation import auc_score

GUEST, HOST, ARBITER = "9999", "10000", "10001"
ROOT = Path(__file__).resolve().parents[1]
TIMINGS = re.compile(r"(homo_lr|coordinated) timings: total=([0-9.]+)s (.*)")
PART = re.compile(r"([a-z]+)=([0-9.]+)s")
POOL = "benchpool"


def pooled(data: str) -> pd.DataFrame:
    guest = pd.read_csv(ROOT / "examples" / "data" / f"{data}_hetero_guest.csv")
    host = pd.read_csv(ROOT / "examples" / "data" / f"{data}_hetero_host.csv")
    joined = guest.merge(host, on="id")
    features = [c for c in joined.columns if c not in ("id", "y")]
    joined[features] = (joined[features] - joined[features].mean()) / joined[features].std(ddof=0)
    return joined


def write_splits(frame: pd.DataFrame, folder: Path) -> dict[str, Path]:
    """The homo (row) and hetero (column) splits of the pooled frame, as CSV files."""
    features = [c for c in frame.columns if c not in ("id", "y")]
    half = len(frame) // 2
    files = {
        "homo_guest": frame.iloc[:half],
        "homo_host": frame.iloc[half:],
        "hetero_guest": frame[["id", "y", *features[:10]]],
        "hetero_host": frame[["id", *features[10:]]],
    }
    paths = {}
    for name, part in files.items():
        paths[name] = folder / f"{POOL}_{name}.csv"
        part.to_csv(paths[name], index=False)
    return paths


def upload(cluster: LocalCluster, party: str, name: str, path: Path, label: str) -> None:
    header = client_pb2.UploadTableHeader(
        namespace="experiment",
        name=name,
        head=True,
        delimiter=",",
        match_id_name="id",
        label_name=label,
        overwrite=True,
    )
    with cluster.client(party) as client:
        client.upload_table(header, path)


def homo_dag(epochs: int) -> str:
    document = yaml.safe_load((ROOT / "examples" / "dags" / "homo_lr.yaml").read_text())
    for key, role in (("guest_9999", "guest"), ("host_10000", "host")):
        document["dag"]["party_tasks"][key]["tasks"]["reader_0"]["parameters"]["name"] = f"{POOL}_homo_{role}"
    document["dag"]["tasks"]["homo_lr_0"]["parameters"]["epochs"] = epochs
    for key in ("model_id", "model_version"):
        document["dag"]["conf"].pop(key, None)
    return yaml.safe_dump(document)


def run_dag(cluster: LocalCluster, text: str, task: str) -> tuple[float, str]:
    with cluster.client(GUEST) as client:
        started = time.monotonic()
        job_id = client.submit_job(text).job_id
        view = client.wait_job(job_id, timeout_s=3600, interval_s=0.02)
        wall = time.monotonic() - started
        if view.status != 3:
            raise SystemExit(f"job {job_id} did not succeed: {view.status_reason}")
    return wall, job_id


def timings(cluster: LocalCluster, job_id: str, task: str) -> dict[str, dict[str, float]]:
    """Each role's ``total`` and parts from the timing line of its task log."""
    found: dict[str, dict[str, float]] = {}
    for party in cluster.parties.values():
        for log in (party.data_dir / "jobs" / job_id).glob(f"*/{task}/*/task.log"):
            match = TIMINGS.search(log.read_text())
            if match:
                role = log.parents[2].name
                found[role] = {"total": float(match.group(2))}
                found[role].update({k: float(v) for k, v in PART.findall(match.group(3))})
    return found


def report(name: str, wall: float, spent: dict[str, dict[str, float]], epochs: int) -> float:
    """Print one run; the training component's time (the slowest role's)."""
    component = max(parts["total"] for parts in spent.values())
    print(
        f"  {name}: DAG {wall:.2f}s, training {component:.2f}s ({component / epochs * 1000:.1f} ms/epoch),"
        f" scheduling {wall - component:.2f}s ({100 * (wall - component) / wall:.0f}% of the DAG)"
    )
    for role, parts in sorted(spent.items()):
        total = parts.pop("total")
        parts["other"] = total - sum(parts.values())  # reading the data, writing model and predictions
        shares = ", ".join(f"{k} {v:.3f}s ({100 * v / total:.0f}%)" for k, v in parts.items())
        print(f"    {role}: {total:.3f}s: {shares}")
    return component


def homo_auc(cluster: LocalCluster, job_id: str) -> float:
    """The AUC over both clients' train_output_data, fetched with `flow output download-data`."""
    scores, labels = [], []
    with tempfile.TemporaryDirectory() as folder:
        for party, role in ((GUEST, "guest"), (HOST, "host")):
            ref = ["-j", job_id, "-r", role, "-p", party, "-tn", "homo_lr_0", "-o", folder]
            args = ["--node", cluster.parties[party].address, "output", "download-data", *ref]
            answer = json.loads(CliRunner().invoke(cli, args).output)
            if answer["code"] != 0:
                raise SystemExit(f"download-data at {role} failed: {answer['message']}")
        for path in Path(folder).glob("*/train_output_data.csv"):
            frame = pd.read_csv(path)
            scores.append(frame["predict_score"].to_numpy(float))
            labels.append(frame["label"].to_numpy(float))
    return auc_score(np.concatenate(labels), np.concatenate(scores))


def bench_homo(paths: dict[str, Path], epochs: int, runs: int) -> list[float]:
    walls: list[float] = []
    with (
        tempfile.TemporaryDirectory() as workdir,
        LocalCluster(Path(workdir), [GUEST, HOST, ARBITER]) as cluster,
    ):
        upload(cluster, GUEST, f"{POOL}_homo_guest", paths["homo_guest"], "y")
        upload(cluster, HOST, f"{POOL}_homo_host", paths["homo_host"], "y")
        for run in range(runs):
            wall, job_id = run_dag(cluster, homo_dag(epochs), "homo_lr_0")
            print(f"run {run + 1}")
            report("homo_lr", wall, timings(cluster, job_id, "homo_lr_0"), epochs)
            walls.append(wall)
        print(f"  homo_lr AUC on the training rows {homo_auc(cluster, job_id):.4f}")
    return walls


def bench_coordinated(paths: dict[str, Path], epochs: int, runs: int) -> list[float]:
    text, _ = coordinated_bench.dag(POOL, epochs)
    walls: list[float] = []
    with tempfile.TemporaryDirectory() as workdir, LocalCluster(Path(workdir), [GUEST, HOST]) as cluster:
        upload(cluster, GUEST, f"{POOL}_hetero_guest", paths["hetero_guest"], "y")
        upload(cluster, HOST, f"{POOL}_hetero_host", paths["hetero_host"], "")
        for run in range(runs):
            wall, job_id = run_dag(cluster, text, "lr_0")
            print(f"run {run + 1}")
            report("coordinated_lr", wall, timings(cluster, job_id, "lr_0"), epochs)
            walls.append(wall)
        print(
            f"  coordinated_lr AUC (evaluation task) {coordinated_bench.federated_auc(cluster, job_id):.4f}"
        )
    return walls


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", default="breast", choices=("breast", "default_credit"))
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", choices=("homo_lr", "coordinated_lr"), help="run one component alone")
    args = parser.parse_args()
    frame = pooled(args.data)
    print(f"{args.data}: {len(frame)} rows, {frame.shape[1] - 2} features, {args.epochs} epochs")
    print(machine_line())
    with tempfile.TemporaryDirectory() as folder:
        paths = write_splits(frame, Path(folder))
        homo = bench_homo(paths, args.epochs, args.runs) if args.only != "coordinated_lr" else []
        coordinated = bench_coordinated(paths, args.epochs, args.runs) if args.only != "homo_lr" else []
    if homo and coordinated:
        print(
            f"median DAG wall: homo_lr {median(homo):.2f}s, coordinated_lr {median(coordinated):.2f}s"
            f" ({median(coordinated) / median(homo):.1f}x)"
        )
    print(machine_line())


if __name__ == "__main__":
    main()
