"""The scheduler party's reactions: start ready tasks, fold party reports into federated status, end jobs.

Event-driven: a job is advanced when it is created and whenever a party reports a status change. A
slow sweep asks parties about running tasks that have been silent (lost reports) - not the happy path.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Coroutine
from typing import Any

from fate_grpc.control.v1 import control_pb2
from fate_grpc.domain.dag import Dag, task_dependencies, task_parties, topological_order
from fate_grpc.domain.status import (
    JOB_END_STATUSES,
    TASK_END_STATUSES,
    JobStatus,
    Proposal,
    TaskStatus,
    can_transition_task,
    classify_task_proposal,
    federated_task_status,
    job_status_from_tasks,
    severity,
)
from fate_grpc.errors import ErrorCode, FateGrpcError
from fate_grpc.node.participant import DagCache
from fate_grpc.node.peers import PartyGateway
from fate_grpc.services.convert import job_status_to_proto, task_status_from_proto, task_status_to_proto
from fate_grpc.store.interface import Store
from fate_grpc.store.records import JobRecord, ScheduleTaskRecord, TaskAttemptRecord, TaskKey

log = logging.getLogger("fate_grpc.scheduler")

Spawn = Callable[[Coroutine[Any, Any, None]], None]
SUCCESSFUL = {TaskStatus.SUCCESS, TaskStatus.PASS}


def latest_attempts(attempts: list[TaskAttemptRecord]) -> dict[str, TaskAttemptRecord]:
    latest: dict[str, TaskAttemptRecord] = {}
    for attempt in attempts:
        current = latest.get(attempt.key.task_name)
        if current is None or attempt.key.attempt > current.key.attempt:
            latest[attempt.key.task_name] = attempt
    return latest


class Scheduler:
    def __init__(
        self,
        *,
        party_id: str,
        store: Store,
        gateway: PartyGateway,
        dags: DagCache,
        spawn: Spawn,
        rpc_timeout_s: float,
        collect_after_s: float,
    ) -> None:
        self._party_id = party_id
        self._store = store
        self._gateway = gateway
        self._dags = dags
        self._spawn = spawn
        self._timeout = rpc_timeout_s
        self._collect_after_ms = int(collect_after_s * 1000)
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._last_collect: dict[TaskKey, int] = {}
        self._collect_failures: defaultdict[TaskKey, int] = defaultdict(int)

    # -- entry points ----------------------------------------------------------------------------
    def kick(self, job_id: str) -> None:
        """Advance a job soon (in the background)."""
        self._spawn(self.advance(job_id))

    async def advance(self, job_id: str) -> None:
        async with self._locks[job_id]:
            await self._advance(job_id)

    async def on_report(self, request: control_pb2.ReportTaskStatusRequest, status: TaskStatus) -> Proposal:
        """A party's local status of a task attempt changed."""
        key = TaskKey(request.job_id, request.task_name, request.attempt, request.role, request.party_id)
        async with self._locks[key.job_id]:
            job = await self._store.get_job(key.job_id)
            if not job.is_scheduler:
                raise FateGrpcError(
                    ErrorCode.NOT_SCHEDULER, f"party {self._party_id} does not schedule job {key.job_id}"
                )
            proposal = await self._apply_report(
                key, status, request.error, request.start_time_ms, request.end_time_ms
            )
            if proposal is Proposal.APPLY:
                await self._reconcile_attempt(job, key.task_name, key.attempt)
                await self._advance(key.job_id)
            return proposal

    async def stop_job(self, job_id: str, requester_party_id: str) -> JobStatus:
        """Cancel a job at every party (user request)."""
        async with self._locks[job_id]:
            job = await self._store.get_job(job_id)
            if job.status in JOB_END_STATUSES:
                return job.status
            reason = f"stopped by a user at party {requester_party_id}"
            await self._finish(job, JobStatus.CANCELED, reason)
            return JobStatus.CANCELED

    # -- the core loop body ----------------------------------------------------------------------
    async def _advance(self, job_id: str) -> None:
        job = await self._store.get_job(job_id)
        if job.status is JobStatus.WAITING:
            job = await self._store.transition_job(job_id, expected=JobStatus.WAITING, to=JobStatus.RUNNING)
            await self._sync_job(job)
        if job.status is not JobStatus.RUNNING:
            return
        dag = await self._dags.get(job_id)
        latest = latest_attempts(await self._store.list_attempts(job_id))
        ready = _ready_tasks(dag, latest)
        if ready:
            await asyncio.gather(*(self._start_attempt(job, dag, latest[name]) for name in ready))
            latest = latest_attempts(await self._store.list_attempts(job_id))
        statuses = [a.status for a in latest.values()]
        job_status = job_status_from_tasks(statuses)
        progress = _progress(statuses)
        if job_status in JOB_END_STATUSES:
            await self._finish(job, job_status, _job_reason(job_status, latest))
        elif progress != job.progress:
            await self._store.set_job_progress(job_id, progress)
            await self._sync_job(await self._store.get_job(job_id))

    async def _start_attempt(self, job: JobRecord, dag: Dag, attempt: TaskAttemptRecord) -> None:
        key = attempt.key
        running = await self._store.transition_attempt(
            key, expected=TaskStatus.WAITING, to=TaskStatus.RUNNING
        )
        request = control_pb2.StartTaskRequest(
            job_id=key.job_id, task_name=key.task_name, attempt=key.attempt
        )
        party_ids = [p.party_id for p in task_parties(dag, key.task_name)]

        async def start(party_id: str) -> control_pb2.StartTaskResponse:
            return await self._gateway.call_control(party_id, "StartTask", request, timeout=self._timeout)

        _, failures = await self._gateway.fan_out(party_ids, start)
        if failures:
            error = "; ".join(f"could not start at party {f.party_id}: {f.error.message}" for f in failures)
            await self._end_attempt(job, dag, running, TaskStatus.FAILED, error)

    async def _apply_report(
        self, key: TaskKey, status: TaskStatus, error: str, start_ms: int, end_ms: int
    ) -> Proposal:
        rows = await self._store.list_schedule_tasks(key.job_id, task_name=key.task_name, attempt=key.attempt)
        row = next((r for r in rows if r.key == key), None)
        if row is None:
            return Proposal.REJECT
        proposal = classify_task_proposal(row.status, status)
        if proposal is Proposal.APPLY:
            try:
                await self._store.transition_schedule_task(
                    key,
                    expected=row.status,
                    to=status,
                    error=error,
                    start_time_ms=start_ms,
                    end_time_ms=end_ms,
                )
            except FateGrpcError as exc:
                if exc.code is not ErrorCode.CONFLICT:
                    raise
                return Proposal.STALE
        self._last_collect.pop(key, None)
        self._collect_failures.pop(key, None)
        return proposal

    async def _reconcile_attempt(self, job: JobRecord, task_name: str, attempt_no: int) -> None:
        """Derive the attempt's federated status from the parties' rows; push it if it changed."""
        rows = await self._store.list_schedule_tasks(job.job_id, task_name=task_name, attempt=attempt_no)
        attempts = await self._store.list_attempts(job.job_id)
        attempt = next(a for a in attempts if a.key.task_name == task_name and a.key.attempt == attempt_no)
        federated = federated_task_status(r.status for r in rows)
        if federated is attempt.status or not can_transition_task(attempt.status, federated):
            return
        dag = await self._dags.get(job.job_id)
        if federated in TASK_END_STATUSES:
            await self._end_attempt(job, dag, attempt, federated, _attempt_error(rows, federated))
        else:
            await self._store.transition_attempt(attempt.key, expected=attempt.status, to=federated)

    async def _end_attempt(
        self, job: JobRecord, dag: Dag, attempt: TaskAttemptRecord, status: TaskStatus, error: str
    ) -> None:
        key = attempt.key
        await self._store.transition_attempt(key, expected=attempt.status, to=status, error=error)
        party_ids = [p.party_id for p in task_parties(dag, key.task_name)]
        sync = control_pb2.SyncTaskStatusRequest(
            job_id=key.job_id,
            task_name=key.task_name,
            attempt=key.attempt,
            status=task_status_to_proto(status),
            reason=error,
        )
        stop = control_pb2.StopTaskRequest(
            job_id=key.job_id,
            task_name=key.task_name,
            attempt=key.attempt,
            status=task_status_to_proto(TaskStatus.CANCELED),
            reason=f"task {key.task_name} ended {status.value} elsewhere: {error}" if error else "",
        )

        async def push(party_id: str) -> None:
            if status not in SUCCESSFUL:
                await self._gateway.call_control(party_id, "StopTask", stop, timeout=self._timeout)
            await self._gateway.call_control(party_id, "SyncTaskStatus", sync, timeout=self._timeout)

        _, failures = await self._gateway.fan_out(party_ids, push)
        for failure in failures:
            log.warning(
                "task %s: could not sync %s to party %s: %s", key, status, failure.party_id, failure.error
            )

    async def _finish(self, job: JobRecord, status: JobStatus, reason: str) -> None:
        dag = await self._dags.get(job.job_id)
        latest = latest_attempts(await self._store.list_attempts(job.job_id))
        for attempt in latest.values():
            if attempt.status is TaskStatus.WAITING:
                await self._store.transition_attempt(
                    attempt.key,
                    expected=TaskStatus.WAITING,
                    to=TaskStatus.CANCELED,
                    error="the job ended before the task started",
                )
            elif attempt.status is TaskStatus.RUNNING:
                await self._end_attempt(job, dag, attempt, TaskStatus.CANCELED, reason)
        statuses = [a.status for a in latest_attempts(await self._store.list_attempts(job.job_id)).values()]
        job = await self._store.transition_job(
            job.job_id, expected=job.status, to=status, reason=reason, progress=_progress(statuses)
        )
        await self._sync_job(job)
        log.info("job %s ended %s%s", job.job_id, status.value, f": {reason}" if reason else "")

    async def _sync_job(self, job: JobRecord) -> None:
        dag = await self._dags.get(job.job_id)
        request = control_pb2.SyncJobStatusRequest(
            job_id=job.job_id,
            status=job_status_to_proto(job.status),
            reason=job.status_reason,
            progress=job.progress,
        )

        async def sync(party_id: str) -> None:
            await self._gateway.call_control(party_id, "SyncJobStatus", request, timeout=self._timeout)

        _, failures = await self._gateway.fan_out(dag.party_ids(), sync)
        for failure in failures:
            log.warning(
                "job %s: could not sync %s to party %s: %s",
                job.job_id,
                job.status,
                failure.party_id,
                failure.error,
            )

    # -- recovery paths --------------------------------------------------------------------------
    async def sweep(self) -> None:
        """Ask parties about running tasks that have not reported for a while (lost reports)."""
        now = int(time.time() * 1000)
        for job in await self._store.list_jobs(statuses=[JobStatus.RUNNING], scheduler_only=True):
            latest = latest_attempts(await self._store.list_attempts(job.job_id))
            running = [a for a in latest.values() if a.status is TaskStatus.RUNNING]
            for attempt in running:
                rows = await self._store.list_schedule_tasks(
                    job.job_id, task_name=attempt.key.task_name, attempt=attempt.key.attempt
                )
                for row in rows:
                    if row.status in TASK_END_STATUSES:
                        continue
                    last = max(row.update_time_ms, self._last_collect.get(row.key, 0))
                    if now - last >= self._collect_after_ms:
                        self._last_collect[row.key] = now
                        await self._collect(job, row)

    async def _collect(self, job: JobRecord, row: ScheduleTaskRecord) -> None:
        key = row.key
        request = control_pb2.CollectTaskStatusRequest(
            job_id=key.job_id, task_name=key.task_name, attempt=key.attempt
        )
        try:
            answer = await self._gateway.call_control(
                key.party_id, "CollectTaskStatus", request, timeout=self._timeout
            )
        except FateGrpcError as exc:
            self._collect_failures[key] += 1
            if self._collect_failures[key] >= 3:
                await self.on_report(
                    _report(key, TaskStatus.FAILED, f"{key.role} {key.party_id}: {exc.message}"),
                    TaskStatus.FAILED,
                )
            return
        self._collect_failures.pop(key, None)
        for view in answer.tasks:
            if view.role == key.role:
                status = task_status_from_proto(view.status)
                await self.on_report(
                    _report(key, status, view.error, view.start_time_ms, view.end_time_ms), status
                )

    async def unfinished_jobs(self) -> list[str]:
        """Jobs scheduled here that have not ended (read at start, before the node serves)."""
        jobs = await self._store.list_jobs(
            statuses=[JobStatus.WAITING, JobStatus.RUNNING], scheduler_only=True, limit=1_000_000
        )
        return [job.job_id for job in jobs]

    async def fail_after_restart(self, job_ids: list[str]) -> None:
        """Jobs this node was scheduling when it went down cannot be continued: fail them everywhere."""
        for job_id in job_ids:
            async with self._locks[job_id]:
                current = await self._store.get_job(job_id)
                if current.status in JOB_END_STATUSES:
                    continue
                await self._finish(
                    current,
                    JobStatus.FAILED,
                    f"the scheduler node (party {self._party_id}) restarted while the job ran; resubmit it",
                )


def _report(
    key: TaskKey, status: TaskStatus, error: str, start_ms: int = 0, end_ms: int = 0
) -> control_pb2.ReportTaskStatusRequest:
    return control_pb2.ReportTaskStatusRequest(
        job_id=key.job_id,
        task_name=key.task_name,
        attempt=key.attempt,
        role=key.role,
        party_id=key.party_id,
        status=task_status_to_proto(status),
        error=error,
        start_time_ms=start_ms,
        end_time_ms=end_ms,
    )


def _ready_tasks(dag: Dag, latest: dict[str, TaskAttemptRecord]) -> list[str]:
    dependencies = task_dependencies(dag)
    ready = []
    for name in topological_order(dag):
        attempt = latest.get(name)
        if attempt is None or attempt.status is not TaskStatus.WAITING:
            continue
        if all(latest[d].status in SUCCESSFUL for d in dependencies.get(name, ())):
            ready.append(name)
    return ready


def _progress(statuses: list[TaskStatus]) -> int:
    if not statuses:
        return 100
    return int(100 * sum(s in TASK_END_STATUSES for s in statuses) / len(statuses))


def _attempt_error(rows: list[ScheduleTaskRecord], status: TaskStatus) -> str:
    if status in SUCCESSFUL:
        return ""
    culprits = sorted((r for r in rows if r.error), key=lambda r: -severity(r.status))
    return culprits[0].error if culprits else ""


def _job_reason(status: JobStatus, latest: dict[str, TaskAttemptRecord]) -> str:
    if status is JobStatus.SUCCESS:
        return ""
    for attempt in sorted(latest.values(), key=lambda a: -severity(a.status)):
        if attempt.status.value == status.value:
            detail = f": {attempt.error}" if attempt.error else ""
            return f"task {attempt.key.task_name} {attempt.status.value}{detail}"
    return ""
