"""Mapping SQLite rows to store records."""

from __future__ import annotations

import json
import sqlite3

from fate_grpc.domain.status import JobStatus, TaskStatus
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


def row_key(row: sqlite3.Row) -> TaskKey:
    return TaskKey(row["job_id"], row["task_name"], row["attempt"], row["role"], row["party_id"])


def table_record(row: sqlite3.Row) -> TableRecord:
    return TableRecord(
        namespace=row["namespace"],
        name=row["name"],
        path=row["path"],
        count=row["row_count"],
        header=tuple(json.loads(row["header"])),
        match_id_name=row["match_id_name"],
        label_name=row["label_name"],
        weight_name=row["weight_name"],
        delimiter=row["delimiter"],
        meta=json.loads(row["meta"]),
        source_job_id=row["source_job_id"],
        source_task=row["source_task"],
        create_time_ms=row["create_time_ms"],
    )


def job_record(row: sqlite3.Row) -> JobRecord:
    return JobRecord(
        job_id=row["job_id"],
        dag_yaml=row["dag_yaml"],
        initiator_party_id=row["initiator_party_id"],
        scheduler_party_id=row["scheduler_party_id"],
        is_scheduler=bool(row["is_scheduler"]),
        status=JobStatus(row["status"]),
        status_reason=row["status_reason"],
        user_name=row["user_name"],
        priority=row["priority"],
        progress=row["progress"],
        create_time_ms=row["create_time_ms"],
        start_time_ms=row["start_time_ms"],
        end_time_ms=row["end_time_ms"],
        update_time_ms=row["update_time_ms"],
        cores=row["cores"],
        resources_held=bool(row["resources_held"]),
        description=row["description"],
    )


def task_record(row: sqlite3.Row) -> TaskRecord:
    return TaskRecord(
        key=row_key(row),
        component=row["component"],
        status=TaskStatus(row["status"]),
        party_status=TaskStatus(row["party_status"]),
        error=row["error"],
        pid=row["pid"],
        start_time_ms=row["start_time_ms"],
        end_time_ms=row["end_time_ms"],
        update_time_ms=row["update_time_ms"],
        progress=row["progress"],
        traceback=row["traceback"],
        create_time_ms=row["create_time_ms"],
    )


def schedule_record(row: sqlite3.Row) -> ScheduleTaskRecord:
    return ScheduleTaskRecord(
        key=row_key(row),
        status=TaskStatus(row["status"]),
        error=row["error"],
        start_time_ms=row["start_time_ms"],
        end_time_ms=row["end_time_ms"],
        update_time_ms=row["update_time_ms"],
        progress=row["progress"],
        create_time_ms=row["create_time_ms"],
    )


def attempt_record(row: sqlite3.Row) -> TaskAttemptRecord:
    return TaskAttemptRecord(
        key=AttemptKey(row["job_id"], row["task_name"], row["attempt"]),
        component=row["component"],
        status=TaskStatus(row["status"]),
        error=row["error"],
        start_time_ms=row["start_time_ms"],
        end_time_ms=row["end_time_ms"],
        update_time_ms=row["update_time_ms"],
        not_before_ms=row["not_before_ms"],
    )


def output_record(row: sqlite3.Row) -> OutputRecord:
    return OutputRecord(
        key=row_key(row),
        output_key=row["output_key"],
        namespace=row["namespace"],
        name=row["name"],
        kind=row["kind"],
        create_time_ms=row["create_time_ms"],
    )
