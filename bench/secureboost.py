"""reader -> psi -> hetero_secureboost -> evaluation across node processes (guest 9999, host 10000): wall
time of the DAG and of the training task, per-tree time split into encryption, histogram building (host),
decryption, split finding (guest, with its own histograms), transfer (sending and waiting for peers) and
scheduling (the rest of the DAG), the ciphertexts sent per tree, and the AUC against xgboost (hist, same
depth, trees, learning rate, L2 and bins) trained on the joined data.

Data: ``breast`` (569 rows, guest 10 + host 20 features; FATE's settings: 5 trees, depth 3, max_bin 32,
lr 0.3, Paillier 1024; FATE 2.2 takes 88 s for the whole job on an idle 2-core machine) or ``synthetic``
(20,000 rows of ``make_classification``, guest 10 + host 20 features; FATE 2.2: 309 s for 5 trees of depth
3). Ratios are printed against those figures (goals: 20x on breast, 8x on the 20,000 rows).

With ``--objective multi`` (4 classes) or ``regression`` (synthetic data only), the DAG has no evaluation
task; accuracy or RMSE of the training rows is computed from the downloaded output and compared with
xgboost's (FATE's regression g and h are twice xgboost's, so xgboost gets half of FATE's L2 and
min_child_weight).

The host's line names its histogram kernel: ``heu`` (sf-heu's threaded C++ bucket sums, used when sf-heu
is installed) or ``gmpy2`` (the Python loop, on worker processes from 20,000 cells); set
``FATE_GRPC_HE_KERNEL=gmpy2`` to run the job on the loop. Its histogram share includes cumulative sums,
sibling subtraction and packing.

A micro-bench follows (``--histogram-only`` prints just it): the host's encrypted histogram of each level
of a depth-3 tree over its own binned features (Paillier 1024, 32 bins; at levels 1 and 2 only the smaller
child of each split is summed, as ``hist_sub`` does), one run each, by the loop in one thread (the kernel
alone), by that loop on the worker pool split by feature blocks, by a numpy log-depth variant
(``a[0::2] * a[1::2] % n^2`` over object arrays, sorted by group) and by sf-heu (level 0 includes loading
the tree's ciphertexts into HEU, which later levels reuse).

Usage: python bench/secureboost.py [--data breast|synthetic] [--objective binary|multi|regression]
       [--trees 5] [--runs 1] [--histogram-only]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb
import yaml
from click.testing import CliRunner
from common import machine_line, median
from gmpy2 import mpz
from sklearn.datasets import make_classification, make_regression

from fate_grpc.cli.flow_cli import cli
from fate_grpc.cli.local_cluster import LocalCluster
from fate_grpc.client.v1 import client_pb2
from fate_grpc.crypto import gh_pack, heu_kernel, paillier
from fate_grpc.ml.evaluation import auc_score
from fate_grpc.ml.secureboost import binning

GUEST, HOST = "9999", "10000"
ROOT = Path(__file__).resolve().parents[1]
FATE_JOB_S = {"breast": 88.0, "synthetic": 309.0}
GOAL = {"breast": 20, "synthetic": 8}
KERNEL = re.compile(r"secureboost histogram kernel: (\w+)")
TIMINGS = re.compile(r"secureboost timings: total=([0-9.]+)s trees=(\d+) (.*) ciphertexts=(\d+)")
PART = re.compile(r"(\w+)=([0-9.]+)s")
SETTINGS = {"num_trees": 5, "max_depth": 3, "max_bin": 32, "learning_rate": 0.3}


OBJECTIVES = {"binary": "binary:bce", "multi": "multi:ce", "regression": "regression:l2"}


def tables(data: str, workdir: Path, objective: str = "binary") -> tuple[Path, Path]:
    """The guest and host CSV files of ``data``."""
    if data == "breast":
        return (
            ROOT / "examples" / "data" / "breast_hetero_guest.csv",
            ROOT / "examples" / "data" / "breast_hetero_host.csv",
        )
    if objective == "regression":
        x, y = make_regression(20000, 30, n_informative=12, noise=10.0, random_state=7)
    else:
        classes = 4 if objective == "multi" else 2
        x, y = make_classification(20000, 30, n_informative=12, n_classes=classes, random_state=7)
    ids = [str(i) for i in range(len(y))]
    guest = pd.DataFrame(x[:, :10], columns=[f"x{i}" for i in range(10)])
    guest.insert(0, "y", y)
    guest.insert(0, "id", ids)
    host = pd.DataFrame(x[:, 10:], columns=[f"x{i}" for i in range(20)])
    host.insert(0, "id", ids)
    paths = workdir / "synthetic_guest.csv", workdir / "synthetic_host.csv"
    guest.to_csv(paths[0], index=False)
    host.to_csv(paths[1], index=False)
    return paths


def upload(cluster: LocalCluster, data: str, files: tuple[Path, Path]) -> None:
    for (role, party, label), path in zip((("guest", GUEST, "y"), ("host", HOST, "")), files, strict=True):
        header = client_pb2.UploadTableHeader(
            namespace="experiment", name=f"{data}_hetero_{role}", head=True, delimiter=",",
            match_id_name="id", label_name=label, overwrite=True,
        )  # fmt: skip
        with cluster.client(party) as client:
            client.upload_table(header, path)


def dag(data: str, trees: int, objective: str = "binary") -> str:
    document = yaml.safe_load((ROOT / "examples" / "dags" / "hetero_secureboost.yaml").read_text())
    for key, role in (("guest_9999", "guest"), ("host_10000", "host")):
        document["dag"]["party_tasks"][key]["tasks"]["reader_0"]["parameters"]["name"] = (
            f"{data}_hetero_{role}"
        )
    classes = 4 if objective == "multi" else 2
    parameters = {**SETTINGS, "num_trees": trees, "objective": OBJECTIVES[objective], "num_class": classes}
    document["dag"]["tasks"]["sbt_0"]["parameters"] = parameters
    if objective != "binary":
        del document["dag"]["tasks"]["evaluation_0"]
    document["dag"]["conf"].pop("model_id", None)
    document["dag"]["conf"].pop("model_version", None)
    return yaml.safe_dump(document)


def run_job(cluster: LocalCluster, text: str) -> tuple[float, float, str]:
    with cluster.client(GUEST) as client:
        started = time.monotonic()
        job_id = client.submit_job(text).job_id
        view = client.wait_job(job_id, timeout_s=3600, interval_s=0.02)
        wall = time.monotonic() - started
        if view.status != 3:
            raise SystemExit(f"job {job_id} did not succeed: {view.status_reason}")
        tasks = {(t.task_name, t.role): t for t in client.query_tasks(job_id).tasks}
    return wall, tasks[("sbt_0", "guest")].elapsed_ms / 1000, job_id


def party_timings(cluster: LocalCluster, job_id: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for party in cluster.parties.values():
        for log in (party.data_dir / "jobs" / job_id).glob("*/sbt_0/*/task.log"):
            text = log.read_text()
            match = TIMINGS.search(text)
            if match:
                role = log.parents[2].name
                found[role] = {"total": float(match.group(1)), "trees": float(match.group(2))}
                found[role].update({k: float(v) for k, v in PART.findall(match.group(3))})
                found[role]["ciphertexts"] = float(match.group(4))
                kernel = KERNEL.search(text)
                found[role]["kernel"] = kernel.group(1) if kernel else None
    return found


def federated_auc(cluster: LocalCluster, job_id: str) -> float:
    """The evaluation task's AUC, read with `flow output query-metric` as a user would."""
    args = ["--node", cluster.parties[GUEST].address, "output", "query-metric", "-j", job_id, "-r", "guest",
            "-p", GUEST, "-tn", "evaluation_0"]  # fmt: skip
    answer = json.loads(CliRunner().invoke(cli, args).output)
    for record in answer["data"]:
        if record["name"] == "evaluation":
            return float(record["data"][0]["metric"]["sbt_0"]["train_set"][0]["val"])
    raise SystemExit("no evaluation metric found")


def xgboost_auc(files: tuple[Path, Path], trees: int) -> float:
    """xgboost (hist) on the joined data, binned as the parties bin, FATE's gain (no 1/2: lambda halves)."""
    guest, host = (pd.read_csv(path) for path in files)
    host = host.set_index("id").loc[guest["id"]].reset_index()
    x = np.hstack(
        [guest.drop(columns=["id", "y"]).to_numpy(float), host.drop(columns=["id"]).to_numpy(float)]
    )
    bins = binning.bin_indices(x, binning.split_points(x, SETTINGS["max_bin"]))
    y = guest["y"].to_numpy(float)
    matrix = xgb.DMatrix(bins.astype(np.float32), label=y)
    params = {"tree_method": "hist", "max_bin": SETTINGS["max_bin"], "max_depth": SETTINGS["max_depth"],
              "eta": SETTINGS["learning_rate"], "lambda": 0.1, "min_child_weight": 1,
              "objective": "binary:logistic", "base_score": 0.5}  # fmt: skip
    booster = xgb.train(params, matrix, trees)
    return auc_score(y, booster.predict(matrix))


def federated_output(cluster: LocalCluster, job_id: str, workdir: Path) -> pd.DataFrame:
    """The guest's train_output_data, downloaded with `flow output download-data` as a user would."""
    target = workdir / job_id
    args = ["--node", cluster.parties[GUEST].address, "output", "download-data", "-j", job_id, "-r", "guest",
            "-p", GUEST, "-tn", "sbt_0", "-o", str(target)]  # fmt: skip
    CliRunner().invoke(cli, args)
    (csv,) = target.glob("*/train_output_data.csv")
    return pd.read_csv(csv)


def quality(objective: str, labels: np.ndarray, predicted: np.ndarray) -> tuple[str, float]:
    if objective == "regression":
        return "RMSE", float(np.sqrt(np.mean((predicted - labels) ** 2)))
    return "accuracy", float(np.mean(predicted == labels))


def xgboost_quality(files: tuple[Path, Path], trees: int, objective: str) -> float:
    guest, host = (pd.read_csv(path) for path in files)
    host = host.set_index("id").loc[guest["id"]].reset_index()
    x = np.hstack(
        [guest.drop(columns=["id", "y"]).to_numpy(float), host.drop(columns=["id"]).to_numpy(float)]
    )
    bins = binning.bin_indices(x, binning.split_points(x, SETTINGS["max_bin"]))
    y = guest["y"].to_numpy(float)
    common = {"tree_method": "hist", "max_bin": SETTINGS["max_bin"], "max_depth": SETTINGS["max_depth"],
              "eta": SETTINGS["learning_rate"]}  # fmt: skip
    if objective == "multi":
        params = {
            **common,
            "objective": "multi:softprob",
            "num_class": 4,
            "lambda": 0.1,
            "min_child_weight": 1,
        }
        predicted = np.argmax(
            xgb.train(params, xgb.DMatrix(bins, label=y), trees).predict(xgb.DMatrix(bins)), 1
        )
    else:
        params = {**common, "objective": "reg:squarederror", "lambda": 0.05, "min_child_weight": 0.5,
                  "base_score": float(np.mean(y))}  # fmt: skip
        predicted = xgb.train(params, xgb.DMatrix(bins, label=y), trees).predict(xgb.DMatrix(bins))
    return quality(objective, y, predicted)[1]


def report(role: str, spent: dict[str, Any]) -> None:
    trees = max(1.0, spent.pop("trees"))
    ciphertexts = spent.pop("ciphertexts")
    total = spent.pop("total")
    kernel = spent.pop("kernel", None)
    shares = ", ".join(f"{k} {v / trees:.3f}s ({100 * v / total:.0f}%)" for k, v in spent.items() if v)
    sent = f"{ciphertexts / trees:.0f} ciphertexts sent per tree"
    used = f"; histogram kernel {kernel}" if kernel else ""
    print(f"    {role}: {total / trees:.3f}s per tree: {shares}; {sent}{used}")


def host_bins(files: tuple[Path, Path]) -> np.ndarray:
    """The host's features binned as the host bins them."""
    x = pd.read_csv(files[1]).drop(columns=["id"]).to_numpy(float)
    return binning.bin_indices(x, binning.split_points(x, SETTINGS["max_bin"]))


def level_rows(rows: int, depth: int, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """Each row's position among the nodes summed at ``depth`` (-1: not summed) and how many nodes: every
    row at the root; below, the left child of each split (about half the rows), its sibling derived."""
    if depth == 0:
        return np.zeros(rows, dtype=np.int64), 1
    node = rng.integers(0, 2**depth, size=rows)
    return np.where(node % 2 == 0, node // 2, -1).astype(np.int64), 2 ** (depth - 1)


def log_depth_sums(ciphertexts: list, groups: np.ndarray, n_groups: int, modulus: int) -> list:
    """Products per (feature, group), feature-major, by pairwise products over numpy object arrays."""
    features = groups.shape[1]
    keys = (groups + np.arange(features)[None, :] * n_groups).reshape(-1)
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    values = np.empty(len(ciphertexts), dtype=object)
    values[:] = ciphertexts
    values = values[order // features]
    while len(keys) > 1:
        first = np.concatenate([[True], keys[1:] != keys[:-1]])
        if first.all():
            break
        starts = np.flatnonzero(first)
        position = np.arange(len(keys)) - np.repeat(starts, np.diff(np.append(starts, len(keys))))
        even = position % 2 == 0
        left = np.flatnonzero(np.append(even[:-1] & ~first[1:], False))
        values[left] = values[left] * values[left + 1] % modulus
        values, keys = values[even], keys[even]
    sums = np.full(features * n_groups, mpz(1), dtype=object)
    sums[keys] = values
    return sums.tolist()


def histogram_bench(bins: np.ndarray, depth: int = 3) -> None:
    """One line per tree level: the host's encrypted histogram by the three kernels (one run each)."""
    rows, features = bins.shape
    n_bins = int(SETTINGS["max_bin"])
    rng = np.random.default_rng(3)
    public_key, _ = paillier.generate_keypair(1024)
    g = rng.uniform(-1, 1, size=rows)
    codec = gh_pack.GHCodec.for_gradients(g, rows, regression=False)
    (vector,) = gh_pack.encrypt_gh(public_key, codec, g, np.abs(g) / 2)
    heu = gh_pack.histogram_kernel(public_key, n_bins) == "heu"  # also builds HEU's view of the key
    workers = min(4, os.cpu_count() or 1)
    started = time.perf_counter()
    executor = paillier.make_executor(workers)
    # Submitted together, the tasks start every worker (a pool starts one per task while none is idle).
    for future in [executor.submit(time.sleep, 0.2) for _ in range(workers)]:
        future.result()
    print(f"histograms per level ({rows} rows x {features} host features, {n_bins} bins, Paillier 1024;"
          f" starting {workers} workers took {time.perf_counter() - started:.2f}s):")  # fmt: skip
    try:
        for level in range(depth):
            index, nodes = level_rows(rows, level, rng)
            cells = int((index >= 0).sum()) * features
            histogram = partial(gh_pack.encrypted_histogram, vector, bins, index, nodes, n_bins)
            with gmpy2_kernel():
                loop, pooled = timed(histogram), timed(partial(histogram, executor=executor))
            picked = vector.take(np.flatnonzero(index >= 0)).ciphertexts
            groups = index[index >= 0, None] * n_bins + bins[index >= 0]
            vectorised = timed(partial(log_depth_sums, picked, groups, nodes * n_bins, int(public_key.n2)))
            by_heu = "sf-heu not installed or switched off"
            if heu:
                spent = timed(histogram)
                ratio = f"{loop / spent:.2f}x" if level else "with loading"
                by_heu = f"sf-heu {spent:.3f}s ({ratio})"
            used = "workers" if cells >= gh_pack.PARALLEL_MIN_CELLS else "one thread"
            used = "sf-heu" if heu else used
            print(f"  level {level}: {cells} cells; loop in one thread {loop:.3f}s, loop on {workers} workers"
                  f" {pooled:.3f}s ({loop / pooled:.2f}x), numpy log-depth {vectorised:.3f}s"
                  f" ({loop / vectorised:.2f}x), {by_heu}; the host uses {used}")  # fmt: skip
    finally:
        executor.shutdown()
    print(f"  {machine_line()}")


@contextmanager
def gmpy2_kernel() -> Iterator[None]:
    """``gh_pack`` on its gmpy2 loop even with sf-heu installed."""
    before = os.environ.get(heu_kernel.KERNEL_ENV)
    os.environ[heu_kernel.KERNEL_ENV] = "gmpy2"
    try:
        yield
    finally:
        if before is None:
            del os.environ[heu_kernel.KERNEL_ENV]
        else:
            os.environ[heu_kernel.KERNEL_ENV] = before


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", default="breast", choices=("breast", "synthetic"))
    parser.add_argument("--objective", default="binary", choices=tuple(OBJECTIVES))
    parser.add_argument("--trees", type=int, default=5)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--histogram-only", action="store_true", help="only the histogram micro-bench")
    args = parser.parse_args()
    if args.objective != "binary" and args.data == "breast":
        parser.error("--objective multi or regression needs --data synthetic")
    if args.histogram_only:
        with tempfile.TemporaryDirectory() as workdir:
            bins = host_bins(tables(args.data, Path(workdir), args.objective))
        histogram_bench(bins)
        return
    walls = []
    with (
        tempfile.TemporaryDirectory() as workdir,
        LocalCluster(Path(workdir) / "nodes", [GUEST, HOST]) as cluster,
    ):
        files = tables(args.data, Path(workdir), args.objective)
        upload(cluster, args.data, files)
        for run in range(args.runs):
            wall, task, job_id = run_job(cluster, dag(args.data, args.trees, args.objective))
            walls.append(wall)
            per_tree = (wall - task) / (args.trees * (4 if args.objective == "multi" else 1))
            print(f"run {run + 1}: DAG {wall:.2f}s, hetero_secureboost task {task:.2f}s,"
                  f" scheduling and other tasks {wall - task:.2f}s ({per_tree:.3f}s per tree)")  # fmt: skip
            for role, spent in sorted(party_timings(cluster, job_id).items()):
                report(role, spent)
        if args.objective == "binary":
            name, ours, reference = "AUC", federated_auc(cluster, job_id), xgboost_auc(files, args.trees)
        else:
            frame = federated_output(cluster, job_id, Path(workdir))
            column = "predict_score" if args.objective == "regression" else "predict_result"
            name, ours = quality(
                args.objective, frame["label"].to_numpy(float), frame[column].to_numpy(float)
            )
            reference = xgboost_quality(files, args.trees, args.objective)
        bins = host_bins(files)
    wall = median(walls)
    # FATE's figures are for 5 binary trees; scaled by the trees grown (multi:ce grows 4 per round).
    grown = args.trees * (4 if args.objective == "multi" else 1)
    fate = FATE_JOB_S[args.data] * grown / 5
    print(f"{args.data} {args.objective}: median DAG wall {wall:.2f}s; FATE 2.2 {fate:.0f}s (for {grown}"
          f" trees) -> {fate / wall:.1f}x faster (goal {GOAL[args.data]}x)")  # fmt: skip
    print(f"  {name} federated {ours:.4f} vs xgboost {reference:.4f} (ratio {ours / reference:.4f})")
    print(machine_line())
    histogram_bench(bins)


if __name__ == "__main__":
    main()
