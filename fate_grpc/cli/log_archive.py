"""Unpacking a job's log archive (`flow job download-log`) safely and all or nothing."""

from __future__ import annotations

import shutil
import tarfile
import tempfile
from collections.abc import Iterable
from pathlib import Path

from fate_grpc.errors import ErrorCode, FateGrpcError
from fate_grpc.flow_answers.file_paths import safe_relative


def unpack_log_archive(chunks: Iterable[bytes], target: Path) -> list[str]:
    """Write the tar.gz stream to a temporary file, unpack it into a staging directory next to
    `target`, then move it into place (replacing an earlier download). Returns the unpacked names.

    Only regular files with relative names that stay inside the directory are accepted (and
    tarfile's "data" filter is applied on top).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        with tempfile.TemporaryFile(dir=target.parent) as archive:
            for chunk in chunks:
                archive.write(chunk)
            archive.seek(0)
            names = _extract(archive, staging)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return names


def _extract(archive: object, staging: Path) -> list[str]:
    try:
        with tarfile.open(fileobj=archive, mode="r:gz") as tar:  # type: ignore[call-overload]
            members = tar.getmembers()
            for member in members:
                safe_relative(member.name)
                if not member.isfile():
                    raise FateGrpcError(
                        ErrorCode.INTERNAL, f"the log archive holds a non-file entry {member.name!r}"
                    )
            tar.extractall(staging, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise FateGrpcError(
            ErrorCode.INTERNAL, f"the node's log archive could not be unpacked: {exc}"
        ) from None
    return sorted(m.name for m in members)
