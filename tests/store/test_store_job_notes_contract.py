"""Store contract: users' notes on jobs (FATE's description, `flow job add-notes`)."""

from __future__ import annotations

import dataclasses

import pytest

from fate_grpc.domain.status import JobStatus
from fate_grpc.errors import ErrorCode, FateGrpcError
from fate_grpc.store.interface import Store

from .builders import job


async def test_a_new_job_has_no_notes(store: Store) -> None:
    await store.create_job(job("job-1"), [])
    assert (await store.get_job("job-1")).description == ""


async def test_set_job_description_replaces_the_notes_and_returns_the_record(store: Store) -> None:
    await store.create_job(job("job-1"), [])
    await store.set_job_description("job-1", "first try")

    updated = await store.set_job_description("job-1", "breast, 569 rows — second try")

    assert updated.description == "breast, 569 rows — second try"
    assert await store.get_job("job-1") == updated


async def test_set_job_description_leaves_status_and_times_alone(store: Store) -> None:
    await store.create_job(job("job-1"), [])
    await store.transition_job("job-1", expected=JobStatus.WAITING, to=JobStatus.RUNNING)
    before = await store.get_job("job-1")

    after = await store.set_job_description("job-1", "notes")

    assert dataclasses.replace(after, description="", update_time_ms=0) == dataclasses.replace(
        before, update_time_ms=0
    )
    assert after.update_time_ms >= before.update_time_ms


async def test_set_job_description_of_an_unknown_job_is_not_found(store: Store) -> None:
    with pytest.raises(FateGrpcError) as caught:
        await store.set_job_description("job-404", "notes")
    assert caught.value.code is ErrorCode.NOT_FOUND


async def test_notes_are_listed_with_the_job(store: Store) -> None:
    await store.create_job(job("job-1"), [])
    await store.set_job_description("job-1", "kept")
    assert [j.description for j in await store.list_jobs()] == ["kept"]
