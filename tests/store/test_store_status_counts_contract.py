"""Store contract: counts of jobs and tasks by status (read by the node's metrics at each scrape)."""

from __future__ import annotations

from fate_grpc.domain.status import JobStatus, TaskStatus
from fate_grpc.store.interface import Store

from .builders import job, task, tkey


async def test_an_empty_store_counts_zero_for_every_status(store: Store) -> None:
    assert await store.count_jobs_by_status() == dict.fromkeys(JobStatus, 0)
    assert await store.count_tasks_by_status() == dict.fromkeys(TaskStatus, 0)


async def test_counts_follow_transitions(store: Store) -> None:
    await store.create_job(job("job-1"), [task(tkey("job-1", "reader_0")), task(tkey("job-1", "psi_0"))])
    await store.create_job(job("job-2"), [])
    await store.transition_job("job-1", expected=JobStatus.WAITING, to=JobStatus.RUNNING)
    await store.transition_task_party_status(
        tkey("job-1", "reader_0"), expected=TaskStatus.WAITING, to=TaskStatus.RUNNING
    )

    jobs = await store.count_jobs_by_status()
    tasks = await store.count_tasks_by_status()

    assert (jobs[JobStatus.WAITING], jobs[JobStatus.RUNNING], jobs[JobStatus.SUCCESS]) == (1, 1, 0)
    assert (tasks[TaskStatus.WAITING], tasks[TaskStatus.RUNNING], tasks[TaskStatus.SUCCESS]) == (1, 1, 0)
    assert set(jobs) == set(JobStatus) and set(tasks) == set(TaskStatus)
