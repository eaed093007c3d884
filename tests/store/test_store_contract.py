"""The Store contract: every backend in conftest.BACKENDS must pass every test here.

Each test states one guarantee of fate_grpc.store.interface.Store (mostly its MUSTs) in terms of the
public methods only, so the same tests hold for any backend.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fate_grpc.domain.status import (
    JOB_END_STATUSES,
    JOB_TRANSITIONS,
    TASK_END_STATUSES,
    TASK_TRANSITIONS,
    JobStatus,
    TaskStatus,
    can_transition_job,
    can_transition_task,
)
from fate_grpc.errors import ErrorCode, FateGrpcError
from fate_grpc.store.interface import Store
from fate_grpc.store.records import AttemptKey, GrantRecord, ScheduleTaskRecord, TaskKey, TokenRecord

from .builders import (
    GUEST,
    HOST,
    akey,
    attempt,
    create,
    job,
    job_rows,
    output,
    output_table,
    schedule,
    schedule_order,
    snapshot,
    table,
    task,
    task_order,
    tkey,
)
from .conftest import Backend, CounterClock, StoreFactory

J = JobStatus
T = TaskStatus
_IDS = itertools.count()  # unique job ids across the examples of a hypothesis test

JOB_ALLOWED = [(a, b) for a in J for b in J if can_transition_job(a, b)]
TASK_ALLOWED = [(a, b) for a in T for b in T if can_transition_task(a, b)]


@contextmanager
def raises_code(code: ErrorCode, what: str = "the call") -> Iterator[None]:
    """Expect a FateGrpcError with `code` from the block."""
    try:
        yield
    except FateGrpcError as exc:
        assert exc.code == code, f"{what}: expected {code.name}, got {exc.code.name}: {exc}"
    else:
        pytest.fail(f"{what}: expected {code.name}, nothing was raised")


def within(value: int, before: int, clock: CounterClock) -> bool:
    """Whether a timestamp was taken from the clock during the call that started at `before`."""
    return before < value <= clock.last


def test_transition_tables_are_the_domain_tables() -> None:
    # The pair lists below are derived from the domain tables; guard against an empty derivation.
    assert len(JOB_ALLOWED) == sum(len(v) for v in JOB_TRANSITIONS.values()) > 0
    assert len(TASK_ALLOWED) == sum(len(v) for v in TASK_TRANSITIONS.values()) > 0


# -- lifecycle ------------------------------------------------------------------------------------


async def test_close_is_idempotent(store: Store) -> None:
    await store.close()
    await store.close()


async def test_open_twice_is_harmless(store: Store) -> None:
    await create(store, job_rows("job-1"))
    await store.open()
    assert (await store.get_job("job-1")).job_id == "job-1"


# -- tables ---------------------------------------------------------------------------------------


async def test_put_table_then_get_and_find_return_it(store: Store, clock: CounterClock) -> None:
    record = table(meta={"schema": {"id": "str"}, "n": [1, 2]}, weight_name="w", delimiter="\t")
    before = clock.last
    await store.put_table(record)
    got = await store.get_table(record.namespace, record.name)
    assert within(got.create_time_ms, before, clock)
    assert dataclasses.replace(got, create_time_ms=0) == record
    assert await store.find_table(record.namespace, record.name) == got


async def test_put_table_keeps_a_given_create_time(store: Store) -> None:
    await store.put_table(table(create_time_ms=1234))
    assert (await store.get_table("experiment", "breast")).create_time_ms == 1234


async def test_put_table_existing_without_overwrite_raises_already_exists_and_keeps_it(store: Store) -> None:
    await store.put_table(table(count=1, create_time_ms=5))
    with raises_code(ErrorCode.ALREADY_EXISTS):
        await store.put_table(table(count=2, path="elsewhere.csv", create_time_ms=6))
    assert await store.get_table("experiment", "breast") == table(count=1, create_time_ms=5)


async def test_put_table_with_overwrite_replaces_it(store: Store) -> None:
    await store.put_table(table(count=1, create_time_ms=5))
    replacement = table(count=2, path="elsewhere.csv", header=("id",), label_name="", create_time_ms=6)
    await store.put_table(replacement, overwrite=True)
    assert await store.get_table("experiment", "breast") == replacement


async def test_put_table_with_overwrite_creates_a_new_table(store: Store) -> None:
    await store.put_table(table(create_time_ms=5), overwrite=True)
    assert await store.get_table("experiment", "breast") == table(create_time_ms=5)


async def test_tables_are_keyed_by_namespace_and_name(store: Store) -> None:
    records = [
        table("a", "t", create_time_ms=1),
        table("b", "t", create_time_ms=2),
        table("a", "u", create_time_ms=3),
    ]
    for record in records:
        await store.put_table(record)
    for record in records:
        assert await store.get_table(record.namespace, record.name) == record


async def test_get_table_unknown_raises_not_found_and_find_returns_none(store: Store) -> None:
    await store.put_table(table("a", "t"))
    with raises_code(ErrorCode.NOT_FOUND):
        await store.get_table("a", "missing")
    with raises_code(ErrorCode.NOT_FOUND):
        await store.get_table("missing", "t")
    assert await store.find_table("a", "missing") is None


# -- jobs: create / get / find ----------------------------------------------------------------------


async def test_create_job_writes_job_tasks_attempts_and_schedule(store: Store, clock: CounterClock) -> None:
    rows = job_rows("job-1", status=J.WAITING, progress=3, status_reason="queued")
    before = clock.last
    await create(store, rows)

    got = await store.get_job("job-1")
    assert within(got.create_time_ms, before, clock)
    assert within(got.update_time_ms, before, clock)
    assert dataclasses.replace(got, create_time_ms=0, update_time_ms=0) == rows.job
    assert await store.find_job("job-1") == got

    tasks = await store.list_tasks("job-1")
    assert [dataclasses.replace(t, update_time_ms=0, create_time_ms=0) for t in tasks] == sorted(
        rows.tasks, key=task_order
    )
    for record in tasks:
        assert await store.get_task(record.key) == record
    attempts = await store.list_attempts("job-1")
    assert [dataclasses.replace(a, update_time_ms=0) for a in attempts] == sorted(
        rows.attempts, key=lambda a: (a.key.task_name, a.key.attempt)
    )
    for record in attempts:
        assert await store.get_attempt(record.key) == record
    scheduled = await store.list_schedule_tasks("job-1")
    assert sorted(
        (dataclasses.replace(s, update_time_ms=0, create_time_ms=0) for s in scheduled), key=schedule_order
    ) == sorted(rows.schedule, key=schedule_order)


async def test_create_job_keeps_a_given_create_time(store: Store) -> None:
    await store.create_job(job("job-1", create_time_ms=77), [])
    assert (await store.get_job("job-1")).create_time_ms == 77


async def test_create_job_on_a_non_scheduler_party_needs_no_schedule_rows(store: Store) -> None:
    rows = await create(store, job_rows("job-1", is_scheduler=False))
    assert rows.attempts == [] and rows.schedule == []
    assert not (await store.get_job("job-1")).is_scheduler
    assert len(await store.list_tasks("job-1")) == len(rows.tasks)
    assert await store.list_attempts("job-1") == []
    assert await store.list_schedule_tasks("job-1") == []


async def test_create_job_duplicate_raises_already_exists_and_writes_nothing(store: Store) -> None:
    await create(store, job_rows("job-1"))
    before = await snapshot(store, "job-1")
    duplicate = job_rows(
        "job-1",
        status=J.RUNNING,
        dag_yaml="other: dag\n",
        tasks=[("reader_0", "reader"), ("psi_0", "psi"), ("lr_0", "coordinated_lr")],
    )
    with raises_code(ErrorCode.ALREADY_EXISTS):
        await create(store, duplicate)
    assert await snapshot(store, "job-1") == before


async def test_create_job_with_a_duplicate_task_row_writes_nothing(store: Store) -> None:
    rows = job_rows("job-1")
    rows.tasks.append(rows.tasks[0])
    with raises_code(ErrorCode.ALREADY_EXISTS):
        await create(store, rows)
    assert await snapshot(store, "job-1") == await snapshot(store, "never-created")


async def test_create_job_with_a_duplicate_attempt_writes_nothing(store: Store) -> None:
    rows = job_rows("job-1")
    rows.attempts.append(rows.attempts[0])
    with raises_code(ErrorCode.ALREADY_EXISTS):
        await create(store, rows)
    assert await snapshot(store, "job-1") == await snapshot(store, "never-created")


async def test_create_job_with_a_schedule_row_of_no_attempt_writes_nothing(store: Store) -> None:
    rows = job_rows("job-1")
    rows.schedule.append(schedule(tkey("job-1", "psi_0", attempt=7)))
    with pytest.raises(FateGrpcError):
        await create(store, rows)
    assert await snapshot(store, "job-1") == await snapshot(store, "never-created")


async def test_get_job_unknown_raises_not_found_and_find_returns_none(store: Store) -> None:
    await create(store, job_rows("job-1"))
    with raises_code(ErrorCode.NOT_FOUND):
        await store.get_job("job-2")
    assert await store.find_job("job-2") is None


# -- jobs: list ---------------------------------------------------------------------------------------

LISTED = {
    # job id: (status, is_scheduler, create_time_ms)
    "job-a": (J.WAITING, True, 300),
    "job-b": (J.RUNNING, False, 100),
    "job-c": (J.FAILED, True, 200),
    "job-d": (J.WAITING, False, 400),
    "job-e": (J.SUCCESS, True, 50),
}


@pytest.fixture
async def listed(store: Store) -> Store:
    for job_id, (status, is_scheduler, created) in LISTED.items():
        await store.create_job(
            job(job_id, status=status, is_scheduler=is_scheduler, create_time_ms=created), []
        )
    return store


async def ids(store: Store, **kwargs: Any) -> list[str]:
    return [j.job_id for j in await store.list_jobs(**kwargs)]


async def test_list_jobs_returns_all_newest_first(listed: Store) -> None:
    assert await ids(listed) == ["job-d", "job-a", "job-c", "job-b", "job-e"]


async def test_list_jobs_filters_by_status(listed: Store) -> None:
    assert await ids(listed, statuses=[J.WAITING]) == ["job-d", "job-a"]
    assert await ids(listed, statuses=(s for s in (J.WAITING, J.FAILED))) == ["job-d", "job-a", "job-c"]
    assert await ids(listed, statuses=[J.CANCELED, J.TIMEOUT]) == []


async def test_list_jobs_scheduler_only(listed: Store) -> None:
    assert await ids(listed, scheduler_only=True) == ["job-a", "job-c", "job-e"]
    assert await ids(listed, statuses=[J.WAITING], scheduler_only=True) == ["job-a"]


async def test_list_jobs_limit_keeps_the_newest(listed: Store) -> None:
    assert await ids(listed, limit=2) == ["job-d", "job-a"]
    assert await ids(listed, limit=1, scheduler_only=True) == ["job-a"]
    assert await ids(listed, limit=100) == ["job-d", "job-a", "job-c", "job-b", "job-e"]


async def test_list_jobs_returns_full_records(listed: Store) -> None:
    assert await listed.list_jobs() == [await listed.get_job(i) for i in await ids(listed)]


async def test_list_jobs_newest_first_by_clock_when_no_create_time_is_given(store: Store) -> None:
    for job_id in ("job-1", "job-3", "job-2"):
        await store.create_job(job(job_id), [])
    assert await ids(store) == ["job-2", "job-3", "job-1"]


# -- jobs: delete -------------------------------------------------------------------------------------


async def seed_everything(store: Store, job_id: str) -> None:
    """A job with tasks, attempts, schedule rows, a retry attempt, moved statuses and outputs."""
    rows = await create(store, job_rows(job_id))
    retry = job_rows(job_id, tasks=[("psi_0", "psi")], attempt_no=1)
    await store.add_attempts(retry.attempts, retry.schedule)
    await store.add_tasks(retry.tasks)
    await store.transition_job(job_id, expected=J.WAITING, to=J.RUNNING)
    first = rows.tasks[0].key
    await store.transition_task_party_status(first, expected=T.WAITING, to=T.RUNNING, pid=11)
    await store.transition_attempt(akey(job_id, first.task_name, 0), expected=T.WAITING, to=T.RUNNING)
    await store.transition_schedule_task(first, expected=T.WAITING, to=T.RUNNING)
    for record in (*rows.tasks, *retry.tasks):
        out = output(record.key)
        await store.put_output(out, output_table(out))


async def test_delete_job_removes_the_job_and_everything_keyed_by_it(store: Store) -> None:
    await seed_everything(store, "job-1")
    await seed_everything(store, "job-2")
    assert all((await snapshot(store, "job-1")).values())
    other = await snapshot(store, "job-2")

    assert await store.delete_job("job-1") is True

    with raises_code(ErrorCode.NOT_FOUND):
        await store.get_job("job-1")
    assert await store.find_job("job-1") is None
    assert await store.list_tasks("job-1") == []
    assert await store.list_attempts("job-1") == []
    assert await store.list_schedule_tasks("job-1") == []
    assert await store.list_outputs("job-1") == []
    assert [j.job_id for j in await store.list_jobs()] == ["job-2"]
    for status in T:
        assert all(t.key.job_id != "job-1" for t in await store.list_tasks_with_party_status([status]))
    with raises_code(ErrorCode.NOT_FOUND):
        await store.get_task(tkey("job-1", "reader_0"))
    with raises_code(ErrorCode.NOT_FOUND):
        await store.get_attempt(akey("job-1", "reader_0"))
    assert await snapshot(store, "job-2") == other


async def test_delete_job_unknown_or_twice_returns_false(store: Store) -> None:
    assert await store.delete_job("job-1") is False
    await create(store, job_rows("job-1"))
    assert await store.delete_job("job-1") is True
    assert await store.delete_job("job-1") is False


async def test_a_deleted_job_id_can_be_created_again(store: Store) -> None:
    await seed_everything(store, "job-1")
    await store.delete_job("job-1")
    rows = await create(store, job_rows("job-1"))
    again = await snapshot(store, "job-1")
    assert again["job"] is not None and again["job"].status == J.WAITING
    assert len(again["tasks"]) == len(rows.tasks)
    assert len(again["attempts"]) == len(rows.attempts)
    assert len(again["schedule"]) == len(rows.schedule)
    assert again["outputs"] == []


# -- transition_job -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("current", "to"), JOB_ALLOWED, ids=str)
async def test_transition_job_allowed_pair_applies(
    store: Store, clock: CounterClock, current: JobStatus, to: JobStatus
) -> None:
    await create(store, job_rows("job-1", status=current, status_reason="old reason", progress=7))
    await create(store, job_rows("job-2", status=current))
    before, bystander = await snapshot(store, "job-1"), await snapshot(store, "job-2")
    old = before["job"]

    t0 = clock.last
    record = await store.transition_job("job-1", expected=current, to=to, reason=f"because {to}")

    assert record == await store.get_job("job-1")
    assert record.status == to
    assert record.status_reason == f"because {to}"
    assert within(record.update_time_ms, t0, clock)
    if to == J.RUNNING:
        assert within(record.start_time_ms, t0, clock)
    else:
        assert record.start_time_ms == old.start_time_ms
    if to in JOB_END_STATUSES:
        assert within(record.end_time_ms, t0, clock)
    else:
        assert record.end_time_ms == 0
    unchanged = dataclasses.replace(
        record,
        status=old.status,
        status_reason=old.status_reason,
        start_time_ms=old.start_time_ms,
        end_time_ms=old.end_time_ms,
        update_time_ms=old.update_time_ms,
    )
    assert unchanged == old
    after = await snapshot(store, "job-1")
    assert {k: v for k, v in after.items() if k != "job"} == {k: v for k, v in before.items() if k != "job"}
    assert await snapshot(store, "job-2") == bystander


@pytest.mark.parametrize("current", list(J), ids=str)
async def test_transition_job_disallowed_pairs_raise_invalid_transition(
    store: Store, current: JobStatus
) -> None:
    """Every `to` outside JOB_TRANSITIONS[current] (including current itself) is refused, writing nothing."""
    await create(store, job_rows("job-1", status=current))
    before = await snapshot(store, "job-1")
    refused = [to for to in J if not can_transition_job(current, to)]
    assert current in refused
    for to in refused:
        with raises_code(ErrorCode.INVALID_TRANSITION, f"{current}->{to}"):
            await store.transition_job("job-1", expected=current, to=to, reason="nope", progress=50)
        assert await snapshot(store, "job-1") == before, f"{current}->{to} wrote something"


@pytest.mark.parametrize(("expected", "to"), JOB_ALLOWED, ids=str)
async def test_transition_job_from_another_status_raises_conflict(
    store: Store, expected: JobStatus, to: JobStatus
) -> None:
    for actual in J:
        if actual == expected:
            continue
        job_id = f"job-{actual}"
        await create(store, job_rows(job_id, status=actual))
        before = await snapshot(store, job_id)
        with raises_code(ErrorCode.CONFLICT, f"{expected}->{to} on a {actual} job"):
            await store.transition_job(job_id, expected=expected, to=to, reason="nope", progress=50)
        assert await snapshot(store, job_id) == before, f"{expected}->{to} on a {actual} job wrote something"


@pytest.mark.parametrize(("expected", "to"), JOB_ALLOWED, ids=str)
async def test_transition_job_unknown_raises_not_found(
    store: Store, expected: JobStatus, to: JobStatus
) -> None:
    await create(store, job_rows("job-1", status=expected))
    before = await snapshot(store, "job-1")
    with raises_code(ErrorCode.NOT_FOUND):
        await store.transition_job("job-2", expected=expected, to=to)
    assert await store.find_job("job-2") is None
    assert await snapshot(store, "job-1") == before


async def test_transition_job_through_a_rerun(store: Store, clock: CounterClock) -> None:
    await create(store, job_rows("job-1"))
    t0 = clock.last
    running = await store.transition_job("job-1", expected=J.WAITING, to=J.RUNNING, reason="go")
    assert within(running.start_time_ms, t0, clock) and running.end_time_ms == 0

    t1 = clock.last
    failed = await store.transition_job("job-1", expected=J.RUNNING, to=J.FAILED, reason="task psi_0 failed")
    assert failed.start_time_ms == running.start_time_ms
    assert within(failed.end_time_ms, t1, clock)

    rerun = await store.transition_job("job-1", expected=J.FAILED, to=J.WAITING, reason="rerun")
    assert (rerun.status, rerun.status_reason) == (J.WAITING, "rerun")
    assert rerun.end_time_ms == 0

    t2 = clock.last
    await store.transition_job("job-1", expected=J.WAITING, to=J.RUNNING)
    done = await store.transition_job("job-1", expected=J.RUNNING, to=J.SUCCESS, reason="")
    assert done.status == J.SUCCESS and done.status_reason == ""
    assert within(done.end_time_ms, t2, clock)
    assert done.start_time_ms <= done.end_time_ms


async def test_transition_job_sets_progress_when_given(store: Store) -> None:
    await create(store, job_rows("job-1", progress=10))
    record = await store.transition_job("job-1", expected=J.WAITING, to=J.RUNNING)
    assert record.progress == 10
    record = await store.transition_job("job-1", expected=J.RUNNING, to=J.SUCCESS, progress=100)
    assert record.progress == 100


# -- set_job_progress ---------------------------------------------------------------------------------


async def test_set_job_progress_never_decreases(store: Store) -> None:
    await create(store, job_rows("job-1", status_reason="start"))
    steps = [(40, 40), (20, 40), (40, 40), (90, 90), (0, 90), (100, 100), (99, 100)]
    for value, want in steps:
        await store.set_job_progress("job-1", value)
        record = await store.get_job("job-1")
        assert record.progress == want
        assert (record.status, record.status_reason) == (J.WAITING, "start")


async def test_set_job_progress_updates_the_reason_only_when_given(store: Store) -> None:
    await create(store, job_rows("job-1", status_reason="start"))
    await store.set_job_progress("job-1", 30, reason="2/3 tasks done")
    assert (await store.get_job("job-1")).status_reason == "2/3 tasks done"
    await store.set_job_progress("job-1", 10)
    record = await store.get_job("job-1")
    assert (record.progress, record.status_reason) == (30, "2/3 tasks done")
    await store.set_job_progress("job-1", 10, reason="")
    record = await store.get_job("job-1")
    assert (record.progress, record.status_reason) == (30, "")


async def test_set_job_progress_touches_only_its_job(store: Store) -> None:
    await create(store, job_rows("job-1"))
    await create(store, job_rows("job-2"))
    before = await snapshot(store, "job-2")
    await store.set_job_progress("job-1", 50, reason="half")
    assert await snapshot(store, "job-2") == before


@settings(
    max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(initial=st.integers(0, 100), values=st.lists(st.integers(0, 100), max_size=8))
async def test_set_job_progress_is_the_running_maximum(store: Store, initial: int, values: list[int]) -> None:
    job_id = f"job-{next(_IDS)}"
    await create(store, job_rows(job_id, progress=initial))
    highest = initial
    for value in values:
        await store.set_job_progress(job_id, value)
        highest = max(highest, value)
        assert (await store.get_job(job_id)).progress == highest


# -- tasks: add / get / list --------------------------------------------------------------------------


async def test_add_tasks_inserts_rows(store: Store) -> None:
    await create(store, job_rows("job-1"))
    retry = [task(tkey("job-1", "psi_0", 1, *party)) for party in (GUEST, HOST)]
    await store.add_tasks(retry)
    for record in retry:
        assert (
            dataclasses.replace(await store.get_task(record.key), update_time_ms=0, create_time_ms=0)
            == record
        )
    assert [t.key for t in await store.list_tasks("job-1", task_name="psi_0", attempt=1)] == [
        r.key for r in sorted(retry, key=task_order)
    ]


async def test_add_tasks_duplicate_raises_already_exists_and_keeps_the_row(store: Store) -> None:
    rows = await create(store, job_rows("job-1"))
    key = rows.tasks[0].key
    await store.transition_task_party_status(key, expected=T.WAITING, to=T.RUNNING, pid=99)
    before = await snapshot(store, "job-1")
    with raises_code(ErrorCode.ALREADY_EXISTS):
        await store.add_tasks([task(key, component="other")])
    assert await snapshot(store, "job-1") == before


async def test_add_tasks_duplicate_within_one_call_raises_already_exists(store: Store) -> None:
    await create(store, job_rows("job-1"))
    new = task(tkey("job-1", "psi_0", 1))
    with raises_code(ErrorCode.ALREADY_EXISTS):
        await store.add_tasks([new, new])


async def test_get_task_unknown_raises_not_found(store: Store) -> None:
    await create(store, job_rows("job-1"))
    for key in (tkey("job-2"), tkey("job-1", "psi_0", 1), tkey("job-1", "lr_0"), tkey("job-1", party_id="1")):
        with raises_code(ErrorCode.NOT_FOUND):
            await store.get_task(key)


SCRAMBLED_KEYS = [
    ("b_0", 2, "host", "10000"),
    ("a_0", 10, "guest", "9999"),
    ("b_0", 0, "guest", "9999"),
    ("a_0", 2, "host", "9999"),
    ("a_0", 2, "host", "10000"),
    ("b_0", 0, "arbiter", "9999"),
    ("a_0", 2, "guest", "9999"),
]


async def test_list_tasks_is_ordered_by_task_attempt_role_party(store: Store) -> None:
    await store.create_job(job("job-1"), [task(TaskKey("job-1", *k)) for k in SCRAMBLED_KEYS])
    listed = await store.list_tasks("job-1")
    assert [task_order(t) for t in listed] == sorted(SCRAMBLED_KEYS)  # attempt 2 before 10: numeric


async def test_list_tasks_filters(store: Store) -> None:
    await store.create_job(job("job-1"), [task(TaskKey("job-1", *k)) for k in SCRAMBLED_KEYS])
    await create(store, job_rows("job-2"))

    async def listed(**kwargs: Any) -> list[tuple[str, int, str, str]]:
        return [task_order(t) for t in await store.list_tasks("job-1", **kwargs)]

    assert await listed(task_name="a_0") == sorted(k for k in SCRAMBLED_KEYS if k[0] == "a_0")
    assert await listed(attempt=2) == sorted(k for k in SCRAMBLED_KEYS if k[1] == 2)
    assert await listed(task_name="b_0", attempt=0) == sorted(
        k for k in SCRAMBLED_KEYS if k[:2] == ("b_0", 0)
    )
    assert await listed(task_name="c_0") == []
    assert await listed(attempt=3) == []
    assert await store.list_tasks("job-3") == []


async def test_list_tasks_with_party_status_spans_jobs_and_filters_by_party_status(store: Store) -> None:
    statuses = {
        tkey("job-1", "a_0"): (T.WAITING, T.RUNNING),
        tkey("job-1", "b_0"): (T.RUNNING, T.WAITING),  # federated running, local waiting
        tkey("job-1", "c_0"): (T.SUCCESS, T.SUCCESS),
        tkey("job-2", "a_0"): (T.WAITING, T.RUNNING),
        tkey("job-2", "b_0", role="host", party_id="10000"): (T.WAITING, T.FAILED),
    }
    for job_id in ("job-1", "job-2"):
        await store.create_job(
            job(job_id),
            [task(k, status=s, party_status=p) for k, (s, p) in statuses.items() if k.job_id == job_id],
        )

    async def keys(wanted: Any) -> list[TaskKey]:
        found = await store.list_tasks_with_party_status(wanted)
        assert found == [await store.get_task(t.key) for t in found]
        return sorted((t.key for t in found), key=dataclasses.astuple)

    def expect(*wanted: TaskStatus) -> list[TaskKey]:
        return sorted((k for k, (_, p) in statuses.items() if p in wanted), key=dataclasses.astuple)

    assert await keys([T.RUNNING]) == expect(T.RUNNING)
    assert await keys(s for s in (T.WAITING, T.FAILED)) == expect(T.WAITING, T.FAILED)
    assert await keys(list(T)) == expect(*T)
    assert await keys([T.CANCELED]) == []
    assert await keys([]) == []


# -- the four task-status compare-and-sets ------------------------------------------------------------


@dataclass(frozen=True)
class StatusTarget:
    """One compare-and-set method on task-level rows, seen generically."""

    name: str
    rows: str  # the snapshot entry holding the row
    status_field: str
    sets_times: bool
    seed: Callable[[Store, str, TaskStatus], Awaitable[Any]]  # (store, job id, status) -> row key
    call: Callable[..., Awaitable[Any]]  # (store, key, expected, to, error) -> record
    read: Callable[[Store, Any], Awaitable[Any]]
    missing: Callable[[str], Any]  # job id -> key of a row that does not exist in that job


async def _seed_task(store: Store, job_id: str, field: str, status: TaskStatus) -> TaskKey:
    rows = job_rows(job_id)
    rows.tasks[0] = dataclasses.replace(rows.tasks[0], **{field: status})
    await create(store, rows)
    return rows.tasks[0].key


async def _seed_attempt(store: Store, job_id: str, status: TaskStatus) -> AttemptKey:
    rows = job_rows(job_id)
    rows.attempts[0] = dataclasses.replace(rows.attempts[0], status=status)
    await create(store, rows)
    return rows.attempts[0].key


async def _seed_schedule(store: Store, job_id: str, status: TaskStatus) -> TaskKey:
    rows = job_rows(job_id)
    rows.schedule[0] = dataclasses.replace(rows.schedule[0], status=status)
    await create(store, rows)
    return rows.schedule[0].key


async def read_schedule(store: Store, key: TaskKey) -> ScheduleTaskRecord:
    rows = await store.list_schedule_tasks(key.job_id, task_name=key.task_name, attempt=key.attempt)
    (record,) = [r for r in rows if r.key == key]
    return record


TARGETS = [
    StatusTarget(
        "task_party_status",
        "tasks",
        "party_status",
        True,
        lambda s, j, st_: _seed_task(s, j, "party_status", st_),
        lambda s, k, e, t, error="": s.transition_task_party_status(k, expected=e, to=t, error=error),
        lambda s, k: s.get_task(k),
        lambda j: tkey(j, "reader_0", 1),
    ),
    StatusTarget(
        "task_status",
        "tasks",
        "status",
        False,
        lambda s, j, st_: _seed_task(s, j, "status", st_),
        lambda s, k, e, t, error="": s.transition_task_status(k, expected=e, to=t, error=error),
        lambda s, k: s.get_task(k),
        lambda j: tkey(j, "reader_0", 1),
    ),
    StatusTarget(
        "attempt",
        "attempts",
        "status",
        True,
        _seed_attempt,
        lambda s, k, e, t, error="": s.transition_attempt(k, expected=e, to=t, error=error),
        lambda s, k: s.get_attempt(k),
        lambda j: akey(j, "reader_0", 1),
    ),
    StatusTarget(
        "schedule_task",
        "schedule",
        "status",
        True,
        _seed_schedule,
        lambda s, k, e, t, error="": s.transition_schedule_task(k, expected=e, to=t, error=error),
        read_schedule,
        lambda j: tkey(j, "reader_0", 1),
    ),
]


def target_id(target: Any) -> str:
    return target.name if isinstance(target, StatusTarget) else str(target)


def others(snap: dict[str, Any], rows: str, key: Any) -> dict[str, Any]:
    """A snapshot without one row (the row under transition)."""
    return {**snap, rows: [r for r in snap[rows] if r.key != key]}


@pytest.mark.parametrize("target", TARGETS, ids=target_id)
@pytest.mark.parametrize(("current", "to"), TASK_ALLOWED, ids=str)
async def test_task_transition_allowed_pair_applies(
    store: Store, clock: CounterClock, target: StatusTarget, current: TaskStatus, to: TaskStatus
) -> None:
    key = await target.seed(store, "job-1", current)
    await target.seed(store, "job-2", current)
    before, bystander = await snapshot(store, "job-1"), await snapshot(store, "job-2")
    old = await target.read(store, key)

    t0 = clock.last
    record = await target.call(store, key, current, to, error=f"error {to}")

    assert record == await target.read(store, key)
    assert getattr(record, target.status_field) == to
    assert record.error == f"error {to}"
    assert within(record.update_time_ms, t0, clock)
    if target.sets_times:
        if to == T.RUNNING:
            assert within(record.start_time_ms, t0, clock)
        else:
            assert record.start_time_ms == old.start_time_ms
        if to in TASK_END_STATUSES:
            assert within(record.end_time_ms, t0, clock)
        else:
            assert record.end_time_ms == old.end_time_ms
    changed = (target.status_field, "error", "update_time_ms", "start_time_ms", "end_time_ms")
    assert dataclasses.replace(record, **{f: getattr(old, f) for f in changed}) == old
    after = await snapshot(store, "job-1")
    assert others(after, target.rows, key) == others(before, target.rows, key)
    assert await snapshot(store, "job-2") == bystander


@pytest.mark.parametrize("target", TARGETS, ids=target_id)
@pytest.mark.parametrize("current", list(T), ids=str)
async def test_task_transition_disallowed_pairs_raise_invalid_transition(
    store: Store, target: StatusTarget, current: TaskStatus
) -> None:
    """Every `to` outside TASK_TRANSITIONS[current] (including current itself) is refused, writing nothing."""
    key = await target.seed(store, "job-1", current)
    before = await snapshot(store, "job-1")
    refused = [to for to in T if not can_transition_task(current, to)]
    assert current in refused
    for to in refused:
        with raises_code(ErrorCode.INVALID_TRANSITION, f"{target.name} {current}->{to}"):
            await target.call(store, key, current, to, error="nope")
        assert await snapshot(store, "job-1") == before, f"{target.name} {current}->{to} wrote something"


@pytest.mark.parametrize("target", TARGETS, ids=target_id)
@pytest.mark.parametrize(("expected", "to"), TASK_ALLOWED, ids=str)
async def test_task_transition_from_another_status_raises_conflict(
    store: Store, target: StatusTarget, expected: TaskStatus, to: TaskStatus
) -> None:
    for actual in T:
        if actual == expected:
            continue
        job_id = f"job-{actual}"
        key = await target.seed(store, job_id, actual)
        before = await snapshot(store, job_id)
        what = f"{target.name} {expected}->{to} on a {actual} row"
        with raises_code(ErrorCode.CONFLICT, what):
            await target.call(store, key, expected, to, error="nope")
        assert await snapshot(store, job_id) == before, f"{what} wrote something"


@pytest.mark.parametrize("target", TARGETS, ids=target_id)
async def test_task_transition_unknown_row_raises_not_found(store: Store, target: StatusTarget) -> None:
    key = await target.seed(store, "job-1", T.WAITING)
    before = await snapshot(store, "job-1")
    unknown_job = dataclasses.replace(key, job_id="job-2")
    for missing in (unknown_job, target.missing("job-1")):
        with raises_code(ErrorCode.NOT_FOUND):
            await target.call(store, missing, T.WAITING, T.RUNNING)
    assert await snapshot(store, "job-1") == before
    assert await snapshot(store, "job-2") == await snapshot(store, "never-created")


async def test_party_status_and_federated_status_are_separate_columns(store: Store) -> None:
    key = tkey("job-1")
    await store.create_job(job("job-1"), [task(key, status=T.WAITING, party_status=T.RUNNING)])
    with raises_code(ErrorCode.CONFLICT):
        await store.transition_task_status(key, expected=T.RUNNING, to=T.SUCCESS)
    with raises_code(ErrorCode.CONFLICT):
        await store.transition_task_party_status(key, expected=T.WAITING, to=T.RUNNING)

    local = await store.transition_task_party_status(key, expected=T.RUNNING, to=T.SUCCESS)
    assert (local.status, local.party_status) == (T.WAITING, T.SUCCESS)
    federated = await store.transition_task_status(key, expected=T.WAITING, to=T.RUNNING)
    assert (federated.status, federated.party_status) == (T.RUNNING, T.SUCCESS)


async def test_transition_task_party_status_records_pid_and_error(store: Store, clock: CounterClock) -> None:
    rows = await create(store, job_rows("job-1"))
    key = rows.tasks[0].key
    t0 = clock.last
    running = await store.transition_task_party_status(key, expected=T.WAITING, to=T.RUNNING, pid=4242)
    assert running.pid == 4242 and within(running.start_time_ms, t0, clock) and running.end_time_ms == 0

    t1 = clock.last
    failed = await store.transition_task_party_status(key, expected=T.RUNNING, to=T.FAILED, error="oom")
    assert (failed.pid, failed.error, failed.start_time_ms) == (4242, "oom", running.start_time_ms)
    assert within(failed.end_time_ms, t1, clock)
    assert failed.status == T.WAITING

    other = rows.tasks[1].key
    no_pid = await store.transition_task_party_status(other, expected=T.WAITING, to=T.RUNNING)
    assert no_pid.pid == 0


async def test_transition_task_status_records_the_error(store: Store) -> None:
    rows = await create(store, job_rows("job-1"))
    key = rows.tasks[0].key
    await store.transition_task_party_status(key, expected=T.WAITING, to=T.RUNNING, pid=7)
    await store.transition_task_status(key, expected=T.WAITING, to=T.RUNNING)
    record = await store.transition_task_status(key, expected=T.RUNNING, to=T.FAILED, error="host failed")
    assert (record.status, record.error) == (T.FAILED, "host failed")
    assert (record.party_status, record.pid) == (T.RUNNING, 7)


async def test_transition_attempt_records_times_and_error(store: Store, clock: CounterClock) -> None:
    await create(store, job_rows("job-1"))
    key = akey("job-1", "psi_0")
    t0 = clock.last
    running = await store.transition_attempt(key, expected=T.WAITING, to=T.RUNNING)
    assert within(running.start_time_ms, t0, clock) and running.end_time_ms == 0 and running.error == ""
    t1 = clock.last
    done = await store.transition_attempt(key, expected=T.RUNNING, to=T.TIMEOUT, error="deadline")
    assert (done.status, done.error, done.start_time_ms) == (T.TIMEOUT, "deadline", running.start_time_ms)
    assert within(done.end_time_ms, t1, clock)
    assert (done.key, done.component) == (key, "psi")


async def test_transition_schedule_task_uses_reported_times(store: Store, clock: CounterClock) -> None:
    rows = await create(store, job_rows("job-1"))
    key, other = rows.schedule[0].key, rows.schedule[1].key

    running = await store.transition_schedule_task(key, expected=T.WAITING, to=T.RUNNING, start_time_ms=42)
    assert (running.status, running.start_time_ms, running.end_time_ms) == (T.RUNNING, 42, 0)
    done = await store.transition_schedule_task(
        key, expected=T.RUNNING, to=T.SUCCESS, end_time_ms=99, error=""
    )
    assert (done.status, done.start_time_ms, done.end_time_ms) == (T.SUCCESS, 42, 99)

    both = await store.transition_schedule_task(
        other, expected=T.WAITING, to=T.FAILED, start_time_ms=5, end_time_ms=7, error="could not start"
    )
    assert (both.status, both.start_time_ms, both.end_time_ms, both.error) == (
        T.FAILED,
        5,
        7,
        "could not start",
    )

    third = rows.schedule[2].key
    t0 = clock.last
    defaulted = await store.transition_schedule_task(third, expected=T.WAITING, to=T.RUNNING)
    assert within(defaulted.start_time_ms, t0, clock)
    assert await read_schedule(store, key) == done


# -- attempts and schedule rows -----------------------------------------------------------------------


async def test_add_attempts_inserts_attempts_and_schedule_rows(store: Store) -> None:
    await create(store, job_rows("job-1"))
    retry = job_rows("job-1", tasks=[("psi_0", "psi")], attempt_no=1)
    await store.add_attempts(retry.attempts, retry.schedule)
    assert [a.key for a in await store.list_attempts("job-1")] == [
        akey("job-1", "psi_0", 0),
        akey("job-1", "psi_0", 1),
        akey("job-1", "reader_0", 0),
    ]
    got = await store.get_attempt(akey("job-1", "psi_0", 1))
    assert dataclasses.replace(got, update_time_ms=0) == retry.attempts[0]
    scheduled = await store.list_schedule_tasks("job-1", task_name="psi_0", attempt=1)
    assert sorted(
        (dataclasses.replace(s, update_time_ms=0, create_time_ms=0) for s in scheduled), key=schedule_order
    ) == sorted(retry.schedule, key=schedule_order)


async def test_add_attempts_duplicate_attempt_raises_already_exists_and_writes_nothing(store: Store) -> None:
    await create(store, job_rows("job-1"))
    before = await snapshot(store, "job-1")
    third_party = schedule(tkey("job-1", "psi_0", 0, "arbiter", "8888"))
    with raises_code(ErrorCode.ALREADY_EXISTS):
        await store.add_attempts([attempt(akey("job-1", "psi_0", 0), component="other")], [third_party])
    assert await snapshot(store, "job-1") == before


async def test_add_attempts_duplicate_schedule_row_raises_already_exists_and_writes_nothing(
    store: Store,
) -> None:
    await create(store, job_rows("job-1"))
    before = await snapshot(store, "job-1")
    retry = job_rows("job-1", tasks=[("psi_0", "psi")], attempt_no=1)
    with raises_code(ErrorCode.ALREADY_EXISTS):
        await store.add_attempts(retry.attempts, [*retry.schedule, retry.schedule[0]])
    assert await snapshot(store, "job-1") == before
    with raises_code(ErrorCode.NOT_FOUND):
        await store.get_attempt(akey("job-1", "psi_0", 1))


async def test_list_attempts_is_ordered_by_task_and_attempt(store: Store) -> None:
    keys = [("b_0", 1), ("a_0", 10), ("b_0", 0), ("a_0", 2), ("a_0", 0)]
    await store.create_job(job("job-1"), [], [attempt(akey("job-1", *k)) for k in keys])
    await create(store, job_rows("job-2"))
    assert [(a.key.task_name, a.key.attempt) for a in await store.list_attempts("job-1")] == sorted(keys)
    assert await store.list_attempts("job-3") == []


async def test_get_attempt_unknown_raises_not_found(store: Store) -> None:
    await create(store, job_rows("job-1"))
    for key in (akey("job-2"), akey("job-1", "psi_0", 1), akey("job-1", "lr_0")):
        with raises_code(ErrorCode.NOT_FOUND):
            await store.get_attempt(key)


async def test_list_schedule_tasks_filters(store: Store) -> None:
    await create(store, job_rows("job-1"))
    retry = job_rows("job-1", tasks=[("psi_0", "psi")], attempt_no=1)
    await store.add_attempts(retry.attempts, retry.schedule)
    await create(store, job_rows("job-2"))

    async def listed(**kwargs: Any) -> list[tuple[str, str, int, str, str]]:
        return sorted(schedule_order(s) for s in await store.list_schedule_tasks("job-1", **kwargs))

    everything = await listed()
    assert len(everything) == 6 and all(k[0] == "job-1" for k in everything)
    assert await listed(task_name="psi_0") == [k for k in everything if k[1] == "psi_0"]
    assert await listed(attempt=1) == [k for k in everything if k[2] == 1]
    assert await listed(task_name="reader_0", attempt=0) == [
        k for k in everything if k[1:3] == ("reader_0", 0)
    ]
    assert await listed(task_name="reader_0", attempt=1) == []
    assert await store.list_schedule_tasks("job-3") == []


# -- outputs ------------------------------------------------------------------------------------------


async def test_put_output_registers_the_output_and_its_table(store: Store, clock: CounterClock) -> None:
    rows = await create(store, job_rows("job-1"))
    out = output(rows.tasks[0].key)
    t0 = clock.last
    await store.put_output(out, output_table(out))

    (listed,) = await store.list_outputs("job-1")
    assert within(listed.create_time_ms, t0, clock)
    assert dataclasses.replace(listed, create_time_ms=0) == out
    registered = await store.get_table(out.namespace, out.name)
    assert dataclasses.replace(registered, create_time_ms=0) == output_table(out)


async def test_put_output_again_replaces_the_registration(store: Store) -> None:
    rows = await create(store, job_rows("job-1"))
    key = rows.tasks[0].key
    first = dataclasses.replace(output(key), create_time_ms=10)
    await store.put_output(first, output_table(first, count=1, create_time_ms=10))

    same_table = dataclasses.replace(first, create_time_ms=20)
    await store.put_output(same_table, output_table(same_table, count=2, create_time_ms=20))
    assert await store.list_outputs("job-1") == [same_table]
    assert (await store.get_table(first.namespace, first.name)).count == 2

    moved = dataclasses.replace(first, name="renamed", create_time_ms=30)
    await store.put_output(moved, output_table(moved, count=3, create_time_ms=30))
    assert await store.list_outputs("job-1") == [moved]
    assert (await store.get_table(moved.namespace, "renamed")).count == 3


async def test_put_output_keeps_other_output_keys_of_the_same_attempt(store: Store) -> None:
    rows = await create(store, job_rows("job-1"))
    key = rows.tasks[0].key
    train = dataclasses.replace(output(key, "train_output_data"), create_time_ms=1)
    test = dataclasses.replace(output(key, "test_output_data"), create_time_ms=2)
    for out in (train, test):
        await store.put_output(out, output_table(out))
    assert sorted(await store.list_outputs("job-1"), key=lambda o: o.output_key) == [test, train]


async def test_put_output_of_an_unknown_task_writes_nothing(store: Store) -> None:
    await create(store, job_rows("job-1"))
    out = output(tkey("job-1", "lr_0"))
    with pytest.raises(Exception):  # noqa: B017 - the contract names no error code for this case
        await store.put_output(out, output_table(out))
    assert await store.find_table(out.namespace, out.name) is None
    assert await store.list_outputs("job-1") == []


async def test_list_outputs_filters_and_puts_the_latest_attempt_last(store: Store) -> None:
    await create(store, job_rows("job-1"))
    await create(store, job_rows("job-2"))
    retry = job_rows("job-1", tasks=[("psi_0", "psi")], attempt_no=1)
    await store.add_attempts(retry.attempts, retry.schedule)
    await store.add_tasks(retry.tasks)

    registered = []
    for job_id, task_name, attempt_no, party in [
        ("job-1", "psi_0", 1, GUEST),  # registered before attempt 0 on purpose
        ("job-1", "psi_0", 0, GUEST),
        ("job-1", "psi_0", 0, HOST),
        ("job-1", "psi_0", 1, HOST),
        ("job-1", "reader_0", 0, GUEST),
        ("job-1", "reader_0", 0, HOST),
        ("job-2", "psi_0", 0, GUEST),
    ]:
        out = dataclasses.replace(output(tkey(job_id, task_name, attempt_no, *party)), create_time_ms=1)
        await store.put_output(out, output_table(out))
        registered.append(out)

    def expect(job_id: str = "job-1", **filters: str) -> list[OutputKey]:
        return sorted(
            (_out_key(o) for o in registered if o.key.job_id == job_id)
            if not filters
            else (
                _out_key(o)
                for o in registered
                if o.key.job_id == job_id and all(getattr(o.key, f) == v for f, v in filters.items())
            )
        )

    async def listed(job_id: str = "job-1", **filters: str) -> list[OutputKey]:
        found = await store.list_outputs(job_id, **filters)
        _assert_latest_attempt_last(found)
        return sorted(_out_key(o) for o in found)

    assert await listed() == expect()
    assert await listed("job-2") == expect("job-2")
    assert await listed(task_name="psi_0") == expect(task_name="psi_0")
    assert await listed(role="host") == expect(role="host")
    assert await listed(party_id="9999") == expect(party_id="9999")
    assert await listed(task_name="psi_0", role="guest", party_id="9999") == expect(
        task_name="psi_0", role="guest", party_id="9999"
    )
    assert await listed(task_name="lr_0") == []
    assert await listed(role="arbiter") == []
    assert await store.list_outputs("job-3") == []


OutputKey = tuple[str, int, str, str, str]


def _out_key(out: Any) -> OutputKey:
    return (*task_order(out), out.output_key)


def _assert_latest_attempt_last(outputs: list[Any]) -> None:
    for i, earlier in enumerate(outputs):
        for later in outputs[i + 1 :]:
            if earlier.key.task_name == later.key.task_name:
                assert earlier.key.attempt <= later.key.attempt, (
                    "a later attempt is listed before an earlier one"
                )


# -- concurrency --------------------------------------------------------------------------------------

RACERS = 50


def _single_winner(results: list[Any]) -> Any:
    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, BaseException)]
    assert len(winners) == 1, f"{len(winners)} of {len(results)} concurrent compare-and-sets succeeded"
    for loser in losers:
        assert isinstance(loser, FateGrpcError), repr(loser)
        assert loser.code == ErrorCode.CONFLICT, loser
    return winners[0]


async def test_concurrent_job_transitions_from_the_same_status_have_one_winner(store: Store) -> None:
    await create(store, job_rows("job-1"))
    results = await asyncio.gather(
        *(
            store.transition_job("job-1", expected=J.WAITING, to=J.RUNNING, reason=f"racer {i}")
            for i in range(RACERS)
        ),
        return_exceptions=True,
    )
    winner = _single_winner(results)
    assert await store.get_job("job-1") == winner


async def test_concurrent_job_transitions_to_different_statuses_have_one_winner(store: Store) -> None:
    await create(store, job_rows("job-1"))
    targets = sorted(JOB_TRANSITIONS[J.WAITING])
    results = await asyncio.gather(
        *(
            store.transition_job("job-1", expected=J.WAITING, to=targets[i % len(targets)], reason=str(i))
            for i in range(RACERS)
        ),
        return_exceptions=True,
    )
    winner = _single_winner(results)
    final = await store.get_job("job-1")
    assert final == winner
    assert final.status == targets[int(final.status_reason) % len(targets)]


@pytest.mark.parametrize("target", TARGETS, ids=target_id)
async def test_concurrent_task_transitions_from_the_same_status_have_one_winner(
    store: Store, target: StatusTarget
) -> None:
    key = await target.seed(store, "job-1", T.WAITING)
    results = await asyncio.gather(
        *(target.call(store, key, T.WAITING, T.RUNNING, error=f"racer {i}") for i in range(RACERS)),
        return_exceptions=True,
    )
    winner = _single_winner(results)
    assert await target.read(store, key) == winner


async def test_concurrent_writes_to_different_rows_all_apply(store: Store) -> None:
    for i in range(10):
        await create(store, job_rows(f"job-{i}"))
    results = await asyncio.gather(
        *(store.transition_job(f"job-{i}", expected=J.WAITING, to=J.RUNNING) for i in range(10)),
        *(store.set_job_progress(f"job-{i}", 10 * i) for i in range(10)),
        *(store.put_table(table("concurrent", f"t{i}")) for i in range(10)),
    )
    assert len(results) == 30
    for i in range(10):
        record = await store.get_job(f"job-{i}")
        assert (record.status, record.progress) == (J.RUNNING, 10 * i)
        assert await store.find_table("concurrent", f"t{i}") is not None


# -- model-based sequences ----------------------------------------------------------------------------

job_steps = st.lists(st.tuples(st.sampled_from(list(J)), st.sampled_from(list(J))), max_size=12)
task_steps = st.lists(st.tuples(st.sampled_from(list(T)), st.sampled_from(list(T))), max_size=10)
MODEL_SETTINGS = settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@MODEL_SETTINGS
@given(steps=job_steps)
async def test_job_transitions_follow_the_model(
    store: Store, steps: list[tuple[JobStatus, JobStatus]]
) -> None:
    job_id = f"job-{next(_IDS)}"
    await create(store, job_rows(job_id))
    current = J.WAITING
    for expected, to in steps:
        if not can_transition_job(expected, to):
            want: ErrorCode | None = ErrorCode.INVALID_TRANSITION
        elif expected != current:
            want = ErrorCode.CONFLICT
        else:
            want = None
        if want is None:
            current = (await store.transition_job(job_id, expected=expected, to=to)).status
            assert current == to
        else:
            with raises_code(want):
                await store.transition_job(job_id, expected=expected, to=to)
        assert (await store.get_job(job_id)).status == current


@MODEL_SETTINGS
@given(target=st.sampled_from(TARGETS), steps=task_steps)
async def test_task_transitions_follow_the_model(
    store: Store, target: StatusTarget, steps: list[tuple[TaskStatus, TaskStatus]]
) -> None:
    key = await target.seed(store, f"job-{next(_IDS)}", T.WAITING)
    current = T.WAITING
    for expected, to in steps:
        if not can_transition_task(expected, to):
            want: ErrorCode | None = ErrorCode.INVALID_TRANSITION
        elif expected != current:
            want = ErrorCode.CONFLICT
        else:
            want = None
        if want is None:
            current = getattr(await target.call(store, key, expected, to), target.status_field)
            assert current == to
        else:
            with raises_code(want):
                await target.call(store, key, expected, to)
        assert getattr(await target.read(store, key), target.status_field) == current


# -- persistence --------------------------------------------------------------------------------------


async def test_data_survives_close_and_reopen(backend: Backend, store_factory: StoreFactory) -> None:
    if not backend.persistent:
        pytest.skip(f"{backend.name} does not persist")
    store = await store_factory()
    await store.put_table(table("uploaded", "guest", meta={"k": "v"}))
    await seed_everything(store, "job-1")
    await store.set_job_progress("job-1", 60, reason="persisted")
    before = await snapshot(store, "job-1")
    uploaded = await store.get_table("uploaded", "guest")
    await store.close()

    reopened = await store_factory()
    assert await snapshot(reopened, "job-1") == before
    assert await reopened.get_table("uploaded", "guest") == uploaded
    for out in before["outputs"]:
        assert await reopened.find_table(out.namespace, out.name) is not None
    # The reopened store is fully usable, including compare-and-set against the persisted status.
    with raises_code(ErrorCode.CONFLICT):
        await reopened.transition_job("job-1", expected=J.WAITING, to=J.RUNNING)
    done = await reopened.transition_job("job-1", expected=J.RUNNING, to=J.SUCCESS)
    assert done.progress == 60


# -- unfinished jobs per party ------------------------------------------------------------------------


async def test_count_unfinished_jobs_counts_waiting_and_running_jobs_a_party_initiated_or_schedules(
    store: Store,
) -> None:
    for job_id, status, initiator, scheduler in [
        ("job-1", J.WAITING, "9999", "9999"),
        ("job-2", J.RUNNING, "9999", "10000"),
        ("job-3", J.RUNNING, "10000", "9999"),
        ("job-4", J.SUCCESS, "9999", "9999"),
        ("job-5", J.FAILED, "9999", "9999"),
        ("job-6", J.WAITING, "10000", "10000"),
        ("job-7", J.CANCELED, "10000", "10000"),
    ]:
        await store.create_job(
            job(job_id, status=status, initiator_party_id=initiator, scheduler_party_id=scheduler), []
        )
    assert await store.count_unfinished_jobs("9999") == 3
    assert await store.count_unfinished_jobs("10000") == 3
    assert await store.count_unfinished_jobs("8888") == 0

    await store.transition_job("job-2", expected=J.RUNNING, to=J.SUCCESS)
    assert await store.count_unfinished_jobs("9999") == 2
    assert await store.count_unfinished_jobs("10000") == 2
    await store.transition_job("job-5", expected=J.FAILED, to=J.WAITING)
    assert await store.count_unfinished_jobs("9999") == 3
    await store.delete_job("job-1")
    assert await store.count_unfinished_jobs("9999") == 2


# -- client tokens ------------------------------------------------------------------------------------


def token(name: str, token_hash: str = "", **overrides: Any) -> TokenRecord:
    return TokenRecord(token_hash=token_hash or f"sha256-of-{name}", name=name, **overrides)


async def test_put_token_then_find_it_by_hash(store: Store, clock: CounterClock) -> None:
    record = token("alice", is_admin=True, expire_time_ms=9_000_000)
    t0 = clock.last
    await store.put_token(record)
    found = await store.find_token(record.token_hash)
    assert found is not None
    assert within(found.create_time_ms, t0, clock)
    assert dataclasses.replace(found, create_time_ms=0) == record
    assert await store.find_token("sha256-of-nobody") is None
    assert await store.find_token("alice") is None  # looked up by hash, not by name


async def test_put_token_keeps_a_given_create_time(store: Store) -> None:
    await store.put_token(token("alice", create_time_ms=5))
    assert await store.find_token("sha256-of-alice") == token("alice", create_time_ms=5)


async def test_put_token_with_a_taken_name_raises_already_exists_and_keeps_the_first(store: Store) -> None:
    await store.put_token(token("alice", create_time_ms=5))
    with raises_code(ErrorCode.ALREADY_EXISTS):
        await store.put_token(token("alice", "another-hash", is_admin=True))
    assert await store.list_tokens() == [token("alice", create_time_ms=5)]
    assert await store.find_token("another-hash") is None


async def test_list_tokens_is_ordered_by_name(store: Store) -> None:
    for name in ("carol", "alice", "bob"):
        await store.put_token(token(name, create_time_ms=1))
    assert [t.name for t in await store.list_tokens()] == ["alice", "bob", "carol"]
    assert await store.list_tokens() == [token(n, create_time_ms=1) for n in ("alice", "bob", "carol")]


async def test_delete_token_by_name(store: Store) -> None:
    for name in ("alice", "bob"):
        await store.put_token(token(name, create_time_ms=1))
    assert await store.delete_token("alice") is True
    assert await store.delete_token("alice") is False
    assert await store.delete_token("sha256-of-bob") is False  # deleted by name, not by hash
    assert await store.find_token("sha256-of-alice") is None
    assert await store.list_tokens() == [token("bob", create_time_ms=1)]
    await store.put_token(token("alice", create_time_ms=2))  # the name is free again
    assert [t.name for t in await store.list_tokens()] == ["alice", "bob"]


# -- grants -------------------------------------------------------------------------------------------


def grant(party_id: str, kind: str, value: str, create_time_ms: int = 0) -> GrantRecord:
    return GrantRecord(party_id=party_id, kind=kind, value=value, create_time_ms=create_time_ms)


GRANTS = [
    grant("10000", "job", "*", 1),
    grant("9999", "dataset", "experiment/*", 2),
    grant("10000", "component", "psi", 3),
    grant("9999", "component", "reader", 4),
    grant("10000", "component", "coordinated_lr", 5),
    grant("9999", "component", "psi", 6),
]


def grant_order(g: GrantRecord) -> tuple[str, str, str]:
    return (g.party_id, g.kind, g.value)


async def test_add_grants_then_list_them_ordered(store: Store) -> None:
    await store.add_grants(GRANTS)
    assert await store.list_grants() == sorted(GRANTS, key=grant_order)
    assert await store.list_grants("9999") == sorted(
        (g for g in GRANTS if g.party_id == "9999"), key=grant_order
    )
    assert await store.list_grants("8888") == []


async def test_add_grants_takes_the_clock_when_no_create_time_is_given(
    store: Store, clock: CounterClock
) -> None:
    t0 = clock.last
    await store.add_grants([grant("9999", "job", "*")])
    (got,) = await store.list_grants()
    assert within(got.create_time_ms, t0, clock)


async def test_add_grants_keeps_present_grants_as_they_are(store: Store) -> None:
    await store.add_grants(GRANTS[:2])
    again = [dataclasses.replace(g, create_time_ms=100 + i) for i, g in enumerate(GRANTS)]
    await store.add_grants([*again, again[-1]])
    want = [*GRANTS[:2], *again[2:]]
    assert await store.list_grants() == sorted(want, key=grant_order)


async def test_remove_grants_of_a_party_a_kind_or_one(store: Store) -> None:
    await store.add_grants(GRANTS)
    assert await store.remove_grants("10000", "component", "psi") == 1
    assert await store.remove_grants("10000", "component", "psi") == 0
    assert await store.remove_grants("9999", "component") == 2
    assert await store.list_grants() == sorted(
        (g for g in GRANTS if (g.party_id, g.kind) not in {("9999", "component")} and g != GRANTS[2]),
        key=grant_order,
    )
    assert await store.remove_grants("10000") == 2
    assert await store.remove_grants("10000") == 0
    assert await store.remove_grants("8888") == 0
    assert await store.list_grants() == [GRANTS[1]]
