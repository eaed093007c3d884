"""What users read of a task's outputs at this party: metrics, output models, output tables, files.

Outputs stay at the party that made them, so every query names this node's own party; a query for
another party is refused with the address of that party's node (WRONG_PARTY), not forwarded: a
party's outputs are its own, and no partner's node should read them on a user's behalf.
"""

from __future__ import annotations

import csv
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from fate_grpc.data.paths import NodePaths
from fate_grpc.data.warehouse import ModelWarehouse
from fate_grpc.domain.ids import check_name, check_party_id
from fate_grpc.errors import ErrorCode, FateGrpcError, invalid_argument, not_found
from fate_grpc.store.interface import Store
from fate_grpc.store.records import MetricRecord, ModelRecord, TableRecord, TaskKey

ROLES = ("guest", "host", "arbiter", "local")
DEFAULT_DISPLAY_ROWS = 10
MAX_DISPLAY_ROWS = 1000


@dataclass(frozen=True)
class TaskRef:
    """`-j -r -p -tn` of a flow output command."""

    job_id: str
    role: str
    party_id: str
    task_name: str


@dataclass(frozen=True)
class OutputTableRef:
    output_key: str
    table: TableRecord


@dataclass(frozen=True)
class DisplayedRows:
    output_key: str
    header: list[str]
    rows: list[list[str]]
    count: int


# A file of a download: its relative path, and either a file on disk or its bytes.
DownloadFile = tuple[str, Path | bytes]


class OutputQueries:
    def __init__(
        self,
        *,
        store: Store,
        paths: NodePaths,
        warehouse: ModelWarehouse,
        party_id: str,
        routes: dict[str, str],
    ) -> None:
        self._store = store
        self._paths = paths
        self._warehouse = warehouse
        self._party_id = party_id
        self._routes = routes

    # -- which task ------------------------------------------------------------------------------
    def check_own_party(self, role: str, party_id: str) -> None:
        if role not in ROLES:
            raise invalid_argument(f"role {role!r} must be one of {', '.join(ROLES)}", field_path="role")
        check_party_id(party_id)
        if party_id == self._party_id:
            return
        address = self._routes.get(party_id)
        where = f" (its address in this node's routes: {address})" if address else ""
        raise FateGrpcError(
            ErrorCode.WRONG_PARTY,
            f"outputs of {role} {party_id} are kept at party {party_id}'s own node{where};"
            f" this node is party {self._party_id}",
            hint=f"ask party {party_id}'s node: flow --node HOST:PORT output ... -p {party_id}",
            fields={"party_id": party_id, **({"address": address} if address else {})},
        )

    async def latest_attempt(self, ref: TaskRef) -> TaskKey:
        """The newest attempt of the task at (role, party), which must be this node's party."""
        self.check_own_party(ref.role, ref.party_id)
        check_name(ref.job_id, "job_id")
        check_name(ref.task_name, "task_name")
        if await self._store.find_job(ref.job_id) is None:
            raise not_found(f"job {ref.job_id} not found at party {self._party_id}", job_id=ref.job_id)
        rows = await self._store.list_tasks(ref.job_id)
        mine = [r.key for r in rows if r.key.task_name == ref.task_name]
        if not mine:
            known = sorted({r.key.task_name for r in rows})
            raise not_found(
                f"job {ref.job_id} has no task {ref.task_name} at party {self._party_id}"
                f" (its tasks here: {', '.join(known) or 'none'})",
                job_id=ref.job_id,
                task_name=ref.task_name,
            )
        at_role = [k for k in mine if k.role == ref.role and k.party_id == ref.party_id]
        if not at_role:
            roles = sorted({k.role for k in mine})
            raise not_found(
                f"task {ref.task_name} of job {ref.job_id} does not run at {ref.role} {ref.party_id}"
                f" (it runs here as {', '.join(roles)})",
                job_id=ref.job_id,
                task_name=ref.task_name,
            )
        return max(at_role, key=lambda k: k.attempt)

    # -- metrics ---------------------------------------------------------------------------------
    async def metrics(self, ref: TaskRef, names: Sequence[str] = ()) -> tuple[int, list[MetricRecord]]:
        key = await self.latest_attempt(ref)
        records = await self._store.list_metrics(key)
        if names:
            records = [r for r in records if r.name in set(names)]
        return key.attempt, merge_metrics(records)

    async def delete_metrics(self, ref: TaskRef) -> int:
        await self.latest_attempt(ref)
        return await self._store.delete_metrics(ref.job_id, ref.task_name, ref.role, ref.party_id)

    # -- models ----------------------------------------------------------------------------------
    async def output_models(self, ref: TaskRef) -> list[tuple[ModelRecord, Any]]:
        await self.latest_attempt(ref)
        models = await self._warehouse.of_job_task(ref.job_id, ref.task_name, ref.role, ref.party_id)
        return [(m, await self._warehouse.read_document(m)) for m in models]

    async def output_model_files(self, ref: TaskRef) -> list[DownloadFile]:
        await self.latest_attempt(ref)
        models = await self._warehouse.of_job_task(ref.job_id, ref.task_name, ref.role, ref.party_id)
        if not models:
            raise not_found(f"task {ref.task_name} of job {ref.job_id} has no output model at {ref.role}")
        files: list[DownloadFile] = []
        for model in models:
            files.extend(await self._warehouse.files_of(model, model.output_key))
            files.append((f"{model.output_key}/model.meta.json", _json_bytes(model_meta(model))))
        return files

    async def delete_output_models(self, ref: TaskRef) -> int:
        await self.latest_attempt(ref)
        removed = await self._warehouse.delete(
            job_id=ref.job_id, task_name=ref.task_name, role=ref.role, party_id=ref.party_id
        )
        return len(removed)

    # -- data ------------------------------------------------------------------------------------
    async def output_tables(self, ref: TaskRef, output_key: str = "") -> list[OutputTableRef]:
        key = await self.latest_attempt(ref)
        outputs = await self._store.list_outputs(
            ref.job_id, task_name=ref.task_name, role=ref.role, party_id=ref.party_id
        )
        latest = [o for o in outputs if o.key.attempt == key.attempt]
        if output_key:
            check_name(output_key, "output_key")
            latest = [o for o in latest if o.output_key == output_key]
            if not latest:
                raise not_found(f"task {ref.task_name} has no output data {output_key!r} at {ref.role}")
        found = []
        for output in latest:
            table = await self._store.find_table(output.namespace, output.name)
            if table is not None:
                found.append(OutputTableRef(output.output_key, table))
        return found

    async def display(self, ref: TaskRef, limit: int, output_key: str = "") -> list[DisplayedRows]:
        limit = limit or DEFAULT_DISPLAY_ROWS
        if not 0 < limit <= MAX_DISPLAY_ROWS:
            raise invalid_argument(f"limit must be between 1 and {MAX_DISPLAY_ROWS}", field_path="limit")
        shown = []
        for output in await self.output_tables(ref, output_key):
            path = self._paths.confine(Path(output.table.path))
            header, rows = await anyio.to_thread.run_sync(_head_rows, path, output.table.delimiter, limit)
            shown.append(DisplayedRows(output.output_key, header, rows, output.table.count))
        return shown

    async def output_data_files(self, ref: TaskRef, output_key: str = "") -> list[DownloadFile]:
        outputs = await self.output_tables(ref, output_key)
        if not outputs:
            raise not_found(f"task {ref.task_name} of job {ref.job_id} has no output data at {ref.role}")
        files: list[DownloadFile] = []
        for output in outputs:
            files.append((f"{output.output_key}.csv", self._paths.confine(Path(output.table.path))))
            files.append((f"{output.output_key}.meta.json", _json_bytes(table_meta(output.table))))
        return files

    async def table_file(self, namespace: str, name: str) -> DownloadFile:
        table = await self._store.get_table(check_name(namespace, "namespace"), check_name(name, "name"))
        return (f"{namespace}_{name}.csv", self._paths.confine(Path(table.path)))


def merge_metrics(records: Sequence[MetricRecord]) -> list[MetricRecord]:
    """One record per (name, type, groups, step_axis), values in report order (FATE's merged view)."""
    merged: dict[tuple[Any, ...], MetricRecord] = {}
    for record in records:
        identity = (record.name, record.type, record.groups, record.step_axis)
        seen = merged.get(identity)
        merged[identity] = (
            record
            if seen is None
            else MetricRecord(
                seen.name,
                seen.type,
                seen.groups,
                seen.step_axis,
                seen.data + record.data,
                seen.create_time_ms,
            )
        )
    return list(merged.values())


def model_meta(model: ModelRecord) -> dict[str, Any]:
    return {
        "model_id": model.model_id,
        "model_version": model.model_version,
        "role": model.role,
        "party_id": model.party_id,
        "task_name": model.task_name,
        "output_key": model.output_key,
        "job_id": model.job_id,
        "component": model.component,
        "type_name": model.type_name,
        "size": model.size,
        "create_time_ms": model.create_time_ms,
    }


def table_meta(table: TableRecord) -> dict[str, Any]:
    return {
        "namespace": table.namespace,
        "name": table.name,
        "count": table.count,
        "header": list(table.header),
        "match_id_name": table.match_id_name,
        "label_name": table.label_name,
        "weight_name": table.weight_name,
        "delimiter": table.delimiter,
        "source_job_id": table.source_job_id,
        "source_task": table.source_task,
        "create_time_ms": table.create_time_ms,
    }


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, indent=2, ensure_ascii=False).encode("utf-8")


def _head_rows(path: Path, delimiter: str, limit: int) -> tuple[list[str], list[list[str]]]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            header = next(reader, [])
            rows: list[list[str]] = []
            for row in reader:
                if len(rows) >= limit:
                    break
                rows.append(row)
    except FileNotFoundError:
        raise not_found("the table's file is missing from this node") from None
    return header, rows


@dataclass(frozen=True)
class FileStart:
    """The start of one file in a download stream; its chunks follow."""

    path: str
    size: int


async def stream_files(files: Sequence[DownloadFile], chunk_bytes: int) -> AsyncIterator[FileStart | bytes]:
    """A FileStart per file, then its bytes in chunks.

    Files are read a chunk at a time in worker threads, so memory stays at one chunk per download."""
    for rel, source in files:
        if isinstance(source, bytes):
            yield FileStart(rel, len(source))
            for start in range(0, len(source), chunk_bytes):
                yield source[start : start + chunk_bytes]
            continue
        try:
            handle = await anyio.to_thread.run_sync(source.open, "rb")
        except FileNotFoundError:
            raise not_found(f"{rel} is missing from this node") from None
        try:
            size = (await anyio.to_thread.run_sync(source.stat)).st_size
            yield FileStart(rel, size)
            while chunk := await anyio.to_thread.run_sync(handle.read, chunk_bytes):
                yield chunk
        finally:
            handle.close()
