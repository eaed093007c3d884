"""fate_client 2.2's own pipeline API, unchanged, against two nodes: FATE's example-style scripts train,
deploy and predict, and what `get_task_info(...)` returns is what FATE's would."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sklearn.metrics import roc_auc_score

from tests.httpapi.conftest import GUEST, HOST, FlowSite
from tests.support.nodes import DATA, ROOT

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(1200)]
PIPELINES = ROOT / "examples" / "pipeline"
BREAST_ROWS = 569


def upload_conf(directory: Path, party: str) -> Path:
    """FATE's upload conf for a breast table (the file as an absolute path)."""
    side = "guest" if party == GUEST else "host"
    meta: dict[str, Any] = {"delimiter": ",", "match_id_name": "id"}
    if side == "guest":
        meta["label_name"] = "y"
    conf = {
        "file": str(DATA / f"breast_hetero_{side}.csv"),
        "head": True,
        "partitions": 4,
        "extend_sid": False,
        "meta": meta,
        "namespace": "experiment",
        "name": f"breast_hetero_{side}",
    }
    path = directory / f"upload_{side}.json"
    path.write_text(json.dumps(conf))
    return path


async def upload_breast(site: FlowSite) -> None:
    for party in (HOST, GUEST):
        await site.client.flow_init(site.http[party])
        uploaded = await site.client.flow(
            "data", "upload-file", "-c", str(upload_conf(site.client.cwd, party))
        )
        assert uploaded["code"] == 0, uploaded
        side = "guest" if party == GUEST else "host"
        assert uploaded["data"] == {"name": f"breast_hetero_{side}", "namespace": "experiment"}
        # FATE runs an upload as a job: its id answers a job query, already succeeded.
        job = await site.client.flow("job", "query", "-j", uploaded["job_id"])
        assert job["code"] == 0 and job["data"][0]["status"] == "success", job


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def breast(site: FlowSite) -> FlowSite:
    """The breast tables at both nodes, uploaded with fate_client's `flow data upload-file`."""
    await upload_breast(site)
    return site


async def test_coordinated_lr_pipeline_trains_deploys_and_predicts(breast: FlowSite) -> None:
    site = breast
    await site.client.pipeline_init(site.http[GUEST])
    summary = await site.client.script(PIPELINES / "coordinated_lr" / "pipeline_coordinated_lr.py")

    assert summary["train_job_id"] != summary["predict_job_id"]
    # The guest logs no metric of its own in coordinated_lr (the loss is the arbiter's), as in FATE.
    assert summary["lr_metric_names"] == []
    assert summary["lr_model_keys"] == ["output_model"]
    check_predictions(summary["train_output_data"], summary["evaluation"], "lr_0")
    assert summary["predict_output_data"]["rows"] == BREAST_ROWS
    assert set(summary["predict_output_data"]["id"]) == set(summary["train_output_data"]["id"])


def check_predictions(data: dict[str, Any], evaluation: list[dict[str, Any]], task: str) -> None:
    """The rows get_output_data() returned are FATE's prediction table, and the evaluation's AUC is
    the AUC of their scores (scikit-learn as the plaintext oracle)."""
    assert data["rows"] == BREAST_ROWS
    assert data["columns"] == ["id", "label", "predict_score", "predict_result", "predict_detail", "type"]
    # The pipeline reads a prediction table line by line (values as text) and parses predict_detail
    # back into the dict of class scores.
    scores = [float(score) for score in data["predict_score"]]
    details = data["predict_detail"]
    assert all(set(d) == {"0", "1"} for d in details)
    assert [d["1"] for d in details] == pytest.approx(scores)
    expected_auc = roc_auc_score([int(label) for label in data["label"]], scores)
    record = evaluation[0]
    assert record["name"] == "binary" or record["data"], record
    train_set = record["data"][0]["metric"][task]["train_set"]
    auc = next(item for item in _flatten(train_set) if item["metric"] == "auc")["val"]
    assert auc == pytest.approx(expected_auc, abs=1e-9)
    assert auc > 0.95


def _flatten(items: list[Any]) -> list[dict[str, Any]]:
    flat: list[dict[str, Any]] = []
    for item in items:
        flat.extend(_flatten(item) if isinstance(item, list) else [item])
    return flat


async def test_hetero_secureboost_pipeline_trains_deploys_and_predicts(breast: FlowSite) -> None:
    site = breast
    await site.client.pipeline_init(site.http[GUEST])
    summary = await site.client.script(PIPELINES / "hetero_secureboost" / "pipeline_hetero_secureboost.py")

    assert summary["sbt_model_keys"] == ["output_model"]
    check_predictions(summary["train_output_data"], summary["evaluation"], "sbt_0")
    assert summary["predict_output_data"]["rows"] == BREAST_ROWS
    # The deployed model predicts the training rows as training scored them.
    trained = dict(
        zip(summary["train_output_data"]["id"], summary["train_output_data"]["predict_score"], strict=True)
    )
    predicted = dict(
        zip(
            summary["predict_output_data"]["id"], summary["predict_output_data"]["predict_score"], strict=True
        )
    )
    assert {k: float(v) for k, v in predicted.items()} == pytest.approx(
        {k: float(v) for k, v in trained.items()}
    )


async def test_feature_engineering_pipeline_trains_deploys_and_predicts(breast: FlowSite) -> None:
    site = breast
    await site.client.pipeline_init(site.http[GUEST])
    summary = await site.client.script(PIPELINES / "feature_engineering" / "pipeline_feature_engineering.py")

    assert summary["selection_model_keys"] == ["train_output_model"]
    check_predictions(summary["train_output_data"], summary["evaluation"], "lr_0")
    trained = dict(
        zip(summary["train_output_data"]["id"], summary["train_output_data"]["predict_score"], strict=True)
    )
    predicted = dict(
        zip(
            summary["predict_output_data"]["id"], summary["predict_output_data"]["predict_score"], strict=True
        )
    )
    assert {k: float(v) for k, v in predicted.items()} == pytest.approx(
        {k: float(v) for k, v in trained.items()}
    )


async def test_pipeline_uploads_a_local_file_as_fates_upload_job(site: FlowSite) -> None:
    """transform_local_file_to_dataframe sends the file and follows the upload's job (role local,
    party 0) until it has succeeded, as it does with FATE-Flow."""
    await site.client.pipeline_init(site.http[GUEST])
    upload = (
        "from fate_client.pipeline import FateFlowPipeline\n"
        "FateFlowPipeline().transform_local_file_to_dataframe(\n"
        f"    file={str(DATA / 'breast_hetero_guest.csv')!r}, head=True, namespace='experiment',\n"
        "    name='breast_from_pipeline', extend_sid=True,\n"
        "    meta={'delimiter': ',', 'label_name': 'y', 'match_id_name': 'id'})\n"
    )
    ran = await site.client.run("-c", upload)
    assert ran.returncode == 0 and "Job is success" in ran.stdout, ran.stdout + ran.stderr
    await site.client.flow_init(site.http[GUEST])
    table = await site.client.flow("table", "query", "-n", "breast_from_pipeline", "-ns", "experiment")
    assert table["code"] == 0 and table["data"]["count"] == BREAST_ROWS, table
