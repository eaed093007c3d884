"""ClientService RPCs of outputs and the model warehouse (mixed into ClientServicer)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import grpc

from fate_grpc.client.v1 import outputs_pb2
from fate_grpc.common.v1 import common_pb2
from fate_grpc.data.model_archive import MAX_ARCHIVE_BYTES
from fate_grpc.data.outputs import DownloadFile, FileStart, OutputQueries, TaskRef, stream_files
from fate_grpc.data.paths import NodePaths
from fate_grpc.data.warehouse import ModelWarehouse
from fate_grpc.domain.ids import check_name
from fate_grpc.errors import invalid_argument, not_found
from fate_grpc.security.identity import ClientAuthenticator
from fate_grpc.services.edge import stream_edge, unary_edge
from fate_grpc.services.transfer_servicer import chunk_stream, first_header
from fate_grpc.store.interface import Store
from fate_grpc.wire.convert import metric_to_proto, model_to_proto, table_to_proto, value_from_python


def _task_ref(message: outputs_pb2.TaskOutputRef) -> TaskRef:
    for field in ("job_id", "role", "party_id", "task_name"):
        if not getattr(message, field):
            raise invalid_argument(f"task.{field} is required", field_path=f"task.{field}")
    return TaskRef(message.job_id, message.role, message.party_id, message.task_name)


def _optional(value: str, what: str) -> str | None:
    return check_name(value, what) if value else None


class ClientOutputRpcs:
    """Needs the attributes ClientServicer sets."""

    _auth: ClientAuthenticator
    _store: Store
    _paths: NodePaths
    _outputs: OutputQueries
    _warehouse: ModelWarehouse
    _party_id: str
    _max_chunk: int

    # -- metrics ---------------------------------------------------------------------------------
    @unary_edge
    async def QueryMetrics(
        self, request: outputs_pb2.QueryMetricsRequest, context: grpc.aio.ServicerContext
    ) -> outputs_pb2.QueryMetricsResponse:
        await self._auth.user(context)
        attempt, metrics = await self._outputs.metrics(_task_ref(request.task), list(request.names))
        return outputs_pb2.QueryMetricsResponse(
            metrics=[metric_to_proto(m) for m in metrics], attempt=attempt
        )

    @unary_edge
    async def QueryMetricKeys(
        self, request: outputs_pb2.QueryMetricKeysRequest, context: grpc.aio.ServicerContext
    ) -> outputs_pb2.QueryMetricKeysResponse:
        await self._auth.user(context)
        _, metrics = await self._outputs.metrics(_task_ref(request.task))
        return outputs_pb2.QueryMetricKeysResponse(
            keys=[metric_to_proto(m, with_data=False) for m in metrics]
        )

    @unary_edge
    async def DeleteMetrics(
        self, request: outputs_pb2.DeleteMetricsRequest, context: grpc.aio.ServicerContext
    ) -> outputs_pb2.DeleteMetricsResponse:
        await self._auth.user(context)
        deleted = await self._outputs.delete_metrics(_task_ref(request.task))
        return outputs_pb2.DeleteMetricsResponse(deleted=deleted)

    # -- output models ---------------------------------------------------------------------------
    @unary_edge
    async def QueryOutputModels(
        self, request: outputs_pb2.QueryOutputModelsRequest, context: grpc.aio.ServicerContext
    ) -> outputs_pb2.QueryOutputModelsResponse:
        await self._auth.user(context)
        found = await self._outputs.output_models(_task_ref(request.task))
        return outputs_pb2.QueryOutputModelsResponse(
            models=[
                outputs_pb2.OutputModel(info=model_to_proto(model), document=value_from_python(document))
                for model, document in found
            ]
        )

    @stream_edge
    async def DownloadOutputModels(
        self, request: outputs_pb2.DownloadOutputModelsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[outputs_pb2.DownloadOutputModelsResponse]:
        await self._auth.user(context)
        files = await self._outputs.output_model_files(_task_ref(request.task))
        async for part in self._file_parts(files):
            yield outputs_pb2.DownloadOutputModelsResponse(part=part)

    @unary_edge
    async def DeleteOutputModels(
        self, request: outputs_pb2.DeleteOutputModelsRequest, context: grpc.aio.ServicerContext
    ) -> outputs_pb2.DeleteOutputModelsResponse:
        await self._auth.user(context)
        deleted = await self._outputs.delete_output_models(_task_ref(request.task))
        return outputs_pb2.DeleteOutputModelsResponse(deleted=deleted)

    # -- output data -----------------------------------------------------------------------------
    @unary_edge
    async def QueryOutputTables(
        self, request: outputs_pb2.QueryOutputTablesRequest, context: grpc.aio.ServicerContext
    ) -> outputs_pb2.QueryOutputTablesResponse:
        await self._auth.user(context)
        tables = await self._outputs.output_tables(_task_ref(request.task))
        return outputs_pb2.QueryOutputTablesResponse(
            tables=[
                outputs_pb2.OutputTable(output_key=t.output_key, table=table_to_proto(t.table))
                for t in tables
            ]
        )

    @unary_edge
    async def DisplayOutputData(
        self, request: outputs_pb2.DisplayOutputDataRequest, context: grpc.aio.ServicerContext
    ) -> outputs_pb2.DisplayOutputDataResponse:
        await self._auth.user(context)
        shown = await self._outputs.display(_task_ref(request.task), request.limit, request.output_key)
        return outputs_pb2.DisplayOutputDataResponse(
            outputs=[
                outputs_pb2.OutputRows(
                    output_key=s.output_key,
                    header=s.header,
                    rows=[outputs_pb2.DataRow(values=row) for row in s.rows],
                    count=s.count,
                )
                for s in shown
            ]
        )

    @stream_edge
    async def DownloadOutputData(
        self, request: outputs_pb2.DownloadOutputDataRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[outputs_pb2.DownloadOutputDataResponse]:
        await self._auth.user(context)
        files = await self._outputs.output_data_files(_task_ref(request.task), request.output_key)
        async for part in self._file_parts(files):
            yield outputs_pb2.DownloadOutputDataResponse(part=part)

    # -- tables ----------------------------------------------------------------------------------
    @stream_edge
    async def DownloadTable(
        self, request: outputs_pb2.DownloadTableRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[outputs_pb2.DownloadTableResponse]:
        await self._auth.user(context)
        file = await self._outputs.table_file(request.namespace, request.name)
        async for part in self._file_parts([file]):
            yield outputs_pb2.DownloadTableResponse(part=part)

    @unary_edge
    async def DeleteTable(
        self, request: outputs_pb2.DeleteTableRequest, context: grpc.aio.ServicerContext
    ) -> outputs_pb2.DeleteTableResponse:
        await self._auth.user(context)
        namespace = check_name(request.namespace, "namespace")
        name = check_name(request.name, "name")
        table = await self._store.delete_table(namespace, name)
        if table is None:
            raise not_found(f"table {namespace}.{name} not found", namespace=namespace, name=name)
        path = self._paths.confine(Path(table.path))
        await anyio.to_thread.run_sync(lambda: path.unlink(missing_ok=True))
        return outputs_pb2.DeleteTableResponse(table=table_to_proto(table))

    # -- the model warehouse ---------------------------------------------------------------------
    @stream_edge
    async def ExportModel(
        self, request: outputs_pb2.ExportModelRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[outputs_pb2.ExportModelResponse]:
        await self._auth.user(context)
        self._outputs.check_own_party(request.role, request.party_id)
        archive = await self._warehouse.export(
            request.model_id, request.model_version, request.role, request.party_id
        )
        name = f"{request.model_id}_{request.model_version}_{request.role}_{request.party_id}.zip"
        try:
            async for part in self._file_parts([(name, archive)]):
                yield outputs_pb2.ExportModelResponse(part=part)
        finally:
            await anyio.to_thread.run_sync(lambda: archive.unlink(missing_ok=True))

    @unary_edge
    async def ImportModel(
        self,
        request_iterator: AsyncIterator[outputs_pb2.ImportModelRequest],
        context: grpc.aio.ServicerContext,
    ) -> outputs_pb2.ImportModelResponse:
        await self._auth.user(context)
        header = await first_header(request_iterator)
        model_id = check_name(header.model_id, "header.model_id")
        model_version = check_name(header.model_version, "header.model_version")
        if not 0 < header.size <= MAX_ARCHIVE_BYTES:
            raise invalid_argument("header.size must be the zip's size in bytes", field_path="header.size")
        archive = self._paths.tmp_dir / f"upload-{uuid.uuid4().hex}.zip"
        try:
            await _receive_file(archive, chunk_stream(request_iterator, self._max_chunk), header.size)
            models = await self._warehouse.import_archive(archive, model_id, model_version)
        finally:
            await anyio.to_thread.run_sync(lambda: archive.unlink(missing_ok=True))
        return outputs_pb2.ImportModelResponse(models=[model_to_proto(m) for m in models])

    @unary_edge
    async def QueryModels(
        self, request: outputs_pb2.QueryModelsRequest, context: grpc.aio.ServicerContext
    ) -> outputs_pb2.QueryModelsResponse:
        await self._auth.user(context)
        models = await self._store.list_models(
            model_id=_optional(request.model_id, "model_id"),
            model_version=_optional(request.model_version, "model_version"),
            role=_optional(request.role, "role"),
            party_id=_optional(request.party_id, "party_id"),
            task_name=_optional(request.task_name, "task_name"),
        )
        return outputs_pb2.QueryModelsResponse(models=[model_to_proto(m) for m in models])

    @unary_edge
    async def DeleteModels(
        self, request: outputs_pb2.DeleteModelsRequest, context: grpc.aio.ServicerContext
    ) -> outputs_pb2.DeleteModelsResponse:
        await self._auth.user(context)
        removed = await self._warehouse.delete(
            model_id=check_name(request.model_id, "model_id"),
            model_version=check_name(request.model_version, "model_version"),
            role=_optional(request.role, "role"),
            party_id=_optional(request.party_id, "party_id"),
            task_name=_optional(request.task_name, "task_name"),
            output_key=_optional(request.output_key, "output_key"),
        )
        if not removed:
            raise not_found(
                f"no model {request.model_id} version {request.model_version} matches in this warehouse",
                model_id=request.model_id,
            )
        return outputs_pb2.DeleteModelsResponse(deleted=len(removed))

    # -- helpers ---------------------------------------------------------------------------------
    async def _file_parts(self, files: list[DownloadFile]) -> AsyncIterator[common_pb2.FilePart]:
        async for item in stream_files(files, self._max_chunk):
            if isinstance(item, FileStart):
                yield common_pb2.FilePart(header=common_pb2.FileHeader(path=item.path, size=item.size))
            else:
                yield common_pb2.FilePart(chunk=item)


async def _receive_file(path: Path, chunks: AsyncIterator[bytes], expected_size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = await anyio.to_thread.run_sync(path.open, "wb")
    written = 0
    try:
        async for chunk in chunks:
            written += len(chunk)
            if written > expected_size:
                raise invalid_argument("the upload is larger than header.size", field_path="chunk")
            await anyio.to_thread.run_sync(handle.write, chunk)
    finally:
        await anyio.to_thread.run_sync(handle.close)
    if written != expected_size:
        raise invalid_argument(
            f"the upload ended after {written} of {expected_size} bytes", field_path="header.size"
        )
