"""End to end: DAGs as FATE 2.2's pipeline API dumps them (``examples/dags/fate``), submitted unchanged
with ``flow job submit`` to guest and host node processes holding the breast tables, one check of each
task's outputs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from fate_grpc.cli.local_cluster import LocalCluster
from tests.e2e.test_outputs_e2e import GUEST, HOST, Flow, upload_breast
from tests.support.nodes import DAGS, DATA

pytestmark = pytest.mark.timeout(300)

FATE_DAGS = DAGS / "fate"
ROWS = 569
LABEL_0, LABEL_1 = 212, 357


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flow]:
    with LocalCluster(tmp_path_factory.mktemp("fate_dags"), [GUEST, HOST]) as cluster:
        made = Flow(cluster)
        upload_breast(made)
        yield made


def submit(flow: Flow, name: str) -> str:
    """Submit the DAG file unchanged; on failure, the message shows each failed task's error."""
    job_id = flow.ok("job", "submit", "-c", str(FATE_DAGS / f"{name}.yaml"))["job_id"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = flow.ok("job", "query", "-j", job_id)["data"][0]["status"]
        if status in ("success", "failed", "canceled", "timeout"):
            tasks = flow.ok("task", "query", "-j", job_id)["data"]
            errors = [(t["task_name"], t["role"], t["error"]) for t in tasks if t.get("error")]
            assert status == "success", errors
            return str(job_id)
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} ({name}) did not finish")


def ref(job: str, task: str, party: str) -> list[str]:
    role = "guest" if party == GUEST else "host"
    return ["-j", job, "-r", role, "-p", party, "-tn", task]


def counts(flow: Flow, job: str, task: str, party: str = GUEST) -> dict[str, int]:
    answer = flow.ok("output", "display-data", *ref(job, task, party), "-l", "1", party=party)
    return dict(answer["count"])


def rows(flow: Flow, job: str, task: str, key: str, party: str = GUEST) -> pd.DataFrame:
    answer = flow.ok("output", "display-data", *ref(job, task, party), "-l", "1000", party=party)
    header, *values = answer["data"][key]
    return pd.DataFrame(values, columns=header)


def metric(flow: Flow, job: str, task: str, name: str, party: str = GUEST) -> Any:
    records = flow.ok("output", "query-metric", *ref(job, task, party), party=party)["data"]
    (record,) = [r for r in records if r["name"] == name]
    return record["data"][0]["metric"]


def metric_types(flow: Flow, job: str, task: str, party: str = GUEST) -> dict[str, Any]:
    records = flow.ok("output", "query-metric", *ref(job, task, party), party=party)["data"]
    return {r["name"]: r["type"] for r in records}


def model(flow: Flow, job: str, task: str, party: str = GUEST, key: str = "output_model") -> Any:
    answer = flow.ok("output", "query-model", *ref(job, task, party), party=party)
    return answer["data"][key]


def test_psi(flow: Flow) -> None:
    job = submit(flow, "psi")
    for party in (GUEST, HOST):
        assert counts(flow, job, "psi_0", party) == {"output_data": ROWS}
    assert metric(flow, job, "psi_0", "summary")["method"] == "curve25519"
    assert metric(flow, job, "psi_0", "intersect_id_count", HOST) == {"intersect_count": ROWS}
    assert metric_types(flow, job, "psi_0") == {"intersect_id_count": "custom", "summary": None}


def test_data_split_fractions_and_counts(flow: Flow) -> None:
    job = submit(flow, "data_split")
    # 0.6 / 0.1 / null (the rest) of 569 rows; 200 / null (the rest) / 50 rows.
    for party in (GUEST, HOST):
        assert counts(flow, job, "data_split_0", party) == {
            "train_output_data": 341,
            "validate_output_data": 57,
            "test_output_data": 171,
        }
        assert counts(flow, job, "data_split_1", party) == {
            "train_output_data": 200,
            "validate_output_data": 319,
            "test_output_data": 50,
        }
    assert metric(flow, job, "data_split_1", "summary") == {
        "original_count": ROWS,
        "train_count": 200,
        "validate_count": 319,
        "test_count": 50,
    }
    assert metric(flow, job, "data_split_0", "0_summary")["original_count"] == LABEL_0
    assert metric_types(flow, job, "data_split_0") == {
        "summary": "data_split",
        "0_summary": "data_split",
        "1_summary": "data_split",
    }


def test_sample_per_label_rates_and_counts(flow: Flow) -> None:
    job = submit(flow, "sample")
    expected = {
        "sample_0": int(LABEL_0 * 0.5) + LABEL_1,  # {0: 0.5}: label 1 is kept whole
        "sample_1": 100,  # n
        "sample_2": int(LABEL_0 * 0.5) + int(LABEL_1 * 1.5),  # {0: 0.5, 1: 1.5} with replace
        "sample_3": int(ROWS * 0.25),
    }
    for task, count in expected.items():
        for party in (GUEST, HOST):
            assert counts(flow, job, task, party) == {"output_data": count}, task
    assert metric(flow, job, "sample_0", "summary") == {
        "total": {"original_count": ROWS, "sampled_count": expected["sample_0"]},
        "0": {"original_count": LABEL_0, "sampled_count": int(LABEL_0 * 0.5)},
        "1": {"original_count": LABEL_1, "sampled_count": LABEL_1},
    }


def test_union_of_two_splits(flow: Flow) -> None:
    job = submit(flow, "union")
    for party in (GUEST, HOST):
        assert counts(flow, job, "union_0", party) == {"output_data": 341 + 171}
    assert metric(flow, job, "union_0", "summary")["total"] == 341 + 171
    assert metric_types(flow, job, "union_0", HOST) == {"summary": None}


def test_statistics_with_percentiles(flow: Flow) -> None:
    job = submit(flow, "statistics")
    assert metric_types(flow, job, "statistics_0") == {}  # FATE's statistics logs no metric
    data = model(flow, job, "statistics_0")["data"]
    guest = pd.read_csv(DATA / "breast_hetero_guest.csv")
    assert data["mean"]["x0"] == pytest.approx(guest["x0"].mean())
    assert data["100%"]["x3"] == pytest.approx(guest["x3"].max())
    assert set(model(flow, job, "statistics_0", HOST)["data"]["median"]) == {f"x{i}" for i in range(20)}


def test_feature_scale_min_max_then_predict_in_the_same_job(flow: Flow) -> None:
    job = submit(flow, "feature_scale")
    assert counts(flow, job, "feature_scale_1") == {"test_output_data": ROWS}
    stats = model(flow, job, "statistics_0")["data"]
    assert (stats["min"]["x0"], stats["max"]["x0"]) == (pytest.approx(-1.0), pytest.approx(1.0))
    assert (stats["min"]["x1"], stats["max"]["x1"]) == (pytest.approx(0.0), pytest.approx(1.0))


def test_binning_quantile_with_per_party_columns(flow: Flow) -> None:
    job = submit(flow, "binning_quantile")
    assert model(flow, job, "binning_0")["data"]["bin_col"] == ["x0"]
    assert model(flow, job, "binning_0", HOST)["data"]["bin_col"] == ["x1"]  # bin_idx [1]
    host_out = rows(flow, job, "binning_0", "train_output_data", HOST)
    assert set(host_out["x1"].astype(int)) <= set(range(10))


def test_binning_manual_bins_only_columns_with_split_points(flow: Flow) -> None:
    job = submit(flow, "binning_manual")
    for party in (GUEST, HOST):
        assert model(flow, job, "binning_0", party)["data"]["bin_col"] == ["x0"]
    guest_out = rows(flow, job, "binning_0", "train_output_data")
    assert set(guest_out["x0"].astype(int)) <= {0, 1, 2}
    host_in = pd.read_csv(DATA / "breast_hetero_host.csv")
    host_out = rows(flow, job, "binning_0", "train_output_data", HOST)
    assert len(host_out) == ROWS and not host_out["x1"].astype(float).isin(range(3)).all()
    assert host_in.shape[1] == host_out.shape[1]


def test_binning_bucket_then_predict_in_the_same_job(flow: Flow) -> None:
    job = submit(flow, "binning_bucket")
    for party in (GUEST, HOST):
        assert counts(flow, job, "binning_1", party) == {"test_output_data": ROWS}
    assert set(rows(flow, job, "binning_1", "test_output_data")["x0"].astype(int)) <= set(range(10))


def test_binning_train_then_a_predict_job_from_the_model_warehouse(flow: Flow) -> None:
    train = submit(flow, "binning_train")
    predict = submit(flow, "binning_predict")
    trained = rows(flow, train, "binning_0", "train_output_data")
    predicted = rows(flow, predict, "binning_0", "test_output_data")
    pd.testing.assert_frame_equal(trained, predicted)
    host_bins = rows(flow, predict, "binning_0", "test_output_data", HOST)
    assert set(host_bins["x0"].astype(int)) <= set(range(5))


def test_selection_iv_statistics_manual(flow: Flow) -> None:
    job = submit(flow, "selection")
    guest_kept = rows(flow, job, "selection_0", "train_output_data").columns
    assert {"x0", "x1"} <= set(guest_kept)
    host_kept = [c for c in rows(flow, job, "selection_1", "train_output_data", HOST).columns if c[0] == "x"]
    assert host_kept == [f"x{i}" for i in range(2, 20)]
    guest_all = [c for c in rows(flow, job, "selection_1", "train_output_data").columns if c[0] == "x"]
    assert guest_all == [f"x{i}" for i in range(10)]


def test_evaluation_at_the_guest(flow: Flow) -> None:
    job = submit(flow, "evaluation")
    assert metric_types(flow, job, "evaluation_0") == {"evaluation": "evaluation"}
    result = metric(flow, job, "evaluation_0", "evaluation")
    (origin,) = result["psi_0"].values()
    names = [entry["metric"] if isinstance(entry, dict) else entry[0]["metric"] for entry in origin]
    assert names[:2] == ["auc", "ks"]
