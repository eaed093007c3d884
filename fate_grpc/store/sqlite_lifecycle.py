"""Resources, progress, tracebacks and providers of the SQLite store (mixed into SqliteStore)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import aiosqlite

from fate_grpc.domain.status import JOB_END_STATUSES
from fate_grpc.errors import already_exists, not_found
from fate_grpc.store.records import ProviderRecord, TaskKey

TASK_KEY_WHERE = "job_id = ? AND task_name = ? AND attempt = ? AND role = ? AND party_id = ?"


def _key(key: TaskKey) -> tuple[str, str, int, str, str]:
    return (key.job_id, key.task_name, key.attempt, key.role, key.party_id)


class SqliteLifecycleTables:
    """Needs `_tx`, `_fetchall` and `_clock` from SqliteStore."""

    _clock: Callable[[], int]
    _tx: Callable[[], AbstractAsyncContextManager[aiosqlite.Connection]]
    _fetchall: Callable[..., Any]

    async def apply_job_resources(self, job_id: str, cores: int, total_cores: int) -> tuple[bool, int]:
        async with self._tx() as db:
            async with db.execute("SELECT resources_held FROM jobs WHERE job_id = ?", (job_id,)) as cursor:
                row = await cursor.fetchone()
            if row is None:
                raise not_found(f"job {job_id} not found", job_id=job_id)
            async with db.execute(
                "SELECT COALESCE(SUM(cores), 0) FROM jobs WHERE resources_held = 1"
            ) as cursor:
                total_row = await cursor.fetchone()
            used = int(total_row[0]) if total_row else 0
            if row[0]:
                return True, used
            if used + cores > total_cores:
                return False, used
            await db.execute(
                "UPDATE jobs SET cores = ?, resources_held = 1, update_time_ms = ? WHERE job_id = ?",
                (cores, self._clock(), job_id),
            )
            return True, used + cores

    async def return_job_resources(self, job_id: str) -> bool:
        async with self._tx() as db:
            cursor = await db.execute(
                "UPDATE jobs SET resources_held = 0, update_time_ms = ?"
                " WHERE job_id = ? AND resources_held = 1",
                (self._clock(), job_id),
            )
            return cursor.rowcount > 0

    async def return_resources_of_ended_jobs(self) -> list[str]:
        ended = sorted(status.value for status in JOB_END_STATUSES)
        async with self._tx() as db:
            async with db.execute(
                "SELECT job_id FROM jobs WHERE resources_held = 1"
                f" AND status IN ({','.join('?' * len(ended))}) ORDER BY job_id",
                ended,
            ) as cursor:
                job_ids = [str(r[0]) for r in await cursor.fetchall()]
            await db.executemany(
                "UPDATE jobs SET resources_held = 0, update_time_ms = ? WHERE job_id = ?",
                [(self._clock(), job_id) for job_id in job_ids],
            )
        return job_ids

    async def cores_in_use(self) -> int:
        rows = await self._fetchall(
            "SELECT COALESCE(SUM(cores), 0) AS used FROM jobs WHERE resources_held = 1"
        )
        return int(rows[0]["used"])

    async def set_task_progress(self, key: TaskKey, progress: int) -> None:
        async with self._tx() as db:
            await db.execute(
                f"UPDATE tasks SET progress = MAX(progress, ?) WHERE {TASK_KEY_WHERE}", (progress, *_key(key))
            )

    async def set_task_traceback(self, key: TaskKey, traceback: str) -> None:
        async with self._tx() as db:
            await db.execute(
                f"UPDATE tasks SET traceback = ? WHERE {TASK_KEY_WHERE}", (traceback, *_key(key))
            )

    async def set_schedule_progress(self, key: TaskKey, progress: int) -> None:
        async with self._tx() as db:
            await db.execute(
                "UPDATE schedule_tasks SET progress = MAX(progress, ?), update_time_ms = ?"
                f" WHERE {TASK_KEY_WHERE}",
                (progress, self._clock(), *_key(key)),
            )

    async def put_provider(self, provider: ProviderRecord) -> None:
        async with self._tx() as db:
            try:
                await db.execute(
                    "INSERT INTO providers (name, version, device, module, path, create_time_ms)"
                    " VALUES (?,?,?,?,?,?)",
                    (
                        provider.name,
                        provider.version,
                        provider.device,
                        provider.module,
                        provider.path,
                        provider.create_time_ms or self._clock(),
                    ),
                )
            except sqlite3.IntegrityError:
                name = f"{provider.name}:{provider.version}@{provider.device}"
                raise already_exists(f"provider {name} is already registered") from None

    async def list_providers(self) -> list[ProviderRecord]:
        rows = await self._fetchall("SELECT * FROM providers ORDER BY name, version, device")
        return [
            ProviderRecord(r["name"], r["version"], r["device"], r["module"], r["path"], r["create_time_ms"])
            for r in rows
        ]

    async def delete_provider(self, name: str, version: str, device: str) -> bool:
        async with self._tx() as db:
            cursor = await db.execute(
                "DELETE FROM providers WHERE name = ? AND version = ? AND device = ?", (name, version, device)
            )
            return cursor.rowcount > 0

    async def clean_job(self, job_id: str) -> list[str]:
        """Remove a job's rows and the tables only it used; returns those tables' file paths."""
        async with self._tx() as db:
            async with db.execute(
                "SELECT DISTINCT o.namespace, o.name, t.path FROM outputs o"
                " JOIN data_tables t ON t.namespace = o.namespace AND t.name = o.name"
                " WHERE o.job_id = ? AND NOT EXISTS (SELECT 1 FROM outputs x WHERE x.namespace = o.namespace"
                " AND x.name = o.name AND x.job_id != o.job_id)",
                (job_id,),
            ) as cursor:
                own_tables = list(await cursor.fetchall())
            await db.execute("DELETE FROM outputs WHERE job_id = ?", (job_id,))
            await db.executemany(
                "DELETE FROM data_tables WHERE namespace = ? AND name = ?", [(r[0], r[1]) for r in own_tables]
            )
            await db.execute("DELETE FROM schedule_tasks WHERE job_id = ?", (job_id,))
            await db.execute("DELETE FROM jobs WHERE job_id = ?", (job_id,))
        return [str(r[2]) for r in own_tables]
