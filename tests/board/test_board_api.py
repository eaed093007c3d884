"""The board's JSON endpoints against real in-process nodes that ran reader -> psi -> coordinated_lr ->
evaluation: each answer is the user API's, shaped for the page."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient

from fate_grpc.client.v1 import outputs_pb2
from fate_grpc.common.v1 import common_pb2
from fate_grpc.node.config import ClientAuthSettings
from fate_grpc.security.identity import hash_token, new_token
from fate_grpc.store.records import TokenRecord
from tests.board.support import board_client, held
from tests.support.nodes import DAGS, Federation, federation

GUEST, HOST = "9999", "10000"
pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(300)]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def trained(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Federation, str]]:
    async with held(federation(tmp_path_factory.mktemp("board"), [GUEST, HOST])) as fed:
        await fed.upload_breast()
        job_id = await fed.submit(GUEST, (DAGS / "coordinated_lr.yaml").read_text())
        view = await fed.wait_job(GUEST, job_id, timeout_s=240)
        assert view.status == common_pb2.JOB_STATUS_SUCCESS
        yield fed, job_id


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def guest_board(trained: tuple[Federation, str]) -> AsyncIterator[TestClient]:
    fed, _ = trained
    async with board_client(fed.nodes[GUEST]) as client:
        yield client


async def get_json(client: TestClient, path: str, status: int = 200) -> Any:
    response = await client.get(f"/board/api/{path}")
    body = await response.json()
    assert response.status == status, body
    return body


async def test_the_job_list_filters_and_pages(
    guest_board: TestClient, trained: tuple[Federation, str]
) -> None:
    _, job_id = trained
    page = await get_json(guest_board, "jobs")
    assert page["count"] == 1 and page["jobs"][0]["job_id"] == job_id
    assert page["jobs"][0]["status"] == "success"
    assert {(p["role"], p["party_id"]) for p in page["jobs"][0]["parties"]} == {
        ("guest", GUEST),
        ("host", HOST),
        ("arbiter", HOST),
    }
    for query, expected in (
        ("status=success", 1),
        ("status=failed", 0),
        ("role=guest", 1),
        ("role=arbiter", 0),  # the guest's node plays no arbiter in it
        (f"party_id={HOST}", 1),
        ("party_id=7777", 0),
        (f"job_id={job_id[-6:]}", 1),
        ("job_id=nope", 0),
    ):
        assert (await get_json(guest_board, f"jobs?{query}"))["count"] == expected, query
    beyond = await get_json(guest_board, "jobs?offset=1&limit=5")
    assert (beyond["jobs"], beyond["count"], beyond["offset"], beyond["limit"]) == ([], 1, 1, 5)


async def test_bad_list_parameters_are_refused_by_name(guest_board: TestClient) -> None:
    answer = await get_json(guest_board, "jobs?limit=0", status=400)
    assert answer["code"] == 1001 and "limit must be between 1 and 200" in answer["message"]
    answer = await get_json(guest_board, "jobs?offset=x", status=400)
    assert "offset must be a whole number" in answer["message"]
    answer = await get_json(guest_board, "jobs?status=done", status=400)
    assert answer == {"code": 1001, "message": "unknown job status 'done'"}


async def test_the_job_page_draws_the_dag_in_layers(
    guest_board: TestClient, trained: tuple[Federation, str]
) -> None:
    _, job_id = trained
    page = await get_json(guest_board, f"jobs/{job_id}")
    nodes = {n["name"]: n for n in page["dag"]["nodes"]}
    assert {name: (n["component"], n["column"], n["state"]) for name, n in nodes.items()} == {
        "reader_0": ("reader", 0, "success"),
        "psi_0": ("psi", 1, "success"),
        "lr_0": ("coordinated_lr", 2, "success"),
        "evaluation_0": ("evaluation", 3, "success"),
    }
    edges = {(e["source"], e["target"]) for e in page["dag"]["edges"]}
    assert edges == {("reader_0", "psi_0"), ("psi_0", "lr_0"), ("lr_0", "evaluation_0")}
    # Every party's rows, from the scheduler's view.
    assert {(t["task_name"], t["role"], t["party_id"]) for t in page["tasks"]} >= {
        ("lr_0", "arbiter", HOST),
        ("evaluation_0", "guest", GUEST),
    }
    assert page["states"] == {name: "success" for name in nodes}


async def test_a_task_shows_its_parties_parameters_and_attempts(
    guest_board: TestClient, trained: tuple[Federation, str]
) -> None:
    _, job_id = trained
    task = await get_json(guest_board, f"jobs/{job_id}/tasks/guest/{GUEST}/lr_0")
    assert task["component"] == "coordinated_lr"
    assert task["parameters"]["epochs"] == 10 and task["parameters"]["batch_size"] == 300
    assert [(a["attempt"], a["status"]) for a in task["attempts"]] == [(0, "success")]
    missing = await get_json(guest_board, f"jobs/{job_id}/tasks/arbiter/{GUEST}/lr_0", status=404)
    assert "does not run at arbiter 9999" in missing["message"]


async def test_metrics_come_as_charts(guest_board: TestClient, trained: tuple[Federation, str]) -> None:
    fed, job_id = trained
    answer = await get_json(guest_board, f"jobs/{job_id}/tasks/guest/{GUEST}/evaluation_0/metrics")
    charts = {c["id"]: c for c in answer["charts"]}
    roc = charts["roc:lr_0.train_set"]
    assert roc["kind"] == "line" and roc["series"][0]["name"] == "ROC"
    curve = roc["series"][0]["data"]
    assert curve[0] == [0.0, 0.0] and curve[-1] == [1.0, 1.0]
    # The ROC is the evaluation's own ks_table (as flow output query-metric shows it), sorted by fpr.
    flow = await fed.client(GUEST).QueryMetrics(
        _metrics_request(job_id, "guest", GUEST, "evaluation_0"), timeout=10
    )
    assert len(flow.metrics) == len(answer["metrics"]) == 1
    items = answer["metrics"][0]["data"][0]["metric"]["lr_0"]["train_set"]
    ks_table = next(
        i
        for group in items
        for i in (group if isinstance(group, list) else [group])
        if i["metric"] == "ks_table"
    )["val"]
    assert sorted(zip(ks_table["fpr"], ks_table["tpr"], strict=True)) == [tuple(p) for p in curve[1:]]
    for kind in ("ks", "gain", "lift", "pr", "confusion", "scores"):
        assert f"{kind}:lr_0.train_set" in charts, kind
    scores = dict(charts["scores:lr_0.train_set"]["rows"])
    assert scores["auc"] > 0.99
    loss = await get_json(guest_board, f"jobs/{job_id}/tasks/arbiter/{HOST}/lr_0/metrics", status=409)
    assert loss["code"] == 1014  # the arbiter's outputs are at party 10000's node
    async with board_client(fed.nodes[HOST]) as host_board:
        arbiter = await get_json(host_board, f"jobs/{job_id}/tasks/arbiter/{HOST}/lr_0/metrics")
    loss_chart = next(c for c in arbiter["charts"] if c["id"] == "loss")
    steps = [p[0] for p in loss_chart["series"][0]["data"]]
    assert steps == list(range(len(steps))) and len(steps) == 10


def _metrics_request(job_id: str, role: str, party_id: str, task: str) -> Any:
    return outputs_pb2.QueryMetricsRequest(
        task=outputs_pb2.TaskOutputRef(job_id=job_id, role=role, party_id=party_id, task_name=task)
    )


async def test_model_data_preview_and_logs(guest_board: TestClient, trained: tuple[Federation, str]) -> None:
    _, job_id = trained
    base = f"jobs/{job_id}/tasks/guest/{GUEST}/lr_0"
    model = await get_json(guest_board, f"{base}/model")
    assert [m["info"]["output_key"] for m in model["models"]] == ["output_model"]
    assert "estimator" in model["models"][0]["document"]["data"]
    data = await get_json(guest_board, f"{base}/data?limit=3")
    (output,) = data["outputs"]
    assert output["output_key"] == "train_output_data" and len(output["rows"]) == 3
    assert "predict_score" in output["header"] and output["count"] == 569
    log = await get_json(guest_board, f"{base}/log?tail=2")
    (source,) = log["sources"]
    assert source["source"] == f"lr_0 attempt 0 guest {GUEST}" and len(source["lines"]) == 2
    response = await guest_board.get(f"/board/api/{base}/log/download")
    text = await response.text()
    assert response.status == 200 and "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert text.startswith(f"==> lr_0 attempt 0 guest {GUEST} <==\n") and text.endswith(
        "\n".join(source["lines"]) + "\n"
    )
    # Task logs stay at the party that ran the task: the guest's node has none of the host's.
    refused = await get_json(guest_board, f"jobs/{job_id}/tasks/host/{HOST}/lr_0/log/download", status=404)
    assert refused["message"] == f"no log of job {job_id} matches at party {GUEST}"


async def test_the_watch_stream_sends_views_until_the_job_ends(
    guest_board: TestClient, trained: tuple[Federation, str]
) -> None:
    _, job_id = trained
    response = await guest_board.get(f"/board/api/jobs/{job_id}/watch")
    assert response.headers["Content-Type"] == "text/event-stream"
    text = await response.text()
    events = [block.split("\n", 1) for block in text.strip().split("\n\n")]
    assert [name for name, _ in events] == ["event: view", "event: end"]
    view = json.loads(events[0][1].removeprefix("data: "))
    assert view["job"]["status"] == "success"
    assert view["states"] == {t: "success" for t in ("reader_0", "psi_0", "lr_0", "evaluation_0")}
    unknown = await get_json(guest_board, "jobs/202601010000000000000/watch", status=404)
    assert unknown["code"] == 1003


async def test_the_board_asks_for_the_user_apis_credentials(tmp_path: Path) -> None:
    async with federation(tmp_path, [GUEST], client_auth=ClientAuthSettings(mode="required")) as fed:
        node = fed.nodes[GUEST]
        async with board_client(node) as board:
            refused = await get_json(board, "jobs", status=401)
            assert refused["code"] == 1009 and "flow init --token" in refused["hint"]
            response = await board.get("/board/api/jobs", headers={"Authorization": "Bearer fgt_nope"})
            assert response.status == 401
            token = new_token()
            await node.store.put_token(TokenRecord(token_hash=hash_token(token), name="ann", is_admin=False))
            response = await board.get("/board/api/node", headers={"Authorization": f"Bearer {token}"})
            me = await response.json()
            assert (me["party_id"], me["user"], me["auth_method"]) == (GUEST, "ann", "token")
            # The page itself holds no data: a browser loads it before it has a token to send.
            bare = await board.get("/board", allow_redirects=False)
            assert (bare.status, bare.headers["Location"]) == (302, "/board/")
            page = await board.get("/board/")
            assert page.status == 200 and "board.js" in await page.text()
            assert "default-src 'self'" in page.headers["Content-Security-Policy"]
            script = await board.get("/board/static/vendor/echarts.min.js")
            assert script.status == 200
