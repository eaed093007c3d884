"""A task's timeout racing with the parties' "running" reports still ends it timeout everywhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from fate_grpc.common.v1 import common_pb2
from fate_grpc.domain.status import TaskStatus
from fate_grpc.node.config import SchedulerSettings
from fate_grpc.scheduler.party_sync import implies_running
from tests.lifecycle.dags import dag, task
from tests.support.nodes import assert_eventually, federation

GUEST, HOST = "9999", "10000"
FAST = SchedulerSettings(collect_after_s=60, sweep_interval_s=0.3, retry_backoff_s=0.2)
# Nothing listens here: the host's reports to the scheduler fail (and are retried) while it is set.
UNREACHABLE = "127.0.0.1:9"
pytestmark = pytest.mark.timeout(120)


async def test_a_timeout_before_a_partys_running_report_ends_timeout_at_every_party(tmp_path: Path) -> None:
    async with federation(tmp_path, [GUEST, HOST], scheduler=FAST) as fed:
        await fed.register_testkit()
        scheduler_address = fed.address(GUEST)
        # The host runs the task but cannot tell the scheduler so: the timeout fires while the
        # scheduler has the host's row still waiting.
        fed.nodes[HOST].gateway.set_route(GUEST, UNREACHABLE)
        job_id = await fed.submit(
            GUEST, dag({"slow": task("testkit_sleep", seconds=60)}, conf={"task": {"timeout": 1}})
        )
        view = await fed.wait_job(GUEST, job_id)
        fed.nodes[HOST].gateway.set_route(GUEST, scheduler_address)

        assert view.status == common_pb2.JOB_STATUS_TIMEOUT, view.status_reason
        assert {(t.party_id, t.status) for t in view.tasks} == {
            (GUEST, common_pb2.TASK_STATUS_TIMEOUT),
            (HOST, common_pb2.TASK_STATUS_TIMEOUT),
        }

        async def ended_timeout_at_both() -> bool:
            rows = [r for node in fed.nodes.values() for r in await node.store.list_tasks(job_id)]
            return [r.party_status.value for r in rows] == ["timeout", "timeout"]

        await assert_eventually(ended_timeout_at_both, timeout_s=60, what="timeout in both parties' rows")


@pytest.mark.parametrize("current", list(TaskStatus))
@pytest.mark.parametrize("reported", list(TaskStatus))
def test_only_a_timeout_reported_for_a_waiting_row_implies_it_ran(
    current: TaskStatus, reported: TaskStatus
) -> None:
    expected = (current, reported) == (TaskStatus.WAITING, TaskStatus.TIMEOUT)
    assert implies_running(current, reported) is expected
