"""Any gRPC client reads our errors from the standard rich status, without fate-grpc's protos."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from fate_grpc.client.v1 import client_pb2
from fate_grpc.errors import ErrorCode, FateGrpcError, FieldViolation
from fate_grpc.services.edge import stream_edge, unary_edge
from fate_grpc.wire.rpc_errors import error_from_rpc
from tests.rpc.helpers import dump, psi_dag
from tests.support.nodes import federation

SUBMIT_JOB = "/fate_grpc.client.v1.ClientService/SubmitJob"
ECHO = "/test.Echo/Fail"
ECHO_STREAM = "/test.Echo/FailStream"

REFUSAL = FateGrpcError(
    ErrorCode.JOB_REJECTED,
    "job rejected: 2 problems",
    hint="upload the table at that party first",
    fields={"party_id": "10000"},
    violations=[
        FieldViolation("dag.tasks.reader_0.parameters.name", "table not found", "10000"),
        FieldViolation("dag.conf.cores", "must be at least 1"),
    ],
)


class Failing:
    """A servicer whose methods fail with REFUSAL through the service edge."""

    @unary_edge
    async def fail(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        raise REFUSAL

    @stream_edge
    async def fail_stream(self, request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        yield b"first"
        raise REFUSAL


@pytest.fixture
async def failing_server() -> AsyncIterator[str]:
    servicer = Failing()
    handler = grpc.method_handlers_generic_handler(
        "test.Echo",
        {
            "Fail": grpc.unary_unary_rpc_method_handler(servicer.fail),
            "FailStream": grpc.unary_stream_rpc_method_handler(servicer.fail_stream),
        },
    )
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield f"127.0.0.1:{port}"
    await server.stop(None)


def details_of(status: Any) -> dict[str, Any]:
    """The standard details of a google.rpc.Status, by type."""
    found: dict[str, Any] = {}
    for kind in (error_details_pb2.ErrorInfo, error_details_pb2.BadRequest, error_details_pb2.Help):
        for packed in status.details:
            if packed.Is(kind.DESCRIPTOR):
                message = kind()
                packed.Unpack(message)
                found[kind.__name__] = message
    return found


async def test_a_raw_call_decodes_code_violations_and_hint(failing_server: str) -> None:
    async with grpc.aio.insecure_channel(failing_server) as channel:
        call = channel.unary_unary(ECHO)(b"")
        with pytest.raises(grpc.aio.AioRpcError):
            await call
        status = await rpc_status.aio.from_call(call)

    assert status is not None
    assert status.code == grpc.StatusCode.FAILED_PRECONDITION.value[0]
    assert status.message == "job rejected: 2 problems"
    details = details_of(status)
    info = details["ErrorInfo"]
    assert (info.reason, info.domain) == ("JOB_REJECTED", "fate-grpc")
    assert info.metadata["code"] == "1006"
    assert info.metadata["party_id"] == "10000"
    assert [(v.field, v.description) for v in details["BadRequest"].field_violations] == [
        ("dag.tasks.reader_0.parameters.name", "table not found"),
        ("dag.conf.cores", "must be at least 1"),
    ]
    assert [link.description for link in details["Help"].links] == ["upload the table at that party first"]


async def test_a_stream_that_fails_after_an_item_carries_the_same_status(failing_server: str) -> None:
    async with grpc.aio.insecure_channel(failing_server) as channel:
        call = channel.unary_stream(ECHO_STREAM)(b"")
        received = []
        with pytest.raises(grpc.aio.AioRpcError):
            async for item in call:
                received.append(item)
        status = await rpc_status.aio.from_call(call)

    assert received == [b"first"]
    assert status is not None
    assert details_of(status)["ErrorInfo"].reason == "JOB_REJECTED"


async def test_our_client_gets_the_whole_error_back_from_the_standard_status(failing_server: str) -> None:
    async with grpc.aio.insecure_channel(failing_server) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await channel.unary_unary(ECHO)(b"")

    error = error_from_rpc(info.value)

    assert error.code is ErrorCode.JOB_REJECTED
    assert (error.message, error.hint, error.fields) == (REFUSAL.message, REFUSAL.hint, REFUSAL.fields)
    assert error.violations == REFUSAL.violations


async def test_a_node_refusing_a_dag_names_each_field_in_the_standard_status(tmp_path: Path) -> None:
    document = psi_dag()
    document["dag"]["stage"] = "fly"
    document["dag"]["tasks"]["psi_0"]["component_ref"] = "no_such_component"

    async with federation(tmp_path, ["9999", "10000"]) as fed:
        call = fed.channel("9999").unary_unary(
            SUBMIT_JOB, request_serializer=client_pb2.SubmitJobRequest.SerializeToString
        )(client_pb2.SubmitJobRequest(dag_yaml=dump(document)), timeout=30)
        with pytest.raises(grpc.aio.AioRpcError):
            await call
        status = await rpc_status.aio.from_call(call)

    assert isinstance(status, status_pb2.Status)
    assert status.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    details = details_of(status)
    assert details["ErrorInfo"].reason == "INVALID_DAG"
    assert details["ErrorInfo"].metadata["code"] == "1002"
    fields = [v.field for v in details["BadRequest"].field_violations]
    assert "dag.stage" in fields
    assert "dag.tasks.psi_0.component_ref" in fields
