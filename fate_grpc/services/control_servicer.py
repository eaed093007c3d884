"""ControlService: scheduler <-> participant messages, validated at the edge."""

from __future__ import annotations

from fate_grpc.common.v1 import common_pb2
from fate_grpc.control.v1 import control_pb2, control_pb2_grpc
from fate_grpc.domain.ids import check_name, check_party_id
from fate_grpc.domain.status import Proposal, TaskStatus
from fate_grpc.errors import ErrorCode, FateGrpcError, FieldViolation, invalid_argument
from fate_grpc.node.participant import Participant
from fate_grpc.node.task_runtime import TaskRuntime
from fate_grpc.scheduler.job_creation import JobCreator
from fate_grpc.scheduler.scheduler import Scheduler
from fate_grpc.scheduler.views import JobViews
from fate_grpc.services.convert import (
    job_status_from_proto,
    job_status_to_proto,
    now_ms,
    task_status_from_proto,
    task_view,
)
from fate_grpc.services.edge import unary_edge

OUTCOMES = {
    Proposal.APPLY: common_pb2.SYNC_OUTCOME_APPLIED,
    Proposal.DUPLICATE: common_pb2.SYNC_OUTCOME_DUPLICATE,
    Proposal.STALE: common_pb2.SYNC_OUTCOME_STALE,
    Proposal.REJECT: common_pb2.SYNC_OUTCOME_REJECTED,
}
MAX_DAG_CHARS = 1024 * 1024
STOP_STATUSES = {TaskStatus.CANCELED, TaskStatus.FAILED, TaskStatus.TIMEOUT}


def _violations(items: list[FieldViolation]) -> list[common_pb2.Violation]:
    return [common_pb2.Violation(field=v.field, reason=v.reason, party_id=v.party_id) for v in items]


def check_task_ref(job_id: str, task_name: str, attempt: int) -> None:
    check_name(job_id, "job_id")
    check_name(task_name, "task_name")
    if not 0 <= attempt < 10_000:
        raise invalid_argument("attempt must be between 0 and 9999", field_path="attempt")


def check_dag_size(dag_yaml: str) -> None:
    if len(dag_yaml) > MAX_DAG_CHARS:
        raise invalid_argument("the DAG document is larger than 1 MiB", field_path="dag_yaml")


class ControlServicer(control_pb2_grpc.ControlServiceServicer):
    def __init__(
        self,
        *,
        participant: Participant,
        runtime: TaskRuntime,
        scheduler: Scheduler,
        creator: JobCreator,
        views: JobViews,
    ) -> None:
        self._participant = participant
        self._runtime = runtime
        self._scheduler = scheduler
        self._creator = creator
        self._views = views

    @unary_edge
    async def ForwardSubmit(self, request, context):  # type: ignore[override]
        check_dag_size(request.dag_yaml)
        check_party_id(request.initiator_party_id)
        created = await self._creator.create(
            request.dag_yaml, initiator_party_id=request.initiator_party_id, user_name=request.user_name
        )
        self._scheduler.kick(created.job_id)
        return control_pb2.ForwardSubmitResponse(
            job_id=created.job_id, model_id=created.model_id, model_version=created.model_version
        )

    @unary_edge
    async def CheckJob(self, request, context):  # type: ignore[override]
        check_name(request.job_id, "job_id")
        check_dag_size(request.dag_yaml)
        problems = await self._participant.check_job(request.job_id, request.dag_yaml)
        return control_pb2.CheckJobResponse(accepted=not problems, violations=_violations(problems))

    @unary_edge
    async def CreateJob(self, request, context):  # type: ignore[override]
        check_name(request.job_id, "job_id")
        check_dag_size(request.dag_yaml)
        check_party_id(request.scheduler_party_id)
        problems = await self._participant.create_job(request)
        return control_pb2.CreateJobResponse(created=not problems, violations=_violations(problems))

    @unary_edge
    async def AbortJob(self, request, context):  # type: ignore[override]
        check_name(request.job_id, "job_id")
        return control_pb2.AbortJobResponse(removed=await self._participant.abort_job(request.job_id))

    @unary_edge
    async def StartTask(self, request, context):  # type: ignore[override]
        check_task_ref(request.job_id, request.task_name, request.attempt)
        roles = await self._runtime.start_task(request.job_id, request.task_name, request.attempt)
        return control_pb2.StartTaskResponse(roles=roles)

    @unary_edge
    async def StopTask(self, request, context):  # type: ignore[override]
        check_task_ref(request.job_id, request.task_name, request.attempt)
        status = task_status_from_proto(request.status)
        if status not in STOP_STATUSES:
            raise invalid_argument("a stop status must be canceled, failed or timeout", field_path="status")
        killed = await self._runtime.stop_task(
            request.job_id, request.task_name, request.attempt, status, request.reason[:2000]
        )
        return control_pb2.StopTaskResponse(killed=killed)

    @unary_edge
    async def SyncTaskStatus(self, request, context):  # type: ignore[override]
        check_task_ref(request.job_id, request.task_name, request.attempt)
        status = task_status_from_proto(request.status)
        proposal, reason = await self._participant.sync_task_status(
            request.job_id, request.task_name, request.attempt, status, request.reason[:2000]
        )
        return control_pb2.SyncTaskStatusResponse(outcome=OUTCOMES[proposal], reason=reason)

    @unary_edge
    async def SyncJobStatus(self, request, context):  # type: ignore[override]
        check_name(request.job_id, "job_id")
        status = job_status_from_proto(request.status)
        progress = max(0, min(100, request.progress))
        proposal, reason = await self._participant.sync_job_status(
            request.job_id, status, request.reason[:2000], progress
        )
        return control_pb2.SyncJobStatusResponse(outcome=OUTCOMES[proposal], reason=reason)

    @unary_edge
    async def ReportTaskStatus(self, request, context):  # type: ignore[override]
        check_task_ref(request.job_id, request.task_name, request.attempt)
        check_party_id(request.party_id)
        check_name(request.role, "role")
        status = task_status_from_proto(request.status)
        proposal = await self._scheduler.on_report(request, status)
        return control_pb2.ReportTaskStatusResponse(outcome=OUTCOMES[proposal])

    @unary_edge
    async def CollectTaskStatus(self, request, context):  # type: ignore[override]
        check_task_ref(request.job_id, request.task_name, request.attempt)
        rows = await self._participant.ensure_attempt_rows(request.job_id, request.task_name, request.attempt)
        now = now_ms()
        views = [task_view(row, row.component, now, status=row.party_status) for row in rows]
        return control_pb2.CollectTaskStatusResponse(tasks=views)

    @unary_edge
    async def RequestStopJob(self, request, context):  # type: ignore[override]
        check_name(request.job_id, "job_id")
        check_party_id(request.requester_party_id)
        status = await self._scheduler.stop_job(request.job_id, request.requester_party_id)
        return control_pb2.RequestStopJobResponse(status=job_status_to_proto(status))

    @unary_edge
    async def GetJobView(self, request, context):  # type: ignore[override]
        check_name(request.job_id, "job_id")
        view = await self._views.scheduler_view(request.job_id, all_attempts=request.all_attempts)
        if view is None:
            raise FateGrpcError(ErrorCode.NOT_SCHEDULER, f"this node does not schedule job {request.job_id}")
        return control_pb2.GetJobViewResponse(job=view)
