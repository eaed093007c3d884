"""Fixtures of the store contract suite.

Every test that uses `store` (or `store_factory`) runs once per entry of BACKENDS; adding a backend to
the suite is one more line there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from fate_grpc.store.interface import Store
from fate_grpc.store.sqlite_store import SqliteStore


class CounterClock:
    """A deterministic clock: every call returns the next integer millisecond."""

    def __init__(self, start: int = 1_000_000) -> None:
        self.last = start

    def __call__(self) -> int:
        self.last += 1
        return self.last


@dataclass(frozen=True)
class Backend:
    """How to build a (not yet opened) store of one backend.

    `make(root, clock)` must return a store whose data lives under `root`: two stores made with the same
    root see the same data (used by the persistence tests when `persistent` is true).
    """

    name: str
    make: Callable[[Path, Callable[[], int]], Store]
    persistent: bool = True


BACKENDS: list[Backend] = [
    Backend("sqlite", lambda root, clock: SqliteStore(root / "node.db", clock=clock)),
]

StoreFactory = Callable[[], Awaitable[Store]]


@pytest.fixture(params=BACKENDS, ids=lambda backend: backend.name)
def backend(request: pytest.FixtureRequest) -> Backend:
    return request.param


@pytest.fixture
def clock() -> CounterClock:
    return CounterClock()


@pytest.fixture
async def store_factory(backend: Backend, clock: CounterClock, tmp_path: Path) -> AsyncIterator[StoreFactory]:
    """Open a new store instance on the test's storage (same data every call); all closed at teardown."""
    opened: list[Store] = []

    async def open_store() -> Store:
        store = backend.make(tmp_path / backend.name, clock)
        opened.append(store)
        await store.open()
        return store

    yield open_store
    for store in reversed(opened):
        await store.close()


@pytest.fixture
async def store(store_factory: StoreFactory) -> AsyncIterator[Store]:
    """An opened, empty store of the backend under test."""
    yield await store_factory()
