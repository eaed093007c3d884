"""Lost task-status reports are caught by the scheduler asking the party again."""

from __future__ import annotations

from pathlib import Path

import pytest

from fate_grpc.client.v1 import client_pb2
from fate_grpc.common.v1 import common_pb2
from fate_grpc.store.records import TaskKey
from tests.support.nodes import DAGS, federation


async def test_job_succeeds_although_the_host_never_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with federation(tmp_path, ["9999", "10000"]) as fed:
        await fed.upload_breast()
        dropped: list[TaskKey] = []

        async def lose_report(key: TaskKey) -> None:
            dropped.append(key)

        monkeypatch.setattr(fed.nodes["10000"].participant, "_send_report", lose_report)
        dag = (DAGS / "psi.yaml").read_text()

        submitted = await fed.client("9999").SubmitJob(client_pb2.SubmitJobRequest(dag_yaml=dag), timeout=30)
        view = await fed.wait_job("9999", submitted.job_id, timeout_s=60)

        assert view.status == common_pb2.JOB_STATUS_SUCCESS, view.status_reason
        assert {k.task_name for k in dropped} == {"reader_0", "psi_0"}
