"""Uploaded tables: stream a CSV to disk, check it, register it in the store."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import anyio
import pandas as pd

from fate_grpc.domain.ids import check_name
from fate_grpc.errors import already_exists, invalid_argument
from fate_grpc.node.paths import NodePaths
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


class TableService:
    def __init__(self, *, store: Store, paths: NodePaths) -> None:
        self._store = store
        self._paths = paths

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
        return table


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
    match_id = request.match_id_name or (header[0] if header else "")
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
        meta={"source_file": os.path.basename(request.source_file)} if request.source_file else {},
    )


def _move_into_place(staging: Path, final_path: Path) -> None:
    final_path.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staging, final_path)
