"""Users' notes on jobs (FATE's job description) in the SQLite store (mixed into SqliteStore)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import aiosqlite

from fate_grpc.errors import not_found
from fate_grpc.store import sqlite_rows as row_map
from fate_grpc.store.records import JobRecord


class SqliteJobNotes:
    """Needs `_tx` and `_clock` from SqliteStore."""

    _clock: Callable[[], int]
    _tx: Callable[[], AbstractAsyncContextManager[aiosqlite.Connection]]

    async def set_job_description(self, job_id: str, description: str) -> JobRecord:
        async with self._tx() as db:
            cursor = await db.execute(
                "UPDATE jobs SET description = ?, update_time_ms = ? WHERE job_id = ?",
                (description, self._clock(), job_id),
            )
            if cursor.rowcount == 0:
                raise not_found(f"job {job_id} not found", job_id=job_id)
            async with db.execute("SELECT * FROM jobs WHERE job_id = ?", (job_id,)) as rows:
                row = await rows.fetchone()
        assert row is not None
        return row_map.job_record(row)
