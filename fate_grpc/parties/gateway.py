"""Outbound calls to other parties' nodes: one channel per address, every call with a deadline."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc

from fate_grpc.control.v1 import control_pb2, control_pb2_grpc
from fate_grpc.errors import ErrorCode, FateGrpcError
from fate_grpc.security.identity import CALLER_METADATA_KEY
from fate_grpc.security.tls import TlsMaterial, peer_channel_credentials, peer_channel_options
from fate_grpc.transfer.v1 import transfer_pb2, transfer_pb2_grpc
from fate_grpc.wire.rpc_errors import error_from_rpc

R = TypeVar("R")


def channel_options(max_message_bytes: int) -> list[tuple[str, Any]]:
    return [
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.max_pings_without_data", 0),
        # A partner that restarts is back within seconds; gRPC's default back-off (up to 120 s between
        # connection attempts) would keep refusing calls to it long after it serves again.
        ("grpc.initial_reconnect_backoff_ms", 200),
        ("grpc.min_reconnect_backoff_ms", 200),
        ("grpc.max_reconnect_backoff_ms", 5_000),
    ]


@dataclass(frozen=True)
class PartyFailure:
    """One party that failed a fan-out call, with the error it gave."""

    party_id: str
    error: FateGrpcError


class PartyGateway:
    """Routes calls to parties by id, using the node's route table."""

    def __init__(
        self,
        own_party_id: str,
        routes: Mapping[str, str],
        *,
        max_message_bytes: int,
        tls: TlsMaterial | None = None,
        interceptors: Callable[[str], Sequence[grpc.aio.ClientInterceptor]] | None = None,
    ) -> None:
        self._own = own_party_id
        # Per party, so that what they observe (latency, bytes) is labelled with the partner.
        self._interceptors = interceptors or (lambda party_id: ())
        self._routes = dict(routes)
        self._options = channel_options(max_message_bytes)
        self._credentials = peer_channel_credentials(tls) if tls else None
        self._channels: dict[tuple[str, str], grpc.aio.Channel] = {}

    @property
    def own_party_id(self) -> str:
        return self._own

    def set_route(self, party_id: str, address: str) -> None:
        self._routes[party_id] = address

    def routes(self) -> dict[str, str]:
        return dict(self._routes)

    def address_of(self, party_id: str) -> str:
        address = self._routes.get(party_id)
        if address is None:
            raise FateGrpcError(
                ErrorCode.PARTY_UNAVAILABLE,
                f"no route to party {party_id}: the node's route table has no entry for it",
                hint=f"add '{party_id}: host:port' under routes in this node's conf",
                fields={"party_id": party_id},
            )
        return address

    def _channel(self, party_id: str) -> grpc.aio.Channel:
        address = self.address_of(party_id)
        channel = self._channels.get((party_id, address))
        if channel is None:
            interceptors = list(self._interceptors(party_id)) or None
            if self._credentials is None:
                channel = grpc.aio.insecure_channel(address, options=self._options, interceptors=interceptors)
            else:
                # The server must prove it is `party_id`, whatever host the route names.
                options = self._options + peer_channel_options(party_id)
                channel = grpc.aio.secure_channel(
                    address, self._credentials, options=options, interceptors=interceptors
                )
            self._channels[(party_id, address)] = channel
        return channel

    def control(self, party_id: str) -> control_pb2_grpc.ControlServiceStub:
        return control_pb2_grpc.ControlServiceStub(self._channel(party_id))

    def transfer(self, party_id: str) -> transfer_pb2_grpc.TransferServiceStub:
        return transfer_pb2_grpc.TransferServiceStub(self._channel(party_id))

    def metadata(self) -> tuple[tuple[str, str], ...]:
        return ((CALLER_METADATA_KEY, self._own),)

    # -- ControlService, one typed method per RPC; failures become FateGrpcError naming the party ------
    async def forward_submit(
        self, party_id: str, request: control_pb2.ForwardSubmitRequest, *, deadline_s: float
    ) -> control_pb2.ForwardSubmitResponse:
        """Hand a user's job to the party that will schedule it."""
        call = self.control(party_id).ForwardSubmit(request, timeout=deadline_s, metadata=self.metadata())
        return await self._answer(party_id, call)

    async def check_job(
        self, party_id: str, request: control_pb2.CheckJobRequest, *, deadline_s: float
    ) -> control_pb2.CheckJobResponse:
        """Ask a party whether it would take part in a job (nothing stored)."""
        call = self.control(party_id).CheckJob(request, timeout=deadline_s, metadata=self.metadata())
        return await self._answer(party_id, call)

    async def create_job(
        self, party_id: str, request: control_pb2.CreateJobRequest, *, deadline_s: float
    ) -> control_pb2.CreateJobResponse:
        """Create a job at a party."""
        call = self.control(party_id).CreateJob(request, timeout=deadline_s, metadata=self.metadata())
        return await self._answer(party_id, call)

    async def abort_job(
        self, party_id: str, request: control_pb2.AbortJobRequest, *, deadline_s: float
    ) -> control_pb2.AbortJobResponse:
        """Withdraw a job a party had created, when creation failed elsewhere."""
        call = self.control(party_id).AbortJob(request, timeout=deadline_s, metadata=self.metadata())
        return await self._answer(party_id, call)

    async def start_task(
        self, party_id: str, request: control_pb2.StartTaskRequest, *, deadline_s: float
    ) -> control_pb2.StartTaskResponse:
        """Start a task's attempt at a party."""
        call = self.control(party_id).StartTask(request, timeout=deadline_s, metadata=self.metadata())
        return await self._answer(party_id, call)

    async def stop_task(
        self, party_id: str, request: control_pb2.StopTaskRequest, *, deadline_s: float
    ) -> control_pb2.StopTaskResponse:
        """Stop a task's attempt at a party."""
        call = self.control(party_id).StopTask(request, timeout=deadline_s, metadata=self.metadata())
        return await self._answer(party_id, call)

    async def sync_task_status(
        self, party_id: str, request: control_pb2.SyncTaskStatusRequest, *, deadline_s: float
    ) -> control_pb2.SyncTaskStatusResponse:
        """Push a task's final or current status to a party."""
        call = self.control(party_id).SyncTaskStatus(request, timeout=deadline_s, metadata=self.metadata())
        return await self._answer(party_id, call)

    async def sync_job_status(
        self, party_id: str, request: control_pb2.SyncJobStatusRequest, *, deadline_s: float
    ) -> control_pb2.SyncJobStatusResponse:
        """Push a job's status to a party."""
        call = self.control(party_id).SyncJobStatus(request, timeout=deadline_s, metadata=self.metadata())
        return await self._answer(party_id, call)

    async def report_task_status(
        self, party_id: str, request: control_pb2.ReportTaskStatusRequest, *, deadline_s: float
    ) -> control_pb2.ReportTaskStatusResponse:
        """Report this party's task status to the job's scheduler."""
        call = self.control(party_id).ReportTaskStatus(request, timeout=deadline_s, metadata=self.metadata())
        return await self._answer(party_id, call)

    async def collect_task_status(
        self, party_id: str, request: control_pb2.CollectTaskStatusRequest, *, deadline_s: float
    ) -> control_pb2.CollectTaskStatusResponse:
        """Ask a party for its status of a task (a lost report)."""
        call = self.control(party_id).CollectTaskStatus(request, timeout=deadline_s, metadata=self.metadata())
        return await self._answer(party_id, call)

    async def request_stop_job(
        self, party_id: str, request: control_pb2.RequestStopJobRequest, *, deadline_s: float
    ) -> control_pb2.RequestStopJobResponse:
        """Ask the job's scheduler to stop the job."""
        call = self.control(party_id).RequestStopJob(request, timeout=deadline_s, metadata=self.metadata())
        return await self._answer(party_id, call)

    async def get_job_view(
        self, party_id: str, request: control_pb2.GetJobViewRequest, *, deadline_s: float
    ) -> control_pb2.GetJobViewResponse:
        """Ask the job's scheduler for its view of the job."""
        call = self.control(party_id).GetJobView(request, timeout=deadline_s, metadata=self.metadata())
        return await self._answer(party_id, call)

    async def apply_resources(
        self, party_id: str, request: control_pb2.ApplyResourcesRequest, *, deadline_s: float
    ) -> control_pb2.ApplyResourcesResponse:
        """Reserve a job's cores at a party."""
        call = self.control(party_id).ApplyResources(request, timeout=deadline_s, metadata=self.metadata())
        return await self._answer(party_id, call)

    async def return_resources(
        self, party_id: str, request: control_pb2.ReturnResourcesRequest, *, deadline_s: float
    ) -> control_pb2.ReturnResourcesResponse:
        """Give a job's cores back at a party."""
        call = self.control(party_id).ReturnResources(request, timeout=deadline_s, metadata=self.metadata())
        return await self._answer(party_id, call)

    async def request_rerun_job(
        self, party_id: str, request: control_pb2.RequestRerunJobRequest, *, deadline_s: float
    ) -> control_pb2.RequestRerunJobResponse:
        """Ask the job's scheduler to rerun the job."""
        call = self.control(party_id).RequestRerunJob(request, timeout=deadline_s, metadata=self.metadata())
        return await self._answer(party_id, call)

    async def request_clean_job(
        self, party_id: str, request: control_pb2.RequestCleanJobRequest, *, deadline_s: float
    ) -> control_pb2.RequestCleanJobResponse:
        """Ask the job's scheduler to clean the job up everywhere."""
        call = self.control(party_id).RequestCleanJob(request, timeout=deadline_s, metadata=self.metadata())
        return await self._answer(party_id, call)

    async def clean_job(
        self, party_id: str, request: control_pb2.CleanJobRequest, *, deadline_s: float
    ) -> control_pb2.CleanJobResponse:
        """Clean a job up at a party."""
        call = self.control(party_id).CleanJob(request, timeout=deadline_s, metadata=self.metadata())
        return await self._answer(party_id, call)

    async def watch_job(
        self, party_id: str, request: control_pb2.WatchJobRequest
    ) -> AsyncIterator[control_pb2.WatchJobResponse]:
        """The job's views from its scheduler as they change (no deadline: it lasts as long as the job)."""
        address = self.address_of(party_id)
        stream = self.control(party_id).WatchJob(request, metadata=self.metadata())
        try:
            async for answer in stream:
                yield answer
        except grpc.RpcError as exc:
            raise error_from_rpc(exc, party_id=party_id, address=address) from None

    # -- TransferService ---------------------------------------------------------------------------
    async def push_object(
        self,
        party_id: str,
        requests: AsyncIterator[transfer_pb2.PushObjectRequest],
        *,
        deadline_s: float,
    ) -> transfer_pb2.PushObjectResponse:
        """Stream one object (its header, then its chunks) to a party's node."""
        call = self.transfer(party_id).PushObject(requests, timeout=deadline_s, metadata=self.metadata())
        return await self._answer(party_id, call)

    async def _answer(self, party_id: str, call: Awaitable[R]) -> R:
        address = self.address_of(party_id)
        try:
            return await call
        except grpc.RpcError as exc:
            raise error_from_rpc(exc, party_id=party_id, address=address) from None

    async def fan_out(
        self, party_ids: Iterable[str], call: Callable[[str], Awaitable[R]]
    ) -> tuple[dict[str, R], list[PartyFailure]]:
        """Run `call(party_id)` for every party concurrently; collect answers and failures."""
        ids = list(dict.fromkeys(party_ids))
        results = await asyncio.gather(*(call(p) for p in ids), return_exceptions=True)
        answers: dict[str, R] = {}
        failures: list[PartyFailure] = []
        for party_id, result in zip(ids, results, strict=True):
            if isinstance(result, FateGrpcError):
                failures.append(PartyFailure(party_id, result))
            elif isinstance(result, BaseException):
                if isinstance(result, asyncio.CancelledError):
                    raise result
                failures.append(
                    PartyFailure(
                        party_id, FateGrpcError(ErrorCode.INTERNAL, f"party {party_id}: call failed")
                    )
                )
            else:
                answers[party_id] = result
        return answers, failures

    async def close(self) -> None:
        channels, self._channels = self._channels, {}
        await asyncio.gather(*(c.close() for c in channels.values()), return_exceptions=True)
