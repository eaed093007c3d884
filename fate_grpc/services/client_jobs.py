"""ClientService RPCs of the job lifecycle: watch, rerun, list, clean, logs, dependency graph, notes,
queue cleaning (mixed into ClientServicer)."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import grpc

from fate_grpc.client.v1 import client_pb2, jobs_pb2
from fate_grpc.common.v1 import common_pb2
from fate_grpc.components.providers import ProviderRegistry
from fate_grpc.control.v1 import control_pb2
from fate_grpc.data.paths import NodePaths
from fate_grpc.domain.component_spec import ROLES
from fate_grpc.domain.ids import check_name, check_party_id
from fate_grpc.domain.job_dependency import dependency_graph
from fate_grpc.domain.status import JobStatus, TaskStatus
from fate_grpc.errors import ErrorCode, FateGrpcError, invalid_argument, not_found
from fate_grpc.participant.participant import ForcedEnd
from fate_grpc.parties.dag_cache import DagCache
from fate_grpc.parties.gateway import PartyGateway
from fate_grpc.scheduler.job_log import JobLog
from fate_grpc.scheduler.scheduler import Scheduler
from fate_grpc.scheduler.views import JobViews
from fate_grpc.security.identity import ClientAuthenticator
from fate_grpc.services.edge import stream_edge, unary_edge
from fate_grpc.store.interface import Store
from fate_grpc.store.records import JobRecord
from fate_grpc.wire.convert import job_status_to_proto, now_ms, task_view

LOG_LINES_PER_MESSAGE = 200
MAX_LIST = 1000
MAX_NOTES_CHARS = 4096

# Ends a job at this party only: (job_id, operator) -> what it did (Participant.force_end_job).
ForceEndJob = Callable[[str, str], Awaitable[ForcedEnd]]


class ClientJobRpcs:
    """Needs the attributes ClientServicer sets."""

    _auth: ClientAuthenticator
    _store: Store
    _gateway: PartyGateway
    _scheduler: Scheduler
    _views: JobViews
    _dags: DagCache
    _paths: NodePaths
    _job_log: JobLog
    _party_id: str
    _rpc_timeout: float
    _submit_timeout: float
    _providers: ProviderRegistry
    _force_end_job: ForceEndJob | None

    async def force_stop_job(self, job_id: str, context: Any) -> client_pb2.StopJobResponse:
        """`flow job stop --force`: end the job at this party only (admins only), a last resort when
        this party's view of the job is stuck whatever its scheduler does."""
        user = await self._auth.user(context, admin=True)
        if self._force_end_job is None:
            raise FateGrpcError(ErrorCode.INTERNAL, "this node cannot force-end jobs")
        done = await self._force_end_job(job_id, f"user {user.name}")
        job = await self._store.get_job(job_id)
        return client_pb2.StopJobResponse(
            job_id=job_id,
            status=job_status_to_proto(job.status),
            forced=client_pb2.ForcedStop(
                party_id=self._party_id,
                previous_status=job_status_to_proto(done.previous),
                killed_processes=done.killed_processes,
                ended_tasks=done.ended_tasks,
                cores_returned=done.cores_returned,
            ),
        )

    @stream_edge
    async def WatchJob(
        self, request: client_pb2.WatchJobRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[client_pb2.WatchJobResponse]:
        await self._auth.user(context)
        job = await self._store.get_job(check_name(request.job_id, "job_id"))
        if job.is_scheduler:
            async for view in self._views.watch(job.job_id):
                yield client_pb2.WatchJobResponse(job=view)
            return
        # Relay the scheduler's stream: one live view wherever the user asks.
        relayed = control_pb2.WatchJobRequest(job_id=job.job_id)
        async for answer in self._gateway.watch_job(job.scheduler_party_id, relayed):
            yield client_pb2.WatchJobResponse(job=answer.job)

    @unary_edge
    async def RerunJob(
        self, request: client_pb2.RerunJobRequest, context: grpc.aio.ServicerContext
    ) -> client_pb2.RerunJobResponse:
        await self._auth.user(context)
        job = await self._store.get_job(check_name(request.job_id, "job_id"))
        if job.is_scheduler:
            status, tasks = await self._scheduler.rerun_job(job.job_id, self._party_id)
            return client_pb2.RerunJobResponse(
                job_id=job.job_id, status=job_status_to_proto(status), tasks=tasks
            )
        answer = await self._gateway.request_rerun_job(
            job.scheduler_party_id,
            control_pb2.RequestRerunJobRequest(job_id=job.job_id, requester_party_id=self._party_id),
            deadline_s=self._submit_timeout,
        )
        return client_pb2.RerunJobResponse(job_id=job.job_id, status=answer.status, tasks=answer.tasks)

    @unary_edge
    async def CleanJob(
        self, request: client_pb2.CleanJobRequest, context: grpc.aio.ServicerContext
    ) -> client_pb2.CleanJobResponse:
        await self._auth.user(context)
        job = await self._store.get_job(check_name(request.job_id, "job_id"))
        if job.is_scheduler:
            cleaned = await self._scheduler.clean_job(job.job_id)
        else:
            answer = await self._gateway.request_clean_job(
                job.scheduler_party_id,
                control_pb2.RequestCleanJobRequest(job_id=job.job_id, requester_party_id=self._party_id),
                deadline_s=self._submit_timeout,
            )
            cleaned = list(answer.cleaned_party_ids)
        return client_pb2.CleanJobResponse(job_id=job.job_id, cleaned_party_ids=cleaned)

    @unary_edge
    async def ListJobs(
        self, request: client_pb2.ListJobsRequest, context: grpc.aio.ServicerContext
    ) -> client_pb2.ListJobsResponse:
        await self._auth.user(context)
        statuses = [_job_status(request.status)] if request.status else []
        party = check_party_id(request.party_id) if request.party_id else ""
        role = _role(request.role) if request.role else ""
        limit = max(1, min(request.limit or 10, MAX_LIST))
        views: list[common_pb2.JobView] = []
        count = 0
        for job in await self._store.list_jobs(statuses=statuses, limit=MAX_LIST):
            if request.job_id and request.job_id not in job.job_id:
                continue
            dag = await self._dags.get(job.job_id)
            if party and party not in dag.party_ids():
                continue
            if role and role not in dag.roles_of(self._party_id):
                continue
            count += 1
            if len(views) < limit:
                views.append(await self._job_summary(job))
        return client_pb2.ListJobsResponse(jobs=views, count=count)

    async def _job_summary(self, job: JobRecord) -> common_pb2.JobView:
        view = await self._views.summary(job)
        add_local_notes(view, job, self._party_id)
        return view

    @unary_edge
    async def ListTasks(
        self, request: client_pb2.ListTasksRequest, context: grpc.aio.ServicerContext
    ) -> client_pb2.ListTasksResponse:
        await self._auth.user(context)
        status = _task_status(request.status) if request.status else None
        role = _role(request.role) if request.role else ""
        party = check_party_id(request.party_id) if request.party_id else ""
        limit = max(1, min(request.limit or 10, MAX_LIST))
        job_ids = (
            [check_name(request.job_id, "job_id")]
            if request.job_id
            else [j.job_id for j in await self._store.list_jobs(limit=MAX_LIST)]
        )
        now = now_ms()
        views: list[common_pb2.TaskView] = []
        count = 0
        for job_id in job_ids:
            for row in reversed(await self._store.list_tasks(job_id)):
                if (status is not None and row.party_status is not status) or (role and row.key.role != role):
                    continue
                if (party and row.key.party_id != party) or (
                    request.task_name and row.key.task_name != request.task_name
                ):
                    continue
                count += 1
                if len(views) < limit:
                    views.append(task_view(row, row.component, now, status=row.party_status))
        return client_pb2.ListTasksResponse(tasks=views, count=count)

    @unary_edge
    async def GetJobDependency(
        self, request: jobs_pb2.GetJobDependencyRequest, context: grpc.aio.ServicerContext
    ) -> jobs_pb2.GetJobDependencyResponse:
        await self._auth.user(context)
        job = await self._store.get_job(check_name(request.job_id, "job_id"))
        role, party_id = _role(request.role), check_party_id(request.party_id)
        dag = await self._dags.get(job.job_id)
        if role not in dag.roles_of(party_id):
            raise not_found(f"{role} {party_id} takes no part in job {job.job_id}", job_id=job.job_id)
        nodes = dependency_graph(dag, role, party_id, self._providers.catalog)
        return jobs_pb2.GetJobDependencyResponse(
            tasks=[
                jobs_pb2.TaskDependency(
                    task_name=node.task_name,
                    component=node.component,
                    stage=node.stage,
                    upstreams=[
                        jobs_pb2.TaskUpstream(
                            input_key=u.input_key,
                            kind=u.kind,
                            producer_task=u.producer_task,
                            output_artifact_key=u.output_artifact_key,
                        )
                        for u in node.upstreams
                    ],
                )
                for node in nodes
            ]
        )

    @unary_edge
    async def AddJobNotes(
        self, request: jobs_pb2.AddJobNotesRequest, context: grpc.aio.ServicerContext
    ) -> jobs_pb2.AddJobNotesResponse:
        await self._auth.user(context)
        job = await self._store.get_job(check_name(request.job_id, "job_id"))
        role, party_id = _role(request.role), check_party_id(request.party_id)
        if party_id != self._party_id:
            raise FateGrpcError(
                ErrorCode.WRONG_PARTY,
                f"notes on party {party_id}'s job are kept at its own node;"
                f" this node is party {self._party_id}",
                hint=f"ask party {party_id}'s node: flow --node HOST:PORT job add-notes ... -p {party_id}",
                fields={"party_id": party_id},
            )
        if role not in (await self._dags.get(job.job_id)).roles_of(party_id):
            raise not_found(f"{role} {party_id} takes no part in job {job.job_id}", job_id=job.job_id)
        if len(request.notes) > MAX_NOTES_CHARS:
            raise invalid_argument(f"notes are limited to {MAX_NOTES_CHARS} characters", field_path="notes")
        await self._store.set_job_description(job.job_id, request.notes)
        return jobs_pb2.AddJobNotesResponse(job_id=job.job_id)

    @unary_edge
    async def CleanQueue(
        self, request: jobs_pb2.CleanQueueRequest, context: grpc.aio.ServicerContext
    ) -> jobs_pb2.CleanQueueResponse:
        await self._auth.user(context)
        waiting = await self._store.list_jobs(statuses=[JobStatus.WAITING], limit=MAX_LIST)
        jobs = list(await asyncio.gather(*(self._cancel_waiting(job) for job in waiting)))
        jobs.sort(key=lambda j: j.job_id)
        return jobs_pb2.CleanQueueResponse(jobs=jobs)

    async def _cancel_waiting(self, job: JobRecord) -> jobs_pb2.CanceledJob:
        """Cancel one waiting job through its scheduler (FATE's clean-queue stops with CANCELED)."""
        try:
            if job.is_scheduler:
                status = job_status_to_proto(await self._scheduler.stop_job(job.job_id, self._party_id))
            else:
                answer = await self._gateway.request_stop_job(
                    job.scheduler_party_id,
                    control_pb2.RequestStopJobRequest(job_id=job.job_id, requester_party_id=self._party_id),
                    deadline_s=self._submit_timeout,
                )
                status = answer.status
        except FateGrpcError as exc:
            return jobs_pb2.CanceledJob(
                job_id=job.job_id, status=job_status_to_proto(job.status), error=exc.message
            )
        return jobs_pb2.CanceledJob(job_id=job.job_id, status=status)

    @stream_edge
    async def GetJobLog(
        self, request: client_pb2.GetJobLogRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[client_pb2.GetJobLogResponse]:
        await self._auth.user(context)
        job = await self._store.get_job(check_name(request.job_id, "job_id"))
        sources = await anyio.to_thread.run_sync(self._log_sources, job.job_id, request)
        if not sources:
            raise FateGrpcError(
                ErrorCode.NOT_FOUND, f"no log of job {job.job_id} matches at party {self._party_id}"
            )
        for source, path in sources:
            lines = await anyio.to_thread.run_sync(_read_lines, path, request.tail)
            for start in range(0, max(len(lines), 1), LOG_LINES_PER_MESSAGE):
                yield client_pb2.GetJobLogResponse(
                    source=source, lines=lines[start : start + LOG_LINES_PER_MESSAGE]
                )

    def _log_sources(self, job_id: str, request: Any) -> list[tuple[str, Path]]:
        sources: list[tuple[str, Path]] = []
        scheduler_log = self._job_log.path(job_id)
        if not request.task_name and not request.role and not request.party_id and scheduler_log.is_file():
            sources.append(("scheduler", scheduler_log))
        job_dir = self._paths.confine(self._paths.jobs_dir / job_id)
        for log_file in sorted(job_dir.glob("*/*/*/task.log")):
            attempt_dir = log_file.parent
            role, _, party = attempt_dir.parent.parent.name.partition("_")
            task = attempt_dir.parent.name
            if (request.role and role != request.role) or (request.party_id and party != request.party_id):
                continue
            if request.task_name and task != request.task_name:
                continue
            sources.append((f"{task} attempt {attempt_dir.name} {role} {party}", log_file))
        return sources


def _read_lines(path: Path, tail: int) -> list[str]:
    with open(path, encoding="utf-8", errors="replace") as source:
        if tail > 0:
            return [line.rstrip("\n") for line in deque(source, maxlen=tail)]
        return [line.rstrip("\n") for line in source]


def add_local_notes(view: Any, job: JobRecord, party_id: str) -> None:
    """Put this party's notes on its own rows of a job view (other parties' notes stay with them)."""
    for party in view.parties:
        if party.party_id == party_id:
            party.description = job.description


def _role(name: str) -> str:
    if name not in ROLES:
        raise invalid_argument(f"role {name!r} must be one of {', '.join(ROLES)}", field_path="role")
    return name


def _job_status(name: str) -> JobStatus:
    try:
        return JobStatus(name.lower())
    except ValueError:
        raise invalid_argument(f"unknown job status {name!r}", field_path="status") from None


def _task_status(name: str) -> TaskStatus:
    try:
        return TaskStatus(name.lower())
    except ValueError:
        raise invalid_argument(f"unknown task status {name!r}", field_path="status") from None
