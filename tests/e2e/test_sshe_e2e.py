"""End to end across node processes: reader -> psi -> sshe_lr -> evaluation on breast (guest 9999, host
10000, no arbiter), then the predict DAG from each party's model warehouse; the same for sshe_linr (its
DAGs read FATE's motor tables; here they read breast, the label taken as a real target)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.metrics import roc_auc_score

from fate_grpc.cli.local_cluster import LocalCluster
from tests.e2e.test_outputs_e2e import GUEST, HOST, Flow, upload_breast
from tests.support.nodes import DAGS, DATA

pytestmark = pytest.mark.timeout(600)
JOB_DEADLINE_S = 400  # two parties' Paillier work on a shared 2-core machine


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flow]:
    with LocalCluster(tmp_path_factory.mktemp("sshe"), [GUEST, HOST]) as cluster:
        flow = Flow(cluster)
        upload_breast(flow)
        yield flow


def run_job(flow: Flow, dag: Path) -> str:
    job_id = flow.ok("job", "submit", "-c", str(dag))["job_id"]
    deadline = time.monotonic() + JOB_DEADLINE_S
    while time.monotonic() < deadline:
        status = flow.ok("job", "query", "-j", job_id)["data"][0]["status"]
        if status in ("success", "failed", "canceled", "timeout"):
            assert status == "success", flow.ok("task", "query", "-j", job_id)
            return job_id
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish in {JOB_DEADLINE_S} s")


def on_breast(name: str, tmp_path: Path) -> Path:
    """An sshe_linr DAG reading the breast tables instead of motor."""
    document = yaml.safe_load((DAGS / name).read_text())
    for key, role in (("guest_9999", "guest"), ("host_10000", "host")):
        document["dag"]["party_tasks"][key]["tasks"]["reader_0"]["parameters"]["name"] = (
            f"breast_hetero_{role}"
        )
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document))
    return path


def plaintext(task: str, epochs: int, learning_rate: float, batch_size: int | None) -> np.ndarray:
    """Scores of the same training in plaintext on the joined breast rows (guest order, as psi keeps it)."""
    guest = pd.read_csv(DATA / "breast_hetero_guest.csv")
    host = pd.read_csv(DATA / "breast_hetero_host.csv").set_index("id").loc[guest["id"]].reset_index()
    x_guest = np.hstack([guest.drop(columns=["id", "y"]).to_numpy(float), np.ones((len(guest), 1))])
    x_host, y = host.drop(columns=["id"]).to_numpy(float), guest["y"].to_numpy(float)
    w_guest, w_host = np.zeros(x_guest.shape[1]), np.zeros(x_host.shape[1])
    size = batch_size or len(y)
    for _ in range(epochs):
        for start in range(0, len(y), size):
            xg, xh, yb = x_guest[start : start + size], x_host[start : start + size], y[start : start + size]
            s = xg @ w_guest + xh @ w_host
            dz = 0.25 * s + 0.5 - yb if task == "lr" else s - yb
            w_guest, w_host = (
                w_guest - learning_rate * xg.T @ dz / len(yb),
                w_host - learning_rate * xh.T @ dz / len(yb),
            )
    return x_guest @ w_guest + x_host @ w_host


def output_frame(flow: Flow, job: str, task: str, key: str) -> pd.DataFrame:
    ref = ["-j", job, "-tn", task, "-r", "guest", "-p", GUEST, "-l", "1000"]
    rows = flow.ok("output", "display-data", *ref)["data"][key]
    return pd.DataFrame(rows[1:], columns=rows[0])


@pytest.fixture(scope="module")
def trained_lr(flow: Flow) -> str:
    return run_job(flow, DAGS / "sshe_lr.yaml")


def test_sshe_lr_dag_matches_plaintext_and_evaluation_sees_it(flow: Flow, trained_lr: str) -> None:
    frame = output_frame(flow, trained_lr, "sshe_lr_0", "train_output_data")
    guest = pd.read_csv(DATA / "breast_hetero_guest.csv")
    order = guest.set_index("id").index.get_indexer(frame["id"].astype(int))
    expected = 1.0 / (1.0 + np.exp(-plaintext("lr", 3, 0.15, 300)))
    assert np.allclose(frame["predict_score"].astype(float), expected[order], atol=1e-6)
    auc = roc_auc_score(frame["label"].astype(float), frame["predict_score"].astype(float))
    metrics = flow.ok(
        "output", "query-metric", "-j", trained_lr, "-tn", "evaluation_0", "-r", "guest", "-p", GUEST
    )
    evaluation = metrics["data"][0]["data"][0]["metric"]
    assert evaluation["sshe_lr_0"]["train_set"][0] == {"metric": "auc", "val": pytest.approx(auc, abs=1e-6)}
    losses = flow.ok(
        "output", "query-metric", "-j", trained_lr, "-tn", "sshe_lr_0", "-r", "guest", "-p", GUEST
    )
    (record,) = [r for r in losses["data"] if r["name"] == "lr_loss"]
    assert [point["step"] for point in record["data"]] == [0, 1, 2]


def test_both_parties_keep_their_own_model_in_fates_shape(flow: Flow, trained_lr: str) -> None:
    ref = ["-j", trained_lr, "-tn", "sshe_lr_0"]
    host = flow.ok("output", "query-model", *ref, "-r", "host", "-p", HOST, party=HOST)["data"][
        "output_model"
    ]
    guest = flow.ok("output", "query-model", *ref, "-r", "guest", "-p", GUEST)["data"]["output_model"]
    assert len(host["data"]["estimator"]["param"]["coef_"]) == 20 and host["meta"]["labels"] is None
    assert guest["data"]["estimator"]["header"] == [f"x{j}" for j in range(10)]
    assert guest["meta"]["labels"] == [0, 1] and guest["meta"]["learning_rate"] == 0.15


def test_sshe_lr_predict_dag_from_the_warehouse_gives_the_train_scores(flow: Flow, trained_lr: str) -> None:
    predicted = run_job(flow, DAGS / "sshe_lr_predict.yaml")
    train = output_frame(flow, trained_lr, "sshe_lr_0", "train_output_data")
    test = output_frame(flow, predicted, "sshe_lr_0", "test_output_data")
    assert set(test["type"]) == {"test_set"}
    assert np.allclose(test["predict_score"].astype(float), train["predict_score"].astype(float))


def test_sshe_linr_train_then_predict(flow: Flow, tmp_path: Path) -> None:
    trained = run_job(flow, on_breast("sshe_linr.yaml", tmp_path))
    train = output_frame(flow, trained, "sshe_linr_0", "train_output_data")
    guest = pd.read_csv(DATA / "breast_hetero_guest.csv")
    order = guest.set_index("id").index.get_indexer(train["id"].astype(int))
    assert np.allclose(
        train["predict_score"].astype(float), plaintext("linr", 10, 0.1, None)[order], atol=1e-6
    )
    predicted = run_job(flow, on_breast("sshe_linr_predict.yaml", tmp_path))
    test = output_frame(flow, predicted, "sshe_linr_0", "test_output_data")
    assert np.allclose(test["predict_score"].astype(float), train["predict_score"].astype(float))


def test_sshe_lr_cross_validation_dag(flow: Flow, tmp_path: Path) -> None:
    document = yaml.safe_load((DAGS / "sshe_lr.yaml").read_text())
    tasks = document["dag"]["tasks"]
    del tasks["evaluation_0"]
    lr = tasks["sshe_lr_0"]
    lr["stage"] = "cross_validation"
    lr["inputs"]["data"] = {"cv_data": lr["inputs"]["data"]["train_data"]}
    lr["parameters"].update(epochs=1, cv_param={"n_splits": 3, "shuffle": False})
    document["dag"]["conf"].pop("model_id")
    document["dag"]["conf"].pop("model_version", None)
    path = tmp_path / "cv.yaml"
    path.write_text(yaml.safe_dump(document))
    job = run_job(flow, path)
    ref = ["-j", job, "-tn", "sshe_lr_0", "-r", "guest", "-p", GUEST]
    flow.ok("output", "download-data", *ref, "-o", str(tmp_path / "out"))
    (csv,) = (tmp_path / "out").glob("*/cv_output_datas.csv")
    frame = pd.read_csv(csv)
    assert sorted(frame["cv_fold"].astype(int).unique().tolist()) == [0, 1, 2]
    assert (frame["type"] == "validate_set").sum() == 569
    losses = [r for r in flow.ok("output", "query-metric", *ref)["data"] if r["name"] == "lr_loss"]
    assert sorted(r["groups"][1]["index"] for r in losses) == [0, 1, 2]
