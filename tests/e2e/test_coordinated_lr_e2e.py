"""End to end across node processes: reader -> psi -> coordinated_lr -> evaluation on breast with party 10000
as both host and arbiter (FATE's example DAG), then the predict DAG from each party's model warehouse."""

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
from fate_grpc.components.coordinated_lr.settings import train_settings
from fate_grpc.ml.linear.plaintext import train_plaintext
from tests.e2e.test_outputs_e2e import GUEST, HOST, Flow, upload_breast
from tests.support.nodes import DAGS, DATA

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flow]:
    with LocalCluster(tmp_path_factory.mktemp("lr"), [GUEST, HOST]) as cluster:
        flow = Flow(cluster)
        upload_breast(flow)
        yield flow


@pytest.fixture(scope="module")
def trained(flow: Flow) -> str:
    started = time.monotonic()
    job = flow.run_job(DAGS / "coordinated_lr.yaml")
    print(f"train DAG wall time {time.monotonic() - started:.2f} s")
    return job


def joined_breast() -> tuple[list[np.ndarray], np.ndarray, pd.DataFrame]:
    guest = pd.read_csv(DATA / "breast_hetero_guest.csv")
    host = pd.read_csv(DATA / "breast_hetero_host.csv").set_index("id").loc[guest["id"]].reset_index()
    blocks = [guest.drop(columns=["id", "y"]).to_numpy(float), host.drop(columns=["id"]).to_numpy(float)]
    return blocks, guest["y"].to_numpy(float), guest


def test_train_dag_matches_plaintext_and_evaluation_sees_it(flow: Flow, trained: str) -> None:
    ref = ["-j", trained, "-tn", "lr_0"]
    host_model = flow.ok("output", "query-model", *ref, "-r", "host", "-p", HOST, party=HOST)
    estimator = host_model["data"]["output_model"]["data"]["estimator"]
    assert estimator["lr_scheduler"]["lr_scheduler"]["_last_lr"] == [0.07269999999999996]
    coefficients = {
        name: row[0] for name, row in zip(estimator["header"], estimator["param"]["coef_"], strict=True)
    }
    # psi keeps the guest's row order, so batches hold the same rows as the plaintext run on that order.
    rows = flow.ok("output", "display-data", *ref, "-r", "guest", "-p", GUEST, "-l", "1000")
    header, *values = rows["data"]["train_output_data"]
    frame = pd.DataFrame(values, columns=header)
    blocks, y, guest = joined_breast()
    order = guest.set_index("id").index.get_indexer(frame["id"].astype(int))
    dag = {
        "epochs": 10,
        "batch_size": 300,
        "optimizer": {"method": "sgd", "penalty": "l2", "alpha": 0.001, "optimizer_params": {"lr": 0.1}},
        "learning_rate_scheduler": {
            "method": "linear",
            "scheduler_params": {"start_factor": 0.7, "total_iters": 100},
        },
        "init_param": {"method": "zeros", "fit_intercept": True},
    }
    run = train_plaintext(train_settings("lr", dag), [b[order] for b in blocks], y[order])
    expected = run.parties[1].weights.reshape(-1)
    assert np.allclose([coefficients[f"x{j}"] for j in range(20)], expected, atol=1e-6)
    auc = roc_auc_score(frame["label"].astype(float), frame["predict_score"].astype(float))
    assert auc >= 0.99
    metrics = flow.ok(
        "output", "query-metric", "-j", trained, "-tn", "evaluation_0", "-r", "guest", "-p", GUEST
    )
    evaluation = metrics["data"][0]["data"][0]["metric"]
    assert evaluation["lr_0"]["train_set"][0] == {"metric": "auc", "val": pytest.approx(auc, abs=1e-6)}


def test_arbiter_loss_curve_in_fates_record_shape(flow: Flow, trained: str) -> None:
    answer = flow.ok(
        "output", "query-metric", "-j", trained, "-tn", "lr_0", "-r", "arbiter", "-p", HOST, party=HOST
    )
    (record,) = [r for r in answer["data"] if r["name"] == "lr_loss"]
    assert record["type"] == "loss" and record["step_axis"] == "iterations"
    assert record["groups"] == [{"index": None, "name": "default"}, {"index": None, "name": "train"}]
    assert [point["step"] for point in record["data"]] == list(range(10))
    losses = [point["metric"][0] for point in record["data"]]
    assert losses == sorted(losses, reverse=True)


def test_predict_dag_from_the_warehouse_gives_the_train_scores(
    flow: Flow, trained: str, tmp_path: Path
) -> None:
    predicted = flow.run_job(DAGS / "coordinated_lr_predict.yaml")
    ref = ["-r", "guest", "-p", GUEST, "-tn", "lr_0", "-l", "1000"]
    train_rows = flow.ok("output", "display-data", "-j", trained, *ref)["data"]["train_output_data"]
    test_rows = flow.ok("output", "display-data", "-j", predicted, *ref)["data"]["test_output_data"]
    train = pd.DataFrame(train_rows[1:], columns=train_rows[0])
    test = pd.DataFrame(test_rows[1:], columns=test_rows[0])
    assert set(test["type"]) == {"test_set"}
    assert np.allclose(test["predict_score"].astype(float), train["predict_score"].astype(float))


def test_cross_validation_dag(flow: Flow, tmp_path: Path) -> None:
    document = yaml.safe_load((DAGS / "coordinated_lr.yaml").read_text())
    tasks = document["dag"]["tasks"]
    del tasks["evaluation_0"]
    lr = tasks["lr_0"]
    lr["stage"] = "cross_validation"
    lr["inputs"]["data"] = {"cv_data": lr["inputs"]["data"]["train_data"]}
    lr["parameters"].update(epochs=2, cv_param={"n_splits": 3})
    document["dag"]["conf"].pop("model_id")
    document["dag"]["conf"].pop("model_version")
    path = tmp_path / "cv.yaml"
    path.write_text(yaml.safe_dump(document))
    job = flow.run_job(path)
    ref = ["-j", job, "-tn", "lr_0", "-r", "guest", "-p", GUEST]
    flow.ok("output", "download-data", *ref, "-o", str(tmp_path / "out"))
    (csv,) = (tmp_path / "out").glob("*/cv_output_datas.csv")
    frame = pd.read_csv(csv)
    assert sorted(frame["cv_fold"].astype(int).unique().tolist()) == [0, 1, 2]
    assert (frame["type"] == "validate_set").sum() == 569
    metrics = flow.ok("output", "query-metric", *ref)["data"]
    folds = [r for r in metrics if r["name"] == "cv_metrics"]
    assert len(folds) == 3 and all(r["data"][0]["metric"][0]["val"] > 0.95 for r in folds)
