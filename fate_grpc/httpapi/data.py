"""FATE-Flow's data and table endpoints (`/v2/data/...`, `/v2/table/...`) onto the user API."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from pathlib import Path, PurePosixPath
from typing import Any

import anyio
from aiohttp import BodyPartReader, web

from fate_grpc.client.v1 import client_pb2, data_pb2, outputs_pb2
from fate_grpc.errors import invalid_argument
from fate_grpc.flow_answers.outputs import fate_table
from fate_grpc.httpapi.answers import Params, answer, read_params
from fate_grpc.httpapi.context import caller_of, uploads_of
from fate_grpc.httpapi.files import tar_response

UPLOAD_CHUNK_BYTES = 256 * 1024
FORM_FIELD_MAX_BYTES = 1 << 20


def _upload_header(
    params: Params, *, source_file: str = "", server_file: str = ""
) -> data_pb2.UploadDataHeader:
    header = data_pb2.UploadDataHeader(
        namespace=params.text("namespace"),
        name=params.text("name"),
        extend_sid=params.boolean("extend_sid"),
        source_file=source_file,
        server_file=server_file,
    )
    if "head" in params:
        header.head = params.boolean("head")
    if "partitions" in params:
        header.partitions = params.integer("partitions", minimum=1)
    meta = params.mapping("meta")
    if meta is not None:
        header.meta.update(meta)
    return header


async def _upload_answer(request: web.Request, uploaded: Any) -> web.Response:
    table = uploaded.table
    job_id = uploads_of(request).finished(table.namespace, table.name)
    return answer({"name": table.name, "namespace": table.namespace}, job_id=job_id)


async def upload(request: web.Request) -> web.Response:
    """FATE's `data upload`: a file the node's machine can read (inside its server_data_dirs)."""
    params = await read_params(request)
    header = _upload_header(params, server_file=params.text("file", required=True))

    async def messages() -> AsyncIterator[data_pb2.UploadDataRequest]:
        yield data_pb2.UploadDataRequest(header=header)

    return await _upload_answer(request, await caller_of(request).send_stream("UploadData", messages()))


async def upload_file(request: web.Request) -> web.Response:
    """FATE's `data upload-file`: the file arrives in a multipart form with the upload's fields."""
    if not request.content_type.startswith("multipart/"):
        raise invalid_argument(
            "send the file as multipart/form-data, in a part named file", field_path="file"
        )
    with tempfile.TemporaryDirectory(prefix="fate-flow-upload-") as scratch:
        fields, file_name = await read_form(request, Path(scratch) / "upload")
        if file_name is None:
            raise invalid_argument("the form has no part named file", field_path="file")
        params = Params(fields)
        header = _upload_header(params, source_file=PurePosixPath(file_name).name or "upload.csv")
        uploaded = await caller_of(request).send_stream(
            "UploadData", _file_messages(header, Path(scratch) / "upload")
        )
    return await _upload_answer(request, uploaded)


async def read_form(request: web.Request, file_path: Path) -> tuple[dict[str, str], str | None]:
    """The form's text fields, and the file part's name (its bytes written to `file_path`)."""
    fields: dict[str, str] = {}
    file_name: str | None = None
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or not part.name:
            continue
        if part.name == "file":
            file_name = part.filename or "upload.csv"
            await _save_part(part, file_path)
        else:
            value = await part.read(decode=True)
            if len(value) > FORM_FIELD_MAX_BYTES:
                raise invalid_argument(f"form field {part.name} is too long", field_path=part.name)
            fields[part.name] = value.decode()
    return fields, file_name


async def _save_part(part: BodyPartReader, target: Path) -> None:
    handle = await anyio.to_thread.run_sync(target.open, "wb")
    try:
        while chunk := await part.read_chunk(UPLOAD_CHUNK_BYTES):
            await anyio.to_thread.run_sync(handle.write, chunk)
    finally:
        await anyio.to_thread.run_sync(handle.close)


async def _file_messages(
    header: data_pb2.UploadDataHeader, path: Path
) -> AsyncIterator[data_pb2.UploadDataRequest]:
    yield data_pb2.UploadDataRequest(header=header)
    handle = await anyio.to_thread.run_sync(path.open, "rb")
    try:
        while chunk := await anyio.to_thread.run_sync(handle.read, UPLOAD_CHUNK_BYTES):
            yield data_pb2.UploadDataRequest(chunk=chunk)
    finally:
        await anyio.to_thread.run_sync(handle.close)


async def transformer(request: web.Request) -> web.Response:
    params = await read_params(request)
    source = params.mapping("data_warehouse") or {}
    for key in ("namespace", "name"):
        if not isinstance(source.get(key), str) or not source[key]:
            raise invalid_argument(f"data_warehouse.{key} is required", field_path=f"data_warehouse.{key}")
    asked = data_pb2.TransformTableRequest(
        source_namespace=source["namespace"],
        source_name=source["name"],
        namespace=params.text("namespace", required=True),
        name=params.text("name", required=True),
        site_name=params.text("site_name"),
    )
    if "drop" in params:
        asked.drop = params.boolean("drop")
    transformed = await caller_of(request).unary("TransformTable", asked)
    job_id = uploads_of(request).finished(transformed.table.namespace, transformed.table.name)
    return answer({"name": transformed.table.name, "namespace": transformed.table.namespace}, job_id=job_id)


async def download_component(request: web.Request) -> web.Response:
    params = await read_params(request)
    namespace, name = params.text("namespace", required=True), params.text("name", required=True)
    path = params.text("path", required=True)
    saved = await caller_of(request).unary(
        "SaveTableOnNode", data_pb2.SaveTableOnNodeRequest(namespace=namespace, name=name, path=path)
    )
    return answer(
        {"name": name, "namespace": namespace, "path": path, "file": saved.file, "count": saved.count}
    )


async def download(request: web.Request) -> web.StreamResponse:
    params = await read_params(request)
    namespace, name = params.text("namespace", required=True), params.text("name", required=True)
    parts = caller_of(request).stream(
        "DownloadTable", outputs_pb2.DownloadTableRequest(namespace=namespace, name=name)
    )
    # FATE's layout: data/0.csv in download_data_<namespace>_<name>.tar.gz.
    return await tar_response(
        request, parts, f"download_data_{namespace}_{name}.tar.gz", lambda _: PurePosixPath("data", "0.csv")
    )


# -- tables ----------------------------------------------------------------------------------------------


async def table_query(request: web.Request) -> web.Response:
    params = await read_params(request)
    namespace, name = params.text("namespace", required=True), params.text("name", required=True)
    caller = caller_of(request)
    if not params.boolean("display"):
        found = await caller.unary("QueryTable", client_pb2.QueryTableRequest(namespace=namespace, name=name))
        return answer(fate_table(found.table))
    shown = await caller.unary("DisplayTable", data_pb2.DisplayTableRequest(namespace=namespace, name=name))
    row = fate_table(shown.table)
    row["display"] = [[r.key, r.value] for r in shown.rows]
    return answer(row)


async def table_delete(request: web.Request) -> web.Response:
    params = await read_params(request)
    asked = outputs_pb2.DeleteTableRequest(
        namespace=params.text("namespace", required=True), name=params.text("name", required=True)
    )
    deleted = await caller_of(request).unary("DeleteTable", asked)
    return answer({"name": deleted.table.name, "namespace": deleted.table.namespace})


async def table_bind(request: web.Request) -> web.Response:
    params = await read_params(request)
    bound = await caller_of(request).unary(
        "BindTable",
        data_pb2.BindTableRequest(
            namespace=params.text("namespace", required=True),
            name=params.text("name", required=True),
            path=params.text("path", required=True),
        ),
    )
    return answer(fate_table(bound.table))
