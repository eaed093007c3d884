"""Conversions between proto messages and domain values/records."""

from __future__ import annotations

import time
from typing import Any, cast

from google.protobuf import json_format, struct_pb2

from fate_grpc.common.v1 import common_pb2
from fate_grpc.domain.status import JobStatus, TaskStatus
from fate_grpc.errors import invalid_argument
from fate_grpc.store.records import ScheduleTaskRecord, TableRecord, TaskRecord


def task_status_to_proto(status: TaskStatus) -> common_pb2.TaskStatus:
    return cast(common_pb2.TaskStatus, common_pb2.TaskStatus.Value(f"TASK_STATUS_{status.name}"))


def task_status_from_proto(value: int, field_path: str = "status") -> TaskStatus:
    name = common_pb2.TaskStatus.Name(value) if value in common_pb2.TaskStatus.values() else ""
    if not name or name == "TASK_STATUS_UNSPECIFIED":
        raise invalid_argument(f"{field_path} must be a task status", field_path=field_path)
    return TaskStatus[name.removeprefix("TASK_STATUS_")]


def job_status_to_proto(status: JobStatus) -> common_pb2.JobStatus:
    return cast(common_pb2.JobStatus, common_pb2.JobStatus.Value(f"JOB_STATUS_{status.name}"))


def job_status_from_proto(value: int, field_path: str = "status") -> JobStatus:
    name = common_pb2.JobStatus.Name(value) if value in common_pb2.JobStatus.values() else ""
    if not name or name == "JOB_STATUS_UNSPECIFIED":
        raise invalid_argument(f"{field_path} must be a job status", field_path=field_path)
    return JobStatus[name.removeprefix("JOB_STATUS_")]


def table_to_proto(table: TableRecord) -> common_pb2.TableInfo:
    info = common_pb2.TableInfo(
        namespace=table.namespace,
        name=table.name,
        count=table.count,
        header=list(table.header),
        match_id_name=table.match_id_name,
        label_name=table.label_name,
        weight_name=table.weight_name,
        delimiter=table.delimiter,
        create_time_ms=table.create_time_ms,
    )
    info.meta.update(table.meta)
    return info


def struct_from_dict(values: dict[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    json_format.ParseDict(values, message)
    return message


def dict_from_struct(message: struct_pb2.Struct) -> dict[str, Any]:
    return json_format.MessageToDict(message)


def elapsed_ms(start_ms: int, end_ms: int, now_ms: int) -> int:
    if not start_ms:
        return 0
    return max(0, (end_ms or now_ms) - start_ms)


def now_ms() -> int:
    return int(time.time() * 1000)


def task_view(
    record: TaskRecord | ScheduleTaskRecord,
    component: str,
    now: int,
    *,
    status: TaskStatus | None = None,
) -> common_pb2.TaskView:
    """A row as the API shows it; `status` overrides the row's (e.g. a party's local status)."""
    key = record.key
    status = status or record.status
    return common_pb2.TaskView(
        job_id=key.job_id,
        task_name=key.task_name,
        attempt=key.attempt,
        component=component,
        role=key.role,
        party_id=key.party_id,
        status=task_status_to_proto(status),
        start_time_ms=record.start_time_ms,
        end_time_ms=record.end_time_ms,
        elapsed_ms=elapsed_ms(record.start_time_ms, record.end_time_ms, now),
        error=record.error,
        progress=record.progress,
    )
