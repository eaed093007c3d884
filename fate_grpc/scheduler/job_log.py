"""The scheduler's log of each job it schedules (data_dir/jobs/<job>/scheduler.log), readable with
`flow job log` and `flow log query --log-type schedule_info|schedule_error` at the scheduler party."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TextIO

from fate_grpc.domain.ids import check_name
from fate_grpc.domain.log_types import error_line

MAX_OPEN = 64


class JobLog:
    def __init__(self, jobs_dir: Path) -> None:
        self._jobs_dir = jobs_dir
        self._files: dict[str, TextIO] = {}

    def path(self, job_id: str) -> Path:
        return self._jobs_dir / check_name(job_id, "job_id") / "scheduler.log"

    def line(self, job_id: str, text: str) -> None:
        """Append one line (small appends go to the page cache; they do not wait for the disk)."""
        handle = self._files.get(job_id)
        if handle is None:
            if len(self._files) >= MAX_OPEN:
                self.close(next(iter(self._files)))
            path = self.path(job_id)
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 - kept open across calls
            self._files[job_id] = handle
        stamp = (
            time.strftime("%Y-%m-%d %H:%M:%S", time.localtime()) + f".{int(time.time() * 1000) % 1000:03d}"
        )
        # A level on every line, so that `--log-type schedule_error` can pick the failures out.
        level = "ERROR" if error_line(text) else "INFO"
        handle.write(f"{stamp} {level} {text}\n")

    def close(self, job_id: str) -> None:
        handle = self._files.pop(job_id, None)
        if handle is not None:
            handle.close()

    def close_all(self) -> None:
        for job_id in list(self._files):
            self.close(job_id)
