"""The file names a node's file stream may carry (downloads of data, models and logs)."""

from __future__ import annotations

from pathlib import PurePosixPath

from fate_grpc.errors import ErrorCode, FateGrpcError


def bad_stream(reason: str) -> FateGrpcError:
    return FateGrpcError(ErrorCode.INTERNAL, f"the node sent a bad file stream: {reason}")


def safe_relative(path: str) -> PurePosixPath:
    """A relative path that cannot leave the directory it is joined to."""
    rel = PurePosixPath(path)
    if not path or rel.is_absolute() or "\\" in path or any(p in ("", ".", "..") for p in rel.parts):
        raise bad_stream(f"unsafe file name {path!r}")
    return rel
