"""FATE-Flow's model warehouse endpoints (`/v2/model/...`) onto the user API."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from pathlib import Path, PurePosixPath

import anyio
from aiohttp import web

from fate_grpc.client.v1 import outputs_pb2
from fate_grpc.errors import ErrorCode, FateGrpcError, invalid_argument
from fate_grpc.flow_answers.outputs import model_row
from fate_grpc.httpapi.answers import Params, answer, read_params
from fate_grpc.httpapi.context import caller_of, state_of
from fate_grpc.httpapi.data import UPLOAD_CHUNK_BYTES, read_form
from fate_grpc.httpapi.files import receive_files


def server_directory(path: str, allowed: tuple[Path, ...], command: str) -> Path:
    """`path` resolved, which must lie inside one of the node's server_data_dirs (FATE writes exported
    models on the server's machine; here only where the node's conf allows)."""
    if not allowed:
        raise FateGrpcError(
            ErrorCode.PERMISSION_DENIED,
            f"this node allows no paths on its machine for {command}: its conf sets no server_data_dirs",
        )
    target = Path(path).expanduser()
    if not target.is_absolute():
        raise invalid_argument(f"path must be absolute on the node's machine: {path}", field_path="path")
    resolved = target.resolve()
    if not any(resolved == root or root in resolved.parents for root in allowed):
        shown = ", ".join(str(root) for root in allowed)
        raise FateGrpcError(
            ErrorCode.PERMISSION_DENIED, f"path {path} is outside the node's server_data_dirs ({shown})"
        )
    return resolved


async def export(request: web.Request) -> web.Response:
    params = await read_params(request)
    asked = outputs_pb2.ExportModelRequest(
        model_id=params.text("model_id", required=True),
        model_version=params.text("model_version", required=True),
        role=params.text("role", required=True),
        party_id=params.text("party_id", required=True),
    )
    target = server_directory(
        params.text("path", required=True), state_of(request).server_dirs, "model export"
    )
    await anyio.to_thread.run_sync(lambda: target.mkdir(parents=True, exist_ok=True))
    parts = caller_of(request).stream("ExportModel", asked)
    written = await receive_files(parts, target, lambda path: PurePosixPath(path.name))
    return answer([str(target / name) for name in written])


async def import_model(request: web.Request) -> web.Response:
    if not request.content_type.startswith("multipart/"):
        raise invalid_argument("send the zip as multipart/form-data, in a part named file", field_path="file")
    with tempfile.TemporaryDirectory(prefix="fate-flow-import-") as scratch:
        archive = Path(scratch) / "model.zip"
        fields, file_name = await read_form(request, archive)
        if file_name is None:
            raise invalid_argument("the form has no part named file", field_path="file")
        params = Params(fields)
        header = outputs_pb2.ImportModelHeader(
            model_id=params.text("model_id", required=True),
            model_version=params.text("model_version", required=True),
            size=archive.stat().st_size,
        )
        imported = await caller_of(request).send_stream("ImportModel", _archive_messages(header, archive))
    return answer([model_row(m) for m in imported.models])


async def _archive_messages(
    header: outputs_pb2.ImportModelHeader, path: Path
) -> AsyncIterator[outputs_pb2.ImportModelRequest]:
    yield outputs_pb2.ImportModelRequest(header=header)
    handle = await anyio.to_thread.run_sync(path.open, "rb")
    try:
        while chunk := await anyio.to_thread.run_sync(handle.read, UPLOAD_CHUNK_BYTES):
            yield outputs_pb2.ImportModelRequest(chunk=chunk)
    finally:
        await anyio.to_thread.run_sync(handle.close)


async def delete(request: web.Request) -> web.Response:
    params = await read_params(request)
    asked = outputs_pb2.DeleteModelsRequest(
        model_id=params.text("model_id", required=True),
        model_version=params.text("model_version", required=True),
        role=params.text("role"),
        party_id=params.text("party_id"),
        task_name=params.text("task_name"),
        output_key=params.text("output_key"),
    )
    deleted = await caller_of(request).unary("DeleteModels", asked)
    return answer({"count": deleted.deleted})


async def not_kept(request: web.Request) -> web.Response:
    """FATE-Flow 2.2's load, migrate, store and restore do nothing and answer success; said plainly here."""
    return answer(message=f"success: {request.path.rsplit('/', 1)[-1]} has nothing to do on this node")
