"""End to end across three node processes: reader -> homo_lr -> evaluation on breast's homo split, guest
9999 and host 10000 as clients, arbiter 10001 aggregating; then the predict DAG from each client's model
warehouse."""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from fate_grpc.cli.local_cluster import LocalCluster
from tests.e2e.test_outputs_e2e import Flow
from tests.support.nodes import DAGS, DATA

pytestmark = pytest.mark.timeout(300)

GUEST, HOST, ARBITER = "9999", "10000", "10001"
CLIENTS = {"guest": GUEST, "host": HOST}


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flow]:
    with LocalCluster(tmp_path_factory.mktemp("homo"), [GUEST, HOST, ARBITER]) as cluster:
        flow = Flow(cluster)
        flow.ok("data", "upload", "-c", "examples/upload/upload_homo_guest.json", party=GUEST)
        flow.ok("data", "upload", "-c", "examples/upload/upload_homo_host.json", party=HOST)
        yield flow


@pytest.fixture(scope="module")
def trained(flow: Flow) -> str:
    started = time.monotonic()
    job = flow.run_job(DAGS / "homo_lr.yaml")
    print(f"train DAG wall time {time.monotonic() - started:.2f} s")
    return job


def output_rows(flow: Flow, job: str, role: str, key: str) -> pd.DataFrame:
    party = CLIENTS[role]
    ref = ["-j", job, "-r", role, "-p", party, "-tn", "homo_lr_0", "-l", "1000"]
    rows = flow.ok("output", "display-data", *ref, party=party)["data"][key]
    return pd.DataFrame(rows[1:], columns=rows[0])


def state_vector(flow: Flow, job: str, role: str) -> np.ndarray:
    party = CLIENTS[role]
    ref = ["-j", job, "-r", role, "-p", party, "-tn", "homo_lr_0"]
    model = flow.ok("output", "query-model", *ref, party=party)["data"]["output_model"]
    state = model["data"]["param"]["model"]["state_dict"]
    return np.concatenate([np.ravel(state["models.0.weight"]), state["models.0.bias"]])


def test_both_clients_end_with_the_average_model_as_good_as_pooled_lr(flow: Flow, trained: str) -> None:
    assert np.allclose(state_vector(flow, trained, "guest"), state_vector(flow, trained, "host"))
    pooled = pd.concat([pd.read_csv(DATA / f"breast_homo_{r}.csv") for r in CLIENTS], ignore_index=True)
    features, labels = pooled.drop(columns=["id", "y"]).to_numpy(float), pooled["y"].to_numpy(float)
    reference = LogisticRegression(max_iter=2000).fit(features, labels)
    reference_auc = roc_auc_score(labels, reference.predict_proba(features)[:, 1])
    frames = [output_rows(flow, trained, role, "train_output_data") for role in CLIENTS]
    outputs = pd.concat(frames, ignore_index=True)
    assert len(outputs) == len(pooled) and set(outputs["type"]) == {"train_set"}
    auc = roc_auc_score(outputs["label"].astype(float), outputs["predict_score"].astype(float))
    assert auc >= reference_auc - 0.01
    metric = flow.ok(
        "output", "query-metric", "-j", trained, "-tn", "evaluation_0", "-r", "guest", "-p", GUEST
    )
    evaluation = metric["data"][0]["data"][0]["metric"]["homo_lr_0"]["train_set"][0]
    assert evaluation["metric"] == "auc" and evaluation["val"] > 0.98


def test_arbiter_logs_the_aggregated_loss_and_clients_their_own(flow: Flow, trained: str) -> None:
    ref = ["-j", trained, "-tn", "homo_lr_0"]
    server = flow.ok("output", "query-metric", *ref, "-r", "arbiter", "-p", ARBITER, party=ARBITER)["data"]
    (record,) = [r for r in server if r["name"] == "loss"]
    assert record["type"] == "loss" and record["step_axis"] == "aggregation"
    assert record["groups"] == [{"index": None, "name": "default"}, {"index": None, "name": "train"}]
    assert [point["step"] for point in record["data"]] == list(range(10))
    losses = [point["metric"] for point in record["data"]]
    assert losses[-1] < losses[0]
    client = flow.ok("output", "query-metric", *ref, "-r", "host", "-p", HOST, party=HOST)["data"]
    (own,) = [r for r in client if r["name"] == "loss"]
    assert own["step_axis"] == "nn_loss" and [p["step"] for p in own["data"]] == list(range(1, 11))


def test_predict_dag_from_the_warehouse_gives_the_train_scores(flow: Flow, trained: str) -> None:
    predicted = flow.run_job(DAGS / "homo_lr_predict.yaml")

    for role in CLIENTS:
        train = output_rows(flow, trained, role, "train_output_data")
        test = output_rows(flow, predicted, role, "test_output_data")
        assert set(test["type"]) == {"test_set"}
        assert list(test["id"]) == list(train["id"])
        assert np.allclose(test["predict_score"].astype(float), train["predict_score"].astype(float))
