"""Job lifecycle across real nodes: stopping a running job, a task failing at one party, and resent or
illegal status messages between scheduler and participants."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import grpc
import pytest

from fate_grpc.client.v1 import client_pb2
from fate_grpc.common.v1 import common_pb2
from fate_grpc.control.v1 import control_pb2
from fate_grpc.domain.status import JobStatus, TaskStatus
from fate_grpc.errors import ErrorCode
from fate_grpc.node.app import Node
from fate_grpc.transfer.mailbox import MailKey
from tests.rpc.helpers import PSI_YAML, as_party, create_job_at, rpc_error
from tests.support.nodes import DATA, Federation, assert_eventually, federation

GUEST_FIRST_SIGN = "psi.guest_first_sign"
SCHEDULER = as_party("9999")


async def submit(fed: Federation, party_id: str = "9999") -> str:
    answer = await fed.client(party_id).SubmitJob(client_pb2.SubmitJobRequest(dag_yaml=PSI_YAML), timeout=30)
    return answer.job_id


async def job_status(node: Node, job_id: str) -> JobStatus:
    return (await node.store.get_job(job_id)).status


async def no_task_process_left(fed: Federation) -> bool:
    return all(not node.supervisor.running_keys() for node in fed.nodes.values())


async def scheduler_tasks(fed: Federation, job_id: str) -> dict[tuple[str, str], int]:
    view = (await fed.client("9999").QueryJob(client_pb2.QueryJobRequest(job_id=job_id), timeout=10)).job
    return {(t.task_name, t.party_id): t.status for t in view.tasks}


async def snapshot(node: Node, job_id: str) -> tuple[Any, ...]:
    """Every row a node keeps for a job; times are kept (so a write shows) except the job's update time,
    which a resent job status refreshes on purpose (it carries progress)."""
    job = dataclasses.replace(await node.store.get_job(job_id), dag_yaml="", update_time_ms=0)
    tasks = await node.store.list_tasks(job_id)
    if not job.is_scheduler:
        return job, tasks
    attempts = await node.store.list_attempts(job_id)
    return job, tasks, attempts, await node.store.list_schedule_tasks(job_id)


@pytest.mark.parametrize("stopper", ["9999", "10000"], ids=["stop-at-scheduler", "stop-at-host"])
async def test_stop_running_job_cancels_it_at_every_party(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stopper: str
) -> None:
    async with federation(tmp_path, ["9999", "10000"]) as fed:
        await fed.upload_breast()
        guest, host = fed.nodes["9999"], fed.nodes["10000"]
        real_start = host.runtime.start_task

        async def host_never_runs_psi(job_id: str, task_name: str, attempt: int) -> list[str]:
            # The host accepts psi_0 but never runs it, so the guest's psi blocks waiting for the host.
            if task_name == "psi_0":
                return ["host"]
            return await real_start(job_id, task_name, attempt)

        monkeypatch.setattr(host.runtime, "start_task", host_never_runs_psi)
        job_id = await submit(fed)
        first_sign = MailKey(job_id, "psi_0", 0, GUEST_FIRST_SIGN, "guest", "9999", "host", "10000")

        async def guest_psi_is_mid_protocol() -> bool:
            running = {k.task_name for k in guest.supervisor.running_keys()}
            return "psi_0" in running and host.mailbox.is_known(first_sign)

        await assert_eventually(guest_psi_is_mid_protocol, what="guest psi_0 sent its first message")

        stopped = await fed.client(stopper).StopJob(client_pb2.StopJobRequest(job_id=job_id), timeout=30)

        assert stopped.status == common_pb2.JOB_STATUS_CANCELED
        for node in (guest, host):
            assert await job_status(node, job_id) is JobStatus.CANCELED
        await assert_eventually(lambda: no_task_process_left(fed), what="no task process left")
        expected = {
            ("reader_0", "9999"): common_pb2.TASK_STATUS_SUCCESS,
            ("reader_0", "10000"): common_pb2.TASK_STATUS_SUCCESS,
            ("psi_0", "9999"): common_pb2.TASK_STATUS_CANCELED,
            ("psi_0", "10000"): common_pb2.TASK_STATUS_CANCELED,
        }

        async def all_tasks_ended() -> bool:
            return await scheduler_tasks(fed, job_id) == expected

        await assert_eventually(all_tasks_ended, what="tasks ended canceled or success")
        for node in (guest, host):
            psi_rows = await node.store.list_tasks(job_id, task_name="psi_0")
            assert [(r.status, r.party_status) for r in psi_rows] == [(TaskStatus.CANCELED,) * 2]
        view = await fed.wait_job(stopper, job_id)
        assert view.status == common_pb2.JOB_STATUS_CANCELED
        assert f"stopped by a user at party {stopper}" in view.status_reason
        before = {pid: await snapshot(node, job_id) for pid, node in fed.nodes.items()}
        again = await rpc_error(fed.client(stopper).StopJob(client_pb2.StopJobRequest(job_id=job_id)))
        assert again.code is ErrorCode.INVALID_TRANSITION
        assert f"job {job_id} already ended: canceled" in again.message
        assert {pid: await snapshot(node, job_id) for pid, node in fed.nodes.items()} == before


async def test_task_failing_at_host_fails_job_everywhere_and_cancels_guest(tmp_path: Path) -> None:
    async with federation(tmp_path, ["9999", "10000"]) as fed:
        lines = (DATA / "breast_hetero_host.csv").read_text().splitlines()
        duplicated = tmp_path / "host_with_duplicate_id.csv"
        duplicated.write_text("\n".join([*lines, lines[1]]) + "\n")
        await fed.upload("9999", DATA / "breast_hetero_guest.csv", "breast_hetero_guest", label="y")
        await fed.upload("10000", duplicated, "breast_hetero_host")

        job_id = await submit(fed)
        view = await fed.wait_job("9999", job_id)

        assert view.status == common_pb2.JOB_STATUS_FAILED
        for words in ("psi_0", "host 10000", "duplicate match id"):
            assert words in view.status_reason, view.status_reason

        async def guest_psi_canceled() -> bool:
            tasks = await scheduler_tasks(fed, job_id)
            return tasks[("psi_0", "9999")] == common_pb2.TASK_STATUS_CANCELED

        await assert_eventually(guest_psi_canceled, what="guest psi_0 canceled")
        tasks = await scheduler_tasks(fed, job_id)
        assert tasks[("psi_0", "10000")] == common_pb2.TASK_STATUS_FAILED
        await assert_eventually(lambda: no_task_process_left(fed), what="no task process left")
        guest_psi = await fed.nodes["9999"].store.list_tasks(job_id, task_name="psi_0")
        assert [r.party_status for r in guest_psi] == [TaskStatus.CANCELED]
        assert "10000" in guest_psi[0].error

        async def failed_everywhere() -> bool:
            return all([await job_status(n, job_id) is JobStatus.FAILED for n in fed.nodes.values()])

        await assert_eventually(failed_everywhere, what="job failed at both parties")
        host_view = (await fed.client("10000").QueryJob(client_pb2.QueryJobRequest(job_id=job_id))).job
        assert host_view.status == common_pb2.JOB_STATUS_FAILED


async def test_resent_status_messages_after_success_change_nothing(tmp_path: Path) -> None:
    async with federation(tmp_path, ["9999", "10000"]) as fed:
        await fed.upload_breast()
        job_id = await submit(fed)
        view = await fed.wait_job("9999", job_id)
        assert view.status == common_pb2.JOB_STATUS_SUCCESS, view.status_reason

        async def succeeded_everywhere() -> bool:
            return all([await job_status(n, job_id) is JobStatus.SUCCESS for n in fed.nodes.values()])

        await assert_eventually(succeeded_everywhere, what="job success at both parties")
        before = {pid: await snapshot(node, job_id) for pid, node in fed.nodes.items()}
        scheduler = fed.control("9999")

        def report(role: str, party_id: str, status: int) -> control_pb2.ReportTaskStatusRequest:
            return control_pb2.ReportTaskStatusRequest(
                job_id=job_id, task_name="psi_0", attempt=0, role=role, party_id=party_id, status=status
            )

        success, running = common_pb2.TASK_STATUS_SUCCESS, common_pb2.TASK_STATUS_RUNNING
        reports = [
            (report("guest", "9999", success), common_pb2.SYNC_OUTCOME_DUPLICATE),
            (report("guest", "9999", success), common_pb2.SYNC_OUTCOME_DUPLICATE),
            (report("host", "10000", running), common_pb2.SYNC_OUTCOME_STALE),
            (report("arbiter", "9999", success), common_pb2.SYNC_OUTCOME_REJECTED),
        ]
        for request, outcome in reports:
            answer = await scheduler.ReportTaskStatus(
                request, timeout=10, metadata=as_party(request.party_id)
            )
            assert answer.outcome == outcome, request

        def task_sync(status: int) -> control_pb2.SyncTaskStatusRequest:
            return control_pb2.SyncTaskStatusRequest(
                job_id=job_id, task_name="psi_0", attempt=0, status=status
            )

        def job_sync(status: int, progress: int = 100) -> control_pb2.SyncJobStatusRequest:
            return control_pb2.SyncJobStatusRequest(job_id=job_id, status=status, progress=progress)

        for pid in fed.nodes:
            control = fed.control(pid)
            task_syncs = [
                (success, common_pb2.SYNC_OUTCOME_DUPLICATE),
                (success, common_pb2.SYNC_OUTCOME_DUPLICATE),
                (common_pb2.TASK_STATUS_FAILED, common_pb2.SYNC_OUTCOME_STALE),
                (running, common_pb2.SYNC_OUTCOME_STALE),
            ]
            for status, outcome in task_syncs:
                answer = await control.SyncTaskStatus(task_sync(status), timeout=10, metadata=SCHEDULER)
                assert answer.outcome == outcome, (pid, status)
            job_syncs = [
                (job_sync(common_pb2.JOB_STATUS_SUCCESS), common_pb2.SYNC_OUTCOME_DUPLICATE),
                (job_sync(common_pb2.JOB_STATUS_SUCCESS), common_pb2.SYNC_OUTCOME_DUPLICATE),
                (job_sync(common_pb2.JOB_STATUS_SUCCESS, progress=0), common_pb2.SYNC_OUTCOME_DUPLICATE),
                (job_sync(common_pb2.JOB_STATUS_RUNNING), common_pb2.SYNC_OUTCOME_STALE),
                (job_sync(common_pb2.JOB_STATUS_FAILED), common_pb2.SYNC_OUTCOME_STALE),
            ]
            for request, outcome in job_syncs:
                answer = await control.SyncJobStatus(request, timeout=10, metadata=SCHEDULER)
                assert answer.outcome == outcome, (pid, request)

        after = {pid: await snapshot(node, job_id) for pid, node in fed.nodes.items()}
        assert after == before
        final = await fed.wait_job("9999", job_id)
        assert (final.status, final.progress) == (common_pb2.JOB_STATUS_SUCCESS, 100)


async def test_illegal_proposals_to_an_ongoing_job_are_rejected_not_raised(tmp_path: Path) -> None:
    async with federation(tmp_path, ["9999", "10000"]) as fed:
        await fed.upload_breast()
        host = fed.nodes["10000"]
        await create_job_at(fed, "10000", "job_sync_0001")
        control = fed.control("10000")

        def job_sync(status: int) -> control_pb2.SyncJobStatusRequest:
            return control_pb2.SyncJobStatusRequest(job_id="job_sync_0001", status=status, progress=10)

        def task_sync(status: int) -> control_pb2.SyncTaskStatusRequest:
            return control_pb2.SyncTaskStatusRequest(
                job_id="job_sync_0001", task_name="reader_0", attempt=0, status=status
            )

        applied = await control.SyncJobStatus(
            job_sync(common_pb2.JOB_STATUS_RUNNING), timeout=10, metadata=SCHEDULER
        )
        task_applied = await control.SyncTaskStatus(
            task_sync(common_pb2.TASK_STATUS_RUNNING), timeout=10, metadata=SCHEDULER
        )
        before = await snapshot(host, "job_sync_0001")
        resent = await control.SyncJobStatus(
            job_sync(common_pb2.JOB_STATUS_RUNNING), timeout=10, metadata=SCHEDULER
        )
        backwards = await control.SyncJobStatus(
            job_sync(common_pb2.JOB_STATUS_WAITING), timeout=10, metadata=SCHEDULER
        )
        task_resent = await control.SyncTaskStatus(
            task_sync(common_pb2.TASK_STATUS_RUNNING), timeout=10, metadata=SCHEDULER
        )
        task_backwards = await control.SyncTaskStatus(
            task_sync(common_pb2.TASK_STATUS_WAITING), timeout=10, metadata=SCHEDULER
        )
        after = await snapshot(host, "job_sync_0001")

        assert (applied.outcome, task_applied.outcome) == (common_pb2.SYNC_OUTCOME_APPLIED,) * 2
        assert (resent.outcome, task_resent.outcome) == (common_pb2.SYNC_OUTCOME_DUPLICATE,) * 2
        assert (backwards.outcome, task_backwards.outcome) == (common_pb2.SYNC_OUTCOME_REJECTED,) * 2
        assert after == before
        assert after[0].status is JobStatus.RUNNING
        reader = [r for r in after[1] if r.key.task_name == "reader_0"]
        assert [r.status for r in reader] == [TaskStatus.RUNNING]


async def test_report_to_a_party_that_does_not_schedule_the_job_is_refused(tmp_path: Path) -> None:
    async with federation(tmp_path, ["9999", "10000"]) as fed:
        await fed.upload_breast()
        await create_job_at(fed, "10000", "job_report_0001")
        before = await snapshot(fed.nodes["10000"], "job_report_0001")

        error = await rpc_error(
            fed.control("10000").ReportTaskStatus(
                control_pb2.ReportTaskStatusRequest(
                    job_id="job_report_0001",
                    task_name="reader_0",
                    attempt=0,
                    role="host",
                    party_id="10000",
                    status=common_pb2.TASK_STATUS_RUNNING,
                ),
                timeout=10,
                metadata=as_party("10000"),
            ),
            grpc.StatusCode.FAILED_PRECONDITION,
        )

        assert error.code is ErrorCode.NOT_SCHEDULER
        assert await snapshot(fed.nodes["10000"], "job_report_0001") == before
