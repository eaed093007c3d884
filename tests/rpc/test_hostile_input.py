"""Hostile and malformed input to every service of a node: each call gets a proper status (never UNKNOWN),
nothing is written where it should not be, and the node keeps serving."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fate_grpc.client.v1 import client_pb2
from fate_grpc.common.v1 import common_pb2
from fate_grpc.control.v1 import control_pb2, control_pb2_grpc
from fate_grpc.domain.ids import is_valid_party_id
from fate_grpc.errors import ErrorCode
from fate_grpc.services.worker_servicer import TOKEN_METADATA_KEY
from fate_grpc.transfer.mailbox import MailKey
from fate_grpc.transfer.v1 import transfer_pb2, transfer_pb2_grpc
from fate_grpc.worker.v1 import worker_pb2, worker_pb2_grpc
from tests.rpc.helpers import PSI_YAML, as_party, assert_serving, create_job_at, job_ids, rpc_error
from tests.support.nodes import DATA, Federation, federation

MIB = 1024 * 1024
JOB = "job_hostile_0001"
S = grpc.StatusCode
C = ErrorCode
TASK_STATUS_CANCELED = common_pb2.TASK_STATUS_CANCELED
TASK_STATUS_RUNNING = common_pb2.TASK_STATUS_RUNNING
TASK_STATUS_SUCCESS = common_pb2.TASK_STATUS_SUCCESS


async def guest_with_job(fed: Federation) -> None:
    """Party 9999 with its table and the example psi job stored (it schedules it)."""
    await fed.upload("9999", DATA / "breast_hetero_guest.csv", "breast_hetero_guest", label="y")
    await create_job_at(fed, "9999", JOB)


async def all_files(root: Path) -> set[Path]:
    """Data files under root (the node's own logs may appear at any time and are not data)."""
    return await asyncio.to_thread(
        lambda: {p for p in root.rglob("*") if p.is_file() and "logs" not in p.relative_to(root).parts}
    )


# -- ControlService --------------------------------------------------------------------------------

Req = control_pb2


def report(**changes: Any) -> control_pb2.ReportTaskStatusRequest:
    fields: dict[str, Any] = {
        "job_id": JOB,
        "task_name": "psi_0",
        "role": "guest",
        "party_id": "9999",
        "status": TASK_STATUS_RUNNING,
    }
    fields.update(changes)
    return control_pb2.ReportTaskStatusRequest(**fields)


Case = tuple[str, Any, grpc.StatusCode, ErrorCode, str]


def invalid(rpc: str, request: Any, field: str, code: ErrorCode = C.INVALID_ARGUMENT) -> Case:
    return (rpc, request, S.INVALID_ARGUMENT, code, field)


def unknown(rpc: str, request: Any) -> Case:
    return (rpc, request, S.NOT_FOUND, C.NOT_FOUND, "")


RUNNING, CANCELED = TASK_STATUS_RUNNING, TASK_STATUS_CANCELED
SCHEDULED_BY_ME = {"scheduler_party_id": "9999", "initiator_party_id": "9999"}
CONTROL_ERRORS: list[Case] = [
    invalid("CheckJob", Req.CheckJobRequest(job_id="../etc", dag_yaml=PSI_YAML), "job_id"),
    invalid("CheckJob", Req.CheckJobRequest(job_id="", dag_yaml=PSI_YAML), "job_id"),
    invalid("CheckJob", Req.CheckJobRequest(job_id="j" * 200), "job_id"),
    invalid("CheckJob", Req.CheckJobRequest(job_id="j1", dag_yaml="x" * (MIB + 1)), "dag_yaml"),
    invalid(
        "CreateJob",
        Req.CreateJobRequest(job_id="a/b", dag_yaml=PSI_YAML, scheduler_party_id="9999"),
        "job_id",
    ),
    invalid("CreateJob", Req.CreateJobRequest(job_id="j1", scheduler_party_id="../9999"), "party_id"),
    invalid("AbortJob", Req.AbortJobRequest(job_id=".."), "job_id"),
    invalid("StartTask", Req.StartTaskRequest(job_id=JOB, task_name="psi/0"), "task_name"),
    invalid("StartTask", Req.StartTaskRequest(job_id=JOB, task_name="psi_0", attempt=-1), "attempt"),
    invalid("StartTask", Req.StartTaskRequest(job_id=JOB, task_name="psi_0", attempt=10**6), "attempt"),
    unknown("StartTask", Req.StartTaskRequest(job_id="unknown_job", task_name="psi_0")),
    unknown("StartTask", Req.StartTaskRequest(job_id=JOB, task_name="ghost_0")),
    invalid("StopTask", Req.StopTaskRequest(job_id=JOB, task_name="psi_0", status=99), "status"),
    unknown("StopTask", Req.StopTaskRequest(job_id="unknown_job", task_name="psi_0", status=CANCELED)),
    invalid(
        "StopTask", Req.StopTaskRequest(job_id=JOB, task_name="psi_0", status=TASK_STATUS_SUCCESS), "status"
    ),
    invalid("SyncTaskStatus", Req.SyncTaskStatusRequest(job_id=JOB, task_name="psi_0"), "status"),
    invalid("SyncTaskStatus", Req.SyncTaskStatusRequest(job_id=JOB, task_name="psi_0", status=-3), "status"),
    unknown(
        "SyncTaskStatus", Req.SyncTaskStatusRequest(job_id="unknown_job", task_name="psi_0", status=RUNNING)
    ),
    unknown("SyncTaskStatus", Req.SyncTaskStatusRequest(job_id=JOB, task_name="ghost_0", status=RUNNING)),
    invalid("SyncJobStatus", Req.SyncJobStatusRequest(job_id=JOB, status=42), "status"),
    unknown(
        "SyncJobStatus", Req.SyncJobStatusRequest(job_id="unknown_job", status=common_pb2.JOB_STATUS_RUNNING)
    ),
    invalid("ReportTaskStatus", report(role="../x"), "role"),
    invalid("ReportTaskStatus", report(party_id=""), "party_id"),
    unknown("ReportTaskStatus", report(job_id="unknown_job")),
    unknown("CollectTaskStatus", Req.CollectTaskStatusRequest(job_id="unknown_job", task_name="psi_0")),
    unknown("CollectTaskStatus", Req.CollectTaskStatusRequest(job_id=JOB, task_name="ghost_0")),
    invalid("RequestStopJob", Req.RequestStopJobRequest(job_id=JOB), "party_id"),
    unknown("RequestStopJob", Req.RequestStopJobRequest(job_id="unknown_job", requester_party_id="10000")),
    invalid("GetJobView", Req.GetJobViewRequest(job_id="a\nb"), "job_id"),
    unknown("GetJobView", Req.GetJobViewRequest(job_id="unknown_job")),
    invalid("ForwardSubmit", Req.ForwardSubmitRequest(dag_yaml=PSI_YAML), "party_id"),
    invalid(
        "ForwardSubmit",
        Req.ForwardSubmitRequest(dag_yaml="{{{", initiator_party_id="10000"),
        "",
        C.INVALID_DAG,
    ),
    invalid(
        "ForwardSubmit",
        Req.ForwardSubmitRequest(dag_yaml="#" * (MIB + 1), initiator_party_id="10000"),
        "dag_yaml",
    ),
]


@pytest.mark.parametrize(
    ("rpc", "request_", "status", "code", "field"),
    CONTROL_ERRORS,
    ids=[f"{i:02d}-{case[0]}" for i, case in enumerate(CONTROL_ERRORS)],
)
async def test_control_rpc_answers_bad_input_with_a_coded_status(
    tmp_path: Path, rpc: str, request_: Any, status: grpc.StatusCode, code: ErrorCode, field: str
) -> None:
    async with federation(tmp_path, ["9999"]) as fed:
        await guest_with_job(fed)
        before = await job_ids(fed)

        caller = as_party("10000" if rpc == "ForwardSubmit" else "9999")

        error = await rpc_error(
            getattr(fed.control("9999"), rpc)(request_, timeout=10, metadata=caller), status
        )

        assert error.code is code, error
        if field:
            assert field in [v.field for v in error.violations], error.violations
        assert await job_ids(fed) == before
        await assert_serving(fed, "9999")


async def test_control_rpcs_answer_harmless_oddities_without_an_error(tmp_path: Path) -> None:
    async with federation(tmp_path, ["9999"]) as fed:
        await guest_with_job(fed)
        control = fed.control("9999")
        me = as_party("9999")

        garbage = await control.CheckJob(
            Req.CheckJobRequest(job_id="j2", dag_yaml="{{{ not yaml", **SCHEDULED_BY_ME),
            timeout=10,
            metadata=me,
        )
        existing = await control.CheckJob(
            Req.CheckJobRequest(job_id=JOB, dag_yaml=PSI_YAML, **SCHEDULED_BY_ME), timeout=10, metadata=me
        )
        again = await control.CreateJob(
            Req.CreateJobRequest(job_id=JOB, dag_yaml=PSI_YAML, **SCHEDULED_BY_ME), timeout=10, metadata=me
        )
        aborted = await control.AbortJob(Req.AbortJobRequest(job_id="unknown_job"), timeout=10, metadata=me)

        assert not garbage.accepted
        assert garbage.violations and all(v.party_id == "9999" for v in garbage.violations)
        assert not existing.accepted
        assert [v.field for v in existing.violations] == ["job_id"]
        assert not again.created
        assert "already exists" in again.violations[0].reason
        assert not aborted.removed
        assert await job_ids(fed) == {"9999": [JOB]}
        await assert_serving(fed, "9999")


@pytest.mark.parametrize(
    ("metadata", "status"),
    [((), S.UNAUTHENTICATED), (as_party("10000"), S.PERMISSION_DENIED)],
    ids=["unidentified-caller", "not-the-scheduler"],
)
async def test_control_rpc_from_a_party_without_the_right_changes_nothing(
    tmp_path: Path, metadata: tuple[tuple[str, str], ...], status: grpc.StatusCode
) -> None:
    async with federation(tmp_path, ["9999"]) as fed:
        await guest_with_job(fed)
        before = await fed.nodes["9999"].store.get_job(JOB)

        error = await rpc_error(
            fed.control("9999").SyncJobStatus(
                Req.SyncJobStatusRequest(job_id=JOB, status=common_pb2.JOB_STATUS_CANCELED),
                timeout=10,
                metadata=metadata,
            ),
            status,
        )

        assert error.code.name == status.name
        assert await fed.nodes["9999"].store.get_job(JOB) == before
        await assert_serving(fed, "9999")


async def test_message_larger_than_the_limit_is_refused_by_the_transport(tmp_path: Path) -> None:
    async with federation(tmp_path, ["9999"]) as fed:
        await rpc_error(
            fed.control("9999").CheckJob(
                Req.CheckJobRequest(job_id="j1", dag_yaml="x" * (5 * MIB)), timeout=10
            ),
            grpc.StatusCode.RESOURCE_EXHAUSTED,
        )

        await assert_serving(fed, "9999")


def raw_method(channel: grpc.aio.Channel, path: str) -> grpc.aio.UnaryUnaryMultiCallable:
    return channel.unary_unary(path, request_serializer=lambda b: b, response_deserializer=lambda b: b)


GARBAGE_PROTOBUF = b"\xff\xff\xff\xff\x0f\x12\x80 garbage that is not a CheckJobRequest"


async def test_malformed_protobuf_body_gets_an_error_status_and_node_keeps_serving(tmp_path: Path) -> None:
    async with federation(tmp_path, ["9999"]) as fed:
        async with grpc.aio.insecure_channel(fed.address("9999")) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as malformed:
                await raw_method(channel, "/fate_grpc.control.v1.ControlService/CheckJob")(
                    GARBAGE_PROTOBUF, timeout=10
                )
            with pytest.raises(grpc.aio.AioRpcError) as unknown:
                await raw_method(channel, "/fate_grpc.control.v1.ControlService/NoSuchRpc")(b"", timeout=10)

        assert malformed.value.code() != grpc.StatusCode.OK
        assert unknown.value.code() == grpc.StatusCode.UNIMPLEMENTED
        assert await job_ids(fed) == {"9999": []}
        await assert_serving(fed, "9999")


async def test_malformed_protobuf_body_gets_a_clean_status(tmp_path: Path) -> None:
    async with federation(tmp_path, ["9999"]) as fed:
        async with grpc.aio.insecure_channel(fed.address("9999")) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as malformed:
                await raw_method(channel, "/fate_grpc.control.v1.ControlService/CheckJob")(
                    GARBAGE_PROTOBUF, timeout=10
                )

        assert malformed.value.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.INTERNAL)
        assert "<class" not in (malformed.value.details() or "")


# -- TransferService -------------------------------------------------------------------------------


def object_key(**changes: Any) -> common_pb2.ObjectKey:
    fields: dict[str, Any] = {
        "job_id": JOB,
        "task_name": "psi_0",
        "attempt": 0,
        "tag": "psi.host_first_sign",
        "source": common_pb2.PartyRef(role="host", party_id="10000"),
        "destination": common_pb2.PartyRef(role="guest", party_id="9999"),
    }
    fields.update(changes)
    return common_pb2.ObjectKey(**fields)


def header(total_size: int = 10, **key_changes: Any) -> transfer_pb2.PushObjectRequest:
    return transfer_pb2.PushObjectRequest(
        header=transfer_pb2.PushObjectHeader(key=object_key(**key_changes), total_size=total_size)
    )


def chunk(data: bytes) -> transfer_pb2.PushObjectRequest:
    return transfer_pb2.PushObjectRequest(chunk=data)


def party(role: str, party_id: str) -> common_pb2.PartyRef:
    return common_pb2.PartyRef(role=role, party_id=party_id)


PushCase = tuple[str, list[transfer_pb2.PushObjectRequest], grpc.StatusCode, ErrorCode, str]
X10 = chunk(b"x" * 10)


def bad_stream(name: str, messages: list[transfer_pb2.PushObjectRequest], field: str) -> PushCase:
    return (name, messages, S.INVALID_ARGUMENT, C.INVALID_ARGUMENT, field)


def denied(name: str, messages: list[transfer_pb2.PushObjectRequest]) -> PushCase:
    return (name, messages, S.PERMISSION_DENIED, C.PERMISSION_DENIED, "")


def not_found(name: str, messages: list[transfer_pb2.PushObjectRequest]) -> PushCase:
    return (name, messages, S.NOT_FOUND, C.NOT_FOUND, "")


PUSH_ERRORS: list[PushCase] = [
    bad_stream("chunk-first", [X10, header()], "header"),
    bad_stream("empty-stream", [], "header"),
    bad_stream("two-headers", [header(), header()], "chunk"),
    bad_stream("truncated", [header(100), X10], "total_size"),
    bad_stream("truncated-spilled", [header(3 * MIB), chunk(b"x" * MIB), chunk(b"x" * MIB)], "total_size"),
    bad_stream("longer-than-declared", [header(4), X10], "chunk"),
    bad_stream("chunk-too-big", [header(MIB + 1), chunk(b"x" * (MIB + 1))], "chunk"),
    bad_stream("negative-size", [header(-1)], "total_size"),
    bad_stream("job-id-traversal", [header(job_id="../../etc"), X10], "key.job_id"),
    bad_stream("task-name-slash", [header(task_name="psi/0"), X10], "key.task_name"),
    bad_stream("empty-tag", [header(tag=""), X10], "tag"),
    bad_stream("control-char-tag", [header(tag="psi\x00tag"), X10], "tag"),
    bad_stream("long-tag", [header(tag="t" * 300), X10], "tag"),
    denied(
        "other-destination", [header(destination=party("host", "10000"), source=party("guest", "9999")), X10]
    ),
    denied("empty-source-party", [header(source=party("host", "")), X10]),
    denied("source-not-a-party", [header(source=party("arbiter", "10000")), X10]),
    not_found("unknown-job", [header(job_id="unknown_job"), X10]),
    not_found("unknown-task", [header(task_name="ghost_0"), X10]),
]
NEGATIVE_ATTEMPT = bad_stream("negative-attempt", [header(attempt=-1), X10], "key.attempt")


async def push(fed: Federation, messages: list[transfer_pb2.PushObjectRequest]) -> Any:
    """Push as the node of the party the header names as source (as a partner node would)."""

    async def stream() -> AsyncIterator[transfer_pb2.PushObjectRequest]:
        for message in messages:
            yield message

    source = mail_key_of(messages).source_party_id or "10000"
    async with grpc.aio.insecure_channel(fed.address("9999")) as channel:
        stub = transfer_pb2_grpc.TransferServiceStub(channel)
        return await stub.PushObject(stream(), timeout=10, metadata=as_party(source))


@pytest.mark.parametrize(
    ("name", "messages", "status", "code", "field"),
    [
        *PUSH_ERRORS,
        pytest.param(
            *NEGATIVE_ATTEMPT,
        ),
    ],
    ids=[case[0] for case in PUSH_ERRORS] + [NEGATIVE_ATTEMPT[0]],
)
async def test_push_object_refuses_bad_streams_and_stores_nothing(
    tmp_path: Path,
    name: str,
    messages: list[transfer_pb2.PushObjectRequest],
    status: grpc.StatusCode,
    code: ErrorCode,
    field: str,
) -> None:
    async with federation(tmp_path, ["9999"]) as fed:
        await guest_with_job(fed)
        node = fed.nodes["9999"]

        error = await rpc_error(push(fed, messages), status)

        assert error.code is code, error
        if field:
            assert field in [v.field for v in error.violations], error.violations
        assert node.mailbox.bytes_in_memory == 0
        assert await all_files(node.paths.mailbox_dir) == set()
        assert not node.mailbox.is_known(mail_key_of(messages))
        await assert_serving(fed, "9999")


def mail_key_of(messages: list[transfer_pb2.PushObjectRequest]) -> MailKey:
    headers = [m.header for m in messages if m.WhichOneof("part") == "header"]
    key = headers[0].key if headers else object_key()
    return MailKey(
        key.job_id,
        key.task_name,
        key.attempt,
        key.tag,
        key.source.role,
        key.source.party_id,
        key.destination.role,
        key.destination.party_id,
    )


# -- WorkerService ---------------------------------------------------------------------------------


async def _drain(stream: Any) -> None:
    async for _ in stream:
        pass


def _send_requests() -> AsyncIterator[worker_pb2.SendObjectRequest]:
    async def stream() -> AsyncIterator[worker_pb2.SendObjectRequest]:
        yield worker_pb2.SendObjectRequest(
            header=worker_pb2.SendObjectHeader(tag="t", destination=party("host", "10000"), total_size=1)
        )
        yield worker_pb2.SendObjectRequest(chunk=b"x")

    return stream()


WORKER_CALLS: dict[str, Callable[[worker_pb2_grpc.WorkerServiceStub, Any], Any]] = {
    "GetTaskSpec": lambda stub, md: stub.GetTaskSpec(
        worker_pb2.GetTaskSpecRequest(), metadata=md, timeout=10
    ),
    "ReportStatus": lambda stub, md: stub.ReportStatus(
        worker_pb2.ReportStatusRequest(status=common_pb2.TASK_STATUS_SUCCESS), metadata=md, timeout=10
    ),
    "SendObject": lambda stub, md: stub.SendObject(_send_requests(), metadata=md, timeout=10),
    "ReceiveObject": lambda stub, md: _drain(
        stub.ReceiveObject(
            worker_pb2.ReceiveObjectRequest(tag="t", source=party("host", "10000"), timeout_s=1),
            metadata=md,
            timeout=10,
        )
    ),
    "RegisterOutputData": lambda stub, md: stub.RegisterOutputData(
        worker_pb2.RegisterOutputDataRequest(output_key="output_data", path="../../outside.csv"),
        metadata=md,
        timeout=10,
    ),
}


@pytest.mark.parametrize("rpc", sorted(WORKER_CALLS))
@pytest.mark.parametrize(
    "metadata",
    [(), ((TOKEN_METADATA_KEY, "not-a-real-token"),), ((TOKEN_METADATA_KEY, ""),)],
    ids=["no-token", "wrong-token", "empty-token"],
)
async def test_worker_rpc_without_a_valid_token_is_unauthenticated(
    tmp_path: Path, rpc: str, metadata: tuple[tuple[str, str], ...]
) -> None:
    async with federation(tmp_path, ["9999"]) as fed:
        await guest_with_job(fed)
        async with grpc.aio.insecure_channel(fed.nodes["9999"].addresses.worker) as channel:
            stub = worker_pb2_grpc.WorkerServiceStub(channel)

            error = await rpc_error(WORKER_CALLS[rpc](stub, metadata), grpc.StatusCode.UNAUTHENTICATED)

        assert error.code is ErrorCode.UNAUTHENTICATED
        assert fed.nodes["9999"].mailbox.bytes_in_memory == 0
        assert await fed.nodes["9999"].store.list_outputs(JOB) == []
        await assert_serving(fed, "9999")


# -- ClientService ---------------------------------------------------------------------------------

Cl = client_pb2
CLIENT_ERRORS: list[Case] = [
    invalid("SubmitJob", Cl.SubmitJobRequest(dag_yaml=""), "", C.INVALID_DAG),
    invalid("SubmitJob", Cl.SubmitJobRequest(dag_yaml="{{{ not yaml"), "", C.INVALID_DAG),
    invalid("SubmitJob", Cl.SubmitJobRequest(dag_yaml="- just\n- a list\n"), "", C.INVALID_DAG),
    invalid("SubmitJob", Cl.SubmitJobRequest(dag_yaml="\x00\x01\x02"), "", C.INVALID_DAG),
    invalid("SubmitJob", Cl.SubmitJobRequest(dag_yaml="#" * (MIB + 1)), "dag_yaml"),
    invalid("QueryJob", Cl.QueryJobRequest(job_id="../x"), "job_id"),
    unknown("QueryJob", Cl.QueryJobRequest(job_id="unknown_job")),
    invalid("QueryTasks", Cl.QueryTasksRequest(job_id=""), "job_id"),
    unknown("QueryTasks", Cl.QueryTasksRequest(job_id="unknown_job")),
    invalid("StopJob", Cl.StopJobRequest(job_id=""), "job_id"),
    unknown("StopJob", Cl.StopJobRequest(job_id="unknown_job")),
    invalid("QueryTable", Cl.QueryTableRequest(namespace="../x", name="t"), "namespace"),
    invalid("QueryTable", Cl.QueryTableRequest(namespace="experiment", name="a/b"), "name"),
    unknown("QueryTable", Cl.QueryTableRequest(namespace="experiment", name="nothing")),
]


@pytest.mark.parametrize(
    ("rpc", "request_", "status", "code", "field"),
    CLIENT_ERRORS,
    ids=[f"{i:02d}-{case[0]}" for i, case in enumerate(CLIENT_ERRORS)],
)
async def test_client_rpc_answers_bad_input_with_a_coded_status(
    tmp_path: Path, rpc: str, request_: Any, status: grpc.StatusCode, code: ErrorCode, field: str
) -> None:
    async with federation(tmp_path, ["9999"]) as fed:
        error = await rpc_error(getattr(fed.client("9999"), rpc)(request_, timeout=10), status)

        assert error.code is code, error
        if field:
            assert field in [v.field for v in error.violations], error.violations
        assert await job_ids(fed) == {"9999": []}
        await assert_serving(fed, "9999")


def upload_header(**changes: Any) -> client_pb2.UploadTableRequest:
    fields: dict[str, Any] = {
        "namespace": "experiment",
        "name": "t1",
        "head": True,
        "delimiter": ",",
        "match_id_name": "id",
    }
    fields.update(changes)
    return client_pb2.UploadTableRequest(header=client_pb2.UploadTableHeader(**fields))


def file_chunk(data: bytes) -> client_pb2.UploadTableRequest:
    return client_pb2.UploadTableRequest(chunk=data)


CSV = b"id,x0,x1\n1,0.5,0.25\n2,0.1,0.2\n"
UPLOAD_ERRORS: list[tuple[str, list[client_pb2.UploadTableRequest], ErrorCode, str, str]] = [
    (
        "namespace-traversal",
        [upload_header(namespace="../x"), file_chunk(CSV)],
        C.INVALID_ARGUMENT,
        "namespace",
        "",
    ),
    ("name-traversal", [upload_header(name="../../evil"), file_chunk(CSV)], C.INVALID_ARGUMENT, "name", ""),
    (
        "name-with-separator",
        [upload_header(name="sub/evil"), file_chunk(CSV)],
        C.INVALID_ARGUMENT,
        "name",
        "",
    ),
    ("dot-namespace", [upload_header(namespace="."), file_chunk(CSV)], C.INVALID_ARGUMENT, "namespace", ""),
    ("no-header", [file_chunk(CSV)], C.INVALID_ARGUMENT, "header", ""),
    ("empty-stream", [], C.INVALID_ARGUMENT, "header", ""),
    ("header-twice", [upload_header(), upload_header()], C.INVALID_ARGUMENT, "chunk", ""),
    ("chunk-too-big", [upload_header(), file_chunk(b"1" * (MIB + 1))], C.INVALID_ARGUMENT, "chunk", ""),
    (
        "binary-garbage",
        [upload_header(), file_chunk(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")],
        C.INVALID_ARGUMENT,
        "file",
        "not a readable CSV",
    ),
    (
        "random-bytes",
        [upload_header(), file_chunk(bytes(range(256)) * 8)],
        C.INVALID_ARGUMENT,
        "file",
        "not a readable CSV",
    ),
    ("empty-file", [upload_header()], C.INVALID_ARGUMENT, "file", "not a readable CSV"),
    (
        "ragged-rows",
        [upload_header(), file_chunk(b"id,a\n1,2\n3,4,5,6\n")],
        C.INVALID_ARGUMENT,
        "file",
        "not a readable CSV",
    ),
    (
        "bad-delimiter",
        [upload_header(delimiter="ab"), file_chunk(CSV)],
        C.INVALID_ARGUMENT,
        "meta.delimiter",
        "",
    ),
    (
        "missing-label",
        [upload_header(label_name="y"), file_chunk(CSV)],
        C.INVALID_ARGUMENT,
        "meta.label_name",
        "'y'",
    ),
    (
        "missing-id",
        [upload_header(match_id_name="uid"), file_chunk(CSV)],
        C.INVALID_ARGUMENT,
        "meta.match_id_name",
        "'uid'",
    ),
    (
        "headless-without-names",
        [upload_header(head=False), file_chunk(b"1,2\n")],
        C.INVALID_ARGUMENT,
        "header",
        "",
    ),
]


DUPLICATE_COLUMNS = pytest.param(
    "duplicate-columns",
    [upload_header(), file_chunk(b"id,a,a\n1,2,3\n")],
    C.INVALID_ARGUMENT,
    "file",
    "duplicate",
    id="duplicate-columns",
)


async def upload(fed: Federation, messages: list[client_pb2.UploadTableRequest]) -> Any:
    async def stream() -> AsyncIterator[client_pb2.UploadTableRequest]:
        for message in messages:
            yield message

    return await fed.client("9999").UploadTable(stream(), timeout=30)


@pytest.mark.parametrize(
    ("name", "messages", "code", "field", "words"),
    [*(pytest.param(*case, id=case[0]) for case in UPLOAD_ERRORS), DUPLICATE_COLUMNS],
)
async def test_bad_upload_is_refused_and_leaves_no_file_or_table(
    tmp_path: Path,
    name: str,
    messages: list[client_pb2.UploadTableRequest],
    code: ErrorCode,
    field: str,
    words: str,
) -> None:
    async with federation(tmp_path, ["9999"]) as fed:
        before = await all_files(tmp_path)

        error = await rpc_error(upload(fed, messages), grpc.StatusCode.INVALID_ARGUMENT)

        assert error.code is code, error
        assert field in [v.field for v in error.violations], error.violations
        assert words in error.message
        assert "Traceback" not in error.message
        assert await all_files(tmp_path) == before
        assert not (tmp_path / "x").exists()
        assert await fed.nodes["9999"].store.find_table("experiment", "t1") is None
        await assert_serving(fed, "9999")


async def test_duplicate_upload_needs_overwrite(tmp_path: Path) -> None:
    async with federation(tmp_path, ["9999"]) as fed:
        first = await upload(fed, [upload_header(), file_chunk(CSV)])
        table_file = Path((await fed.nodes["9999"].store.get_table("experiment", "t1")).path)

        error = await rpc_error(
            upload(fed, [upload_header(), file_chunk(CSV + b"3,0.3,0.3\n")]), grpc.StatusCode.ALREADY_EXISTS
        )
        unchanged = await fed.client("9999").QueryTable(
            client_pb2.QueryTableRequest(namespace="experiment", name="t1"), timeout=10
        )
        replaced = await upload(fed, [upload_header(overwrite=True), file_chunk(CSV + b"3,0.3,0.3\n")])

        assert error.code is ErrorCode.ALREADY_EXISTS
        assert error.fields == {"namespace": "experiment", "name": "t1"}
        assert "overwrite" in error.message
        assert first.table.count == unchanged.table.count == 2
        assert replaced.table.count == 3
        assert await asyncio.to_thread(table_file.read_bytes) == CSV + b"3,0.3,0.3\n"
        staging = fed.nodes["9999"].paths.tables_dir / ".staging"
        assert await all_files(staging) == set()


# -- property: random field values never crash an RPC ----------------------------------------------

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80)
IDS = st.one_of(TEXT, st.sampled_from([JOB, "../x", "", "a/b", "reader_0", "j" * 129, "job_2"]))
DAGS_TEXT = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300),
    st.just(PSI_YAML),
    st.just(PSI_YAML.replace("psi_0", "../psi")),
    st.just(PSI_YAML.replace("'10000'", "'10001'")),
)
PARTY_IDS = st.one_of(st.just("9999"), st.just("10000"), TEXT)
INT32 = st.integers(min_value=-(2**31), max_value=2**31 - 1)
ALLOWED = {code for code in grpc.StatusCode} - {grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL}


async def test_random_check_job_and_sync_task_status_never_crash(tmp_path: Path) -> None:
    async with federation(tmp_path, ["9999"]) as fed:
        await guest_with_job(fed)
        address = fed.address("9999")
        seen: list[str] = []

        @settings(
            max_examples=30,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        @given(
            check=st.builds(
                control_pb2.CheckJobRequest,
                job_id=IDS,
                dag_yaml=DAGS_TEXT,
                scheduler_party_id=PARTY_IDS,
                initiator_party_id=PARTY_IDS,
            ),
            sync=st.builds(
                control_pb2.SyncTaskStatusRequest,
                job_id=IDS,
                task_name=st.one_of(TEXT, st.sampled_from(["reader_0", "psi_0", "ghost_0"])),
                attempt=st.one_of(INT32, st.integers(0, 3)),
                status=st.one_of(INT32, st.integers(0, 8)),
                reason=TEXT,
            ),
        )
        def call_with(check: control_pb2.CheckJobRequest, sync: control_pb2.SyncTaskStatusRequest) -> None:
            with grpc.insecure_channel(address) as channel:
                stub = control_pb2_grpc.ControlServiceStub(channel)
                # Claim to be the scheduler the request names, so calls get past authentication.
                claimed = check.scheduler_party_id if is_valid_party_id(check.scheduler_party_id) else "9999"
                calls = ((stub.CheckJob, check, claimed), (stub.SyncTaskStatus, sync, "9999"))
                for method, request, caller in calls:
                    try:
                        method(request, timeout=10, metadata=as_party(caller))
                        seen.append("OK")
                    except grpc.RpcError as exc:
                        assert exc.code() in ALLOWED, (request, exc.code(), exc.details())
                        seen.append(exc.code().name)

        await asyncio.to_thread(call_with)

        node = fed.nodes["9999"]
        assert len(seen) >= 2
        assert await job_ids(fed) == {"9999": [JOB]}
        rows = await node.store.list_tasks(JOB)
        assert {(r.key.task_name, r.key.role, r.key.party_id) for r in rows} <= {
            ("reader_0", "guest", "9999"),
            ("psi_0", "guest", "9999"),
        }
        assert all(0 <= r.key.attempt < 10_000 for r in rows)
        await assert_serving(fed, "9999")
