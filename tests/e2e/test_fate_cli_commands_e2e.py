"""End to end: every job, task, log, site, server, client, permission and provider command of
fate_client 2.2's `flow`, typed with FATE's flags as a fate_client script would, against node processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from fate_grpc import __version__
from fate_grpc.cli.local_cluster import LocalCluster
from tests.support.nodes import DAGS, ROOT

pytestmark = pytest.mark.timeout(240)

GUEST, HOST = "9999", "10000"
FLOW = [sys.executable, "-m", "fate_grpc.cli.flow_cli"]


def flow_raw(
    *args: str, node: str | None = None, conf: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ}
    if conf is not None:
        env["FATE_GRPC_FLOW_CONF"] = str(conf)
    command = [*FLOW, *(["--node", node] if node else []), *args]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    assert "No such command" not in done.stdout + done.stderr, done.stdout + done.stderr
    return done


def flow(*args: str, node: str | None = None, conf: Path | None = None) -> tuple[int, dict[str, Any]]:
    done = flow_raw(*args, node=node, conf=conf)
    return done.returncode, json.loads(done.stdout)


def ok(*args: str, node: str) -> Any:
    code, answer = flow(*args, node=node)
    assert code == 0 and answer["code"] == 0, answer
    return answer.get("data")


def watch_until(node: str, job_id: str, wanted: set[str]) -> str:
    """Follow the job's stream (`flow job watch --json`) until its status is one of `wanted`."""
    with subprocess.Popen(
        [*FLOW, "--node", node, "job", "watch", "-j", job_id, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    ) as watch:
        assert watch.stdout is not None
        status = ""
        for line in watch.stdout:
            status = json.loads(line)["job"]["status"]
            if status in wanted:
                break
        watch.terminate()
    assert status in wanted, status
    return status


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    with LocalCluster(tmp_path_factory.mktemp("cluster"), [GUEST, HOST]) as c:
        yield c


@pytest.fixture(scope="module")
def nodes(cluster: LocalCluster) -> dict[str, str]:
    return {pid: party.address for pid, party in cluster.parties.items()}


@pytest.fixture(scope="module")
def done_job(nodes: dict[str, str]) -> str:
    """A reader -> psi job that ended successfully."""
    ok("data", "upload", "-c", "examples/upload/upload_guest.json", node=nodes[GUEST])
    ok("data", "upload", "-c", "examples/upload/upload_host.json", node=nodes[HOST])
    code, answer = flow("job", "submit", "-c", str(DAGS / "psi.yaml"), node=nodes[GUEST])
    assert code == 0, answer
    assert (
        watch_until(nodes[GUEST], answer["job_id"], {"success", "failed", "canceled", "timeout"}) == "success"
    )
    return str(answer["job_id"])


def test_version_init_site_and_server(nodes: dict[str, str], tmp_path: Path) -> None:
    version = flow_raw("version")
    assert version.returncode == 0 and version.stdout.strip() == __version__

    settings = tmp_path / "flow.yaml"
    ip, port = nodes[GUEST].split(":")
    code, answer = flow(
        "init", "--ip", ip, "--port", port, "--app-id", "alice", "--app-token", "t0k", conf=settings
    )
    assert code == 0 and answer["data"]["token"] == "(stored)"
    assert yaml.safe_load(settings.read_text()) == {
        "ip": ip,
        "port": int(port),
        "api_version": "v1",
        "token": "t0k",
        "app_id": "alice",
    }

    assert ok("site", "query", node=nodes[HOST]) == {"party_id": HOST}

    info = ok("server", "info", node=nodes[GUEST])
    assert info["party_id"] == GUEST and info["version"] == __version__
    assert info["routes"] == nodes and info["tls"] is False and info["auth_method"] == "open"
    assert info["ready_task_processes"] >= 0 and "user" in info and "is_admin" in info
    [partner] = info["partners"]
    assert partner["party_id"] == HOST and partner["address"] == nodes[HOST] and partner["reachable"] is True
    assert partner["latency_ms"] >= 0


def assert_fate_times(row: dict[str, Any], *names: str) -> None:
    """FATE's time form: unix milliseconds (ints), elapsed in ms."""
    for name in names:
        assert isinstance(row[name], int) and row[name] > 1_600_000_000_000, (name, row)
    assert isinstance(row["elapsed"], int) and row["elapsed"] >= 0


def test_job_query_and_list_with_fate_flags(nodes: dict[str, str], done_job: str) -> None:
    rows = ok("job", "query", "-j", done_job, "-r", "guest", "-p", GUEST, "-s", "success", node=nodes[GUEST])
    [row] = rows
    assert (row["job_id"], row["role"], row["party_id"], row["status"]) == (
        done_job,
        "guest",
        GUEST,
        "success",
    )
    assert_fate_times(row, "create_time", "update_time", "start_time", "end_time")
    assert row["elapsed"] == row["end_time"] - row["start_time"]
    assert row["dag"]["dag"]["tasks"]["psi_0"]["component_ref"] == "psi"  # the submitted DAG
    assert row["tasks"] == {"reader_0": "success", "psi_0": "success"}

    watched = flow_raw("job", "watch", "-j", done_job, "--json", node=nodes[HOST])
    assert watched.returncode == 0
    [document] = [json.loads(line) for line in watched.stdout.splitlines()]
    assert document["job"]["status"] == "success" and document["job"]["job_id"] == done_job
    assert_fate_times(document["job"], "create_time", "update_time", "start_time", "end_time")
    assert len(document["tasks"]) == 4
    for task_row in document["tasks"]:
        assert_fate_times(task_row, "create_time", "update_time", "start_time", "end_time")

    everything = ok("job", "query", "-s", "success", node=nodes[HOST])
    assert {(r["job_id"], r["role"], r["party_id"]) for r in everything} >= {(done_job, "host", HOST)}

    listed = ok(
        "job",
        "list",
        "-j",
        done_job[:10],
        "-r",
        "host",
        "-p",
        GUEST,
        "-s",
        "success",
        "-l",
        "5",
        node=nodes[HOST],
    )
    assert listed["count"] >= 1
    mine = [r for r in listed["data"] if r["job_id"] == done_job]
    assert [(r["role"], r["party_id"], r["partners"]) for r in mine] == [("host", HOST, [GUEST])]
    assert_fate_times(mine[0], "create_time", "start_time", "end_time")
    assert ok("job", "list", "-r", "arbiter", node=nodes[HOST]) == {"count": 0, "data": []}


def test_task_query_and_list_with_fate_flags(nodes: dict[str, str], done_job: str) -> None:
    [psi] = ok(
        "task",
        "query",
        "-j",
        done_job,
        "-r",
        "host",
        "-p",
        HOST,
        "-tn",
        "psi_0",
        "-s",
        "success",
        "-tv",
        "0",
        node=nodes[GUEST],
    )
    assert (psi["task_id"], psi["task_version"], psi["component"]) == (f"{done_job}_psi_0", 0, "psi")
    assert_fate_times(psi, "create_time", "start_time", "end_time", "update_time")
    assert psi["create_time"] <= psi["start_time"] <= psi["end_time"]
    by_tid = ok("task", "query", "-tid", f"{done_job}_reader_0", node=nodes[GUEST])
    assert {(r["role"], r["task_name"]) for r in by_tid} == {("guest", "reader_0"), ("host", "reader_0")}
    assert ok("task", "query", "-j", done_job, "-tv", "1", node=nodes[GUEST]) == []
    anywhere = ok(
        "task", "query", "-r", "guest", "-p", GUEST, "-tn", "psi_0", "-s", "success", node=nodes[GUEST]
    )
    assert (done_job, "psi_0", "guest") in {(r["job_id"], r["task_name"], r["role"]) for r in anywhere}
    assert all(r["status"] == "success" and r["task_name"] == "psi_0" for r in anywhere)

    listed = ok(
        "task",
        "list",
        "-j",
        done_job,
        "-r",
        "guest",
        "-p",
        GUEST,
        "-tn",
        "psi_0",
        "-l",
        "5",
        node=nodes[GUEST],
    )
    assert listed["count"] == 1 and [r["task_name"] for r in listed["data"]] == ["psi_0"]
    assert_fate_times(listed["data"][0], "create_time", "start_time", "end_time")


def test_dependency_notes_and_log_download(nodes: dict[str, str], done_job: str, tmp_path: Path) -> None:
    graph = ok("job", "dependency", "-j", done_job, "-r", "guest", "-p", GUEST, node=nodes[GUEST])
    assert graph == {
        "component_list": ["reader_0", "psi_0"],
        "component_stage": {"reader_0": "default", "psi_0": "default"},
        "component_module": {"reader_0": "reader", "psi_0": "psi"},
        "dependencies": {
            "reader_0": [{"up_output_info": []}],
            "psi_0": [
                {
                    "type": "input_data",
                    "model_type": "data",
                    "component_name": "reader_0",
                    "up_output_info": ["output_data"],
                }
            ],
        },
    }

    ok(
        "job",
        "add-notes",
        "-j",
        done_job,
        "-r",
        "host",
        "-p",
        HOST,
        "--notes",
        "breast, second try",
        node=nodes[HOST],
    )
    rows = ok("job", "query", "-j", done_job, node=nodes[HOST])
    assert {(r["party_id"], r["description"]) for r in rows} == {(HOST, "breast, second try"), (GUEST, "")}
    listed = ok("job", "list", "-j", done_job, node=nodes[HOST])
    assert [r["description"] for r in listed["data"]] == ["breast, second try"]
    code, answer = flow(
        "job", "add-notes", "-j", done_job, "-r", "guest", "-p", GUEST, "--notes", "x", node=nodes[HOST]
    )
    assert code != 0 and answer["code"] == 1014 and GUEST in answer["message"]

    code, answer = flow("job", "download-log", "-j", done_job, "-o", str(tmp_path), node=nodes[GUEST])
    assert code == 0, answer
    unpacked = tmp_path / f"{done_job}_logs"
    assert answer["data"]["directory"] == str(unpacked)
    assert "job ended success" in (unpacked / "scheduler.log").read_text()
    assert (unpacked / "guest" / GUEST / "psi_0" / "0" / "task.log").is_file()
    assert not (unpacked / "host").exists()  # the host's task logs stay at the host


def test_log_query_and_count_by_fate_log_types(nodes: dict[str, str], done_job: str) -> None:
    guest = nodes[GUEST]
    count = ok(
        "log", "count", "--log-type", "schedule_info", "-j", done_job, "-r", "guest", "-p", GUEST, node=guest
    )
    lines = ok(
        "log", "query", "--log-type", "schedule_info", "-j", done_job, "-r", "guest", "-p", GUEST, node=guest
    )
    assert count == len(lines) > 0
    assert [line["line_num"] for line in lines] == list(range(1, count + 1))
    assert "job ended success" in lines[-1]["content"]
    assert ok("log", "count", "--log-type", "schedule_error", "-j", done_job, node=guest) == 0

    window = ok(
        "log",
        "query",
        "--log-type",
        "schedule_info",
        "-j",
        done_job,
        "--begin",
        "2",
        "--end",
        "3",
        node=guest,
    )
    assert window == lines[1:3]

    task_log = ok(
        "log",
        "query",
        "--log-type",
        "task_info",
        "-j",
        done_job,
        "-r",
        "guest",
        "-p",
        GUEST,
        "-tn",
        "psi_0",
        "--instance-id",
        "any",
        node=guest,
    )
    assert task_log and all(" DEBUG " not in line["content"] for line in task_log)
    debug = ok(
        "log", "count", "--log-type", "task_debug", "-j", done_job, "-r", "guest", "-p", GUEST, node=guest
    )
    assert debug >= len(task_log)
    assert (
        ok("log", "count", "--log-type", "task_error", "-j", done_job, "-r", "guest", "-p", GUEST, node=guest)
        == 0
    )

    code, answer = flow(
        "log", "query", "--log-type", "task_info", "-j", done_job, "-r", "host", "-p", HOST, node=guest
    )
    assert code != 0 and answer["code"] == 1014 and nodes[HOST] in answer["message"]
    code, answer = flow("log", "count", "--log-type", "fate_flow_schedule", "-j", done_job, node=guest)
    assert code != 0 and "schedule_info" in answer["message"]
    code, answer = flow("log", "query", "--log-type", "task_info", "-j", done_job, node=guest)
    assert code != 0 and "role" in answer["message"]


def test_clean_queue_cancels_waiting_jobs(nodes: dict[str, str], done_job: str, tmp_path: Path) -> None:
    guest = nodes[GUEST]
    assert ok("job", "clean-queue", node=guest) == {}
    provider = tmp_path / "testkit.json"
    provider.write_text(
        json.dumps(
            {
                "name": "testkit",
                "version": "1.0",
                "device": "local",
                "metadata": {"module": "tests.support.test_components", "path": str(ROOT)},
            }
        )
    )
    for node in nodes.values():
        ok("provider", "register", "-c", str(provider), node=node)
    release = tmp_path / "release"
    blocker = tmp_path / "blocker.yaml"
    blocker.write_text(
        yaml.safe_dump(
            {
                "schema_version": "2.1.0",
                "kind": "fate",
                "dag": {
                    "parties": [{"role": "guest", "party_id": [GUEST]}, {"role": "host", "party_id": [HOST]}],
                    "conf": {"cores": 32, "scheduler_party_id": GUEST},
                    "tasks": {
                        "hold": {
                            "component_ref": "testkit_metrics",
                            "parameters": {"steps": 1, "release": str(release)},
                        }
                    },
                },
            }
        )
    )
    code, answer = flow("job", "submit", "-c", str(blocker), node=guest)
    assert code == 0, answer
    holding = answer["job_id"]
    watch_until(guest, holding, {"running"})  # it holds every core at both parties now

    code, answer = flow("job", "submit", "-c", str(DAGS / "psi.yaml"), node=guest)
    assert code == 0, answer
    waiting = answer["job_id"]
    [row] = ok("job", "query", "-j", waiting, "-r", "guest", node=guest)
    assert row["status"] == "waiting"

    assert ok("job", "clean-queue", node=guest) == {waiting: "canceled"}
    assert {r["status"] for r in ok("job", "query", "-j", waiting, node=guest)} == {"canceled"}

    # Stop the job that holds the cores; rerun the canceled one, which can start now; then clean it.
    assert ok("job", "stop", "--job-id", holding, node=nodes[HOST]) == {
        "job_id": holding,
        "status": "canceled",
    }
    assert watch_until(guest, holding, {"success", "failed", "canceled", "timeout"}) == "canceled"
    rerun = ok("job", "rerun", "--job-id", waiting, node=guest)
    assert rerun["status"] == "waiting" and set(rerun["tasks"]) == {"reader_0", "psi_0"}
    assert watch_until(guest, waiting, {"success", "failed", "canceled", "timeout"}) == "success"
    cleaned = ok("job", "clean", "--job-id", waiting, node=guest)
    assert sorted(cleaned["cleaned_party_ids"]) == sorted([GUEST, HOST])
    code, answer = flow("job", "query", "-j", waiting, node=nodes[HOST])
    assert code != 0 and answer["code"] == 1003


def test_output_and_model_commands_with_fate_flags(
    nodes: dict[str, str], done_job: str, tmp_path: Path
) -> None:
    guest, host = nodes[GUEST], nodes[HOST]
    psi = ("--job-id", done_job, "--role", "guest", "--party-id", GUEST, "--task-name", "psi_0")
    keys = ok("output", "query-metric-key", *psi, node=guest)
    assert keys and all(set(k) == {"name", "type", "groups", "step_axis"} for k in keys)
    metrics = ok("output", "query-metric", *psi, node=guest)
    assert [m["name"] for m in metrics] == [k["name"] for k in keys] and all(m["data"] for m in metrics)
    [table] = ok("output", "query-data-table", *psi, node=guest)["output_data"]
    assert table["namespace"] == f"{done_job}_psi_0"
    code, answer = flow("output", "display-data", *psi, node=guest)
    assert code == 0 and answer["data"]["output_data"][0][0] == "id"
    ok("output", "delete-metric", *psi, node=guest)
    assert ok("output", "query-metric-key", *psi, node=guest) == []

    code, answer = flow("job", "submit", "--conf-path", str(DAGS / "train_scale.yaml"), node=guest)
    assert code == 0, answer
    train = answer["job_id"]
    assert watch_until(guest, train, {"success", "failed", "canceled", "timeout"}) == "success"
    scale = ("--job-id", train, "--role", "host", "--party-id", HOST, "--task-name", "scale_0")
    assert set(ok("output", "query-model", *scale, node=host)["output_model"]) == {"data", "meta"}
    code, answer = flow("output", "download-model", *scale, "--path", str(tmp_path / "models"), node=host)
    assert code == 0 and (Path(answer["directory"]) / "output_model" / "model.json").is_file()

    exported = ok(
        "model",
        "export",
        "--model-id",
        "breast_scale",
        "--model-version",
        "0",
        "--role",
        "host",
        "--party-id",
        HOST,
        "--path",
        str(tmp_path / "zips"),
        node=host,
    )
    zipped = exported["path"]
    imported = ok(
        "model", "import", "--model-id", "moved", "--model-version", "1", "--path", zipped, node=host
    )
    assert [(m["task_name"], m["model_id"]) for m in imported] == [("scale_0", "moved")]
    ok(
        "model",
        "delete",
        "--model-id",
        "moved",
        "--model-version",
        "1",
        "--role",
        "host",
        "--party-id",
        HOST,
        "--task-name",
        "scale_0",
        "--output-key",
        "output_model",
        node=host,
    )
    ok("output", "delete-model", *scale, node=host)
    assert ok("output", "query-model", *scale, node=host) == {}


def test_provider_and_output_flags(nodes: dict[str, str], done_job: str, tmp_path: Path) -> None:
    guest = nodes[GUEST]
    providers = ok("provider", "query", "-n", "fate", node=guest)
    assert providers and {p["name"] for p in providers} == {"fate"}
    assert all(p["device"] == "local" and "psi" in p["components"] for p in providers)
    by_name = ok("provider", "query", "--provider-name", "fate:2.2.0@local", node=guest)
    assert [p["provider_name"] for p in by_name] == ["fate:2.2.0@local"]
    by_flags = ok("provider", "query", "-n", "fate", "--version", "2.1.0", "--device", "local", node=guest)
    assert [p["provider_name"] for p in by_flags] == ["fate:2.1.0@local"]
    assert ok("provider", "query", "-n", "fate", "--device", "docker", node=guest) == []
    code, answer = flow(
        "provider", "delete", "-n", "nosuch", "--version", "1.0", "--device", "local", node=guest
    )
    assert code != 0 and answer["code"] == 1003

    out = tmp_path / "out"
    code, answer = flow(
        "output",
        "download-data",
        "-j",
        done_job,
        "-r",
        "guest",
        "-p",
        GUEST,
        "-tn",
        "psi_0",
        "--path",
        str(out),
        node=guest,
    )
    assert code == 0, answer
    assert list(out.rglob("*.csv"))


def test_client_and_permission_commands_map_onto_tokens_and_grants(
    nodes: dict[str, str], tmp_path: Path
) -> None:
    guest = nodes[GUEST]
    created = ok("client", "create-client", "--app-name", "alice", node=guest)
    assert created["app_id"] == "alice" and created["app_type"] == "client" and len(created["app_token"]) > 20
    [row] = ok("client", "query-client", "--app-id", "alice", node=guest)
    assert (row["app_name"], row["app_token"], row["app_type"]) == ("alice", None, "client")
    assert isinstance(row["create_time"], int)
    assert list(ok("permission", "query", "--app-id", "alice", node=guest)) == ["client"]
    assert ok("client", "query-partner", node=guest) == [{"party_id": HOST, "address": nodes[HOST]}]

    refused = [
        ("client", "create-site", "-p", GUEST),
        ("client", "delete-site", "-p", GUEST),
        ("client", "query-site", "-p", GUEST),
        ("client", "create-partner", "-p", HOST, "--app-id", "x", "--app-token", "y"),
        ("client", "delete-partner", "-p", HOST),
        ("permission", "grant", "--app-id", "alice", "-r", "super_client"),
        ("permission", "delete", "--app-id", "alice", "-r", "client"),
    ]
    for command in refused:
        code, answer = flow(*command, node=guest)
        assert code != 0 and answer["code"] == 2002, (command, answer)
        assert answer["data"]["equivalent"] and answer["hint"], (command, answer)
    code, answer = flow("permission", "grant", "--app-id", "alice", "-r", "super_client", node=guest)
    assert answer["data"]["equivalent"] == "flow token create -n alice --admin"

    assert ok("client", "delete-client", "--app-id", "alice", node=guest) == {"status": True}
    assert ok("client", "query-client", node=guest) == []

    conf = tmp_path / "grant.json"
    conf.write_text(
        json.dumps(
            {
                "party_id": HOST,
                "component": "reader,psi",
                "dataset": [{"namespace": "experiment", "name": "breast_hetero_guest"}],
            }
        )
    )
    ok("permission", "grant-resource", "-c", str(conf), node=guest)
    assert ok("permission", "query-resource", "-p", HOST, node=guest) == {
        "component": ["psi", "reader"],
        "dataset": [{"namespace": "experiment", "name": "breast_hetero_guest"}],
    }
    assert ok("permission", "delete-resource", "-c", str(conf), node=guest)["removed"] == 3
    assert ok("permission", "query-resource", "-p", HOST, node=guest) == {"component": [], "dataset": []}
