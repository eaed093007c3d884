"""A Node.js client built from protos/ alone (tests/clients/node/client.js) runs a job end to end.

It uploads a table at each party, submits reader -> psi, watches the job to its end, reads the psi
task's metrics and decodes a refused DAG's standard rich status. Its packages are installed with
`npm ci` from the committed lock file into a cache folder (FATE_GRPC_NODE_CACHE, default
~/.cache/fate-grpc/node-client), never into the checkout. Skipped, saying why, without node and npm.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from google.protobuf import json_format
from google.rpc import status_pb2

from fate_grpc.client.v1 import client_pb2, outputs_pb2
from fate_grpc.common.v1 import common_pb2
from tests.support.nodes import DATA, ROOT, federation

NODE_PROJECT = Path(__file__).resolve().parent / "node"
PSI_DAG = ROOT / "examples" / "dags" / "psi.yaml"

pytestmark = pytest.mark.timeout(600)


def node_modules() -> Path:
    """node_modules of the pinned packages, installed once per lock file with `npm ci`."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip(
            "node and npm are not installed (apt-get install nodejs npm): the Node.js client test is skipped"
        )
    lock = (NODE_PROJECT / "package-lock.json").read_bytes()
    default_cache = Path.home() / ".cache" / "fate-grpc" / "node-client"
    cache = (
        Path(os.environ.get("FATE_GRPC_NODE_CACHE", default_cache)) / hashlib.sha256(lock).hexdigest()[:16]
    )
    if not (cache / "node_modules" / "@grpc" / "grpc-js").is_dir():
        cache.mkdir(parents=True, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(NODE_PROJECT / name, cache / name)
        done = subprocess.run(
            [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
            cwd=cache,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            pytest.skip(
                f"npm ci could not install the Node.js client's packages: {done.stderr.strip()[-300:]}"
            )
    return cache / "node_modules"


def googleapis_protos() -> Path:
    """The folder holding google/rpc/*.proto (shipped with googleapis-common-protos)."""
    return Path(status_pb2.__file__).resolve().parents[2]


def refused_dag() -> str:
    document = yaml.safe_load(PSI_DAG.read_text())
    document["dag"]["stage"] = "fly"
    document["dag"]["tasks"]["psi_0"]["component_ref"] = "no_such_component"
    return yaml.safe_dump(document, sort_keys=False)


async def run_node_client(config: dict[str, Any], modules: Path, tmp_path: Path) -> dict[str, Any]:
    config_file = tmp_path / "node_client.json"
    config_file.write_text(json.dumps(config))
    process = await asyncio.create_subprocess_exec(
        "node",
        str(NODE_PROJECT / "client.js"),
        str(config_file),
        env={**os.environ, "NODE_PATH": str(modules)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()
    return json.loads(stdout)


def metrics_as_json(answer: outputs_pb2.QueryMetricsResponse) -> list[dict[str, Any]]:
    """The oracle: the same metrics read by the Python client, values as plain JSON."""
    return [
        {
            "name": metric.name,
            "type": metric.type,
            "values": [json_format.MessageToDict(point.metric) for point in metric.data],
        }
        for metric in answer.metrics
    ]


async def test_a_node_js_client_runs_a_job_end_to_end(tmp_path: Path) -> None:
    modules = node_modules()

    async with federation(tmp_path, ["9999", "10000"]) as fed:
        tokens = {
            party_id: await fed.client(party_id).CreateToken(
                client_pb2.CreateTokenRequest(name="node_user"), timeout=10
            )
            for party_id in ("9999", "10000")
        }
        config = {
            "protos": str(ROOT / "protos"),
            "googleapis": str(googleapis_protos()),
            "guest": {
                "address": fed.address("9999"),
                "token": tokens["9999"].token,
                "table": {
                    "namespace": "experiment",
                    "name": "breast_hetero_guest",
                    "file": str(DATA / "breast_hetero_guest.csv"),
                    "label": "y",
                },
            },
            "host": {
                "address": fed.address("10000"),
                "token": tokens["10000"].token,
                "table": {
                    "namespace": "experiment",
                    "name": "breast_hetero_host",
                    "file": str(DATA / "breast_hetero_host.csv"),
                },
            },
            "dag_yaml": PSI_DAG.read_text(),
            "bad_dag_yaml": refused_dag(),
            "metric_task": {"role": "guest", "party_id": "9999", "task_name": "psi_0"},
        }
        seen = await run_node_client(config, modules, tmp_path)
        job = await fed.client("9999").QueryJob(client_pb2.QueryJobRequest(job_id=seen["job_id"]), timeout=10)
        task = outputs_pb2.TaskOutputRef(
            job_id=seen["job_id"], role="guest", party_id="9999", task_name="psi_0"
        )
        oracle = await fed.client("9999").QueryMetrics(outputs_pb2.QueryMetricsRequest(task=task), timeout=10)

    assert seen["uploaded"] == [
        {"name": "breast_hetero_guest", "count": "569"},
        {"name": "breast_hetero_host", "count": "569"},
    ]
    assert job.job.status == common_pb2.JOB_STATUS_SUCCESS
    assert seen["final_status"] == "JOB_STATUS_SUCCESS"
    assert seen["statuses"][-1] == "JOB_STATUS_SUCCESS" and len(seen["statuses"]) >= 2
    assert seen["metrics"] and seen["metrics"] == metrics_as_json(oracle)
    error = seen["error"]
    assert error["grpc_code"] == error["code"] == 3  # INVALID_ARGUMENT
    assert error["error_info"]["reason"] == "INVALID_DAG"
    assert error["error_info"]["domain"] == "fate-grpc"
    assert error["error_info"]["metadata"]["code"] == "1002"
    fields = [violation["field"] for violation in error["violations"]]
    assert "dag.stage" in fields and "dag.tasks.psi_0.component_ref" in fields


async def test_a_node_js_client_over_tls_expects_the_party_server_name(tmp_path: Path) -> None:
    modules = node_modules()

    async with federation(tmp_path, ["9999"], tls=True) as fed:
        config = {
            "mode": "node_info",
            "protos": str(ROOT / "protos"),
            "guest": {
                "address": fed.address("9999"),
                "tls": {
                    "ca": str(fed.pki.ca_cert()),
                    "cert": str(fed.pki.user_cert("9999", "root")),
                    "key": str(fed.pki.user_key("9999", "root")),
                    "server_name": "party-9999.fate-grpc",
                },
            },
        }
        info = await run_node_client(config, modules, tmp_path)

    assert info["party_id"] == "9999"
    assert (info["user"], info["is_admin"], info["auth_method"]) == ("root", True, "certificate")
    assert info["tls"] is True
