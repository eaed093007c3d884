"""End to end across node processes: reader -> psi -> hetero_secureboost -> evaluation on breast (the first
DAG of FATE 2.x's docs, as written), then the predict DAG from each party's model warehouse."""

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
from tests.support.nodes import DAGS

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flow]:
    with LocalCluster(tmp_path_factory.mktemp("sbt"), [GUEST, HOST]) as cluster:
        flow = Flow(cluster)
        upload_breast(flow)
        yield flow


@pytest.fixture(scope="module")
def trained(flow: Flow) -> str:
    started = time.monotonic()
    job = flow.run_job(DAGS / "hetero_secureboost.yaml")
    print(f"train DAG wall time {time.monotonic() - started:.2f} s")
    return job


def _rows(flow: Flow, job: str, key: str) -> pd.DataFrame:
    answer = flow.ok(
        "output", "display-data", "-j", job, "-r", "guest", "-p", GUEST, "-tn", "sbt_0", "-l", "1000"
    )
    header, *values = answer["data"][key]
    return pd.DataFrame(values, columns=header)


def test_train_dag_scores_and_evaluation_sees_them(flow: Flow, trained: str) -> None:
    frame = _rows(flow, trained, "train_output_data")
    auc = roc_auc_score(frame["label"].astype(float), frame["predict_score"].astype(float))

    assert len(frame) == 569 and auc >= 0.98
    metrics = flow.ok(
        "output", "query-metric", "-j", trained, "-tn", "evaluation_0", "-r", "guest", "-p", GUEST
    )
    evaluation = metrics["data"][0]["data"][0]["metric"]
    assert evaluation["sbt_0"]["train_set"][0] == {"metric": "auc", "val": pytest.approx(auc, abs=1e-6)}


def test_models_and_loss_in_fate_shapes(flow: Flow, trained: str) -> None:
    ref = ["-j", trained, "-tn", "sbt_0"]
    guest = flow.ok("output", "query-model", *ref, "-r", "guest", "-p", GUEST)["data"]["output_model"]["data"]
    host = flow.ok("output", "query-model", *ref, "-r", "host", "-p", HOST, party=HOST)["data"][
        "output_model"
    ]
    assert len(guest["trees"]) == 2 and len(host["data"]["trees"]) == 2
    assert all(n["grad"] is None for t in host["data"]["trees"] for n in t["nodes"])
    answer = flow.ok("output", "query-metric", *ref, "-r", "guest", "-p", GUEST)
    (record,) = [r for r in answer["data"] if r["name"] == "sbt_loss"]
    assert record["type"] == "loss" and record["step_axis"] == "iterations"
    assert [point["step"] for point in record["data"]] == [0, 1]


def test_predict_dag_from_the_warehouse_gives_the_train_scores(flow: Flow, trained: str) -> None:
    predicted = flow.run_job(DAGS / "hetero_secureboost_predict.yaml")

    train = _rows(flow, trained, "train_output_data")
    test = _rows(flow, predicted, "test_output_data")
    assert set(test["type"]) == {"test_set"}
    assert np.allclose(test["predict_score"].astype(float), train["predict_score"].astype(float))


def test_cross_validation_dag(flow: Flow, tmp_path: Path) -> None:
    document = yaml.safe_load((DAGS / "hetero_secureboost.yaml").read_text())
    tasks = document["dag"]["tasks"]
    del tasks["evaluation_0"]
    sbt = tasks["sbt_0"]
    sbt["stage"] = "cross_validation"
    sbt["inputs"]["data"] = {"cv_data": sbt["inputs"]["data"]["train_data"]}
    sbt["parameters"].update(cv_param={"n_splits": 3, "shuffle": True, "random_state": 1})
    document["dag"]["conf"].pop("model_id")
    document["dag"]["conf"].pop("model_version")
    path = tmp_path / "cv.yaml"
    path.write_text(yaml.safe_dump(document))

    job = flow.run_job(path)

    ref = ["-j", job, "-tn", "sbt_0", "-r", "guest", "-p", GUEST]
    flow.ok("output", "download-data", *ref, "-o", str(tmp_path / "out"))
    (csv,) = (tmp_path / "out").glob("*/cv_output_datas.csv")
    frame = pd.read_csv(csv)
    assert sorted(frame["cv_fold"].unique().tolist()) == [0, 1, 2]
    validated = frame[frame["type"] == "validate_set"]
    assert len(validated) == 569 and roc_auc_score(validated["label"], validated["predict_score"]) > 0.95
    losses = [r for r in flow.ok("output", "query-metric", *ref)["data"] if r["name"] == "sbt_loss"]
    assert len(losses) == 3
