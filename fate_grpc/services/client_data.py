"""ClientService RPCs behind FATE's `flow data ...` and `flow table ...` (mixed into ClientServicer)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import grpc
from google.protobuf import struct_pb2

from fate_grpc.client.v1 import data_pb2
from fate_grpc.data.tables import TableService, UploadRequest
from fate_grpc.data.upload_meta import parse_upload_meta
from fate_grpc.errors import invalid_argument
from fate_grpc.security.identity import ClientAuthenticator
from fate_grpc.services.edge import unary_edge
from fate_grpc.services.transfer_servicer import chunk_stream, first_header
from fate_grpc.wire.convert import python_from_value, table_to_proto

# FATE keeps the first 100 rows of an upload for `table query -d`.
DISPLAY_ROWS = 100
# FATE's namespace for uploads that name no table.
GENERATED_NAMESPACE = "upload"


class ClientDataRpcs:
    """Needs the attributes ClientServicer sets."""

    _auth: ClientAuthenticator
    _tables: TableService
    _max_chunk: int

    @unary_edge
    async def UploadData(
        self, request_iterator: AsyncIterator[data_pb2.UploadDataRequest], context: grpc.aio.ServicerContext
    ) -> data_pb2.UploadDataResponse:
        await self._auth.user(context)
        header = await first_header(request_iterator)
        upload = upload_request(header)
        if header.server_file:
            table = await self._tables.upload_server_file(upload, header.server_file, request_iterator)
        else:
            table = await self._tables.upload(upload, chunk_stream(request_iterator, self._max_chunk))
        return data_pb2.UploadDataResponse(table=table_to_proto(table))

    @unary_edge
    async def DisplayTable(
        self, request: data_pb2.DisplayTableRequest, context: grpc.aio.ServicerContext
    ) -> data_pb2.DisplayTableResponse:
        await self._auth.user(context)
        if request.limit < 0:
            raise invalid_argument("limit must be >= 0", field_path="limit")
        limit = min(request.limit or DISPLAY_ROWS, DISPLAY_ROWS)
        table, rows = await self._tables.display(request.namespace, request.name, limit)
        return data_pb2.DisplayTableResponse(
            table=table_to_proto(table), rows=[data_pb2.DisplayRow(key=k, value=v) for k, v in rows]
        )

    @unary_edge
    async def TransformTable(
        self, request: data_pb2.TransformTableRequest, context: grpc.aio.ServicerContext
    ) -> data_pb2.TransformTableResponse:
        await self._auth.user(context)
        table = await self._tables.transform(
            (request.source_namespace, request.source_name),
            (request.namespace, request.name),
            site_name=request.site_name,
            drop=request.drop if request.HasField("drop") else True,
        )
        return data_pb2.TransformTableResponse(table=table_to_proto(table))

    @unary_edge
    async def BindTable(
        self, request: data_pb2.BindTableRequest, context: grpc.aio.ServicerContext
    ) -> data_pb2.BindTableResponse:
        await self._auth.user(context)
        table = await self._tables.bind(request.namespace, request.name, request.path)
        return data_pb2.BindTableResponse(table=table_to_proto(table))

    @unary_edge
    async def SaveTableOnNode(
        self, request: data_pb2.SaveTableOnNodeRequest, context: grpc.aio.ServicerContext
    ) -> data_pb2.SaveTableOnNodeResponse:
        await self._auth.user(context)
        file, count = await self._tables.save_on_node(request.namespace, request.name, request.path)
        return data_pb2.SaveTableOnNodeResponse(file=str(file), count=count)


def upload_request(header: data_pb2.UploadDataHeader) -> UploadRequest:
    """FATE's upload conf as our upload: FATE replaces a table of the same name, and an upload that
    names no table gets namespace "upload" and a new uuid as its name and stays a raw table."""
    meta = python_from_value(struct_pb2.Value(struct_value=header.meta)) if header.HasField("meta") else {}
    partitions = header.partitions if header.HasField("partitions") else None
    fate = parse_upload_meta(meta, extend_sid=header.extend_sid, partitions=partitions)
    head = header.head if header.HasField("head") else True
    if not head and not fate.column_names:
        raise invalid_argument(
            "a file without a header line (head: false) needs meta.header, the column names",
            field_path="meta.header",
        )
    namespace, name = header.namespace, header.name
    if bool(namespace) != bool(name):
        missing = "name" if namespace else "namespace"
        raise invalid_argument(
            f"give both namespace and name, or neither; {missing} is missing", field_path=missing
        )
    generated = not namespace
    return UploadRequest(
        namespace=GENERATED_NAMESPACE if generated else namespace,
        name=str(uuid.uuid1()) if generated else name,
        head=head,
        delimiter=fate.delimiter,
        match_id_name=fate.match_id_name,
        label_name=fate.label_name,
        weight_name=fate.weight_name,
        header=fate.column_names if not head else (),
        overwrite=True,
        source_file=header.source_file,
        fate=fate,
        data_type="table" if generated else "dataframe",
    )
