"""A node that restarts finds its jobs: what it cannot continue is failed, with a reason, everywhere."""

from __future__ import annotations

from pathlib import Path

import anyio

from fate_grpc.domain.status import JobStatus, TaskStatus
from fate_grpc.node.app import Node
from fate_grpc.store.records import JobRecord, TaskKey, TaskRecord
from tests.support.nodes import DAGS, assert_eventually, node_config


async def test_restarted_node_fails_what_it_cannot_continue(tmp_path: Path) -> None:
    config = node_config("9999", tmp_path / "node")
    dag = (DAGS / "psi.yaml").read_text().replace("party_id: ['10000']", "party_id: ['9999']")
    key = TaskKey("job1", "reader_0", 0, "guest", "9999")
    async with anyio.create_task_group() as group:
        node = Node(config)
        await node.start(group)
        job = JobRecord(
            job_id="job1",
            dag_yaml=dag,
            initiator_party_id="9999",
            scheduler_party_id="9999",
            is_scheduler=True,
        )
        await node.store.create_job(job, [TaskRecord(key=key, component="reader")])
        await node.store.transition_job("job1", expected=JobStatus.WAITING, to=JobStatus.RUNNING)
        await node.store.transition_task_party_status(key, expected=TaskStatus.WAITING, to=TaskStatus.RUNNING)
        await node.shutdown()

        restarted = Node(config)
        await restarted.start(group)
        try:
            task = await restarted.store.get_task(key)
            assert task.party_status is TaskStatus.FAILED
            assert "restarted" in task.error

            async def job_failed() -> bool:
                return (await restarted.store.get_job("job1")).status is JobStatus.FAILED

            await assert_eventually(job_failed, what="the unfinished job is failed")
            assert "restarted" in (await restarted.store.get_job("job1")).status_reason
        finally:
            await restarted.shutdown()
            group.cancel_scope.cancel()
