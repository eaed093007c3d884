"""Uploaded tables: stream a CSV to disk, check it, register it in the store."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import anyio
import pandas as pd

from fate_grpc.data.paths import NodePaths
from fate_grpc.data.upload_meta import UploadMeta, check_columns, data_meta, match_id_column
from fate_grpc.domain.ids import check_name
from fate_grpc.errors import ErrorCode, FateGrpcError, already_exists, invalid_argument
from fate_grpc.store.interface import Store
from fate_grpc.store.records import TableRecord

MAX_COLUMNS = 100_000


@dataclass(frozen=True)
class UploadRequest:
    namespace: str
    name: str
    head: bool
    delimiter: str
    match_id_name: str
    label_name: str
    weight_name: str
    header: tuple[str, ...]
    overwrite: bool
    source_file: str
    fate: UploadMeta | None = None
    """FATE's upload meta, when the upload came with FATE's conf (sample id, extend_sid, partitions...)."""
    data_type: str = "dataframe"
    """FATE's data type of the stored table: "dataframe", or "table" for a raw upload to transform later."""


class TableService:
    def __init__(self, *, store: Store, paths: NodePaths, server_data_dirs: tuple[Path, ...] = ()) -> None:
        self._store = store
        self._paths = paths
        # Directories on this machine users may bind files from and have tables written into.
        self._server_dirs = tuple(d.resolve() for d in server_data_dirs)

    async def upload(self, request: UploadRequest, chunks: AsyncIterator[bytes]) -> TableRecord:
        """Write the streamed file, check it, then register it (a failed upload leaves nothing behind)."""
        check_name(request.namespace, "namespace")
        check_name(request.name, "name")
        delimiter = _check_delimiter(request.delimiter)
        final_path = self._paths.table_file(request.namespace, request.name)
        if not request.overwrite and await self._store.find_table(request.namespace, request.name):
            raise already_exists(
                f"table {request.namespace}.{request.name} already exists"
                " (upload with --overwrite to replace it)",
                namespace=request.namespace,
                name=request.name,
            )
        staging = self._paths.tables_dir / ".staging" / f"{uuid.uuid4().hex}.csv"
        try:
            await _write_stream(staging, request, delimiter, chunks)
            header, count = await anyio.to_thread.run_sync(_inspect, staging, delimiter)
            table = _record(request, delimiter, header, count, final_path)
            await anyio.to_thread.run_sync(_move_into_place, staging, final_path)
            await self._store.put_table(table, overwrite=request.overwrite)
        finally:
            with contextlib.suppress(OSError):
                staging.unlink()
        # As stored (with its creation time).
        return await self._store.get_table(request.namespace, request.name)

    async def upload_server_file(
        self, request: UploadRequest, server_file: str, rest: AsyncIterator[object]
    ) -> TableRecord:
        """FATE's `data upload`: the file is read on this machine, from one of server_data_dirs."""
        file = self._server_path(server_file, "upload", must_exist=True)
        if not file.is_file():
            raise invalid_argument(f"server_file {server_file} is not a file", field_path="server_file")
        async for _ in rest:
            raise invalid_argument(
                "no chunks may follow a header that names a server_file", field_path="chunk"
            )
        return await self.upload(replace(request, source_file=file.name), _file_chunks(file))

    async def display(
        self, namespace: str, name: str, limit: int
    ) -> tuple[TableRecord, list[tuple[str, str]]]:
        """The table and its first `limit` rows as FATE shows them: (sample id, other values joined)."""
        table = await self._store.get_table(check_name(namespace, "namespace"), check_name(name, "name"))
        path = self._paths.confine(Path(table.path))
        rows = await anyio.to_thread.run_sync(_first_rows, path, table, limit)
        return table, rows

    async def transform(
        self, source: tuple[str, str], target: tuple[str, str], *, site_name: str, drop: bool
    ) -> TableRecord:
        """FATE's dataframe transformer: `target` becomes a dataframe table with `source`'s rows and roles."""
        for (namespace, name), where in ((source, "data_warehouse"), (target, "")):
            check_name(namespace, f"{where}.namespace" if where else "namespace")
            check_name(name, f"{where}.name" if where else "name")
        if source == target:
            raise invalid_argument(
                "data_warehouse and (namespace, name) name the same table", field_path="name"
            )
        original = await self._store.get_table(*source)
        if not drop and await self._store.find_table(*target):
            raise FateGrpcError(
                ErrorCode.ALREADY_EXISTS,
                f"table {target[0]}.{target[1]} already exists",
                hint='set "drop": true in the conf to replace it',
                fields={"namespace": target[0], "name": target[1]},
            )
        final = self._paths.table_file(*target)
        await self._place(self._paths.confine(Path(original.path)), final)
        meta = {**original.meta, "data_type": "dataframe", "transformed_from": f"{source[0]}.{source[1]}"}
        if site_name:
            meta["site_name"] = site_name
        table = replace(
            original,
            namespace=target[0],
            name=target[1],
            path=str(final),
            meta=meta,
            source_job_id="",
            source_task="",
            create_time_ms=0,
        )
        await self._store.put_table(table, overwrite=True)
        return await self._store.get_table(*target)

    async def bind(self, namespace: str, name: str, path: str) -> TableRecord:
        """FATE's table bind: a CSV file in server_data_dirs becomes a table (header; first column = id).

        The file is hard-linked into the node's tables (copied across file systems), so deleting the
        table never deletes the user's file."""
        check_name(namespace, "namespace")
        check_name(name, "name")
        file = self._server_path(path, "bind", must_exist=True)
        if not file.is_file():
            raise invalid_argument(f"path {path} is not a file", field_path="path")
        final = self._paths.table_file(namespace, name)
        staging = self._staging_file()
        try:
            await anyio.to_thread.run_sync(_link_or_copy, file, staging)
            header, count = await anyio.to_thread.run_sync(_inspect, staging, ",")
            if not header:
                raise invalid_argument(f"{path} has no header line", field_path="path")
            request = UploadRequest(namespace, name, True, ",", "", "", "", (), True, file.name)
            table = replace(
                _record(request, ",", header, count, final),
                meta={"source_file": file.name, "bound_path": str(file), "data_type": "table"},
            )
            await anyio.to_thread.run_sync(_move_into_place, staging, final)
            await self._store.put_table(table, overwrite=True)
        finally:
            with contextlib.suppress(OSError):
                staging.unlink()
        return await self._store.get_table(namespace, name)

    async def save_on_node(self, namespace: str, name: str, path: str) -> tuple[Path, int]:
        """FATE's download component: write <path>/data/0.csv and 0.meta on this machine."""
        table = await self._store.get_table(check_name(namespace, "namespace"), check_name(name, "name"))
        source = self._paths.confine(Path(table.path))
        folder = self._server_path(path, "download-component", must_exist=False) / "data"
        await anyio.to_thread.run_sync(_write_download, source, folder, table)
        return folder / "0.csv", table.count

    def _server_path(self, path: str, command: str, *, must_exist: bool) -> Path:
        """`path` resolved, which must lie inside one of server_data_dirs."""
        if not self._server_dirs:
            raise FateGrpcError(
                ErrorCode.PERMISSION_DENIED,
                f"this node allows no paths on its machine for {command}: its conf sets no server_data_dirs",
                hint=_SERVER_PATH_HINTS[command],
            )
        candidate = Path(path)
        if not path or not candidate.is_absolute():
            raise invalid_argument(
                f"path must be an absolute path on the node's machine, got {path!r}", field_path="path"
            )
        try:
            resolved = candidate.resolve(strict=must_exist)
        except OSError:
            raise invalid_argument(
                f"path {path} does not exist on the node's machine", field_path="path"
            ) from None
        if not any(resolved == d or d in resolved.parents for d in self._server_dirs):
            allowed = ", ".join(str(d) for d in self._server_dirs)
            raise FateGrpcError(
                ErrorCode.PERMISSION_DENIED,
                f"path {path} is outside the node's server_data_dirs ({allowed})",
                hint=_SERVER_PATH_HINTS[command],
                fields={"path": path},
            )
        return resolved

    def _staging_file(self) -> Path:
        return self._paths.tables_dir / ".staging" / f"{uuid.uuid4().hex}.csv"

    async def _place(self, source: Path, final: Path) -> None:
        staging = self._staging_file()
        try:
            await anyio.to_thread.run_sync(_link_or_copy, source, staging)
            await anyio.to_thread.run_sync(_move_into_place, staging, final)
        finally:
            with contextlib.suppress(OSError):
                staging.unlink()


def _check_delimiter(delimiter: str) -> str:
    delimiter = delimiter or ","
    if len(delimiter) != 1 or delimiter in '\r\n"':
        raise invalid_argument(
            "delimiter must be one character (not a quote or newline)", field_path="meta.delimiter"
        )
    return delimiter


async def _write_stream(
    path: Path, request: UploadRequest, delimiter: str, chunks: AsyncIterator[bytes]
) -> None:
    await anyio.to_thread.run_sync(lambda: path.parent.mkdir(parents=True, exist_ok=True))
    async with await anyio.open_file(path, "wb") as out:
        if not request.head:
            if not request.header:
                raise invalid_argument(
                    "a file without a header line needs the column names", field_path="header"
                )
            line = io.StringIO()
            csv.writer(line, delimiter=delimiter, lineterminator="\n").writerow(request.header)
            await out.write(line.getvalue().encode())
        async for chunk in chunks:
            await out.write(chunk)


def _inspect(path: Path, delimiter: str) -> tuple[tuple[str, ...], int]:
    """Header and row count; raises a readable error for files pandas cannot parse as a table."""
    try:
        header_frame = pd.read_csv(path, sep=delimiter, nrows=0)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        raise invalid_argument(
            f"the file is not a readable CSV: {_first_line(exc)}", field_path="file"
        ) from None
    header = _raw_header(path, delimiter) if len(header_frame.columns) else ()
    if len(header) != len(header_frame.columns):
        raise invalid_argument("the header line could not be read as CSV", field_path="file")
    if len(header) > MAX_COLUMNS:
        raise invalid_argument(f"the file has more than {MAX_COLUMNS} columns", field_path="file")
    count = 0
    try:
        for block in pd.read_csv(path, sep=delimiter, dtype=str, chunksize=200_000, usecols=[0]):
            count += len(block)
        # A full pass with the C parser catches rows with too many fields.
        for _ in pd.read_csv(path, sep=delimiter, dtype=str, chunksize=200_000):
            pass
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise invalid_argument(
            f"the file is not a readable CSV: {_first_line(exc)}", field_path="file"
        ) from None
    return header, count


def _raw_header(path: Path, delimiter: str) -> tuple[str, ...]:
    # pandas renames a repeated column "a" to "a.1"; the file's own header line is what counts.
    try:
        with open(path, newline="", encoding="utf-8") as source:
            return tuple(next(csv.reader(source, delimiter=delimiter), []))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise invalid_argument(
            f"the file is not a readable CSV: {_first_line(exc)}", field_path="file"
        ) from None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def _record(
    request: UploadRequest, delimiter: str, header: tuple[str, ...], count: int, path: Path
) -> TableRecord:
    if len(set(header)) != len(header):
        raise invalid_argument("the header has duplicate column names", field_path="file")
    if request.fate is not None:
        check_columns(request.fate, header)
    match_id = match_id_column(request.fate, header) if request.fate else request.match_id_name
    match_id = match_id or (header[0] if header else "")
    for field, column in (
        ("meta.match_id_name", match_id),
        ("meta.label_name", request.label_name),
        ("meta.weight_name", request.weight_name),
    ):
        if column and column not in header:
            raise invalid_argument(
                f"column {column!r} ({field}) is not in the file's header {list(header)[:20]}",
                field_path=field,
            )
    meta: dict[str, Any] = (
        {"source_file": os.path.basename(request.source_file)} if request.source_file else {}
    )
    if request.fate is not None:
        meta |= {
            "data_meta": data_meta(request.fate, header),
            "data_type": request.data_type,
            "partitions": request.fate.partitions,
            "extend_sid": request.fate.extend_sid,
        }
    return TableRecord(
        namespace=request.namespace,
        name=request.name,
        path=str(path),
        count=count,
        header=header,
        match_id_name=match_id,
        label_name=request.label_name,
        weight_name=request.weight_name,
        delimiter=delimiter,
        meta=meta,
    )


def _move_into_place(staging: Path, final_path: Path) -> None:
    final_path.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staging, final_path)


async def _file_chunks(path: Path, size: int = 1024 * 1024) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as source:
        while chunk := await source.read(size):
            yield chunk


_SERVER_PATH_HINTS = {
    "upload": "send the file from your machine instead: run flow where the file is "
    "(flow data upload-file -c CONF always reads it there)",
    "bind": "ask the node's operator to add the directory to server_data_dirs, or upload the file "
    "from your machine with `flow data upload -c CONF`",
    "download-component": "stream the table to your machine instead: "
    "flow data download -n NAME -ns NAMESPACE -o DIR",
}


def _link_or_copy(source: Path, target: Path) -> None:
    """A hard link when source and target share a file system (no copy, and the link survives the
    source's removal), else a copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _first_rows(path: Path, table: TableRecord, limit: int) -> list[tuple[str, str]]:
    data_meta = table.meta.get("data_meta") or {}
    generated = bool(table.meta.get("extend_sid"))
    key_column = str(data_meta.get("sample_id_name") or "")
    key_index = table.header.index(key_column) if key_column in table.header else 0
    rows: list[tuple[str, str]] = []
    with open(path, newline="", encoding="utf-8") as source:
        reader = csv.reader(source, delimiter=table.delimiter)
        next(reader, None)
        for number, values in enumerate(reader):
            if len(rows) >= limit:
                break
            if generated:  # FATE generates the sample id; here it is the row number
                rows.append((str(number), table.delimiter.join(values)))
                continue
            others = values[:key_index] + values[key_index + 1 :]
            rows.append((values[key_index] if values else "", table.delimiter.join(others)))
    return rows


def _write_download(source: Path, folder: Path, table: TableRecord) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    staging = folder / f".0.csv.{uuid.uuid4().hex}"
    try:
        shutil.copyfile(source, staging)
        os.replace(staging, folder / "0.csv")
    finally:
        with contextlib.suppress(OSError):
            staging.unlink()
    (folder / "0.meta").write_text(json.dumps({"header": list(table.header)}, indent=4), encoding="utf-8")
