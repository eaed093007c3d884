"""Outputs through the ClientService: metrics visible while a task runs (RPC level, in-process nodes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fate_grpc.client.v1 import client_pb2, outputs_pb2
from fate_grpc.common.v1 import common_pb2
from fate_grpc.wire.convert import python_from_value
from tests.lifecycle.dags import dag, task
from tests.support.nodes import assert_eventually, federation

GUEST, HOST = "9999", "10000"
pytestmark = pytest.mark.timeout(120)


def ref(job_id: str, task_name: str, role: str = "guest", party_id: str = GUEST) -> outputs_pb2.TaskOutputRef:
    return outputs_pb2.TaskOutputRef(job_id=job_id, role=role, party_id=party_id, task_name=task_name)


async def test_metrics_are_visible_while_the_task_runs(tmp_path: Path) -> None:
    release = tmp_path / "release"
    async with federation(tmp_path, [GUEST, HOST]) as fed:
        await fed.register_testkit()
        job_id = await fed.submit(
            GUEST, dag({"lr_0": task("testkit_metrics", steps=3, release=str(release))})
        )
        client = fed.client(GUEST)
        request = outputs_pb2.QueryMetricsRequest(task=ref(job_id, "lr_0"))

        async def three_steps() -> bool:
            try:
                answer = await client.QueryMetrics(request, timeout=5)
            except Exception:
                return False  # the task row may not exist yet
            return bool(answer.metrics) and len(answer.metrics[0].data) == 3

        await assert_eventually(three_steps, what="3 loss values while the task waits")
        tasks = await client.QueryTasks(client_pb2.QueryTasksRequest(job_id=job_id))
        # Not ended (the scheduler's view may not have heard "running" yet).
        unfinished = {common_pb2.TASK_STATUS_WAITING, common_pb2.TASK_STATUS_RUNNING}
        assert {t.status for t in tasks.tasks if t.task_name == "lr_0"} <= unfinished

        release.write_text("go")
        assert (await fed.wait_job(GUEST, job_id)).status == common_pb2.JOB_STATUS_SUCCESS
        answer = await client.QueryMetrics(request, timeout=5)
        loss, summary = answer.metrics
        assert loss.name == "lr_loss" and loss.type == "loss" and loss.step_axis == "iterations"
        assert [(g.name, g.HasField("index")) for g in loss.groups] == [("default", False), ("train", False)]
        assert [p.step for p in loss.data] == [0, 1, 2, 3]
        assert [python_from_value(p.metric) for p in loss.data] == [[1], [0.5], [1 / 3], [0]]
        assert not summary.HasField("step_axis") and python_from_value(summary.data[0].metric) == {
            "steps": 4,
            "ok": True,
        }
        keys = await client.QueryMetricKeys(outputs_pb2.QueryMetricKeysRequest(task=ref(job_id, "lr_0")))
        assert [k.name for k in keys.keys] == ["lr_loss", "summary"] and not keys.keys[0].data
        # Each party keeps its own metrics.
        host = await fed.client(HOST).QueryMetrics(
            outputs_pb2.QueryMetricsRequest(task=ref(job_id, "lr_0", "host", HOST), names=["summary"])
        )
        assert [m.name for m in host.metrics] == ["summary"]
