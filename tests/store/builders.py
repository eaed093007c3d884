"""Small builders of store records and a helper to capture everything a store holds about a job."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fate_grpc.domain.status import JobStatus, TaskStatus
from fate_grpc.store.interface import Store
from fate_grpc.store.records import (
    AttemptKey,
    JobRecord,
    OutputRecord,
    ScheduleTaskRecord,
    TableRecord,
    TaskAttemptRecord,
    TaskKey,
    TaskRecord,
)

GUEST = ("guest", "9999")
HOST = ("host", "10000")
PARTIES = (GUEST, HOST)
TASKS = (("reader_0", "reader"), ("psi_0", "psi"))


def job(
    job_id: str = "job-1",
    *,
    status: JobStatus = JobStatus.WAITING,
    is_scheduler: bool = True,
    **overrides: Any,
) -> JobRecord:
    values: dict[str, Any] = {
        "dag_yaml": f"dag: {job_id}\n",
        "initiator_party_id": "9999",
        "scheduler_party_id": "9999",
        "user_name": "alice",
        "priority": 1,
    }
    values.update(overrides)
    return JobRecord(job_id=job_id, is_scheduler=is_scheduler, status=status, **values)


def tkey(
    job_id: str = "job-1",
    task_name: str = "psi_0",
    attempt: int = 0,
    role: str = GUEST[0],
    party_id: str = GUEST[1],
) -> TaskKey:
    return TaskKey(job_id, task_name, attempt, role, party_id)


def task(
    key: TaskKey,
    *,
    component: str = "psi",
    status: TaskStatus = TaskStatus.WAITING,
    party_status: TaskStatus = TaskStatus.WAITING,
    error: str = "",
) -> TaskRecord:
    return TaskRecord(key=key, component=component, status=status, party_status=party_status, error=error)


def akey(job_id: str = "job-1", task_name: str = "psi_0", attempt: int = 0) -> AttemptKey:
    return AttemptKey(job_id, task_name, attempt)


def attempt(
    key: AttemptKey, *, component: str = "psi", status: TaskStatus = TaskStatus.WAITING, error: str = ""
) -> TaskAttemptRecord:
    return TaskAttemptRecord(key=key, component=component, status=status, error=error)


def schedule(key: TaskKey, *, status: TaskStatus = TaskStatus.WAITING, error: str = "") -> ScheduleTaskRecord:
    return ScheduleTaskRecord(key=key, status=status, error=error)


def table(namespace: str = "experiment", name: str = "breast", **overrides: Any) -> TableRecord:
    values: dict[str, Any] = {
        "path": f"tables/{namespace}/{name}.csv",
        "count": 569,
        "header": ("id", "y", "x0", "x1"),
        "match_id_name": "id",
        "label_name": "y",
    }
    values.update(overrides)
    return TableRecord(namespace=namespace, name=name, **values)


def output(
    key: TaskKey, output_key: str = "output_data", *, namespace: str = "", name: str = ""
) -> OutputRecord:
    namespace = namespace or f"output_{key.job_id}"
    name = name or f"{key.task_name}_{key.attempt}_{key.role}_{key.party_id}_{output_key}"
    return OutputRecord(key=key, output_key=output_key, namespace=namespace, name=name)


def output_table(out: OutputRecord, **overrides: Any) -> TableRecord:
    return table(
        out.namespace, out.name, source_job_id=out.key.job_id, source_task=out.key.task_name, **overrides
    )


@dataclass
class JobRows:
    """A job with one task row per (task, party), one attempt per task and one schedule row per task row."""

    job: JobRecord
    tasks: list[TaskRecord] = field(default_factory=list)
    attempts: list[TaskAttemptRecord] = field(default_factory=list)
    schedule: list[ScheduleTaskRecord] = field(default_factory=list)


def job_rows(
    job_id: str = "job-1",
    *,
    status: JobStatus = JobStatus.WAITING,
    is_scheduler: bool = True,
    tasks: Sequence[tuple[str, str]] = TASKS,
    parties: Sequence[tuple[str, str]] = PARTIES,
    attempt_no: int = 0,
    **job_overrides: Any,
) -> JobRows:
    rows = JobRows(job(job_id, status=status, is_scheduler=is_scheduler, **job_overrides))
    for task_name, component in tasks:
        rows.attempts.append(attempt(akey(job_id, task_name, attempt_no), component=component))
        for role, party_id in parties:
            key = TaskKey(job_id, task_name, attempt_no, role, party_id)
            rows.tasks.append(task(key, component=component))
            if is_scheduler:
                rows.schedule.append(schedule(key))
    if not is_scheduler:
        rows.attempts.clear()
    return rows


async def create(store: Store, rows: JobRows) -> JobRows:
    await store.create_job(rows.job, rows.tasks, rows.attempts, rows.schedule)
    return rows


async def snapshot(store: Store, job_id: str) -> dict[str, Any]:
    """Everything the store returns about a job, for "nothing was written" assertions."""
    return {
        "job": await store.find_job(job_id),
        "tasks": await store.list_tasks(job_id),
        "attempts": await store.list_attempts(job_id),
        "schedule": sorted(await store.list_schedule_tasks(job_id), key=schedule_order),
        "outputs": await store.list_outputs(job_id),
    }


def task_order(record: TaskRecord | ScheduleTaskRecord | OutputRecord) -> tuple[str, int, str, str]:
    key = record.key
    return (key.task_name, key.attempt, key.role, key.party_id)


def schedule_order(record: ScheduleTaskRecord) -> tuple[str, str, int, str, str]:
    return (record.key.job_id, *task_order(record))
