"""Counts of jobs and tasks by status in the SQLite store, for metrics (mixed into SqliteStore)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fate_grpc.domain.status import JobStatus, TaskStatus


class SqliteStatusCounts:
    """Needs `_fetchall` from SqliteStore."""

    _fetchall: Callable[..., Any]

    async def count_jobs_by_status(self) -> dict[JobStatus, int]:
        rows = await self._fetchall("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status")
        counts = dict.fromkeys(JobStatus, 0)
        counts.update({JobStatus(row["status"]): int(row["n"]) for row in rows})
        return counts

    async def count_tasks_by_status(self) -> dict[TaskStatus, int]:
        rows = await self._fetchall("SELECT party_status, COUNT(*) AS n FROM tasks GROUP BY party_status")
        counts = dict.fromkeys(TaskStatus, 0)
        counts.update({TaskStatus(row["party_status"]): int(row["n"]) for row in rows})
        return counts
