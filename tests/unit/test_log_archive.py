"""Unpacking a node's job log archive: only regular files inside the target, all or nothing."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from fate_grpc.cli.log_archive import unpack_log_archive
from fate_grpc.errors import FateGrpcError


def archive(*entries: tuple[str, bytes | None]) -> list[bytes]:
    """A tar.gz in 1 KiB pieces; an entry with None content is a symlink to /etc/passwd."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, content in entries:
            info = tarfile.TarInfo(name)
            if content is None:
                info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    data = buffer.getvalue()
    return [data[i : i + 1024] for i in range(0, len(data), 1024)]


def test_the_files_land_under_the_target_and_replace_an_earlier_download(tmp_path: Path) -> None:
    target = tmp_path / "job_logs"
    target.mkdir()
    (target / "stale.log").write_text("old")

    names = unpack_log_archive(
        archive(("scheduler.log", b"job ended success\n"), ("guest/9999/psi_0/0/task.log", b"x\n")), target
    )

    assert names == ["guest/9999/psi_0/0/task.log", "scheduler.log"]
    assert (target / "scheduler.log").read_text() == "job ended success\n"
    assert not (target / "stale.log").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["job_logs"]  # no staging left behind


@pytest.mark.parametrize(
    "entry",
    [("../escape.log", b"x"), ("/abs.log", b"x"), ("link.log", None)],
    ids=["dotdot", "absolute", "link"],
)
def test_an_entry_that_could_leave_the_target_is_refused_and_nothing_is_written(
    tmp_path: Path, entry: tuple[str, bytes | None]
) -> None:
    target = tmp_path / "job_logs"

    with pytest.raises(FateGrpcError):
        unpack_log_archive(archive(("scheduler.log", b"ok"), entry), target)

    assert list(tmp_path.iterdir()) == []
