"""SQLite store migrations: every upgrade path ends in the fresh schema, and reopening is a no-op."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import closing
from importlib import resources
from pathlib import Path

import pytest

from fate_grpc.domain.status import JobStatus
from fate_grpc.store import sqlite_store
from fate_grpc.store.sqlite_store import SqliteStore, migrations

from .builders import create, job_rows, snapshot
from .conftest import CounterClock

MIGRATIONS = migrations()
NUMBERS = [number for number, _ in MIGRATIONS]
LAST = NUMBERS[-1]

SchemaRow = tuple[str, str, str, str | None]
Opener = Callable[[Path], Awaitable[SqliteStore]]


def normalise(sql: str | None) -> str | None:
    """SQL text without comments and insignificant whitespace."""
    if sql is None:
        return None
    text = " ".join(line.split("--", 1)[0] for line in sql.splitlines())
    text = " ".join(text.split())
    return re.sub(r"\s*([(),;])\s*", r"\1", text)


def schema(path: Path) -> list[SchemaRow]:
    with closing(sqlite3.connect(path)) as db:
        rows = db.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
        ).fetchall()
    return [(kind, name, table, normalise(sql)) for kind, name, table, sql in rows]


def user_version(path: Path) -> int:
    with closing(sqlite3.connect(path)) as db:
        return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate_by_hand(path: Path, up_to: int) -> None:
    """An older database: the shipped migrations up to `up_to` applied outside the store."""
    with closing(sqlite3.connect(path)) as db:
        for number, sql in MIGRATIONS:
            if number <= up_to:
                db.executescript(sql)
        db.execute(f"PRAGMA user_version={up_to}")
        db.commit()


@pytest.fixture
async def opened(tmp_path: Path) -> AsyncIterator[Opener]:
    """Open SqliteStores on given paths; all closed at teardown (also when opening failed)."""
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
async def fresh_schema(tmp_path: Path, opened: Opener) -> list[SchemaRow]:
    path = tmp_path / "fresh" / "node.db"
    await opened(path)
    return schema(path)


def test_migration_files_are_numbered_consecutively_from_one() -> None:
    names = sorted(
        entry.name
        for entry in (resources.files("fate_grpc.store") / "migrations").iterdir()
        if entry.name.endswith(".sql")
    )
    assert names, "no migrations shipped"
    for name in names:
        assert re.fullmatch(r"\d{4}_[a-z0-9_]+\.sql", name), name
    assert list(range(1, len(names) + 1)) == NUMBERS
    assert [int(name[:4]) for name in names] == NUMBERS


async def test_a_fresh_database_is_at_the_last_migration(
    tmp_path: Path, opened: Opener, fresh_schema: list[SchemaRow]
) -> None:
    path = tmp_path / "new" / "dir" / "node.db"
    await opened(path)
    assert path.exists()
    assert user_version(path) == LAST
    tables = {name for kind, name, _, _ in fresh_schema if kind == "table"}
    assert {"data_tables", "jobs", "tasks", "task_attempts", "schedule_tasks", "outputs"} <= tables


@pytest.mark.parametrize("start", [0, *NUMBERS[:-1]], ids=lambda n: f"from_v{n}")
async def test_an_older_database_is_migrated_to_the_fresh_schema(
    tmp_path: Path, opened: Opener, fresh_schema: list[SchemaRow], start: int
) -> None:
    path = tmp_path / "old.db"
    migrate_by_hand(path, start)
    assert user_version(path) == start

    await opened(path)

    assert user_version(path) == LAST
    assert schema(path) == fresh_schema


async def test_migrating_by_hand_matches_the_store(tmp_path: Path, fresh_schema: list[SchemaRow]) -> None:
    # Guards the helper above: the shipped SQL applied as is gives the schema the store creates.
    path = tmp_path / "by_hand.db"
    migrate_by_hand(path, LAST)
    assert schema(path) == fresh_schema


async def test_opening_again_is_idempotent(
    tmp_path: Path, opened: Opener, fresh_schema: list[SchemaRow]
) -> None:
    path = tmp_path / "node.db"
    first = await opened(path)
    await create(first, job_rows("job-1"))
    await first.transition_job("job-1", expected=JobStatus.WAITING, to=JobStatus.RUNNING)
    before = await snapshot(first, "job-1")
    await first.open()  # a second open of an open store is a no-op
    await first.close()

    for _ in range(2):
        again = await opened(path)
        assert user_version(path) == LAST
        assert schema(path) == fresh_schema
        assert await snapshot(again, "job-1") == before
        await again.close()


async def test_only_new_migrations_run_on_an_existing_database(
    tmp_path: Path, opened: Opener, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "node.db"
    store = await opened(path)
    await create(store, job_rows("job-1"))
    before = await snapshot(store, "job-1")
    await store.close()

    extra = (
        LAST + 1,
        "ALTER TABLE jobs ADD COLUMN note TEXT NOT NULL DEFAULT '';\nCREATE TABLE extra (a INTEGER);",
    )
    monkeypatch.setattr(sqlite_store, "migrations", lambda: [*MIGRATIONS, extra])
    upgraded = await opened(path)

    assert user_version(path) == LAST + 1
    assert {name for _, name, _, _ in schema(path)} >= {"extra", "jobs"}
    assert await snapshot(upgraded, "job-1") == before


BROKEN = "CREATE TABLE extra (a INTEGER);\nCREATE TABLE broken (;"


async def test_a_failing_migration_is_rolled_back_entirely(
    tmp_path: Path,
    opened: Opener,
    fresh_schema: list[SchemaRow],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "node.db"
    store = await opened(path)
    await create(store, job_rows("job-1"))
    await store.close()

    monkeypatch.setattr(sqlite_store, "migrations", lambda: [*MIGRATIONS, (LAST + 1, BROKEN)])
    with pytest.raises(sqlite3.Error):
        await opened(path)

    assert user_version(path) == LAST
    assert schema(path) == fresh_schema  # the first statement of the broken migration is undone too
    monkeypatch.undo()
    assert (await (await opened(path)).get_job("job-1")).job_id == "job-1"


async def test_earlier_migrations_stay_applied_when_a_later_one_fails(
    tmp_path: Path,
    opened: Opener,
    fresh_schema: list[SchemaRow],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "node.db"
    monkeypatch.setattr(sqlite_store, "migrations", lambda: [*MIGRATIONS, (LAST + 1, BROKEN)])
    with pytest.raises(sqlite3.Error):
        await opened(path)
    assert user_version(path) == LAST
    assert schema(path) == fresh_schema


async def test_open_can_be_retried_after_a_failed_migration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "node.db"
    store = SqliteStore(path, clock=CounterClock())
    try:
        monkeypatch.setattr(sqlite_store, "migrations", lambda: [*MIGRATIONS, (LAST + 1, BROKEN)])
        with pytest.raises(sqlite3.Error):
            await store.open()
        fixed = (LAST + 1, "CREATE TABLE extra (a INTEGER);")
        monkeypatch.setattr(sqlite_store, "migrations", lambda: [*MIGRATIONS, fixed])

        await store.open()

        assert user_version(path) == LAST + 1
        assert await store.find_job("job-1") is None
    finally:
        await store.close()
