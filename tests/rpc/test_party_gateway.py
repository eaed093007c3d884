"""Each typed gateway method calls its own ControlService RPC, with its request and answer types."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import pytest

from fate_grpc.control.v1 import control_pb2, control_pb2_grpc
from fate_grpc.errors import ErrorCode, FateGrpcError
from fate_grpc.parties.gateway import PartyGateway
from fate_grpc.security.identity import CALLER_METADATA_KEY

SERVICE = control_pb2.DESCRIPTOR.services_by_name["ControlService"]
UNARY_RPCS = [m.name for m in SERVICE.methods if not m.server_streaming]


def snake_case(rpc: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", rpc).lower()


def answering(rpc: str) -> Callable[..., Any]:
    async def method(self: RecordingControl, request: Any, context: grpc.aio.ServicerContext) -> Any:
        self.calls.append((rpc, type(request).__name__, dict(context.invocation_metadata() or ())))
        return getattr(control_pb2, f"{rpc}Response")()

    return method


class RecordingControl(control_pb2_grpc.ControlServiceServicer):
    """A party that answers every RPC with an empty answer and remembers what it was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    async def WatchJob(self, request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        self.calls.append(("WatchJob", type(request).__name__, {}))
        yield control_pb2.WatchJobResponse()


for _rpc in UNARY_RPCS:
    setattr(RecordingControl, _rpc, answering(_rpc))


@pytest.fixture
async def party() -> AsyncIterator[tuple[RecordingControl, PartyGateway]]:
    servicer = RecordingControl()
    server = grpc.aio.server()
    control_pb2_grpc.add_ControlServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    gateway = PartyGateway("9999", {"10000": f"127.0.0.1:{port}"}, max_message_bytes=1 << 20)
    try:
        yield servicer, gateway
    finally:
        await gateway.close()
        await server.stop(None)


async def test_every_unary_rpc_has_a_typed_method_calling_it(
    party: tuple[RecordingControl, PartyGateway],
) -> None:
    servicer, gateway = party

    for rpc in UNARY_RPCS:
        request = getattr(control_pb2, f"{rpc}Request")()
        answer = await getattr(gateway, snake_case(rpc))("10000", request, deadline_s=10)
        assert type(answer).__name__ == f"{rpc}Response"

    assert [(rpc, request) for rpc, request, _ in servicer.calls] == [
        (rpc, f"{rpc}Request") for rpc in UNARY_RPCS
    ]
    assert all(metadata.get(CALLER_METADATA_KEY) == "9999" for _, _, metadata in servicer.calls)


async def test_watch_job_relays_the_stream(party: tuple[RecordingControl, PartyGateway]) -> None:
    servicer, gateway = party

    answers = [a async for a in gateway.watch_job("10000", control_pb2.WatchJobRequest(job_id="j1"))]

    assert len(answers) == 1
    assert servicer.calls == [("WatchJob", "WatchJobRequest", {})]


async def test_a_party_with_no_route_is_named_in_the_error(
    party: tuple[RecordingControl, PartyGateway],
) -> None:
    _, gateway = party

    with pytest.raises(FateGrpcError) as raised:
        await gateway.start_task("10001", control_pb2.StartTaskRequest(), deadline_s=10)

    assert raised.value.code is ErrorCode.PARTY_UNAVAILABLE
    assert raised.value.fields["party_id"] == "10001"
