"""The aiosqlite implementation of the store: WAL, foreign keys, busy_timeout, numbered migrations."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

from fate_grpc.domain.status import JobStatus, TaskStatus, check_job_transition, check_task_transition
from fate_grpc.errors import already_exists, conflict, not_found
from fate_grpc.store import sqlite_rows as row_map
from fate_grpc.store.interface import Store
from fate_grpc.store.records import (
    AttemptKey,
    JobRecord,
    OutboxMessage,
    OutputRecord,
    ScheduleTaskRecord,
    TableRecord,
    TaskAttemptRecord,
    TaskKey,
    TaskRecord,
)
from fate_grpc.store.sqlite_counts import SqliteStatusCounts
from fate_grpc.store.sqlite_lifecycle import SqliteLifecycleTables
from fate_grpc.store.sqlite_notes import SqliteJobNotes
from fate_grpc.store.sqlite_outbox import SqliteOutbox
from fate_grpc.store.sqlite_outputs import SqliteOutputTables
from fate_grpc.store.sqlite_security import SqliteSecurityTables

BUSY_TIMEOUT_MS = 5000
JOB_END = {JobStatus.SUCCESS, JobStatus.FAILED, JobStatus.CANCELED, JobStatus.TIMEOUT}
TASK_END = {
    TaskStatus.SUCCESS,
    TaskStatus.FAILED,
    TaskStatus.CANCELED,
    TaskStatus.TIMEOUT,
    TaskStatus.PASS,
}


def now_ms() -> int:
    return int(time.time() * 1000)


def migrations() -> list[tuple[int, str]]:
    """Numbered SQL migrations shipped with the package, in order."""
    folder = resources.files("fate_grpc.store") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(found)


class SqliteStore(
    SqliteSecurityTables,
    SqliteLifecycleTables,
    SqliteOutputTables,
    SqliteJobNotes,
    SqliteOutbox,
    SqliteStatusCounts,
    Store,
):
    """One writer connection (serialised by a lock, transactions BEGIN IMMEDIATE) and one reader."""

    def __init__(self, path: str | Path, *, clock: Callable[[], int] = now_ms) -> None:
        self._path = str(path)
        self._clock = clock
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self._read_lock = asyncio.Lock()

    # -- lifecycle -------------------------------------------------------------------------------
    async def open(self) -> None:
        if self._writer is not None:
            return
        Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        writer = await self._connect()
        try:
            await self._migrate(writer)
            reader = await self._connect()
        except BaseException:
            await writer.close()
            raise
        # Only a fully opened store counts as open, so a failed open can be retried.
        self._writer, self._reader = writer, reader

    async def _connect(self) -> aiosqlite.Connection:
        db = await aiosqlite.connect(self._path, isolation_level=None)
        try:
            db.row_factory = sqlite3.Row
            await db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            await _enable_wal(db)
            await db.execute("PRAGMA foreign_keys=ON")
            await db.execute("PRAGMA synchronous=NORMAL")
        except BaseException:
            await db.close()
            raise
        return db

    async def _migrate(self, db: aiosqlite.Connection) -> None:
        """Apply pending migrations, each in its own transaction.

        The version is read inside the write transaction, so two processes opening a new database at
        once never apply the same migration twice."""
        while True:
            await db.execute("BEGIN IMMEDIATE")
            try:
                async with db.execute("PRAGMA user_version") as cursor:
                    row = await cursor.fetchone()
                current = int(row[0]) if row else 0
                pending = [(n, sql) for n, sql in migrations() if n > current]
                if not pending:
                    await db.execute("COMMIT")
                    return
                number, sql = pending[0]
                for statement in _split_sql(sql):
                    await db.execute(statement)
                await db.execute(f"PRAGMA user_version={number}")
                await db.execute("COMMIT")
            except BaseException:
                await db.execute("ROLLBACK")
                raise

    async def close(self) -> None:
        for attr in ("_reader", "_writer"):
            db = getattr(self, attr)
            setattr(self, attr, None)
            if db is not None:
                await db.close()

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction: BEGIN IMMEDIATE takes the write lock up front (read-then-write safe)."""
        db = self._writer
        if db is None:
            raise RuntimeError("store is not open")
        async with self._write_lock:
            committed = False
            try:
                await db.execute("BEGIN IMMEDIATE")
                yield db
                await db.execute("COMMIT")
                committed = True
            finally:
                if not committed:
                    # A cancelled wait (a gRPC handler past its deadline) does not stop a statement
                    # already handed to the connection's thread, so BEGIN may have run without us
                    # seeing it. The rollback is queued while the lock is held, so it runs after that
                    # statement and before the next BEGIN; it does nothing when no transaction is open.
                    await db.rollback()

    async def _fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        db = self._reader
        if db is None:
            raise RuntimeError("store is not open")
        # One statement at a time on the reader: while any statement of a connection is active, SQLite
        # keeps that connection's read snapshot, so an overlapping read would miss newer commits.
        async with self._read_lock, db.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def _fetchone(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        rows = await self._fetchall(sql, params)
        return rows[0] if rows else None

    # -- tables ----------------------------------------------------------------------------------
    async def put_table(self, table: TableRecord, *, overwrite: bool = False) -> None:
        async with self._tx() as db:
            await self._insert_table(db, table, overwrite=overwrite)

    async def _insert_table(self, db: aiosqlite.Connection, table: TableRecord, *, overwrite: bool) -> None:
        verb = "INSERT OR REPLACE" if overwrite else "INSERT"
        try:
            await db.execute(
                f"{verb} INTO data_tables (namespace, name, path, row_count, header, match_id_name,"
                " label_name, weight_name, delimiter, meta, source_job_id, source_task, create_time_ms)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    table.namespace,
                    table.name,
                    table.path,
                    table.count,
                    json.dumps(list(table.header)),
                    table.match_id_name,
                    table.label_name,
                    table.weight_name,
                    table.delimiter,
                    json.dumps(table.meta),
                    table.source_job_id,
                    table.source_task,
                    table.create_time_ms or self._clock(),
                ),
            )
        except sqlite3.IntegrityError:
            raise already_exists(
                f"table {table.namespace}.{table.name} already exists",
                namespace=table.namespace,
                name=table.name,
            ) from None

    async def get_table(self, namespace: str, name: str) -> TableRecord:
        table = await self.find_table(namespace, name)
        if table is None:
            raise not_found(f"table {namespace}.{name} not found", namespace=namespace, name=name)
        return table

    async def find_table(self, namespace: str, name: str) -> TableRecord | None:
        row = await self._fetchone(
            "SELECT * FROM data_tables WHERE namespace = ? AND name = ?", (namespace, name)
        )
        return row_map.table_record(row) if row else None

    # -- jobs ------------------------------------------------------------------------------------
    async def create_job(
        self,
        job: JobRecord,
        tasks: Sequence[TaskRecord],
        attempts: Sequence[TaskAttemptRecord] = (),
        schedule: Sequence[ScheduleTaskRecord] = (),
        outputs: Sequence[OutputRecord] = (),
    ) -> None:
        now = self._clock()
        async with self._tx() as db:
            try:
                await db.execute(
                    "INSERT INTO jobs (job_id, dag_yaml, initiator_party_id, scheduler_party_id,"
                    " is_scheduler, status, status_reason, user_name, priority, progress,"
                    " create_time_ms, update_time_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        job.job_id,
                        job.dag_yaml,
                        job.initiator_party_id,
                        job.scheduler_party_id,
                        int(job.is_scheduler),
                        job.status.value,
                        job.status_reason,
                        job.user_name,
                        job.priority,
                        job.progress,
                        job.create_time_ms or now,
                        now,
                    ),
                )
            except sqlite3.IntegrityError:
                raise already_exists(f"job {job.job_id} already exists", job_id=job.job_id) from None
            await self._insert_tasks(db, tasks, now)
            await self._insert_attempts(db, attempts, schedule, now)
            for output in outputs:
                await self._insert_output(db, output)

    async def _insert_tasks(self, db: aiosqlite.Connection, tasks: Sequence[TaskRecord], now: int) -> None:
        try:
            await db.executemany(
                "INSERT INTO tasks (job_id, task_name, attempt, role, party_id, component, status,"
                " party_status, error, update_time_ms, start_time_ms, end_time_ms, create_time_ms)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        *_key_tuple(t.key),
                        t.component,
                        t.status.value,
                        t.party_status.value,
                        t.error,
                        now,
                        t.start_time_ms,
                        t.end_time_ms,
                        t.create_time_ms or now,
                    )
                    for t in tasks
                ],
            )
        except sqlite3.IntegrityError as exc:
            raise already_exists(f"task row already exists or job unknown ({exc})") from None

    async def _insert_attempts(
        self,
        db: aiosqlite.Connection,
        attempts: Sequence[TaskAttemptRecord],
        schedule: Sequence[ScheduleTaskRecord],
        now: int,
    ) -> None:
        try:
            await db.executemany(
                "INSERT INTO task_attempts (job_id, task_name, attempt, component, status, error,"
                " update_time_ms, not_before_ms, start_time_ms, end_time_ms) VALUES (?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        a.key.job_id,
                        a.key.task_name,
                        a.key.attempt,
                        a.component,
                        a.status.value,
                        a.error,
                        now,
                        a.not_before_ms,
                        a.start_time_ms,
                        a.end_time_ms,
                    )
                    for a in attempts
                ],
            )
            await db.executemany(
                "INSERT INTO schedule_tasks (job_id, task_name, attempt, role, party_id, status, error,"
                " update_time_ms, start_time_ms, end_time_ms, create_time_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        *_key_tuple(s.key),
                        s.status.value,
                        s.error,
                        now,
                        s.start_time_ms,
                        s.end_time_ms,
                        s.create_time_ms or now,
                    )
                    for s in schedule
                ],
            )
        except sqlite3.IntegrityError:
            raise already_exists("task attempt already exists or job unknown") from None

    async def get_job(self, job_id: str) -> JobRecord:
        job = await self.find_job(job_id)
        if job is None:
            raise not_found(f"job {job_id} not found", job_id=job_id)
        return job

    async def find_job(self, job_id: str) -> JobRecord | None:
        row = await self._fetchone("SELECT * FROM jobs WHERE job_id = ?", (job_id,))
        return row_map.job_record(row) if row else None

    async def list_jobs(
        self, *, statuses: Iterable[JobStatus] = (), scheduler_only: bool = False, limit: int = 100
    ) -> list[JobRecord]:
        clauses, params = [], []
        wanted = [s.value for s in statuses]
        if wanted:
            clauses.append(f"status IN ({','.join('?' * len(wanted))})")
            params.extend(wanted)
        if scheduler_only:
            clauses.append("is_scheduler = 1")
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = await self._fetchall(
            f"SELECT * FROM jobs {where} ORDER BY create_time_ms DESC, job_id DESC LIMIT ?",
            [*params, limit],
        )
        return [row_map.job_record(r) for r in rows]

    async def delete_job(self, job_id: str) -> bool:
        async with self._tx() as db:
            await db.execute("DELETE FROM outputs WHERE job_id = ?", (job_id,))
            await db.execute("DELETE FROM schedule_tasks WHERE job_id = ?", (job_id,))
            cursor = await db.execute("DELETE FROM jobs WHERE job_id = ?", (job_id,))
            return cursor.rowcount > 0

    async def transition_job(
        self,
        job_id: str,
        *,
        expected: JobStatus,
        to: JobStatus,
        reason: str = "",
        progress: int | None = None,
        outbox: Sequence[OutboxMessage] = (),
    ) -> JobRecord:
        check_job_transition(expected, to, what=f"job {job_id}")
        now = self._clock()
        sets = ["status = ?", "status_reason = ?", "update_time_ms = ?"]
        params: list[Any] = [to.value, reason, now]
        if to is JobStatus.RUNNING:
            sets.append("start_time_ms = CASE WHEN start_time_ms = 0 THEN ? ELSE start_time_ms END")
            params.append(now)
        if to in JOB_END:
            sets.append("end_time_ms = ?")
            params.append(now)
        if to is JobStatus.WAITING:
            sets.append("end_time_ms = 0")
        if progress is not None:
            sets.append("progress = ?")
            params.append(progress)
        await self._compare_and_set(
            "jobs", sets, params, {"job_id": job_id}, expected.value, f"job {job_id}", outbox=outbox
        )
        return await self.get_job(job_id)

    async def _compare_and_set(
        self,
        table: str,
        sets: list[str],
        params: list[Any],
        key: dict[str, Any],
        expected: str,
        what: str,
        column: str = "status",
        *,
        outbox: Sequence[OutboxMessage] = (),
    ) -> None:
        where = " AND ".join(f"{k} = ?" for k in key)
        async with self._tx() as db:
            cursor = await db.execute(
                f"UPDATE {table} SET {', '.join(sets)} WHERE {where} AND {column} = ?",
                [*params, *key.values(), expected],
            )
            if cursor.rowcount == 1:
                # The messages this change causes commit with it, or not at all.
                await self._insert_outbox(db, outbox)
                return
            async with db.execute(f"SELECT {column} FROM {table} WHERE {where}", list(key.values())) as cur:
                row = await cur.fetchone()
        if row is None:
            raise not_found(f"{what} not found")
        raise conflict(f"{what}: expected status {expected}, found {row[0]}", current=str(row[0]))

    async def set_job_progress(self, job_id: str, progress: int, reason: str | None = None) -> None:
        async with self._tx() as db:
            await db.execute(
                "UPDATE jobs SET progress = MAX(progress, ?), update_time_ms = ? WHERE job_id = ?",
                (progress, self._clock(), job_id),
            )
            if reason is not None:
                await db.execute("UPDATE jobs SET status_reason = ? WHERE job_id = ?", (reason, job_id))

    # -- tasks -----------------------------------------------------------------------------------
    async def add_tasks(self, tasks: Sequence[TaskRecord]) -> None:
        async with self._tx() as db:
            await self._insert_tasks(db, tasks, self._clock())

    async def get_task(self, key: TaskKey) -> TaskRecord:
        row = await self._fetchone(
            "SELECT * FROM tasks WHERE job_id=? AND task_name=? AND attempt=? AND role=? AND party_id=?",
            _key_tuple(key),
        )
        if row is None:
            raise not_found(f"task {_describe(key)} not found", job_id=key.job_id, task_name=key.task_name)
        return row_map.task_record(row)

    async def list_tasks(
        self, job_id: str, *, task_name: str | None = None, attempt: int | None = None
    ) -> list[TaskRecord]:
        sql, params = _filtered("SELECT * FROM tasks WHERE job_id = ?", job_id, task_name, attempt)
        rows = await self._fetchall(sql + " ORDER BY task_name, attempt, role, party_id", params)
        return [row_map.task_record(r) for r in rows]

    async def list_tasks_with_party_status(self, statuses: Iterable[TaskStatus]) -> list[TaskRecord]:
        wanted = [s.value for s in statuses]
        if not wanted:
            return []
        rows = await self._fetchall(
            f"SELECT * FROM tasks WHERE party_status IN ({','.join('?' * len(wanted))})", wanted
        )
        return [row_map.task_record(r) for r in rows]

    async def transition_task_party_status(
        self,
        key: TaskKey,
        *,
        expected: TaskStatus,
        to: TaskStatus,
        error: str = "",
        pid: int | None = None,
    ) -> TaskRecord:
        check_task_transition(expected, to, what=f"task {_describe(key)}")
        sets, params = _status_sets("party_status", to, error, self._clock())
        if pid is not None:
            sets.append("pid = ?")
            params.append(pid)
        await self._compare_and_set(
            "tasks", sets, params, _key_dict(key), expected.value, f"task {_describe(key)}", "party_status"
        )
        return await self.get_task(key)

    async def transition_task_status(
        self, key: TaskKey, *, expected: TaskStatus, to: TaskStatus, error: str = ""
    ) -> TaskRecord:
        check_task_transition(expected, to, what=f"task {_describe(key)}")
        now = self._clock()
        sets = ["status = ?", "update_time_ms = ?"]
        params: list[Any] = [to.value, now]
        if error:
            sets.append("error = ?")
            params.append(error)
        await self._compare_and_set(
            "tasks", sets, params, _key_dict(key), expected.value, f"task {_describe(key)}"
        )
        return await self.get_task(key)

    # -- schedule --------------------------------------------------------------------------------
    async def add_attempts(
        self, attempts: Sequence[TaskAttemptRecord], schedule: Sequence[ScheduleTaskRecord]
    ) -> None:
        async with self._tx() as db:
            await self._insert_attempts(db, attempts, schedule, self._clock())

    async def list_attempts(self, job_id: str) -> list[TaskAttemptRecord]:
        rows = await self._fetchall(
            "SELECT * FROM task_attempts WHERE job_id = ? ORDER BY task_name, attempt", (job_id,)
        )
        return [row_map.attempt_record(r) for r in rows]

    async def get_attempt(self, key: AttemptKey) -> TaskAttemptRecord:
        row = await self._fetchone(
            "SELECT * FROM task_attempts WHERE job_id = ? AND task_name = ? AND attempt = ?",
            (key.job_id, key.task_name, key.attempt),
        )
        if row is None:
            raise not_found(f"task {key.task_name} attempt {key.attempt} of job {key.job_id} not found")
        return row_map.attempt_record(row)

    async def transition_attempt(
        self,
        key: AttemptKey,
        *,
        expected: TaskStatus,
        to: TaskStatus,
        error: str = "",
        outbox: Sequence[OutboxMessage] = (),
    ) -> TaskAttemptRecord:
        what = f"task {key.task_name} attempt {key.attempt} of job {key.job_id}"
        check_task_transition(expected, to, what=what)
        sets, params = _status_sets("status", to, error, self._clock())
        key_dict = {"job_id": key.job_id, "task_name": key.task_name, "attempt": key.attempt}
        await self._compare_and_set(
            "task_attempts", sets, params, key_dict, expected.value, what, outbox=outbox
        )
        return await self.get_attempt(key)

    async def list_schedule_tasks(
        self, job_id: str, *, task_name: str | None = None, attempt: int | None = None
    ) -> list[ScheduleTaskRecord]:
        sql, params = _filtered("SELECT * FROM schedule_tasks WHERE job_id = ?", job_id, task_name, attempt)
        rows = await self._fetchall(sql + " ORDER BY task_name, attempt, role, party_id", params)
        return [row_map.schedule_record(r) for r in rows]

    async def transition_schedule_task(
        self,
        key: TaskKey,
        *,
        expected: TaskStatus,
        to: TaskStatus,
        error: str = "",
        start_time_ms: int = 0,
        end_time_ms: int = 0,
    ) -> ScheduleTaskRecord:
        check_task_transition(expected, to, what=f"task {_describe(key)}")
        now = self._clock()
        sets = ["status = ?", "update_time_ms = ?"]
        params: list[Any] = [to.value, now]
        if error:
            sets.append("error = ?")
            params.append(error)
        if start_time_ms or to is TaskStatus.RUNNING:
            sets.append("start_time_ms = ?")
            params.append(start_time_ms or now)
        if end_time_ms or to in TASK_END:
            sets.append("end_time_ms = ?")
            params.append(end_time_ms or now)
        await self._compare_and_set(
            "schedule_tasks", sets, params, _key_dict(key), expected.value, f"task {_describe(key)}"
        )
        rows = await self._fetchall(
            "SELECT * FROM schedule_tasks WHERE job_id=? AND task_name=? AND attempt=? AND role=?"
            " AND party_id=?",
            _key_tuple(key),
        )
        return row_map.schedule_record(rows[0])


async def _enable_wal(db: aiosqlite.Connection) -> None:
    # Switching a new database to WAL needs a moment without other connections' locks; SQLite does
    # not wait for it with busy_timeout, so retry briefly.
    for attempt in range(50):
        try:
            await db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == 49:
                raise
            await asyncio.sleep(0.02)


# -- row mapping -----------------------------------------------------------------------------------
def _split_sql(script: str) -> list[str]:
    statements, current = [], []
    for line in script.splitlines():
        stripped = line.split("--", 1)[0].rstrip()
        if not stripped:
            continue
        current.append(stripped)
        if stripped.endswith(";"):
            statements.append("\n".join(current))
            current = []
    if current:
        statements.append("\n".join(current))
    return statements


def _status_sets(column: str, to: TaskStatus, error: str, now: int) -> tuple[list[str], list[Any]]:
    sets = [f"{column} = ?", "update_time_ms = ?"]
    params: list[Any] = [to.value, now]
    if error:
        sets.append("error = ?")
        params.append(error)
    if to is TaskStatus.RUNNING:
        sets.append("start_time_ms = ?")
        params.append(now)
    if to in TASK_END:
        sets.append("end_time_ms = ?")
        params.append(now)
    return sets, params


def _filtered(sql: str, job_id: str, task_name: str | None, attempt: int | None) -> tuple[str, list[Any]]:
    params: list[Any] = [job_id]
    if task_name is not None:
        sql += " AND task_name = ?"
        params.append(task_name)
    if attempt is not None:
        sql += " AND attempt = ?"
        params.append(attempt)
    return sql, params


def _key_tuple(key: TaskKey) -> tuple[str, str, int, str, str]:
    return (key.job_id, key.task_name, key.attempt, key.role, key.party_id)


def _key_dict(key: TaskKey) -> dict[str, Any]:
    return dict(zip(("job_id", "task_name", "attempt", "role", "party_id"), _key_tuple(key), strict=True))


def _describe(key: TaskKey) -> str:
    return f"{key.task_name} attempt {key.attempt} of job {key.job_id} at {key.role} {key.party_id}"
