"""End to end across node processes: reader -> psi -> feature_scale -> hetero_feature_binning ->
hetero_feature_selection on breast (569 rows) and default_credit (30,000 rows), checked against a
plaintext computation on the joined tables."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fate_grpc.cli.local_cluster import LocalCluster
from tests.e2e.test_outputs_e2e import GUEST, HOST, Flow
from tests.support.nodes import DAGS, DATA

pytestmark = pytest.mark.timeout(420)


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flow]:
    with LocalCluster(tmp_path_factory.mktemp("fe"), [GUEST, HOST]) as cluster:
        yield Flow(cluster)


def dag_for(dataset: str, tmp_path: Path) -> Path:
    text = (DAGS / "feature_engineering.yaml").read_text().replace("breast_hetero", f"{dataset}_hetero")
    path = tmp_path / f"{dataset}.yaml"
    path.write_text(text)
    return path


def host_ivs(flow: Flow, job: str) -> tuple[dict[str, float], dict[str, float]]:
    ref = ["-j", job, "-tn", "binning_0"]
    guest = flow.ok("output", "query-model", *ref, "-r", "guest", "-p", GUEST)["data"]["output_model"]["data"]
    host = flow.ok("output", "query-model", *ref, "-r", "host", "-p", HOST, party=HOST)["data"][
        "output_model"
    ]
    names = host["data"]["anonymous"]
    own = {c: m["iv"] for c, m in guest["metrics"].items()}
    return own, {names[a]: m["iv"] for a, m in guest["host_metrics"].items()}


def plaintext_iv(x: np.ndarray, y: np.ndarray, edges: list[float]) -> float:
    bins = np.minimum(np.searchsorted(np.asarray(edges), x, side="left"), len(edges) - 1)
    events = np.bincount(bins, weights=y, minlength=len(edges))
    totals = np.bincount(bins, minlength=len(edges)).astype(float)
    non_events = totals - events
    # FATE 2.2: a zero count's rate is adjustment_factor (0.5) itself.
    er = np.where(events == 0, 0.5, events / y.sum())
    nr = np.where(non_events == 0, 0.5, non_events / (len(y) - y.sum()))
    return float(np.sum((er - nr) * np.log(er / nr)))


@pytest.mark.parametrize("dataset", ["breast", "default_credit"])
def test_feature_engineering_dag(flow: Flow, dataset: str, tmp_path: Path) -> None:
    for role, party in (("guest", GUEST), ("host", HOST)):
        conf = json.loads(Path(f"examples/upload/upload_{role}.json").read_text())
        conf.update(name=f"{dataset}_hetero_{role}", file=str(DATA / f"{dataset}_hetero_{role}.csv"))
        (tmp_path / f"{role}.json").write_text(json.dumps(conf))
        flow.ok("data", "upload", "-c", str(tmp_path / f"{role}.json"), "--overwrite", party=party)
    job = flow.run_job(dag_for(dataset, tmp_path))

    guest = pd.read_csv(DATA / f"{dataset}_hetero_guest.csv")
    host = pd.read_csv(DATA / f"{dataset}_hetero_host.csv").set_index("id").loc[guest["id"]].reset_index()
    y = guest["y"].to_numpy(dtype=float)
    own, hosts = host_ivs(flow, job)

    # IV of the host's features, computed by the guest over encrypted labels, equals the plaintext IV on
    # the scaled host columns with the host's own split points.
    model = flow.ok(
        "output", "query-model", "-j", job, "-r", "host", "-p", HOST, "-tn", "binning_0", party=HOST
    )
    split_points = model["data"]["output_model"]["data"]["split_points"]
    for column, iv in hosts.items():
        x = host[column].to_numpy(dtype=float)
        scaled = (x - x.mean()) / x.std(ddof=1)
        assert iv == pytest.approx(plaintext_iv(scaled, y, split_points[column]), abs=1e-6), column

    # Selection kept exactly the features a plaintext IV >= 0.1 filter keeps, at each party.
    for role, party, ivs, frame in (("guest", GUEST, own, guest), ("host", HOST, hosts, host)):
        answer = flow.ok(
            "output",
            "display-data",
            "-j",
            job,
            "-r",
            role,
            "-p",
            party,
            "-tn",
            "selection_0",
            "-l",
            "1",
            party=party,
        )
        header = answer["data"]["train_output_data"][0]
        features = [c for c in header if c.startswith("x")]
        assert features == [c for c in frame.columns if c in ivs and ivs[c] >= 0.1], (role, ivs)
        assert answer["count"]["train_output_data"] == len(guest)

    # FATE's binning logs no metric (its IVs are in the model).
    metric = flow.ok("output", "query-metric", "-j", job, "-r", "guest", "-p", GUEST, "-tn", "binning_0")[
        "data"
    ]
    assert metric == []
