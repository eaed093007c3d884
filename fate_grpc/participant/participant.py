"""The participant side of a node: take part in jobs the scheduler creates, apply status syncs,
and report local task status changes to the scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, replace
from typing import Any

from fate_grpc.control.v1 import control_pb2
from fate_grpc.domain.component_spec import ComponentCatalog
from fate_grpc.domain.dag import Dag, parse_dag, resolve_party
from fate_grpc.domain.status import (
    JOB_END_STATUSES,
    NEVER_STARTED_END_STATUS,
    TASK_END_STATUSES,
    TASK_SUCCESS_STATUSES,
    JobStatus,
    Proposal,
    TaskStatus,
    classify_job_proposal,
    classify_task_proposal,
)
from fate_grpc.errors import ErrorCode, FateGrpcError, FieldViolation
from fate_grpc.participant.job_checks import JobChecks
from fate_grpc.parties.dag_cache import DagCache
from fate_grpc.parties.gateway import PartyGateway
from fate_grpc.store.interface import Store
from fate_grpc.store.records import JobRecord, OutputRecord, TaskKey, TaskRecord
from fate_grpc.transfer.mailbox import Mailbox
from fate_grpc.wire.convert import job_status_from_proto, task_status_to_proto

log = logging.getLogger("fate_grpc.participant")

Spawn = Callable[[Coroutine[Any, Any, None]], None]
INTERRUPTED = TASK_END_STATUSES - TASK_SUCCESS_STATUSES


@dataclass(frozen=True)
class ForcedEnd:
    """What force-ending a job at this party did."""

    previous: JobStatus
    """The job's status here before."""
    killed_processes: int
    """Task processes stopped."""
    ended_tasks: int
    """Task rows of this party ended canceled (their process had not ended)."""
    cores_returned: bool
    """Whether the job held cores here."""


@dataclass
class Inherited:
    tasks: dict[tuple[str, str], TaskRecord] = field(default_factory=dict)
    outputs: list[OutputRecord] = field(default_factory=list)


class Participant:
    """Job-level participant logic; task processes are handled by the TaskRuntime it is given."""

    def __init__(
        self,
        *,
        party_id: str,
        store: Store,
        gateway: PartyGateway,
        catalog: ComponentCatalog,
        dags: DagCache,
        mailbox: Mailbox,
        spawn: Spawn,
        rpc_timeout_s: float,
        report_retry_s: float,
    ) -> None:
        self.party_id = party_id
        self._store = store
        self._gateway = gateway
        self._catalog = catalog
        self._dags = dags
        self._mailbox = mailbox
        self._spawn = spawn
        self._rpc_timeout = rpc_timeout_s
        self._report_retry = report_retry_s
        self.runtime: Any = None  # set by the node: TaskRuntime (start/stop of task processes)
        self.checks: JobChecks  # set by the node
        self._reporting: dict[TaskKey, bool] = {}  # key -> another report is due after the one in flight

    # -- job creation ----------------------------------------------------------------------------
    async def check_job(
        self, job_id: str, dag_yaml: str, *, scheduler_party_id: str, initiator_party_id: str
    ) -> list[FieldViolation]:
        """What would stop this party from taking the job (see JobChecks). Writes nothing."""
        try:
            dag = parse_dag(dag_yaml, self._catalog)
        except FateGrpcError as exc:
            return [FieldViolation(v.field, v.reason, self.party_id) for v in exc.violations] or [
                FieldViolation("dag", exc.message, self.party_id)
            ]
        return await self.checks.violations(
            job_id, dag, scheduler_party_id=scheduler_party_id, initiator_party_id=initiator_party_id
        )

    async def create_job(self, request: control_pb2.CreateJobRequest) -> list[FieldViolation]:
        """Check again, then store the job and its first task attempts in one transaction."""
        problems = await self.check_job(
            request.job_id,
            request.dag_yaml,
            scheduler_party_id=request.scheduler_party_id,
            initiator_party_id=request.initiator_party_id,
        )
        if problems:
            return problems
        dag = parse_dag(request.dag_yaml, self._catalog)
        inherited = await self._inherited(dag, request.job_id)
        tasks = [
            inherited.tasks.get((t.name, role))
            or TaskRecord(key=TaskKey(request.job_id, t.name, 0, role, self.party_id), component=t.component)
            for role in dag.roles_of(self.party_id)
            for t in resolve_party(dag, role, self.party_id, self._catalog)
        ]
        job = JobRecord(
            job_id=request.job_id,
            dag_yaml=request.dag_yaml,
            initiator_party_id=request.initiator_party_id,
            scheduler_party_id=request.scheduler_party_id,
            is_scheduler=request.scheduler_party_id == self.party_id,
            user_name=request.user_name,
            priority=dag.conf.priority,
            create_time_ms=request.create_time_ms,
        )
        await self._store.create_job(job, tasks, outputs=inherited.outputs)
        return []

    async def _inherited(self, dag: Dag, job_id: str) -> Inherited:
        """Rows and outputs of the tasks this job takes over from an earlier job, at this party."""
        inheritance = dag.conf.inheritance or {}
        old_job = str(inheritance.get("job_id", ""))
        wanted = {str(t) for t in inheritance.get("task_list") or []}
        result = Inherited()
        if not old_job or not wanted:
            return result
        rows = await self._store.list_tasks(old_job)
        outputs = await self._store.list_outputs(old_job)
        for name in wanted:
            mine = [r for r in rows if r.key.task_name == name]
            if not mine:
                continue
            newest = max(r.key.attempt for r in mine)
            for row in (r for r in mine if r.key.attempt == newest):
                key = TaskKey(job_id, name, 0, row.key.role, self.party_id)
                result.tasks[(name, row.key.role)] = replace(
                    row, key=key, status=TaskStatus.SUCCESS, party_status=TaskStatus.SUCCESS, pid=0
                )
                result.outputs.extend(replace(o, key=key) for o in outputs if o.key == row.key)
        return result

    async def abort_job(self, job_id: str) -> bool:
        """Forget a job whose creation failed elsewhere (only before any task ran here)."""
        job = await self._store.find_job(job_id)
        if job is None:
            return False
        tasks = await self._store.list_tasks(job_id)
        if any(t.party_status is not TaskStatus.WAITING for t in tasks):
            raise FateGrpcError(ErrorCode.CONFLICT, f"job {job_id} already ran tasks here; not removed")
        self._dags.forget(job_id)
        return await self._store.delete_job(job_id)

    # -- status sync from the scheduler ----------------------------------------------------------
    async def sync_task_status(
        self, job_id: str, task_name: str, attempt: int, status: TaskStatus, reason: str
    ) -> tuple[Proposal, str]:
        rows = await self._store.list_tasks(job_id, task_name=task_name, attempt=attempt)
        if not rows:
            rows = await self.ensure_attempt_rows(job_id, task_name, attempt)
        outcomes = []
        for row in rows:
            proposal = classify_task_proposal(row.status, status)
            if proposal is Proposal.APPLY:
                try:
                    await self._store.transition_task_status(
                        row.key, expected=row.status, to=status, error=reason
                    )
                except FateGrpcError as exc:
                    if exc.code is not ErrorCode.CONFLICT:
                        raise
                    proposal = Proposal.STALE
            if status in INTERRUPTED and row.party_status is TaskStatus.WAITING:
                # The attempt ended before it started here: this party's own view ends with it.
                await _try_transition_party(self._store, row, NEVER_STARTED_END_STATUS, reason)
            outcomes.append(proposal)
        return _combine(outcomes), ""

    async def mark_started(self, key: TaskKey) -> None:
        """Starting a task at the scheduler's request means its federated status is running too."""
        try:
            await self._store.transition_task_status(key, expected=TaskStatus.WAITING, to=TaskStatus.RUNNING)
        except FateGrpcError as exc:
            if exc.code not in (ErrorCode.CONFLICT, ErrorCode.INVALID_TRANSITION):
                raise

    async def ensure_attempt_rows(self, job_id: str, task_name: str, attempt: int) -> list[TaskRecord]:
        """Rows of a task attempt at this party's roles, creating them for a new attempt."""
        rows = await self._store.list_tasks(job_id, task_name=task_name, attempt=attempt)
        if rows:
            return rows
        dag = await self._dags.get(job_id)
        new = [
            TaskRecord(key=TaskKey(job_id, task_name, attempt, role, self.party_id), component=t.component)
            for role in dag.roles_of(self.party_id)
            for t in resolve_party(dag, role, self.party_id, self._catalog)
            if t.name == task_name
        ]
        if not new:
            raise FateGrpcError(
                ErrorCode.NOT_FOUND, f"task {task_name} of job {job_id} does not run at party {self.party_id}"
            )
        try:
            await self._store.add_tasks(new)
        except FateGrpcError as exc:
            if exc.code is not ErrorCode.ALREADY_EXISTS:
                raise
        return await self._store.list_tasks(job_id, task_name=task_name, attempt=attempt)

    async def sync_job_status(
        self, job_id: str, status: JobStatus, reason: str, progress: int
    ) -> tuple[Proposal, str]:
        """Take the scheduler's status of a job; an end status also ends the job here (its tasks
        stopped, its cores returned), whatever this party missed before it."""
        job = await self._store.get_job(job_id)
        if status is JobStatus.SUCCESS and job.status is JobStatus.WAITING:
            # The "running" sync never arrived (the party was away): a job that succeeded ran.
            job = await self._store.transition_job(job_id, expected=JobStatus.WAITING, to=JobStatus.RUNNING)
        proposal = classify_job_proposal(job.status, status)
        if proposal is Proposal.APPLY:
            try:
                await self._store.transition_job(
                    job_id, expected=job.status, to=status, reason=reason, progress=progress
                )
            except FateGrpcError as exc:
                if exc.code is not ErrorCode.CONFLICT:
                    raise
                proposal = Proposal.STALE
        elif proposal is Proposal.DUPLICATE:
            await self._store.set_job_progress(job_id, progress, reason or None)
        if status in JOB_END_STATUSES and proposal is not Proposal.REJECT:
            await self.end_job_locally(job_id, status)
        return proposal, ""

    async def end_job_locally(self, job_id: str, status: JobStatus) -> None:
        """Stop what still runs of a finished job here and cancel what never started."""
        if self.runtime is not None:
            await self.runtime.stop_job(job_id, _stop_status(status), f"job {job_id} ended {status.value}")
        await self._store.return_job_resources(job_id)
        for row in await self._store.list_tasks(job_id):
            if row.party_status is TaskStatus.WAITING:
                await _try_transition_party(
                    self._store, row, NEVER_STARTED_END_STATUS, "job ended before it started"
                )
            if row.status is TaskStatus.WAITING:
                try:
                    await self._store.transition_task_status(
                        row.key, expected=TaskStatus.WAITING, to=NEVER_STARTED_END_STATUS
                    )
                except FateGrpcError as exc:
                    if exc.code is not ErrorCode.CONFLICT:
                        raise
        self._mailbox.drop_job(job_id)

    # -- reporting to the scheduler --------------------------------------------------------------
    def report_soon(self, key: TaskKey) -> None:
        """Send this task's current local status to the scheduler in the background (with retries).

        Reports carry the row as it is when sent, so changes that arrive while one is in flight are
        folded into a single follow-up report."""
        if key in self._reporting:
            self._reporting[key] = True
            return
        self._reporting[key] = False
        self._spawn(self._report_until_current(key))

    async def _report_until_current(self, key: TaskKey) -> None:
        try:
            while True:
                await self._report(key)
                if not self._reporting.get(key):
                    return
                self._reporting[key] = False
        finally:
            self._reporting.pop(key, None)

    async def _report(self, key: TaskKey) -> None:
        deadline = asyncio.get_running_loop().time() + self._report_retry
        delay = 0.05
        while True:
            try:
                await self._send_report(key)
                return
            except FateGrpcError as exc:
                if exc.code not in (ErrorCode.PARTY_UNAVAILABLE, ErrorCode.DEADLINE_EXCEEDED):
                    log.warning("report of %s was refused: %s", key, exc.message)
                    return
                if asyncio.get_running_loop().time() + delay > deadline:
                    # The scheduler will ask for it (CollectTaskStatus) once it is reachable again.
                    log.warning("could not report %s to the scheduler: %s", key, exc.message)
                    return
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    async def _send_report(self, key: TaskKey) -> None:
        row = await self._store.get_task(key)
        job = await self._store.get_job(key.job_id)
        request = control_pb2.ReportTaskStatusRequest(
            job_id=key.job_id,
            task_name=key.task_name,
            attempt=key.attempt,
            role=key.role,
            party_id=key.party_id,
            status=task_status_to_proto(row.party_status),
            error=row.error,
            start_time_ms=row.start_time_ms,
            end_time_ms=row.end_time_ms,
            progress=row.progress,
            lost=self.is_lost(row),
        )
        await self._gateway.report_task_status(job.scheduler_party_id, request, deadline_s=self._rpc_timeout)

    async def force_end_job(self, job_id: str, operator: str) -> ForcedEnd:
        """End a job at this party only, whatever the scheduler says (an operator's last resort).

        Stops its task processes, ends its unfinished task rows canceled, ends the job canceled here
        (unless it already ended) and returns its cores.
        """
        job = await self._store.get_job(job_id)
        reason = f"ended by force at party {self.party_id} by {operator}"
        previous = job.status
        if job.status not in JOB_END_STATUSES:
            await self._store.transition_job(
                job_id, expected=job.status, to=JobStatus.CANCELED, reason=reason
            )
        held = job.resources_held
        killed = 0
        if self.runtime is not None:
            killed = await self.runtime.stop_job(job_id, TaskStatus.CANCELED, reason)
        ended = 0
        for row in await self._store.list_tasks(job_id):
            if row.party_status in (TaskStatus.WAITING, TaskStatus.RUNNING):
                ended += await _try_transition_party(self._store, row, TaskStatus.CANCELED, reason)
            if row.status in (TaskStatus.WAITING, TaskStatus.RUNNING):
                with contextlib.suppress(FateGrpcError):
                    await self._store.transition_task_status(
                        row.key, expected=row.status, to=TaskStatus.CANCELED, error=reason
                    )
        await self.end_job_locally(job_id, JobStatus.CANCELED)
        log.warning("job %s %s (was %s)", job_id, reason, previous.value)
        return ForcedEnd(previous=previous, killed_processes=killed, ended_tasks=ended, cores_returned=held)

    async def catch_up_with_schedulers(self) -> list[str]:
        """Ask the scheduler of each job unfinished here how it stands; end here those that ended
        there (a final status this party missed). Returns the jobs ended so. A scheduler that cannot
        be reached now sends the end itself when it can (its outbox)."""
        ended = []
        unfinished = await self._store.list_jobs(
            statuses=[JobStatus.WAITING, JobStatus.RUNNING], limit=100_000
        )
        for job in (j for j in unfinished if not j.is_scheduler):
            request = control_pb2.GetJobViewRequest(job_id=job.job_id)
            try:
                answer = await self._gateway.get_job_view(
                    job.scheduler_party_id, request, deadline_s=self._rpc_timeout
                )
            except FateGrpcError as exc:
                log.info("job %s: could not ask its scheduler how it stands: %s", job.job_id, exc.message)
                continue
            status = job_status_from_proto(answer.job.status)
            if status in JOB_END_STATUSES:
                await self.sync_job_status(job.job_id, status, answer.job.status_reason, answer.job.progress)
                log.warning("job %s had ended %s at its scheduler: ended here too", job.job_id, status.value)
                ended.append(job.job_id)
        return ended

    async def recover_after_restart(self) -> list[TaskKey]:
        """Tasks that were running when the node went down are lost (their processes died with it):
        their rows here end failed with `lost_reason`, and the keys are returned, to be reported to
        their schedulers (which start new attempts) once the node serves. Cores still held by jobs
        that ended here are given back."""
        for job_id in await self._store.return_resources_of_ended_jobs():
            log.warning("job %s had ended but still held cores here: returned", job_id)
        lost = []
        for row in await self._store.list_tasks_with_party_status([TaskStatus.RUNNING, TaskStatus.WAITING]):
            # A row still waiting here whose start the scheduler had asked for was being started.
            started = row.party_status is TaskStatus.RUNNING or row.status is TaskStatus.RUNNING
            if started and await _try_transition_party(self._store, row, TaskStatus.FAILED, self.lost_reason):
                lost.append(row.key)
        return lost

    @property
    def lost_reason(self) -> str:
        """The error of a task row lost to this node's restart (what tells it from a failed task)."""
        return f"node of party {self.party_id} restarted while the task ran"

    def is_lost(self, row: TaskRecord) -> bool:
        return row.party_status is TaskStatus.FAILED and row.error == self.lost_reason


def _stop_status(job_status: JobStatus) -> TaskStatus:
    return {
        JobStatus.TIMEOUT: TaskStatus.TIMEOUT,
        JobStatus.FAILED: TaskStatus.CANCELED,
    }.get(job_status, TaskStatus.CANCELED)


async def _try_transition_party(store: Store, row: TaskRecord, to: TaskStatus, error: str) -> bool:
    try:
        await store.transition_task_party_status(row.key, expected=row.party_status, to=to, error=error)
    except FateGrpcError as exc:
        if exc.code in (ErrorCode.CONFLICT, ErrorCode.INVALID_TRANSITION):
            return False
        raise
    return True


def _combine(outcomes: list[Proposal]) -> Proposal:
    for proposal in (Proposal.REJECT, Proposal.APPLY, Proposal.STALE):
        if proposal in outcomes:
            return proposal
    return Proposal.DUPLICATE
