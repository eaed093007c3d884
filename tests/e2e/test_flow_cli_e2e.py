"""End to end: node processes on loopback, driven with the `flow` CLI as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fate_grpc.cli.local_cluster import LocalCluster
from tests.support.nodes import DAGS, ROOT

pytestmark = pytest.mark.timeout(180)


def flow(*args: str, node: str | None = None, conf: Path | None = None) -> tuple[int, dict[str, Any]]:
    env = {**os.environ}
    if conf is not None:
        env["FATE_GRPC_FLOW_CONF"] = str(conf)
    command = [sys.executable, "-m", "fate_grpc.cli.flow_cli", *(["--node", node] if node else []), *args]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    return done.returncode, json.loads(done.stdout)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    with LocalCluster(tmp_path_factory.mktemp("cluster"), ["9999", "10000"]) as c:
        yield c


def test_reader_psi_through_the_cli(cluster: LocalCluster, tmp_path: Path) -> None:
    guest, host = cluster.parties["9999"].address, cluster.parties["10000"].address
    settings = tmp_path / "flow.yaml"
    ip, port = guest.split(":")
    code, answer = flow("init", "--ip", ip, "--port", port, conf=settings)
    assert code == 0 and answer["code"] == 0

    code, answer = flow("data", "upload", "-c", "examples/upload/upload_guest.json", conf=settings)
    assert code == 0, answer
    assert answer["data"]["count"] == 569 and answer["data"]["label_name"] == "y"
    code, answer = flow("data", "upload", "-c", "examples/upload/upload_host.json", node=host)
    assert code == 0, answer
    code, answer = flow("table", "query", "-n", "breast_hetero_host", "-ns", "experiment", node=host)
    assert answer["data"]["count"] == 569 and answer["data"]["header"][0] == "id"

    code, answer = flow("job", "submit", "-c", str(DAGS / "psi.yaml"), conf=settings)
    assert code == 0, answer
    job_id = answer["job_id"]
    assert answer["data"]["model_id"] == job_id and answer["data"]["model_version"] == "0"

    deadline = time.monotonic() + 60
    while True:
        code, answer = flow("job", "query", "-j", job_id, conf=settings)
        statuses = {row["status"] for row in answer["data"]}
        if statuses <= {"success", "failed", "canceled", "timeout"} or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert statuses == {"success"}, answer
    assert {(r["role"], r["party_id"]) for r in answer["data"]} == {("guest", "9999"), ("host", "10000")}

    # The host's node answers with the scheduler's view too.
    code, answer = flow("task", "query", "-j", job_id, node=host)
    assert code == 0
    rows = {(r["task_name"], r["role"], r["party_id"]): r for r in answer["data"]}
    assert len(rows) == 4 and all(r["status"] == "success" for r in rows.values())
    assert all(r["elapsed"] > 0 and r["start_time"] and r["end_time"] for r in rows.values())

    # Following a finished job prints its end and exits 0 (it ended successfully).
    watch = subprocess.run(
        [
            sys.executable,
            "-m",
            "fate_grpc.cli.flow_cli",
            "--node",
            host,
            "job",
            "watch",
            "-j",
            job_id,
            "--plain",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert watch.returncode == 0 and f"job {job_id} ended success" in watch.stdout, (
        watch.stdout + watch.stderr
    )
    log = subprocess.run(
        [
            sys.executable,
            "-m",
            "fate_grpc.cli.flow_cli",
            "--node",
            guest,
            "job",
            "log",
            "-j",
            job_id,
            "--tail",
            "5",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert log.returncode == 0 and "==> scheduler <==" in log.stdout and "job ended success" in log.stdout

    for pid, role, address in (("9999", "guest", guest), ("10000", "host", host)):
        code, answer = flow(
            "table", "query", "-ns", f"{job_id}_psi_0", "-n", f"{role}_{pid}_output_data_0", node=address
        )
        assert answer["data"]["count"] == 569


def test_cli_errors_are_json_with_nonzero_exit(cluster: LocalCluster, tmp_path: Path) -> None:
    guest = cluster.parties["9999"].address
    code, answer = flow("job", "query", "-j", "nosuchjob", node=guest)
    assert code != 0 and answer["code"] == 1003 and "not found" in answer["message"]

    bad = tmp_path / "bad.yaml"
    bad.write_text((DAGS / "psi.yaml").read_text().replace("component_ref: psi", "component_ref: psy"))
    code, answer = flow("job", "submit", "-c", str(bad), node=guest)
    assert code != 0 and answer["code"] == 1002
    assert any(v["field"] == "dag.tasks.psi_0.component_ref" for v in answer["data"]["violations"])

    code, answer = flow("job", "query", "-j", "x", node="127.0.0.1:1")
    assert code != 0 and answer["code"] == 2003 and "127.0.0.1:1" in answer["message"]

    code, answer = flow("job", "query", "-j", "x", conf=tmp_path / "missing.yaml")
    assert code != 0 and answer["code"] == 2001 and "flow init" in answer["hint"]


def test_node_stops_gracefully_on_sigterm(tmp_path: Path) -> None:
    with LocalCluster(tmp_path, ["9999"]) as cluster:
        time.sleep(0.5)
        code = cluster.stop_party("9999")
    assert code == 0
    log = (cluster.parties["9999"].data_dir / "logs" / "node.log").read_text()
    assert "node stopped" in log
