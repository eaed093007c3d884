"""Fuzz every RPC of every service with random field values: each call gets a status (never UNKNOWN,
never a traceback), the node keeps serving, and its store stays consistent."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import anyio
import grpc
import pytest
from google.protobuf import descriptor as pb_descriptor
from google.protobuf import message as pb_message
from google.protobuf import struct_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fate_grpc.client.v1 import client_pb2, client_pb2_grpc
from fate_grpc.control.v1 import control_pb2
from fate_grpc.node.app import Node
from fate_grpc.transfer.v1 import transfer_pb2
from fate_grpc.worker.v1 import worker_pb2
from tests.support.nodes import DATA, node_config

GUEST, HOST = "9999", "10000"
READER_ONLY_DAG = """
schema_version: 2.1.0
dag:
  parties: [{role: guest, party_id: ["9999"]}]
  tasks:
    reader_0:
      component_ref: reader
      parameters: {namespace: experiment, name: t}
"""
FD = pb_descriptor.FieldDescriptor
INTERESTING_TEXT = [
    "",
    "9999",
    "10000",
    "guest",
    "host",
    "reader_0",
    "psi_0",
    "experiment",
    "../etc",
    "a/b",
    "\x00",
]
SERVICES = [
    (control_pb2.DESCRIPTOR.services_by_name["ControlService"], control_pb2),
    (transfer_pb2.DESCRIPTOR.services_by_name["TransferService"], transfer_pb2),
    (client_pb2.DESCRIPTOR.services_by_name["ClientService"], client_pb2),
    (worker_pb2.DESCRIPTOR.services_by_name["WorkerService"], worker_pb2),
]
METHODS = [(service, method) for service, _ in SERVICES for method in service.methods]


class NodeInThread:
    """A real node serving from its own event loop in a thread, for synchronous hypothesis tests."""

    def __init__(self, tmp: Path) -> None:
        self._tmp = tmp
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.node: Node | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with anyio.create_task_group() as group:
            self.node = Node(node_config(GUEST, self._tmp / "node"))
            await self.node.start(group)
            self.node.gateway.set_route(HOST, "127.0.0.1:1")
            self._ready.set()
            await self._stop.wait()
            await self.node.shutdown()
            group.cancel_scope.cancel()

    def __enter__(self) -> NodeInThread:
        self._thread.start()
        assert self._ready.wait(30)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    @property
    def address(self) -> str:
        assert self.node is not None
        return self.node.addresses.peer

    @property
    def worker_address(self) -> str:
        assert self.node is not None
        return self.node.addresses.worker


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeInThread]:
    with NodeInThread(tmp_path_factory.mktemp("fuzz")) as running:
        channel = grpc.insecure_channel(running.address)
        stub = client_pb2_grpc.ClientServiceStub(channel)
        header = client_pb2.UploadTableHeader(namespace="experiment", name="t", head=True, match_id_name="id")
        stub.UploadTable(
            iter(
                [
                    client_pb2.UploadTableRequest(header=header),
                    client_pb2.UploadTableRequest(chunk=(DATA / "breast_hetero_host.csv").read_bytes()),
                ]
            ),
            timeout=30,
        )
        # A real job (the guest alone reads its table) so that fuzzed ids sometimes hit existing rows.
        dag = READER_ONLY_DAG
        job_id = stub.SubmitJob(client_pb2.SubmitJobRequest(dag_yaml=dag), timeout=30).job_id
        INTERESTING_TEXT.extend([job_id, "reader_0"])
        channel.close()
        yield running


def messages(descriptor: pb_descriptor.Descriptor, module: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Random instances of a message type, field by field."""
    if descriptor.full_name == "google.protobuf.Struct":
        return st.just(struct_pb2.Struct())
    cls = _message_class(descriptor, module)
    fields = {
        f.name: _field(f, module, depth) for f in descriptor.fields if depth < 3 or f.type != FD.TYPE_MESSAGE
    }
    return st.fixed_dictionaries({}, optional=fields).map(lambda values: _build(cls, descriptor, values))


def _message_class(descriptor: pb_descriptor.Descriptor, module: Any) -> type[pb_message.Message]:
    from google.protobuf import message_factory

    return message_factory.GetMessageClass(descriptor)


def _build(
    cls: type[pb_message.Message], descriptor: pb_descriptor.Descriptor, values: dict
) -> pb_message.Message:
    message = cls()
    oneofs_set: set[str] = set()
    for name, value in values.items():
        field = descriptor.fields_by_name[name]
        if field.containing_oneof is not None:
            if field.containing_oneof.name in oneofs_set:
                continue
            oneofs_set.add(field.containing_oneof.name)
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            getattr(message, name).update(value)
        elif field.is_repeated:
            if field.type == FD.TYPE_MESSAGE:
                getattr(message, name).extend(value)
            else:
                getattr(message, name).extend(value)
        elif field.type == FD.TYPE_MESSAGE:
            getattr(message, name).CopyFrom(value)
        else:
            setattr(message, name, value)
    return message


def _scalar(field: pb_descriptor.FieldDescriptor) -> st.SearchStrategy[Any]:
    if field.type == FD.TYPE_STRING:
        return st.sampled_from(INTERESTING_TEXT) | st.text(max_size=30)
    if field.type == FD.TYPE_BYTES:
        return st.binary(max_size=64)
    if field.type == FD.TYPE_BOOL:
        return st.booleans()
    if field.type == FD.TYPE_ENUM:
        return st.integers(-3, 12)
    if field.type in (FD.TYPE_DOUBLE, FD.TYPE_FLOAT):
        return st.floats(allow_nan=True, allow_infinity=True, width=32)
    if field.type in (FD.TYPE_INT64, FD.TYPE_SINT64, FD.TYPE_SFIXED64):
        return st.integers(-(2**63), 2**63 - 1)
    if field.type in (FD.TYPE_UINT64, FD.TYPE_FIXED64):
        return st.integers(0, 2**64 - 1)
    if field.type in (FD.TYPE_UINT32, FD.TYPE_FIXED32):
        return st.integers(0, 2**32 - 1)
    return st.integers(-(2**31), 2**31 - 1)


def _field(field: pb_descriptor.FieldDescriptor, module: Any, depth: int) -> st.SearchStrategy[Any]:
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        key, value = field.message_type.fields_by_name["key"], field.message_type.fields_by_name["value"]
        return st.dictionaries(_scalar(key), _scalar(value), max_size=2)
    if field.type == FD.TYPE_MESSAGE:
        inner = messages(field.message_type, module, depth + 1)
    else:
        inner = _scalar(field)
    if field.is_repeated:
        return st.lists(inner, max_size=3)
    return inner


METADATA = st.sampled_from(
    [
        (),
        (("x-fate-grpc-party-id", GUEST),),
        (("x-fate-grpc-party-id", HOST),),
        (("x-fate-grpc-task-token", "x"),),
    ]
)


def call(node: NodeInThread, service: Any, method: Any, requests: list[Any], metadata: tuple) -> None:
    address = node.worker_address if service.name == "WorkerService" else node.address
    path = f"/{service.full_name}/{method.name}"
    with grpc.insecure_channel(address) as channel:
        serializer = lambda m: m.SerializeToString()  # noqa: E731
        try:
            if method.client_streaming:
                stub = channel.stream_unary(
                    path, request_serializer=serializer, response_deserializer=lambda b: b
                )
                stub(iter(requests), timeout=10, metadata=metadata)
            elif method.server_streaming:
                stub = channel.unary_stream(
                    path, request_serializer=serializer, response_deserializer=lambda b: b
                )
                for _ in stub(requests[0], timeout=10, metadata=metadata):
                    pass
            else:
                stub = channel.unary_unary(
                    path, request_serializer=serializer, response_deserializer=lambda b: b
                )
                stub(requests[0], timeout=10, metadata=metadata)
        except grpc.RpcError as exc:
            assert exc.code() != grpc.StatusCode.UNKNOWN, (method.name, exc.details())
            assert "Traceback" not in (exc.details() or ""), exc.details()


def assert_healthy(node: NodeInThread) -> None:
    with grpc.insecure_channel(node.address) as channel:
        info = client_pb2_grpc.ClientServiceStub(channel).GetNodeInfo(
            client_pb2.GetNodeInfoRequest(), timeout=10
        )
    assert info.party_id == GUEST
    assert node.node is not None
    with closing(sqlite3.connect(node.node.config.store_path)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []


@pytest.mark.timeout(600)
@pytest.mark.parametrize(("service", "method"), METHODS, ids=[f"{s.name}.{m.name}" for s, m in METHODS])
def test_every_rpc_answers_random_input_with_a_status(node: NodeInThread, service: Any, method: Any) -> None:
    module = dict((s.full_name, m) for s, m in SERVICES)[service.full_name]
    requests = st.lists(messages(method.input_type, module), min_size=1, max_size=4)

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(requests=requests, metadata=METADATA)
    def run(requests: list[Any], metadata: tuple) -> None:
        call(node, service, method, requests, metadata)

    run()
    assert_healthy(node)
