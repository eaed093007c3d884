"""fate_client 2.2's own `flow`, unchanged, against two nodes' FATE-Flow HTTP API: every command group,
answers checked against what the nodes hold."""

from __future__ import annotations

import csv
import json
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from fate_grpc.common.v1 import common_pb2
from tests.board.support import held
from tests.httpapi.conftest import GUEST, HOST, FlowSite
from tests.httpapi.test_fate_client_pipeline import BREAST_ROWS, upload_breast
from tests.support.nodes import DAGS, ROOT

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(900)]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def trained(site: FlowSite) -> AsyncIterator[tuple[FlowSite, str]]:
    """The breast tables uploaded with `flow data upload-file`, and a coordinated_lr job submitted with
    `flow job submit` at the guest, finished."""

    async def run() -> AsyncIterator[tuple[FlowSite, str]]:
        await upload_breast(site)
        submitted = await site.client.flow("job", "submit", "-c", str(DAGS / "coordinated_lr.yaml"))
        assert submitted["code"] == 0, submitted
        assert submitted["data"] == {"model_id": "breast_lr", "model_version": "0"}
        view = await site.fed.wait_job(GUEST, submitted["job_id"], timeout_s=300)
        assert view.status == common_pb2.JOB_STATUS_SUCCESS
        yield site, submitted["job_id"]

    from contextlib import asynccontextmanager

    async with held(asynccontextmanager(run)()) as value:
        yield value


async def flow_at(site: FlowSite, party: str, *args: str) -> Any:
    await site.client.flow_init(site.http[party])
    return await site.client.flow(*args)


async def test_init_answers_as_fate_clients_expect(site: FlowSite) -> None:
    assert await site.client.flow_init(site.http[GUEST]) == {
        "code": 0,
        "retmsg": "Fate Flow CLI has been initialized successfully.",
    }
    assert await site.client.flow("site", "query") == {
        "code": 0,
        "message": "success",
        "data": {"party_id": GUEST},
    }
    server = await site.client.flow("server", "info")
    assert server["code"] == 0 and server["data"]["fateflow"][0]["party_id"] == GUEST


async def test_job_and_task_queries(trained: tuple[FlowSite, str]) -> None:
    site, job_id = trained
    rows = (await flow_at(site, GUEST, "job", "query", "-j", job_id))["data"]
    assert {(r["role"], r["party_id"], r["status"]) for r in rows} == {
        ("guest", GUEST, "success"),
        ("host", HOST, "success"),
        ("arbiter", HOST, "success"),
    }
    assert rows[0]["dag"]["dag"]["conf"]["model_id"] == "breast_lr"
    only_host = await site.client.flow("job", "query", "-j", job_id, "-r", "host")
    assert [r["role"] for r in only_host["data"]] == ["host"]
    listed = await site.client.flow("job", "list", "-l", "5")
    assert listed["data"]["count"] == 1 and listed["data"]["data"][0]["job_id"] == job_id
    tasks = (await site.client.flow("task", "query", "-j", job_id, "-r", "guest", "-p", GUEST))["data"]
    assert sorted(t["task_name"] for t in tasks) == ["evaluation_0", "lr_0", "psi_0", "reader_0"]
    assert {t["status"] for t in tasks} == {"success"}
    paged = await site.client.flow("task", "list", "-j", job_id, "-l", "2")
    assert paged["data"]["count"] == len(tasks)  # the tasks this node runs
    assert len(paged["data"]["data"]) == 2
    dependency = await site.client.flow("job", "dependency", "-j", job_id, "-r", "guest", "-p", GUEST)
    assert dependency["code"] == 0 and dependency["data"]
    noted = await site.client.flow(
        "job", "add-notes", "-j", job_id, "-r", "guest", "-p", GUEST, "--notes", "v1"
    )
    assert noted["code"] == 0
    listed = await site.client.flow("job", "list")
    assert listed["data"]["data"][0]["description"] == "v1"


async def test_output_metrics_model_and_data(trained: tuple[FlowSite, str], tmp_path: Path) -> None:
    site, job_id = trained
    task = ["-j", job_id, "-r", "guest", "-p", GUEST]
    keys = await flow_at(site, GUEST, "output", "query-metric-key", *task, "-tn", "evaluation_0")
    assert keys["code"] == 0 and keys["data"] and "data" not in keys["data"][0]
    metrics = await site.client.flow("output", "query-metric", *task, "-tn", "evaluation_0")
    assert metrics["data"][0]["data"][0]["metric"]["lr_0"]["train_set"][0]["metric"] == "auc"
    arbiter = ["-j", job_id, "-r", "arbiter", "-p", HOST, "-tn", "lr_0"]
    loss = await flow_at(site, HOST, "output", "query-metric", *arbiter)
    assert [m["name"] for m in loss["data"]] == ["lr_loss"] and len(loss["data"][0]["data"]) == 10
    await site.client.flow_init(site.http[GUEST])

    model = await site.client.flow("output", "query-model", *task, "-tn", "lr_0")
    assert set(model["data"]) == {"output_model"} and "data" in model["data"]["output_model"]
    downloaded = await site.client.flow("output", "download-model", *task, "-tn", "lr_0", "-o", str(tmp_path))
    assert downloaded["code"] == 0, downloaded
    model_dir = tmp_path / f"output_model_{job_id}_guest_{GUEST}_lr_0"
    assert any(model_dir.rglob("*.json")), list(model_dir.rglob("*"))

    tables = await site.client.flow("output", "query-data-table", *task, "-tn", "lr_0")
    assert set(tables["data"]) == {"train_output_data"}
    shown = await site.client.flow("output", "display-data", *task, "-tn", "lr_0")
    assert shown["data"]["train_output_data"][0]["total"] == BREAST_ROWS

    written = await site.client.flow("output", "download-data", *task, "-tn", "lr_0", "-o", str(tmp_path))
    assert written["code"] == 0, written
    data_dir = tmp_path / f"output_data_{job_id}_guest_{GUEST}_lr_0" / "train_output_data"
    lines = (data_dir / "0.csv").read_text().splitlines()
    assert lines[0] == "id,label,predict_score,predict_result,predict_detail,type"
    assert len(lines) == BREAST_ROWS + 1
    # The same rows the node stored (there a quoted CSV; FATE writes the values as they are).
    stored = site.fed.nodes[GUEST].paths.root
    stored_csv = next(stored.rglob(f"{job_id}/guest_{GUEST}/lr_0/*/outputs/train_output_data.csv"))
    with stored_csv.open(newline="") as rows:
        assert [",".join(row) for row in csv.reader(rows)] == lines
    assert json.loads((data_dir / "0.meta").read_text())


async def test_model_export_import_and_delete(trained: tuple[FlowSite, str], tmp_path: Path) -> None:
    site, _ = trained
    target = site.server_dir / "exported"
    exported = await flow_at(
        site,
        GUEST,
        "model",
        "export",
        "-mid",
        "breast_lr",
        "-mv",
        "0",
        "-r",
        "guest",
        "-p",
        GUEST,
        "-o",
        str(target),
    )
    assert exported["code"] == 0, exported
    archive = target / f"breast_lr_0_guest_{GUEST}.zip"
    assert exported["data"] == [str(archive)]
    assert zipfile.ZipFile(archive).namelist()
    imported = await site.client.flow(
        "model", "import", "-mid", "breast_lr_copy", "-mv", "1", "-i", str(archive)
    )
    assert imported["code"] == 0, imported
    assert {(m["model_id"], m["model_version"]) for m in imported["data"]} == {("breast_lr_copy", "1")}
    deleted = await site.client.flow("model", "delete", "-mid", "breast_lr_copy", "-mv", "1")
    assert deleted["code"] == 0 and deleted["data"]["count"] == len(imported["data"])
    outside = await site.client.flow(
        "model", "export", "-mid", "breast_lr", "-mv", "0", "-r", "guest", "-p", GUEST, "-o", str(tmp_path)
    )
    assert outside["code"] != 0 and "server_data_dirs" in outside["message"]


async def test_logs_tables_and_data(trained: tuple[FlowSite, str], tmp_path: Path) -> None:
    site, job_id = trained
    await site.client.flow_init(site.http[GUEST])
    count = await site.client.flow(
        "log", "count", "--log-type", "schedule_info", "-j", job_id, "-r", "guest", "-p", GUEST
    )
    assert count["code"] == 0 and count["data"] > 0
    lines = await site.client.flow(
        "log", "query", "--log-type", "schedule_info", "-j", job_id, "-r", "guest", "-p", GUEST
    )
    assert len(lines["data"]) == count["data"]
    logs = await site.client.flow("job", "download-log", "-j", job_id, "-o", str(tmp_path))
    assert logs["code"] == 0, logs
    assert any((tmp_path / f"{job_id}_logs").rglob("*"))

    table = await site.client.flow("table", "query", "-n", "breast_hetero_guest", "-ns", "experiment")
    assert table["data"]["count"] == BREAST_ROWS and table["data"]["meta"]["label_name"] == "y"
    shown = await site.client.flow(
        "table", "query", "-n", "breast_hetero_guest", "-ns", "experiment", "-d", "true"
    )
    assert len(shown["data"]["display"]) == 100
    downloaded = await site.client.flow(
        "data", "download", "-n", "breast_hetero_guest", "-ns", "experiment", "-o", str(tmp_path / "table")
    )
    assert downloaded["code"] == 0, downloaded
    assert len((tmp_path / "table" / "data" / "0.csv").read_text().splitlines()) == BREAST_ROWS + 1
    bound_file = site.server_dir / "bound.csv"
    bound_file.write_text("id,x0\n1,0.5\n2,0.25\n")
    bound = await site.client.flow("table", "bind", "-n", "bound", "-ns", "experiment", "-o", str(bound_file))
    assert bound["code"] == 0, bound
    assert (await site.client.flow("table", "delete", "-n", "bound", "-ns", "experiment"))["code"] == 0
    missing = await site.client.flow("table", "query", "-n", "bound", "-ns", "experiment")
    assert missing["code"] != 0 and "bound" in missing["message"]


async def test_admin_groups(trained: tuple[FlowSite, str]) -> None:
    site, _ = trained
    await site.client.flow_init(site.http[GUEST])
    providers = await site.client.flow("provider", "query")
    assert any(p["name"] == "fate" for p in providers["data"]), providers
    conf = site.client.cwd / "grant.json"
    conf.write_text(
        json.dumps(
            {
                "party_id": HOST,
                "component": "reader,psi",
                "dataset": [{"namespace": "experiment", "name": "x"}],
            }
        )
    )
    assert (await site.client.flow("permission", "grant-resource", "-c", str(conf)))["code"] == 0
    resources = await site.client.flow("permission", "query-resource", "-p", HOST)
    assert {"reader", "psi"} <= set(resources["data"]["component"])
    assert {"namespace": "experiment", "name": "x"} in resources["data"]["dataset"]
    assert (await site.client.flow("permission", "delete-resource", "-c", str(conf)))["code"] == 0
    created = await site.client.flow("client", "create-client", "--app-name", "alice")
    assert created["code"] == 0 and created["data"]["app_id"] == "alice"
    queried = await site.client.flow("client", "query-client", "--app-id", "alice")
    assert queried["data"][0]["app_token"] == created["data"]["app_token"]
    roles = await site.client.flow("permission", "query", "--app-id", "alice")
    assert set(roles["data"]) == {"client"}
    refused = await site.client.flow("client", "create-site", "-p", GUEST)
    assert refused["code"] != 0 and "certificates" in refused["message"]
    partners = await site.client.flow("client", "query-partner")
    assert [p["party_id"] for p in partners["data"]] == [HOST]
    assert (await site.client.flow("client", "delete-client", "--app-id", "alice"))["data"] == {
        "status": True
    }


async def test_server_side_data_commands(trained: tuple[FlowSite, str]) -> None:
    site, _ = trained
    await site.client.flow_init(site.http[GUEST])
    server_file = site.server_dir / "small.csv"
    server_file.write_text("id,y,x0\n1,0,0.5\n2,1,0.25\n3,0,0.125\n")
    conf = site.client.cwd / "upload_small.json"
    conf.write_text(
        json.dumps(
            {
                "file": str(server_file),
                "head": True,
                "partitions": 2,
                "meta": {"delimiter": ",", "label_name": "y", "match_id_name": "id"},
                "namespace": "experiment",
                "name": "small",
            }
        )
    )
    uploaded = await site.client.flow("data", "upload", "-c", str(conf))
    assert uploaded["code"] == 0 and uploaded["data"] == {"name": "small", "namespace": "experiment"}, (
        uploaded
    )
    transformer = site.client.cwd / "transformer.json"
    transformer.write_text(
        json.dumps(
            {
                "data_warehouse": {"namespace": "experiment", "name": "small"},
                "namespace": "experiment",
                "name": "small_df",
            }
        )
    )
    transformed = await site.client.flow("data", "transformer", "-c", str(transformer))
    assert transformed["code"] == 0 and transformed["data"]["name"] == "small_df", transformed
    written = await site.client.flow(
        "data",
        "download-component",
        "-n",
        "small_df",
        "-ns",
        "experiment",
        "-o",
        str(site.server_dir / "out"),
    )
    assert written["code"] == 0 and written["data"]["count"] == 3, written


async def test_toy_and_job_lifecycle_commands(trained: tuple[FlowSite, str]) -> None:
    site, job_id = trained
    await site.client.flow_init(site.http[GUEST])
    toy = await site.client.run(
        "-m", "fate_client.flow_cli.flow", "test", "toy", "-gid", GUEST, "-hid", HOST, "-t", "120"
    )
    assert toy.returncode == 0 and " is success" in toy.stdout, toy.stdout + toy.stderr
    toy_job = toy.stdout.split("toy test job ")[1].split(" ")[0]
    stopped = await site.client.flow("job", "stop", "-j", toy_job)
    assert stopped["code"] != 0 and stopped["message"], stopped  # an ended job is not stopped again
    rerun = await site.client.flow("job", "rerun", "-j", toy_job)
    assert rerun["code"] == 1005 and "only a failed, canceled or timed-out job" in rerun["message"]
    assert (await site.client.flow("job", "clean-queue"))["data"] == {}
    cleaned = await site.client.flow("job", "clean", "-j", toy_job)
    assert cleaned["code"] == 0, cleaned
    gone = await site.client.flow("job", "query", "-j", toy_job)
    assert gone["code"] != 0
    # Errors are FATE's answers, not tracebacks: a missing field is named.
    missing = await site.client.flow(
        "output", "query-metric", "-j", job_id, "-r", "guest", "-p", GUEST, "-tn", "nope"
    )
    assert missing["code"] != 0 and "nope" in missing["message"]


async def test_provider_register_and_delete(trained: tuple[FlowSite, str]) -> None:
    site, _ = trained
    await site.client.flow_init(site.http[GUEST])
    conf = site.client.cwd / "provider.json"
    conf.write_text(
        json.dumps(
            {
                "name": "testkit",
                "version": "1.0",
                "device": "local",
                "metadata": {"module": "tests.support.test_components", "path": str(ROOT)},
            }
        )
    )
    registered = await site.client.flow("provider", "register", "-c", str(conf))
    assert registered["code"] == 0 and registered["data"]["provider_name"] == "testkit:1.0@local", registered
    assert registered["data"]["components"]
    found = await site.client.flow("provider", "query", "--name", "testkit")
    assert [p["provider_name"] for p in found["data"]] == ["testkit:1.0@local"]
    deleted = await site.client.flow("provider", "delete", "--name", "testkit", "--version", "1.0")
    assert deleted["code"] == 0 and deleted["data"]["deleted"] is True
    assert (await site.client.flow("provider", "query", "--name", "testkit"))["data"] == []


async def test_refused_fate_app_commands_say_what_to_do_instead(trained: tuple[FlowSite, str]) -> None:
    site, _ = trained
    await site.client.flow_init(site.http[GUEST])
    granted = await site.client.flow("permission", "grant", "--app-id", "bob", "-r", "super_client")
    assert granted["code"] != 0 and "flow token create -n bob --admin" in granted["hint"], granted
    for args in (("delete-site", "-p", GUEST), ("delete-partner", "-p", HOST)):
        refused = await site.client.flow("client", *args)
        assert refused["code"] != 0 and refused["message"], refused


async def test_output_deletions(trained: tuple[FlowSite, str]) -> None:
    """Last in this module: it removes the job's evaluation metrics and lr_0's model."""
    site, job_id = trained
    await site.client.flow_init(site.http[GUEST])
    task = ["-j", job_id, "-r", "guest", "-p", GUEST]
    assert (await site.client.flow("output", "delete-metric", *task, "-tn", "evaluation_0"))["data"] is True
    assert (await site.client.flow("output", "query-metric", *task, "-tn", "evaluation_0"))["data"] == []
    assert (await site.client.flow("output", "delete-model", *task, "-tn", "lr_0"))["code"] == 0
    gone = await site.client.flow("output", "query-model", *task, "-tn", "lr_0")
    assert gone["code"] != 0 or gone["data"] == {}, gone
