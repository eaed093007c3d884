"""A node process with `log: {format: json}` and an HTTP port: its log of a job, parsed line by line,
and its /metrics."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import pytest

from fate_grpc.cli.local_cluster import LocalCluster
from fate_grpc.client.v1 import client_pb2
from fate_grpc.common.v1 import common_pb2
from tests.lifecycle.dags import dag, task
from tests.support.nodes import END, ROOT

pytestmark = pytest.mark.timeout(120)
OPS_CONF = {"log": {"format": "json"}, "http": {"listen": "127.0.0.1:0"}}


def _testkit() -> client_pb2.ProviderInfo:
    return client_pb2.ProviderInfo(
        name="testkit", version="1.0", device="local", module="tests.support.test_components", path=str(ROOT)
    )


def test_a_node_process_logs_a_job_as_json_lines_and_serves_metrics(tmp_path: Path) -> None:
    with LocalCluster(tmp_path, ["9999"], extra_conf=OPS_CONF) as cluster:
        party = cluster.parties["9999"]
        with cluster.client("9999") as client:
            client.register_provider(_testkit())
            job_id = client.submit_job(
                dag({"nap": task("testkit_sleep", seconds=0)}, parties=("9999",))
            ).job_id
            final = next(view for view in client.watch_job(job_id) if view.status in END)
        log_text = (party.data_dir / "logs" / "node.log").read_text()
        [http_address] = re.findall(r"HTTP on ([0-9.]+:[0-9]+)", log_text)
        with urllib.request.urlopen(f"http://{http_address}/metrics", timeout=10) as answer:
            metrics = answer.read().decode()
    lines = [json.loads(line) for line in (party.data_dir / "logs" / "node.log").read_text().splitlines()]

    assert final.status == common_pb2.JOB_STATUS_SUCCESS
    assert 'fate_grpc_jobs{status="success"} 1.0' in metrics
    assert 'fate_grpc_task_duration_seconds_count{component="testkit_sleep",status="success"} 1.0' in metrics
    of_job = [line for line in lines if line.get("job_id") == job_id]
    [submitted] = [line for line in of_job if line["message"] == "job submitted"]
    [ended] = [line for line in of_job if line["logger"] == "fate_grpc.tasks"]
    assert (submitted["level"], submitted["rpc"], submitted["peer"]) == (
        "info",
        "ClientService/SubmitJob",
        "user",
    )
    assert (ended["task"], ended["attempt"], ended["role"], ended["party"], ended["status"]) == (
        "nap",
        0,
        "guest",
        "9999",
        "success",
    )
    assert lines[-1]["message"] == "party 9999 node stopped"
