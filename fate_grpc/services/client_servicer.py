"""ClientService: the user API the `flow` CLI calls."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable

import anyio
import grpc

from fate_grpc import __version__
from fate_grpc.client.v1 import client_pb2, client_pb2_grpc
from fate_grpc.common.v1 import common_pb2
from fate_grpc.components.providers import ProviderRegistry
from fate_grpc.control.v1 import control_pb2
from fate_grpc.data.outputs import OutputQueries
from fate_grpc.data.paths import NodePaths
from fate_grpc.data.tables import TableService, UploadRequest
from fate_grpc.data.warehouse import ModelWarehouse
from fate_grpc.domain.component_spec import ComponentCatalog
from fate_grpc.domain.dag import parse_dag
from fate_grpc.domain.dag_loading import DEFAULT_MAX_DAG_BYTES
from fate_grpc.domain.ids import check_name
from fate_grpc.errors import FateGrpcError
from fate_grpc.observability.node_facts import NodeFacts
from fate_grpc.parties.dag_cache import DagCache
from fate_grpc.parties.gateway import PartyGateway
from fate_grpc.scheduler.job_creation import JobCreator
from fate_grpc.scheduler.job_log import JobLog
from fate_grpc.scheduler.scheduler import Scheduler
from fate_grpc.scheduler.views import JobViews
from fate_grpc.security.identity import ClientAuthenticator, User
from fate_grpc.services.client_admin import ClientAdminRpcs
from fate_grpc.services.client_data import ClientDataRpcs
from fate_grpc.services.client_jobs import ClientJobRpcs, ForceEndJob, add_local_notes
from fate_grpc.services.client_logs import ClientLogRpcs
from fate_grpc.services.client_outputs import ClientOutputRpcs
from fate_grpc.services.control_servicer import check_dag_size
from fate_grpc.services.edge import unary_edge
from fate_grpc.services.transfer_servicer import chunk_stream, first_header
from fate_grpc.store.interface import Store
from fate_grpc.store.records import TaskKey
from fate_grpc.wire.convert import job_status_to_proto, table_to_proto

log = logging.getLogger("fate_grpc.client_api")


class ClientServicer(
    ClientAdminRpcs,
    ClientDataRpcs,
    ClientJobRpcs,
    ClientLogRpcs,
    ClientOutputRpcs,
    client_pb2_grpc.ClientServiceServicer,
):
    def __init__(
        self,
        *,
        party_id: str,
        store: Store,
        gateway: PartyGateway,
        catalog: ComponentCatalog,
        creator: JobCreator,
        scheduler: Scheduler,
        views: JobViews,
        tables: TableService,
        ready_task_processes: Callable[[], int],
        auth: ClientAuthenticator,
        tls: bool,
        default_policy: str,
        dags: DagCache,
        paths: NodePaths,
        job_log: JobLog,
        providers: ProviderRegistry,
        outputs: OutputQueries,
        warehouse: ModelWarehouse,
        max_chunk_bytes: int,
        rpc_timeout_s: float,
        submit_timeout_s: float,
        max_dag_bytes: int = DEFAULT_MAX_DAG_BYTES,
        force_end_job: ForceEndJob | None = None,
        facts: NodeFacts | None = None,
    ) -> None:
        self._facts = facts or NodeFacts(cores_total=0)
        self._force_end_job = force_end_job
        self._max_dag_bytes = max_dag_bytes
        self._party_id = party_id
        self._store = store
        self._gateway = gateway
        self._catalog = catalog
        self._creator = creator
        self._scheduler = scheduler
        self._views = views
        self._tables = tables
        self._ready_task_processes = ready_task_processes
        self._auth = auth
        self._dags = dags
        self._paths = paths
        self._job_log = job_log
        self._providers = providers
        self._outputs = outputs
        self._warehouse = warehouse
        self._tls = tls
        self._default_policy = default_policy
        self._max_chunk = max_chunk_bytes
        self._rpc_timeout = rpc_timeout_s
        self._submit_timeout = submit_timeout_s

    @unary_edge
    async def GetNodeInfo(
        self, request: client_pb2.GetNodeInfoRequest, context: grpc.aio.ServicerContext
    ) -> client_pb2.GetNodeInfoResponse:
        user = await self._auth.user(context)
        return client_pb2.GetNodeInfoResponse(
            user=user.name,
            is_admin=user.is_admin,
            auth_method=user.method,
            tls=self._tls,
            party_id=self._party_id,
            version=__version__,
            routes=self._gateway.routes(),
            ready_task_processes=self._ready_task_processes(),
            **await self._operator_info(),
        )

    @unary_edge
    async def SubmitJob(
        self, request: client_pb2.SubmitJobRequest, context: grpc.aio.ServicerContext
    ) -> client_pb2.SubmitJobResponse:
        user = await self._auth.user(context)
        check_dag_size(request.dag_yaml, self._max_dag_bytes)
        # Validate here first, so a bad DAG never leaves this node.
        # Parsing a large DAG takes a while: keep it off the event loop.
        dag = await anyio.to_thread.run_sync(parse_dag, request.dag_yaml, self._catalog)
        scheduler = dag.conf.scheduler_party_id or self._party_id
        if scheduler == self._party_id:
            created = await self._creator.create(
                request.dag_yaml,
                initiator_party_id=self._party_id,
                user_name=_submitter(user, request.user_name),
            )
            self._scheduler.job_created(created.job_id, list(created.party_ids))
            return client_pb2.SubmitJobResponse(
                job_id=created.job_id,
                scheduler_party_id=scheduler,
                model_id=created.model_id,
                model_version=created.model_version,
            )
        forward = control_pb2.ForwardSubmitRequest(
            dag_yaml=request.dag_yaml,
            initiator_party_id=self._party_id,
            user_name=_submitter(user, request.user_name),
        )
        answer = await self._gateway.forward_submit(scheduler, forward, deadline_s=self._submit_timeout)
        return client_pb2.SubmitJobResponse(
            job_id=answer.job_id,
            scheduler_party_id=scheduler,
            model_id=answer.model_id,
            model_version=answer.model_version,
        )

    async def _job_view(self, job_id: str, *, all_attempts: bool = False) -> tuple[common_pb2.JobView, str]:
        """The scheduler's view (asked of the scheduler if it is another party), else our own."""
        check_name(job_id, "job_id")
        job = await self._store.get_job(job_id)
        if job.is_scheduler:
            view = await self._views.scheduler_view(job_id, all_attempts=all_attempts)
            assert view is not None
            return view, ""
        try:
            answer = await self._gateway.get_job_view(
                job.scheduler_party_id,
                control_pb2.GetJobViewRequest(job_id=job_id, all_attempts=all_attempts),
                deadline_s=self._rpc_timeout,
            )
        except FateGrpcError as exc:
            local = await self._views.local_view(job_id, all_attempts=all_attempts)
            return local, f"showing party {self._party_id}'s own view: {exc.message}"
        return answer.job, ""

    @unary_edge
    async def QueryJob(
        self, request: client_pb2.QueryJobRequest, context: grpc.aio.ServicerContext
    ) -> client_pb2.QueryJobResponse:
        await self._auth.user(context)
        view, warning = await self._job_view(request.job_id)
        # The submitted DAG and this party's notes, as FATE's job query shows them (dag, description).
        job = await self._store.get_job(request.job_id)
        view.dag_yaml = job.dag_yaml
        add_local_notes(view, job, self._party_id)
        return client_pb2.QueryJobResponse(job=view, warning=warning)

    @unary_edge
    async def QueryTasks(
        self, request: client_pb2.QueryTasksRequest, context: grpc.aio.ServicerContext
    ) -> client_pb2.QueryTasksResponse:
        await self._auth.user(context)
        view, warning = await self._job_view(request.job_id, all_attempts=request.all_attempts)
        tasks = [
            t
            for t in view.tasks
            if (not request.role or t.role == request.role)
            and (not request.party_id or t.party_id == request.party_id)
            and (not request.task_name or t.task_name == request.task_name)
        ]
        if request.traceback:
            await self._attach_tracebacks(request.job_id, tasks)
        return client_pb2.QueryTasksResponse(tasks=tasks, warning=warning)

    async def _attach_tracebacks(self, job_id: str, tasks: list[common_pb2.TaskView]) -> None:
        """Tracebacks stay at the party where the task ran: only this party's are added."""
        rows = {row.key: row for row in await self._store.list_tasks(job_id)}
        for view in tasks:
            if view.party_id != self._party_id:
                continue
            row = rows.get(TaskKey(view.job_id, view.task_name, view.attempt, view.role, view.party_id))
            if row is not None:
                view.traceback = row.traceback

    @unary_edge
    async def StopJob(
        self, request: client_pb2.StopJobRequest, context: grpc.aio.ServicerContext
    ) -> client_pb2.StopJobResponse:
        await self._auth.user(context)
        check_name(request.job_id, "job_id")
        if request.force:
            return await self.force_stop_job(request.job_id, context)
        job = await self._store.get_job(request.job_id)
        if job.is_scheduler:
            status = await self._scheduler.stop_job(request.job_id, self._party_id)
            return client_pb2.StopJobResponse(job_id=request.job_id, status=job_status_to_proto(status))
        answer = await self._gateway.request_stop_job(
            job.scheduler_party_id,
            control_pb2.RequestStopJobRequest(job_id=request.job_id, requester_party_id=self._party_id),
            deadline_s=self._submit_timeout,
        )
        return client_pb2.StopJobResponse(job_id=request.job_id, status=answer.status)

    @unary_edge
    async def UploadTable(
        self,
        request_iterator: AsyncIterator[client_pb2.UploadTableRequest],
        context: grpc.aio.ServicerContext,
    ) -> client_pb2.UploadTableResponse:
        await self._auth.user(context)
        header = await first_header(request_iterator)
        upload = UploadRequest(
            namespace=header.namespace,
            name=header.name,
            head=header.head,
            delimiter=header.delimiter,
            match_id_name=header.match_id_name,
            label_name=header.label_name,
            weight_name=header.weight_name,
            header=tuple(header.header),
            overwrite=header.overwrite,
            source_file=header.source_file,
        )
        table = await self._tables.upload(upload, chunk_stream(request_iterator, self._max_chunk))
        return client_pb2.UploadTableResponse(table=table_to_proto(table))

    @unary_edge
    async def QueryTable(
        self, request: client_pb2.QueryTableRequest, context: grpc.aio.ServicerContext
    ) -> client_pb2.QueryTableResponse:
        await self._auth.user(context)
        check_name(request.namespace, "namespace")
        check_name(request.name, "name")
        table = await self._store.get_table(request.namespace, request.name)
        return client_pb2.QueryTableResponse(table=table_to_proto(table))


def _submitter(user: User, stated: str) -> str:
    """The authenticated user; on an open node, whatever name the client gave."""
    return user.name if user.method != "open" else (stated[:64] or user.name)
