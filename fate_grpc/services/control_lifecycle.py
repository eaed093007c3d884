"""ControlService RPCs of the job lifecycle: resources, rerun, clean, watch (mixed into ControlServicer)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc

from fate_grpc.control.v1 import control_pb2
from fate_grpc.domain.ids import check_name, check_party_id
from fate_grpc.domain.status import JOB_END_STATUSES
from fate_grpc.errors import ErrorCode, FateGrpcError
from fate_grpc.participant.job_checks import JobChecks
from fate_grpc.participant.job_cleaner import JobCleaner
from fate_grpc.parties.dag_cache import DagCache
from fate_grpc.scheduler.scheduler import Scheduler
from fate_grpc.scheduler.views import JobViews
from fate_grpc.security.identity import PeerAuthenticator
from fate_grpc.services.edge import stream_edge, unary_edge
from fate_grpc.store.interface import Store
from fate_grpc.store.records import JobRecord
from fate_grpc.wire.convert import job_status_to_proto


class ControlLifecycleRpcs:
    """Needs the attributes ControlServicer sets."""

    _store: Store
    _dags: DagCache
    _peers: PeerAuthenticator
    _scheduler: Scheduler
    _views: JobViews
    _checks: JobChecks
    _cleaner: JobCleaner

    async def _require_scheduler(self, context: Any, job_id: str, action: str) -> JobRecord:
        raise NotImplementedError

    async def _require_job_party(self, context: Any, job_id: str, action: str) -> str:
        raise NotImplementedError

    @unary_edge
    async def ApplyResources(
        self, request: control_pb2.ApplyResourcesRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.ApplyResourcesResponse:
        check_name(request.job_id, "job_id")
        job = await self._require_scheduler(context, request.job_id, "reserve cores for this job")
        dag = await self._dags.get(job.job_id)
        cores = self._checks.cores_here(dag)
        total = self._checks.limits.total_cores
        if job.status in JOB_END_STATUSES:
            used = await self._store.cores_in_use()
            return control_pb2.ApplyResourcesResponse(
                granted=False, cores=cores, cores_in_use=used, total_cores=total
            )
        granted, used = await self._store.apply_job_resources(job.job_id, cores, total)
        return control_pb2.ApplyResourcesResponse(
            granted=granted, cores=cores, cores_in_use=used, total_cores=total
        )

    @unary_edge
    async def ReturnResources(
        self, request: control_pb2.ReturnResourcesRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.ReturnResourcesResponse:
        check_name(request.job_id, "job_id")
        await self._require_scheduler(context, request.job_id, "return cores of this job")
        return control_pb2.ReturnResourcesResponse(
            returned=await self._store.return_job_resources(request.job_id)
        )

    @unary_edge
    async def RequestRerunJob(
        self, request: control_pb2.RequestRerunJobRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.RequestRerunJobResponse:
        check_name(request.job_id, "job_id")
        check_party_id(request.requester_party_id)
        caller = await self._require_job_party(context, request.job_id, "rerun this job")
        if caller != request.requester_party_id:
            self._peers.require(context, request.requester_party_id, "rerun jobs for another party")
        status, tasks = await self._scheduler.rerun_job(request.job_id, request.requester_party_id)
        return control_pb2.RequestRerunJobResponse(status=job_status_to_proto(status), tasks=tasks)

    @unary_edge
    async def RequestCleanJob(
        self, request: control_pb2.RequestCleanJobRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.RequestCleanJobResponse:
        check_name(request.job_id, "job_id")
        check_party_id(request.requester_party_id)
        caller = await self._require_job_party(context, request.job_id, "clean this job")
        if caller != request.requester_party_id:
            self._peers.require(context, request.requester_party_id, "clean jobs for another party")
        return control_pb2.RequestCleanJobResponse(
            cleaned_party_ids=await self._scheduler.clean_job(request.job_id)
        )

    @unary_edge
    async def CleanJob(
        self, request: control_pb2.CleanJobRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.CleanJobResponse:
        check_name(request.job_id, "job_id")
        if await self._store.find_job(request.job_id) is None:
            return control_pb2.CleanJobResponse(removed=False)
        await self._require_scheduler(context, request.job_id, "clean this job")
        return control_pb2.CleanJobResponse(removed=await self._cleaner.clean(request.job_id))

    @stream_edge
    async def WatchJob(
        self, request: control_pb2.WatchJobRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[control_pb2.WatchJobResponse]:
        check_name(request.job_id, "job_id")
        await self._require_job_party(context, request.job_id, "watch this job")
        job = await self._store.get_job(request.job_id)
        if not job.is_scheduler:
            raise FateGrpcError(ErrorCode.NOT_SCHEDULER, f"this node does not schedule job {request.job_id}")
        async for view in self._views.watch(request.job_id):
            yield control_pb2.WatchJobResponse(job=view)
