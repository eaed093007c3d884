"""Store contract: every task row and schedule row records when it was made (FATE's create_time)."""

from __future__ import annotations

import dataclasses

from fate_grpc.store.interface import Store
from fate_grpc.store.records import TaskKey

from .builders import akey, attempt, create, job, job_rows, schedule, task


async def test_rows_made_with_a_job_get_the_stores_clock(store: Store) -> None:
    rows = await create(store, job_rows("job-1"))
    stamped = {t.create_time_ms for t in await store.list_tasks("job-1")}
    stamped |= {s.create_time_ms for s in await store.list_schedule_tasks("job-1")}
    assert len(rows.tasks) > 0 and all(ms > 0 for ms in stamped)
    assert (await store.get_job("job-1")).create_time_ms <= min(stamped)


async def test_a_given_create_time_is_kept(store: Store) -> None:
    key = TaskKey("job-1", "psi_0", 0, "guest", "9999")
    await store.create_job(
        job("job-1"),
        [dataclasses.replace(task(key), create_time_ms=77)],
        [attempt(akey("job-1", "psi_0", 0))],
        [dataclasses.replace(schedule(key), create_time_ms=78)],
    )
    assert (await store.get_task(key)).create_time_ms == 77
    [row] = await store.list_schedule_tasks("job-1")
    assert row.create_time_ms == 78


async def test_a_later_attempt_is_stamped_when_it_is_added(store: Store) -> None:
    await create(store, job_rows("job-1"))
    first = max(t.create_time_ms for t in await store.list_tasks("job-1"))
    retry = job_rows("job-1", attempt_no=1)

    await store.add_attempts(retry.attempts, retry.schedule)
    await store.add_tasks(retry.tasks)

    later = [t for t in await store.list_tasks("job-1") if t.key.attempt == 1]
    assert later and all(t.create_time_ms > first for t in later)
    scheduled = [s for s in await store.list_schedule_tasks("job-1") if s.key.attempt == 1]
    assert scheduled and all(s.create_time_ms > first for s in scheduled)
