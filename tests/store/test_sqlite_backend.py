"""What the SQLite backend promises beyond the Store contract: connection settings, foreign keys, several
store instances on one database file, and no connection left behind by a failed open."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sqlite3
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from fate_grpc.domain.status import JobStatus, TaskStatus
from fate_grpc.errors import ErrorCode, FateGrpcError
from fate_grpc.store.sqlite_store import BUSY_TIMEOUT_MS, SqliteStore, migrations

from . import builders
from .builders import create, job_rows, output, output_table, schedule, task, tkey
from .conftest import CounterClock

LAST = migrations()[-1][0]
Opener = Callable[[Path], Awaitable[SqliteStore]]


def worker_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.is_alive() and "_connection_worker_thread" in t.name)


async def close_stray_connections(known: set[int]) -> None:
    """Close aiosqlite connections opened during a test and still open (else the process cannot exit)."""
    gc.collect()
    for obj in gc.get_objects():
        if isinstance(obj, aiosqlite.Connection) and id(obj) not in known and obj._connection is not None:
            await obj.close()


@pytest.fixture
async def no_stray_connections() -> AsyncIterator[None]:
    """At teardown, close any connection a failed open left behind."""
    known = {id(o) for o in gc.get_objects() if isinstance(o, aiosqlite.Connection)}
    yield
    await close_stray_connections(known)


@pytest.fixture
async def opened(no_stray_connections: None) -> AsyncIterator[Opener]:
    """Open SqliteStores; all closed at teardown."""
    stores: list[SqliteStore] = []

    async def open_at(path: Path) -> SqliteStore:
        store = SqliteStore(path, clock=CounterClock())
        stores.append(store)
        await store.open()
        return store

    yield open_at
    for store in reversed(stores):
        await store.close()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "node.db"


@pytest.fixture
def not_a_database(tmp_path: Path) -> Path:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not an SQLite database\n" * 64)
    return garbage


async def pragma(db: aiosqlite.Connection, name: str) -> Any:
    async with db.execute(f"PRAGMA {name}") as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return row[0]


async def test_every_connection_uses_wal_foreign_keys_and_a_busy_timeout(opened: Opener, path: Path) -> None:
    store = await opened(path)
    connections = [store._writer, store._reader]
    assert all(db is not None for db in connections)
    for db in connections:
        assert db is not None
        assert str(await pragma(db, "journal_mode")).lower() == "wal"
        assert await pragma(db, "foreign_keys") == 1
        assert await pragma(db, "busy_timeout") == BUSY_TIMEOUT_MS


async def test_the_database_file_is_in_wal_mode_and_at_the_last_migration(opened: Opener, path: Path) -> None:
    await opened(path)
    with closing(sqlite3.connect(path)) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal"
        assert raw.execute("PRAGMA user_version").fetchone()[0] == LAST


async def test_foreign_keys_are_enforced(opened: Opener, path: Path) -> None:
    store = await opened(path)
    await create(store, job_rows("job-1"))
    with pytest.raises(FateGrpcError):
        await store.add_tasks([task(tkey("job-unknown"))])
    assert await store.list_tasks("job-unknown") == []
    with pytest.raises(FateGrpcError):
        await store.add_attempts([], [schedule(tkey("job-1", "psi_0", attempt=5))])
    assert await store.list_schedule_tasks("job-1", attempt=5) == []


async def test_no_dangling_rows_after_deleting_a_job(opened: Opener, path: Path) -> None:
    store = await opened(path)
    rows = await create(store, job_rows("job-1"))
    for record in rows.tasks:
        out = output(record.key)
        await store.put_output(out, output_table(out))
    await store.delete_job("job-1")
    with closing(sqlite3.connect(path)) as raw:
        assert raw.execute("PRAGMA foreign_key_check").fetchall() == []
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        for table in ("jobs", "tasks", "task_attempts", "schedule_tasks", "outputs"):
            assert raw.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0, table


async def test_two_stores_on_one_file_see_each_others_writes(opened: Opener, path: Path) -> None:
    first = await opened(path)
    second = await opened(path)
    await create(first, job_rows("job-1"))
    assert (await second.get_job("job-1")).status == JobStatus.WAITING
    await second.transition_job("job-1", expected=JobStatus.WAITING, to=JobStatus.RUNNING)
    assert (await first.get_job("job-1")).status == JobStatus.RUNNING


async def test_compare_and_set_across_two_stores_on_one_file_has_one_winner(
    opened: Opener, path: Path
) -> None:
    stores = [await opened(path), await opened(path)]
    rows = await create(stores[0], job_rows("job-1"))
    key = rows.tasks[0].key
    results = await asyncio.gather(
        *(
            stores[i % 2].transition_task_party_status(
                key, expected=TaskStatus.WAITING, to=TaskStatus.RUNNING, pid=i + 1
            )
            for i in range(50)
        ),
        return_exceptions=True,
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    assert len(winners) == 1
    assert all(
        isinstance(r, FateGrpcError) and r.code == ErrorCode.CONFLICT for r in results if r not in winners
    )
    assert await stores[1].get_task(key) == winners[0]


async def test_two_stores_can_open_a_new_database_at_the_same_time(opened: Opener, tmp_path: Path) -> None:
    for i in range(5):
        path = tmp_path / f"node-{i}.db"
        await asyncio.gather(opened(path), opened(path))
        with closing(sqlite3.connect(path)) as raw:
            assert raw.execute("PRAGMA user_version").fetchone()[0] == LAST


async def test_a_failed_open_leaves_no_connection_behind(
    no_stray_connections: None, not_a_database: Path
) -> None:
    before = worker_threads()
    store = SqliteStore(not_a_database, clock=CounterClock())
    with pytest.raises(sqlite3.DatabaseError):
        await store.open()
    await store.close()
    gc.collect()
    await asyncio.sleep(0.05)
    assert worker_threads() == before


async def test_reads_see_every_committed_write_under_concurrency(tmp_path: Path) -> None:
    """Overlapping reads on one connection share a snapshot; the store must never return a stale row."""
    import random

    from fate_grpc.domain.status import TaskStatus
    from fate_grpc.store.records import AttemptKey, JobRecord, ScheduleTaskRecord, TaskAttemptRecord, TaskKey

    store = SqliteStore(tmp_path / "node.db", clock=CounterClock())
    await store.open()
    stale = 0

    async def one_job(i: int) -> None:
        nonlocal stale
        job = JobRecord(
            job_id=f"j{i}", dag_yaml="x", initiator_party_id="1", scheduler_party_id="1", is_scheduler=True
        )
        rows = [ScheduleTaskRecord(key=TaskKey(f"j{i}", "t", 0, role, "1")) for role in ("a", "b", "c")]
        await store.create_job(
            job, [], [TaskAttemptRecord(key=AttemptKey(f"j{i}", "t", 0), component="c")], rows
        )
        for row in rows:
            await asyncio.sleep(random.random() / 200)
            await store.transition_schedule_task(row.key, expected=TaskStatus.WAITING, to=TaskStatus.SUCCESS)
            seen = {r.key: r.status for r in await store.list_schedule_tasks(f"j{i}")}
            stale += seen[row.key] is not TaskStatus.SUCCESS

    try:
        await asyncio.gather(*(one_job(i) for i in range(200)))
    finally:
        await store.close()
    assert stale == 0


async def test_a_write_cancelled_while_its_transaction_begins_leaves_no_transaction_open(
    opened: Opener, path: Path
) -> None:
    # A gRPC handler whose deadline passes is cancelled wherever it waits, also while BEGIN runs on
    # the connection's thread; the statement still runs there, and the next write must not find a
    # transaction left open ("cannot start a transaction within a transaction").
    store = await opened(path)
    for attempt in range(20):
        write = asyncio.ensure_future(store.put_table(builders.table(name=f"cancelled_{attempt}")))
        for _ in range(attempt % 4):
            await asyncio.sleep(0)
        write.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await write
        await store.put_table(builders.table(name=f"after_{attempt}"))

    assert await store.get_table("experiment", "after_19") is not None
