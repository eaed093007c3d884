"""End to end across node processes: examples/dags/feature_correlation.yaml (reader -> psi -> three
feature_correlation tasks) on breast and default_credit, each party's model checked against numpy on the
joined tables."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from fate_grpc.cli.local_cluster import LocalCluster
from fate_grpc.common.v1 import common_pb2
from tests.e2e.test_outputs_e2e import GUEST, HOST, Flow
from tests.support.nodes import DAGS, DATA

pytestmark = pytest.mark.timeout(420)


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flow]:
    with LocalCluster(tmp_path_factory.mktemp("corr"), [GUEST, HOST]) as cluster:
        yield Flow(cluster)


def submitted(flow: Flow, dataset: str, tmp_path: Path) -> str:
    for role, party in (("guest", GUEST), ("host", HOST)):
        conf = json.loads(Path(f"examples/upload/upload_{role}.json").read_text())
        conf.update(name=f"{dataset}_hetero_{role}", file=str(DATA / f"{dataset}_hetero_{role}.csv"))
        (tmp_path / f"{role}.json").write_text(json.dumps(conf))
        flow.ok("data", "upload", "-c", str(tmp_path / f"{role}.json"), "--overwrite", party=party)
    text = (DAGS / "feature_correlation.yaml").read_text().replace("breast_hetero", f"{dataset}_hetero")
    path = tmp_path / f"{dataset}.yaml"
    path.write_text(text)
    job = flow.ok("job", "submit", "-c", str(path))["job_id"]
    # default_credit's 30,000 rows take longer than Flow.run_job's 90 s on a busy 2-core machine.
    with flow.cluster.client(GUEST) as client:
        view = client.wait_job(job, timeout_s=360)
    assert view.status == common_pb2.JOB_STATUS_SUCCESS, flow.ok("task", "query", "-j", job)
    return str(job)


def output_model(flow: Flow, job: str, task: str, role: str, party: str) -> dict[str, Any]:
    answer = flow.ok("output", "query-model", "-j", job, "-r", role, "-p", party, "-tn", task, party=party)
    return answer["data"]["output_model"]  # type: ignore[no-any-return]


def joined(dataset: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    guest = pd.read_csv(DATA / f"{dataset}_hetero_guest.csv")
    host = pd.read_csv(DATA / f"{dataset}_hetero_host.csv").set_index("id").loc[guest["id"]].reset_index()
    return guest.drop(columns=["id", "y"]), host.drop(columns=["id"])


def matrix(document: dict[str, dict[str, float]], rows: list[str], columns: list[str]) -> np.ndarray:
    return np.array([[document[c][r] for c in columns] for r in rows], dtype=np.float64)


@pytest.mark.parametrize("dataset", ["breast", "default_credit"])
def test_feature_correlation_dag(flow: Flow, dataset: str, tmp_path: Path) -> None:
    job = submitted(flow, dataset, tmp_path)
    guest, host = joined(dataset)
    g_names, h_names = list(guest.columns), list(host.columns)
    expected = np.corrcoef(np.hstack([guest.to_numpy(float), host.to_numpy(float)]).T)

    # feature_corr_0, defaults: both parties hold the cross correlations under their own view of the names.
    at_guest = output_model(flow, job, "feature_corr_0", "guest", GUEST)
    at_host = output_model(flow, job, "feature_corr_0", "host", HOST)
    host_anonymous = [f"host_10000_{j}" for j in range(len(h_names))]
    guest_anonymous = [f"guest_9999_{i}" for i in range(len(g_names))]
    cross = expected[: len(g_names), len(g_names) :]
    np.testing.assert_allclose(
        matrix(at_guest["data"]["remote_corr"], g_names, host_anonymous), cross, rtol=0, atol=1e-6
    )
    np.testing.assert_allclose(
        matrix(at_host["data"]["remote_corr"], guest_anonymous, h_names), cross, rtol=0, atol=1e-6
    )
    np.testing.assert_allclose(
        matrix(at_host["data"]["local_corr"], h_names, h_names),
        expected[len(g_names) :, len(g_names) :],
        atol=1e-12,
    )
    assert at_guest["meta"] == {
        "model_type": "feature_correlation",
        "column_anonymous_map": dict(zip(g_names, guest_anonymous, strict=True)),
    }
    # The node stores model documents with sorted keys, so compare names as sets.
    assert set(at_guest["data"]["vif"]["vif"]) == set(g_names)

    # feature_corr_1: per-party skip_col, no VIF.
    skipped = output_model(flow, job, "feature_corr_1", "guest", GUEST)["data"]
    assert skipped["vif"] is None
    assert set(skipped["local_corr"]) == set(g_names[2:])
    assert set(skipped["remote_corr"]) == {
        a for a, c in zip(host_anonymous, h_names, strict=True) if c != "x19"
    }

    # feature_corr_2: local only, anonymous skip_col read by each party for its own columns.
    local = output_model(flow, job, "feature_corr_2", "host", HOST)
    assert local["data"]["remote_corr"] is None and local["meta"]["column_anonymous_map"] is None
    assert set(local["data"]["vif"]["vif"]) == set(h_names[2:])
    guest_local = output_model(flow, job, "feature_corr_2", "guest", GUEST)["data"]["local_corr"]
    assert set(guest_local) == set(g_names) - {"x2"}

    # FATE's feature_correlation logs no metric.
    metrics = flow.ok(
        "output", "query-metric", "-j", job, "-r", "guest", "-p", GUEST, "-tn", "feature_corr_0"
    )
    assert metrics["data"] == []
