"""Writing a node's file stream (FilePart messages) into a local directory, safely and all or nothing."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import IO, Any

from fate_grpc.errors import ErrorCode, FateGrpcError
from fate_grpc.flow_answers.file_paths import bad_stream, safe_relative


def write_files(answers: Iterable[Any], target: Path, *, replace: bool = True) -> list[Path]:
    """Write the files of a download stream under `target` (a directory that will hold exactly them).

    The files go to a sibling staging directory first, which replaces `target` only once the stream has
    ended without error, so a failed download leaves no half-written files behind.
    """
    target = target.resolve()
    if target.exists() and not replace:
        raise FateGrpcError(ErrorCode.CLIENT_INPUT, f"{target} already exists")
    staging = target.parent / f".{target.name}.partial-{uuid.uuid4().hex[:8]}"
    try:
        staging.mkdir(parents=True)
    except OSError as exc:
        raise FateGrpcError(
            ErrorCode.CLIENT_INPUT, f"cannot create {staging.parent}: {exc.strerror}"
        ) from None
    try:
        written = _receive(answers, staging)
        if target.exists():
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return [target / rel for rel in written]


def write_single_file(answers: Iterable[Any], target: Path) -> Path:
    """Write a stream that carries exactly one file to the path `target`."""
    target = target.resolve()
    staging_dir = target.parent / f".{target.name}.partial-{uuid.uuid4().hex[:8]}"
    try:
        staging_dir.mkdir(parents=True)
    except OSError as exc:
        raise FateGrpcError(
            ErrorCode.CLIENT_INPUT, f"cannot create {staging_dir.parent}: {exc.strerror}"
        ) from None
    try:
        written = _receive(answers, staging_dir)
        if len(written) != 1:
            raise bad_stream(f"expected one file, got {len(written)}")
        (staging_dir / written[0]).replace(target)
    finally:
        shutil.rmtree(staging_dir, ignore_errors=True)
    return target


def _receive(answers: Iterable[Any], root: Path) -> list[PurePosixPath]:
    written: list[PurePosixPath] = []
    handle: IO[bytes] | None = None
    expected = received = 0
    try:
        for answer in answers:
            part = answer.part
            kind = part.WhichOneof("part")
            if kind == "header":
                _check_complete(written, expected, received)
                if handle is not None:
                    handle.close()
                rel = safe_relative(part.header.path)
                if rel in written:
                    raise bad_stream(f"{rel} sent twice")
                path = root / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                handle = path.open("wb")
                written.append(rel)
                expected, received = part.header.size, 0
            elif kind == "chunk":
                if handle is None:
                    raise bad_stream("data before a file header")
                received += len(part.chunk)
                if received > expected:
                    raise bad_stream(f"{written[-1]} is longer than announced")
                handle.write(part.chunk)
        _check_complete(written, expected, received)
    finally:
        if handle is not None:
            handle.close()
    return written


def _check_complete(written: list[PurePosixPath], expected: int, received: int) -> None:
    if written and received != expected:
        raise bad_stream(f"{written[-1]} ended after {received} of {expected} bytes")
