"""Files the user API streams (FilePart messages), packed into the tar.gz FATE-Flow sends."""

from __future__ import annotations

import csv
import tarfile
import tempfile
from collections.abc import AsyncIterator, Callable
from functools import partial
from pathlib import Path, PurePosixPath

import anyio
from aiohttp import web

from fate_grpc.errors import internal
from fate_grpc.flow_answers.file_paths import safe_relative

Rename = Callable[[PurePosixPath], PurePosixPath]
Rewrite = Callable[[Path], None]


async def receive_files(parts: AsyncIterator[object], root: Path, rename: Rename) -> list[PurePosixPath]:
    """Write a stream of file headers and chunks under `root`; the paths written, as renamed."""
    written: list[PurePosixPath] = []
    handle = None
    try:
        async for message in parts:
            part = message.part  # type: ignore[attr-defined]
            if part.WhichOneof("part") == "header":
                if handle is not None:
                    await anyio.to_thread.run_sync(handle.close)
                relative = rename(safe_relative(part.header.path))
                target = root / relative
                await anyio.to_thread.run_sync(partial(target.parent.mkdir, parents=True, exist_ok=True))
                handle = await anyio.to_thread.run_sync(target.open, "wb")
                written.append(relative)
            elif handle is None:
                raise internal("a file's bytes came before its header")
            else:
                await anyio.to_thread.run_sync(handle.write, part.chunk)
    finally:
        if handle is not None:
            await anyio.to_thread.run_sync(handle.close)
    return written


def _pack(root: Path, members: list[PurePosixPath], archive: Path) -> None:
    with tarfile.open(archive, "w:gz") as tar:
        for member in members:
            tar.add(root / member, arcname=str(member))


async def tar_response(
    request: web.Request,
    parts: AsyncIterator[object],
    download_name: str,
    rename: Rename,
    rewrite_csv: Rewrite | None = None,
) -> web.StreamResponse:
    """The streamed files as one tar.gz download (`application/gzip`, as FATE-Flow sends outputs).

    The files are gathered before the answer starts, so an error (no such task, no output) still
    reaches the client as FATE's JSON answer."""
    with tempfile.TemporaryDirectory(prefix="fate-flow-http-") as scratch:
        root = Path(scratch) / "files"
        members = await receive_files(parts, root, rename)
        for member in members:
            if rewrite_csv is not None and member.suffix == ".csv":
                await anyio.to_thread.run_sync(rewrite_csv, root / member)
        archive = Path(scratch) / "download.tar.gz"
        await anyio.to_thread.run_sync(_pack, root, members, archive)
        response = web.StreamResponse(
            headers={
                "Content-Type": "application/gzip",
                "Content-Disposition": f'attachment; filename="{download_name}"',
            }
        )
        await response.prepare(request)
        with archive.open("rb") as source:
            while chunk := await anyio.to_thread.run_sync(source.read, 1 << 20):
                await response.write(chunk)
        await response.write_eof()
        return response


def fate_csv_lines(path: Path) -> None:
    """Rewrite a CSV file as FATE-Flow writes a table out: each row's values joined by commas as they
    are stored, without CSV quoting (fate_client's pipeline splits the lines on commas and reads
    predict_detail, stored as a double-quoted dict, back from the joined pieces)."""
    source = path.with_suffix(".stored")
    path.rename(source)
    with source.open(newline="") as rows, path.open("w") as lines:
        for row in csv.reader(rows):
            lines.write(",".join(row) + "\n")
    source.unlink()
