"""WorkerService: what a task process asks of its own node (spec, status, messages, outputs)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc

from fate_grpc.common.v1 import common_pb2
from fate_grpc.errors import ErrorCode, FateGrpcError, invalid_argument
from fate_grpc.participant.task_runtime import TaskRuntime
from fate_grpc.parties.gateway import PartyGateway
from fate_grpc.runner.supervisor import TaskSupervisor
from fate_grpc.services.edge import stream_edge, unary_edge
from fate_grpc.services.transfer_servicer import check_size, check_tag, chunk_stream, first_header
from fate_grpc.store.records import TaskKey
from fate_grpc.transfer.mailbox import Mailbox, MailKey
from fate_grpc.transfer.v1 import transfer_pb2
from fate_grpc.wire.convert import metric_from_proto, model_to_proto, table_to_proto, task_status_from_proto
from fate_grpc.worker.v1 import worker_pb2, worker_pb2_grpc

TOKEN_METADATA_KEY = "x-fate-grpc-task-token"
MAX_RECEIVE_TIMEOUT_S = 24 * 3600.0


class WorkerServicer(worker_pb2_grpc.WorkerServiceServicer):
    def __init__(
        self,
        *,
        supervisor: TaskSupervisor,
        runtime: TaskRuntime,
        mailbox: Mailbox,
        gateway: PartyGateway,
        max_chunk_bytes: int,
        transfer_timeout_s: float,
    ) -> None:
        self._supervisor = supervisor
        self._runtime = runtime
        self._mailbox = mailbox
        self._gateway = gateway
        self._max_chunk = max_chunk_bytes
        self._transfer_timeout = transfer_timeout_s

    def _caller(self, context: grpc.aio.ServicerContext) -> TaskKey:
        token = dict(context.invocation_metadata() or ()).get(TOKEN_METADATA_KEY)
        running = self._supervisor.task_for_token(str(token)) if token else None
        if running is None:
            raise FateGrpcError(ErrorCode.UNAUTHENTICATED, "unknown or expired task token")
        return running.key

    async def _peer(self, key: TaskKey, party: common_pb2.PartyRef) -> tuple[str, str]:
        pair = (party.role, party.party_id)
        if pair not in await self._runtime.task_parties_of(key):
            raise invalid_argument(
                f"{party.role} {party.party_id} is not a party of task {key.task_name}", field_path="party"
            )
        return pair

    @unary_edge
    async def GetTaskSpec(
        self, request: worker_pb2.GetTaskSpecRequest, context: grpc.aio.ServicerContext
    ) -> worker_pb2.GetTaskSpecResponse:
        return await self._runtime.spec_for(self._caller(context))

    @unary_edge
    async def ReportStatus(
        self, request: worker_pb2.ReportStatusRequest, context: grpc.aio.ServicerContext
    ) -> worker_pb2.ReportStatusResponse:
        key = self._caller(context)
        status = task_status_from_proto(request.status)
        await self._runtime.on_worker_status(key, status, request.error[:4000], request.traceback[:100_000])
        return worker_pb2.ReportStatusResponse()

    @unary_edge
    async def ReportProgress(
        self, request: worker_pb2.ReportProgressRequest, context: grpc.aio.ServicerContext
    ) -> worker_pb2.ReportProgressResponse:
        key = self._caller(context)
        await self._runtime.on_worker_progress(key, request.progress)
        return worker_pb2.ReportProgressResponse()

    @unary_edge
    async def SendObject(
        self, request_iterator: AsyncIterator[worker_pb2.SendObjectRequest], context: grpc.aio.ServicerContext
    ) -> worker_pb2.SendObjectResponse:
        key = self._caller(context)
        header = await first_header(request_iterator)
        role, party_id = await self._peer(key, header.destination)
        mail = MailKey(
            job_id=key.job_id,
            task_name=key.task_name,
            attempt=key.attempt,
            tag=check_tag(header.tag),
            source_role=key.role,
            source_party_id=key.party_id,
            destination_role=role,
            destination_party_id=party_id,
        )
        total = check_size(header.total_size)
        chunks = chunk_stream(request_iterator, self._max_chunk)
        if party_id == self._gateway.own_party_id:
            stored = await self._mailbox.deliver(mail, total, chunks)
        else:
            stored = await self._forward(mail, total, chunks)
        return worker_pb2.SendObjectResponse(stored=stored)

    async def _forward(self, mail: MailKey, total: int, chunks: AsyncIterator[bytes]) -> bool:
        """Stream to the destination node as the chunks arrive: no whole object in memory."""

        async def requests() -> AsyncIterator[transfer_pb2.PushObjectRequest]:
            yield transfer_pb2.PushObjectRequest(
                header=transfer_pb2.PushObjectHeader(key=_object_key(mail), total_size=total)
            )
            async for chunk in chunks:
                yield transfer_pb2.PushObjectRequest(chunk=chunk)

        answer = await self._gateway.push_object(
            mail.destination_party_id, requests(), deadline_s=self._transfer_timeout
        )
        return bool(answer.stored)

    @stream_edge
    async def ReceiveObject(
        self, request: worker_pb2.ReceiveObjectRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[worker_pb2.ReceiveObjectResponse]:
        key = self._caller(context)
        role, party_id = await self._peer(key, request.source)
        timeout = request.timeout_s if 0 < request.timeout_s <= MAX_RECEIVE_TIMEOUT_S else 600.0
        mail = MailKey(
            job_id=key.job_id,
            task_name=key.task_name,
            attempt=key.attempt,
            tag=check_tag(request.tag),
            source_role=role,
            source_party_id=party_id,
            destination_role=key.role,
            destination_party_id=key.party_id,
        )
        stream = self._mailbox.receive(mail, timeout)
        first = True
        async for chunk in stream:
            if first:
                yield worker_pb2.ReceiveObjectResponse(total_size=self._mailbox.object_size(mail))
                first = False
            yield worker_pb2.ReceiveObjectResponse(chunk=chunk)

    @unary_edge
    async def RegisterOutputData(
        self, request: worker_pb2.RegisterOutputDataRequest, context: grpc.aio.ServicerContext
    ) -> worker_pb2.RegisterOutputDataResponse:
        key = self._caller(context)
        table = await self._runtime.register_output(key, request.output_key, request.path, request.table)
        return worker_pb2.RegisterOutputDataResponse(table=table_to_proto(table))

    @unary_edge
    async def RegisterOutputModel(
        self, request: worker_pb2.RegisterOutputModelRequest, context: grpc.aio.ServicerContext
    ) -> worker_pb2.RegisterOutputModelResponse:
        key = self._caller(context)
        model = await self._runtime.register_output_model(key, request.output_key, request.path)
        return worker_pb2.RegisterOutputModelResponse(model=model_to_proto(model))

    @unary_edge
    async def ReportMetrics(
        self, request: worker_pb2.ReportMetricsRequest, context: grpc.aio.ServicerContext
    ) -> worker_pb2.ReportMetricsResponse:
        key = self._caller(context)
        await self._runtime.on_worker_metrics(key, [metric_from_proto(m) for m in request.metrics])
        return worker_pb2.ReportMetricsResponse()


def _object_key(mail: MailKey) -> common_pb2.ObjectKey:
    return common_pb2.ObjectKey(
        job_id=mail.job_id,
        task_name=mail.task_name,
        attempt=mail.attempt,
        tag=mail.tag,
        source=common_pb2.PartyRef(role=mail.source_role, party_id=mail.source_party_id),
        destination=common_pb2.PartyRef(role=mail.destination_role, party_id=mail.destination_party_id),
    )
