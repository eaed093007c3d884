"""A task that finishes before its node has recorded its start still succeeds.

The node records "running" after the task process is started; a quick component (reader) can be done
and report its result before that write lands. The process only gets its spec once the start is
recorded, so its result can never be ignored as coming from a task that is not running yet.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from fate_grpc.client.v1 import client_pb2
from fate_grpc.common.v1 import common_pb2
from fate_grpc.domain.status import TaskStatus
from tests.support.nodes import DAGS, federation


def _slow_running_writes(store: Any, delay_s: float) -> None:
    """Make the store's waiting -> running write of every task land `delay_s` late."""
    original = store.transition_task_party_status

    async def delayed(key: Any, *, expected: Any, to: Any, **fields: Any) -> Any:
        if to is TaskStatus.RUNNING:
            # Widens the window between "process started" and "start recorded"; not a wait for an outcome.
            await asyncio.sleep(delay_s)
        return await original(key, expected=expected, to=to, **fields)

    store.transition_task_party_status = delayed


async def test_a_task_done_before_its_start_is_recorded_succeeds(tmp_path: Path) -> None:
    async with federation(tmp_path, ["9999", "10000"]) as fed:
        await fed.upload_breast()
        for node in fed.nodes.values():
            _slow_running_writes(node.store, 0.5)

        dag = (DAGS / "psi.yaml").read_text()
        submitted = await fed.client("9999").SubmitJob(client_pb2.SubmitJobRequest(dag_yaml=dag), timeout=30)
        view = await fed.wait_job("9999", submitted.job_id)

        assert view.status == common_pb2.JOB_STATUS_SUCCESS, view.status_reason
        assert all(t.status == common_pb2.TASK_STATUS_SUCCESS for t in view.tasks)
