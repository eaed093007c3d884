"""A node restarted while its task runs does not fail the job: the lost attempt is replaced by a new one
at every party of the task and the job completes - whether the restarted node is a participant or the
scheduler. Past scheduler.max_task_attempts the job fails, naming the party and its address."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import anyio
import pytest
from anyio.abc import TaskGroup

from fate_grpc.common.v1 import common_pb2
from fate_grpc.domain.status import TaskStatus
from fate_grpc.node.app import Node
from fate_grpc.node.config import SchedulerSettings
from fate_grpc.store.records import JobRecord, TaskKey, TaskRecord
from tests.lifecycle.dags import dag, task
from tests.support.nodes import Federation, assert_eventually, federation, node_config

GUEST, HOST = "9999", "10000"
pytestmark = pytest.mark.timeout(180)


async def restart(fed: Federation, party_id: str, group: TaskGroup) -> Node:
    """Stop a party's node (its task processes die with it) and start it again on the same store and
    port, as an operator restarting a crashed node would."""
    old = fed.nodes[party_id]
    address = old.addresses.peer
    await old.shutdown()
    routes = {pid: node.addresses.peer for pid, node in fed.nodes.items()}
    node = Node(dataclasses.replace(old.config, listen=address, routes=routes))
    await node.start(group)
    fed.nodes[party_id] = node
    return node


async def submit_waiting_job(fed: Federation, release: Path) -> str:
    """A one-task job whose task runs at both parties until `release` exists."""
    await fed.register_testkit()
    return await fed.submit(GUEST, dag({"wait": task("testkit_metrics", steps=1, release=str(release))}))


async def wait_attempt_running(fed: Federation, job_id: str, attempt: int, party_id: str = HOST) -> None:
    async def runs() -> bool:
        rows = await fed.nodes[GUEST].store.list_schedule_tasks(job_id, task_name="wait", attempt=attempt)
        return any(r.key.party_id == party_id and r.status is TaskStatus.RUNNING for r in rows)

    await assert_eventually(runs, timeout_s=60, what=f"attempt {attempt} runs at party {party_id}")


async def assert_resumed(fed: Federation, job_id: str, release: Path, lost_at: str) -> None:
    """Attempt 0 was lost at `lost_at`, attempt 1 runs at every party; released, the job succeeds."""
    await wait_attempt_running(fed, job_id, 1, GUEST)
    await wait_attempt_running(fed, job_id, 1, HOST)
    await anyio.Path(release).write_text("go")
    view = await fed.wait_job(GUEST, job_id)
    assert view.status == common_pb2.JOB_STATUS_SUCCESS, view.status_reason
    attempts = {a.key.attempt: a for a in await fed.nodes[GUEST].store.list_attempts(job_id)}
    assert sorted(attempts) == [0, 1]
    assert attempts[0].status is TaskStatus.FAILED
    assert f"attempt lost at {'host' if lost_at == HOST else 'guest'} {lost_at}" in attempts[0].error
    assert attempts[1].status is TaskStatus.SUCCESS
    for party_id, role in ((GUEST, "guest"), (HOST, "host")):
        # Each party's outputs are those of the new attempt, kept apart from the lost one's.
        node = fed.nodes[party_id]
        assert await node.store.list_metrics(TaskKey(job_id, "wait", 1, role, party_id))
        rows = {r.key.attempt: r for r in await node.store.list_tasks(job_id)}
        assert rows[1].party_status is TaskStatus.SUCCESS
        assert rows[0].party_status in (TaskStatus.FAILED, TaskStatus.CANCELED)


async def test_a_participant_restarted_mid_task_gets_a_new_attempt_and_the_job_succeeds(
    tmp_path: Path,
) -> None:
    release = tmp_path / "release"
    async with federation(tmp_path, [GUEST, HOST]) as fed, anyio.create_task_group() as group:
        job_id = await submit_waiting_job(fed, release)
        await wait_attempt_running(fed, job_id, 0)
        restarted = await restart(fed, HOST, group)
        try:
            await assert_resumed(fed, job_id, release, lost_at=HOST)
            [lost] = [r for r in await restarted.store.list_tasks(job_id) if r.key.attempt == 0]
            assert "restarted while the task ran" in lost.error
        finally:
            await restarted.shutdown()
            group.cancel_scope.cancel()


async def test_the_scheduler_restarted_mid_task_resumes_its_job(tmp_path: Path) -> None:
    release = tmp_path / "release"
    async with federation(tmp_path, [GUEST, HOST]) as fed, anyio.create_task_group() as group:
        job_id = await submit_waiting_job(fed, release)
        await wait_attempt_running(fed, job_id, 0, GUEST)
        restarted = await restart(fed, GUEST, group)
        try:
            await assert_resumed(fed, job_id, release, lost_at=GUEST)
        finally:
            await restarted.shutdown()
            group.cancel_scope.cancel()


async def test_a_task_lost_more_often_than_allowed_fails_the_job_naming_the_party(tmp_path: Path) -> None:
    release = tmp_path / "release"
    once = SchedulerSettings(collect_after_s=2, sweep_interval_s=0.5, max_task_attempts=1)
    async with federation(tmp_path, [GUEST, HOST], scheduler=once) as fed, anyio.create_task_group() as group:
        job_id = await submit_waiting_job(fed, release)
        await wait_attempt_running(fed, job_id, 0)
        address = fed.address(HOST)
        restarted = await restart(fed, HOST, group)
        try:
            view = await fed.wait_job(GUEST, job_id)
            assert view.status == common_pb2.JOB_STATUS_FAILED
            assert f"host {HOST} at {address}" in view.status_reason
            assert "scheduler.max_task_attempts = 1" in view.status_reason

            async def ended_here() -> bool:
                job = await restarted.store.get_job(job_id)
                return job.status.value == "failed" and not job.resources_held

            await assert_eventually(ended_here, timeout_s=30, what="the restarted host ended the job too")
        finally:
            await restarted.shutdown()
            group.cancel_scope.cancel()


async def test_a_restarted_node_counts_the_tasks_it_ran_or_was_starting_as_lost(tmp_path: Path) -> None:
    node = Node(node_config(GUEST, tmp_path / "node"))
    await node.store.open()
    try:
        job = JobRecord("job1", dag({"a": task("testkit_sleep")}), HOST, HOST, is_scheduler=False)
        running, starting, waiting = (TaskKey("job1", name, 0, "guest", GUEST) for name in ("a", "b", "c"))
        await node.store.create_job(
            job,
            [
                TaskRecord(
                    running, "testkit_sleep", status=TaskStatus.RUNNING, party_status=TaskStatus.RUNNING
                ),
                # Its start was asked for (the federated status says running); its process was not up yet.
                TaskRecord(starting, "testkit_sleep", status=TaskStatus.RUNNING),
                TaskRecord(waiting, "testkit_sleep"),
            ],
        )

        lost = await node.participant.recover_after_restart()

        assert sorted(lost, key=lambda k: k.task_name) == [running, starting]
        for key in lost:
            row = await node.store.get_task(key)
            assert row.party_status is TaskStatus.FAILED
            assert node.participant.is_lost(row)
        assert (await node.store.get_task(waiting)).party_status is TaskStatus.WAITING
    finally:
        await node.store.close()
