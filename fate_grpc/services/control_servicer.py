"""ControlService: scheduler <-> participant messages, validated at the edge."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import grpc

from fate_grpc.common.v1 import common_pb2
from fate_grpc.control.v1 import control_pb2, control_pb2_grpc
from fate_grpc.domain.dag_loading import DEFAULT_MAX_DAG_BYTES
from fate_grpc.domain.ids import check_name, check_party_id
from fate_grpc.domain.status import Proposal, TaskStatus
from fate_grpc.errors import MAX_VIOLATIONS, ErrorCode, FateGrpcError, FieldViolation, invalid_argument
from fate_grpc.participant.job_checks import JobChecks
from fate_grpc.participant.job_cleaner import JobCleaner
from fate_grpc.participant.participant import Participant
from fate_grpc.participant.task_runtime import TaskRuntime
from fate_grpc.parties.dag_cache import DagCache
from fate_grpc.scheduler.job_creation import JobCreator
from fate_grpc.scheduler.scheduler import Scheduler
from fate_grpc.scheduler.views import JobViews
from fate_grpc.security.identity import PeerAuthenticator
from fate_grpc.services.control_lifecycle import ControlLifecycleRpcs
from fate_grpc.services.edge import unary_edge
from fate_grpc.store.interface import Store
from fate_grpc.store.records import JobRecord
from fate_grpc.wire.convert import (
    job_status_from_proto,
    job_status_to_proto,
    now_ms,
    task_status_from_proto,
    task_view,
)

OUTCOMES = {
    Proposal.APPLY: common_pb2.SYNC_OUTCOME_APPLIED,
    Proposal.DUPLICATE: common_pb2.SYNC_OUTCOME_DUPLICATE,
    Proposal.STALE: common_pb2.SYNC_OUTCOME_STALE,
    Proposal.REJECT: common_pb2.SYNC_OUTCOME_REJECTED,
}
STOP_STATUSES = {TaskStatus.CANCELED, TaskStatus.FAILED, TaskStatus.TIMEOUT}


def _violations(items: list[FieldViolation]) -> list[common_pb2.Violation]:
    # The scheduler reports them to the user in an error of bounded size anyway; this bounds the
    # answer's size (each violation is itself bounded) and still says how many there were.
    if len(items) > MAX_VIOLATIONS:
        more = FieldViolation("", f"and {len(items) - MAX_VIOLATIONS} more problem(s) not listed")
        items = [*items[:MAX_VIOLATIONS], more]
    return [common_pb2.Violation(field=v.field, reason=v.reason, party_id=v.party_id) for v in items]


def check_task_ref(job_id: str, task_name: str, attempt: int) -> None:
    check_name(job_id, "job_id")
    check_name(task_name, "task_name")
    if not 0 <= attempt < 10_000:
        raise invalid_argument("attempt must be between 0 and 9999", field_path="attempt")


def check_dag_size(dag_yaml: str, max_bytes: int) -> None:
    """Refuse a DAG document of more than `max_bytes` bytes (UTF-8), the node's limits.max_dag_bytes."""
    # Characters would undercount: a DAG of CJK text takes three bytes per character.
    if len(dag_yaml) > max_bytes or len(dag_yaml.encode("utf-8", "surrogatepass")) > max_bytes:
        raise invalid_argument(
            f"the DAG document is larger than this node accepts ({max_bytes} bytes UTF-8,"
            " limits.max_dag_bytes in the node conf)",
            field_path="dag_yaml",
        )


class ControlServicer(ControlLifecycleRpcs, control_pb2_grpc.ControlServiceServicer):
    def __init__(
        self,
        *,
        participant: Participant,
        runtime: TaskRuntime,
        scheduler: Scheduler,
        creator: JobCreator,
        views: JobViews,
        store: Store,
        dags: DagCache,
        peers: PeerAuthenticator,
        max_pending_creates_per_partner: int,
        checks: JobChecks,
        cleaner: JobCleaner,
        max_dag_bytes: int = DEFAULT_MAX_DAG_BYTES,
    ) -> None:
        self._max_dag_bytes = max_dag_bytes
        self._checks = checks
        self._cleaner = cleaner
        self._participant = participant
        self._runtime = runtime
        self._scheduler = scheduler
        self._creator = creator
        self._views = views
        self._store = store
        self._dags = dags
        self._peers = peers
        self._max_pending = max_pending_creates_per_partner
        self._pending: dict[str, int] = {}

    async def _require_scheduler(self, context: Any, job_id: str, action: str) -> JobRecord:
        """The caller must be the job's scheduler party."""
        job = await self._store.get_job(job_id)
        self._peers.require(context, job.scheduler_party_id, action)
        return job

    async def _require_job_party(self, context: Any, job_id: str, action: str) -> str:
        """The caller must be one of the job's parties."""
        job = await self._store.get_job(job_id)
        parties = set((await self._dags.get(job.job_id)).party_ids())
        return self._peers.require(context, parties, action)

    @contextlib.contextmanager
    def _bounded(self, party_id: str) -> Iterator[None]:
        """A partner may have only so many job checks/creates in flight here."""
        if self._pending.get(party_id, 0) >= self._max_pending:
            raise FateGrpcError(
                ErrorCode.RESOURCE_EXHAUSTED,
                f"party {party_id} has {self._max_pending} job creations in flight here already; retry later",
            )
        self._pending[party_id] = self._pending.get(party_id, 0) + 1
        try:
            yield
        finally:
            self._pending[party_id] -= 1

    @unary_edge
    async def ForwardSubmit(
        self, request: control_pb2.ForwardSubmitRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.ForwardSubmitResponse:
        check_dag_size(request.dag_yaml, self._max_dag_bytes)
        check_party_id(request.initiator_party_id)
        self._peers.require(context, request.initiator_party_id, "submit as that initiator")
        created = await self._creator.create(
            request.dag_yaml, initiator_party_id=request.initiator_party_id, user_name=request.user_name
        )
        self._scheduler.job_created(created.job_id, list(created.party_ids))
        return control_pb2.ForwardSubmitResponse(
            job_id=created.job_id, model_id=created.model_id, model_version=created.model_version
        )

    @unary_edge
    async def CheckJob(
        self, request: control_pb2.CheckJobRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.CheckJobResponse:
        check_name(request.job_id, "job_id")
        check_dag_size(request.dag_yaml, self._max_dag_bytes)
        check_party_id(request.scheduler_party_id)
        check_party_id(request.initiator_party_id)
        caller = self._peers.require(context, request.scheduler_party_id, "check jobs as that scheduler")
        with self._bounded(caller):
            problems = await self._participant.check_job(
                request.job_id,
                request.dag_yaml,
                scheduler_party_id=request.scheduler_party_id,
                initiator_party_id=request.initiator_party_id,
            )
        return control_pb2.CheckJobResponse(accepted=not problems, violations=_violations(problems))

    @unary_edge
    async def CreateJob(
        self, request: control_pb2.CreateJobRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.CreateJobResponse:
        check_name(request.job_id, "job_id")
        check_dag_size(request.dag_yaml, self._max_dag_bytes)
        check_party_id(request.scheduler_party_id)
        check_party_id(request.initiator_party_id)
        caller = self._peers.require(context, request.scheduler_party_id, "create jobs as that scheduler")
        with self._bounded(caller):
            problems = await self._participant.create_job(request)
        return control_pb2.CreateJobResponse(created=not problems, violations=_violations(problems))

    @unary_edge
    async def AbortJob(
        self, request: control_pb2.AbortJobRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.AbortJobResponse:
        check_name(request.job_id, "job_id")
        if await self._store.find_job(request.job_id) is None:
            return control_pb2.AbortJobResponse(removed=False)
        await self._require_scheduler(context, request.job_id, "abort this job")
        return control_pb2.AbortJobResponse(removed=await self._participant.abort_job(request.job_id))

    @unary_edge
    async def StartTask(
        self, request: control_pb2.StartTaskRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.StartTaskResponse:
        check_task_ref(request.job_id, request.task_name, request.attempt)
        await self._require_scheduler(context, request.job_id, "start tasks of this job")
        roles = await self._runtime.start_task(request.job_id, request.task_name, request.attempt)
        return control_pb2.StartTaskResponse(roles=roles)

    @unary_edge
    async def StopTask(
        self, request: control_pb2.StopTaskRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.StopTaskResponse:
        check_task_ref(request.job_id, request.task_name, request.attempt)
        await self._require_scheduler(context, request.job_id, "stop tasks of this job")
        status = task_status_from_proto(request.status)
        if status not in STOP_STATUSES:
            raise invalid_argument("a stop status must be canceled, failed or timeout", field_path="status")
        killed = await self._runtime.stop_task(
            request.job_id, request.task_name, request.attempt, status, request.reason[:2000]
        )
        return control_pb2.StopTaskResponse(killed=killed)

    @unary_edge
    async def SyncTaskStatus(
        self, request: control_pb2.SyncTaskStatusRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.SyncTaskStatusResponse:
        check_task_ref(request.job_id, request.task_name, request.attempt)
        await self._require_scheduler(context, request.job_id, "set task status of this job")
        status = task_status_from_proto(request.status)
        proposal, reason = await self._participant.sync_task_status(
            request.job_id, request.task_name, request.attempt, status, request.reason[:2000]
        )
        return control_pb2.SyncTaskStatusResponse(outcome=OUTCOMES[proposal], reason=reason)

    @unary_edge
    async def SyncJobStatus(
        self, request: control_pb2.SyncJobStatusRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.SyncJobStatusResponse:
        check_name(request.job_id, "job_id")
        await self._require_scheduler(context, request.job_id, "set the status of this job")
        status = job_status_from_proto(request.status)
        progress = max(0, min(100, request.progress))
        proposal, reason = await self._participant.sync_job_status(
            request.job_id, status, request.reason[:2000], progress
        )
        return control_pb2.SyncJobStatusResponse(outcome=OUTCOMES[proposal], reason=reason)

    @unary_edge
    async def ReportTaskStatus(
        self, request: control_pb2.ReportTaskStatusRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.ReportTaskStatusResponse:
        check_task_ref(request.job_id, request.task_name, request.attempt)
        check_party_id(request.party_id)
        check_name(request.role, "role")
        self._peers.require(context, request.party_id, "report the status of another party's task")
        status = task_status_from_proto(request.status)
        proposal = await self._scheduler.on_report(request, status)
        return control_pb2.ReportTaskStatusResponse(outcome=OUTCOMES[proposal])

    @unary_edge
    async def CollectTaskStatus(
        self, request: control_pb2.CollectTaskStatusRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.CollectTaskStatusResponse:
        check_task_ref(request.job_id, request.task_name, request.attempt)
        await self._require_scheduler(context, request.job_id, "collect task status of this job")
        rows = await self._participant.ensure_attempt_rows(request.job_id, request.task_name, request.attempt)
        now = now_ms()
        views = [task_view(row, row.component, now, status=row.party_status) for row in rows]
        lost = [row.key.role for row in rows if self._participant.is_lost(row)]
        return control_pb2.CollectTaskStatusResponse(tasks=views, lost_roles=lost)

    @unary_edge
    async def RequestStopJob(
        self, request: control_pb2.RequestStopJobRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.RequestStopJobResponse:
        check_name(request.job_id, "job_id")
        check_party_id(request.requester_party_id)
        caller = await self._require_job_party(context, request.job_id, "stop this job")
        if caller != request.requester_party_id:
            self._peers.require(context, request.requester_party_id, "stop jobs for another party")
        status = await self._scheduler.stop_job(request.job_id, request.requester_party_id)
        return control_pb2.RequestStopJobResponse(status=job_status_to_proto(status))

    @unary_edge
    async def GetJobView(
        self, request: control_pb2.GetJobViewRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.GetJobViewResponse:
        check_name(request.job_id, "job_id")
        await self._require_job_party(context, request.job_id, "see this job")
        view = await self._views.scheduler_view(request.job_id, all_attempts=request.all_attempts)
        if view is None:
            raise FateGrpcError(ErrorCode.NOT_SCHEDULER, f"this node does not schedule job {request.job_id}")
        return control_pb2.GetJobViewResponse(job=view)
