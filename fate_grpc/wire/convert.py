"""Conversions between proto messages and domain values/records."""

from __future__ import annotations

import time
from typing import Any, cast

from google.protobuf import json_format, struct_pb2

from fate_grpc.common.v1 import common_pb2
from fate_grpc.domain.status import JobStatus, TaskStatus, task_progress
from fate_grpc.errors import invalid_argument
from fate_grpc.store.records import MetricRecord, ModelRecord, ScheduleTaskRecord, TableRecord, TaskRecord


def task_status_to_proto(status: TaskStatus) -> common_pb2.TaskStatus.ValueType:
    return cast(common_pb2.TaskStatus.ValueType, common_pb2.TaskStatus.Value(f"TASK_STATUS_{status.name}"))


def task_status_from_proto(value: int, field_path: str = "status") -> TaskStatus:
    name = (
        common_pb2.TaskStatus.Name(common_pb2.TaskStatus.ValueType(value))
        if value in common_pb2.TaskStatus.values()
        else ""
    )
    if not name or name == "TASK_STATUS_UNSPECIFIED":
        raise invalid_argument(f"{field_path} must be a task status", field_path=field_path)
    return TaskStatus[name.removeprefix("TASK_STATUS_")]


def job_status_to_proto(status: JobStatus) -> common_pb2.JobStatus.ValueType:
    return cast(common_pb2.JobStatus.ValueType, common_pb2.JobStatus.Value(f"JOB_STATUS_{status.name}"))


def job_status_from_proto(value: int, field_path: str = "status") -> JobStatus:
    name = (
        common_pb2.JobStatus.Name(common_pb2.JobStatus.ValueType(value))
        if value in common_pb2.JobStatus.values()
        else ""
    )
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
        update_time_ms=record.update_time_ms,
        create_time_ms=record.create_time_ms,
        error=record.error,
        progress=task_progress(status, record.progress),
    )


MAX_METRIC_POINTS_PER_REPORT = 100_000


def python_from_value(message: struct_pb2.Value) -> Any:
    """A Value as plain Python; whole numbers come back as ints (Value keeps every number as a double)."""
    return _whole_numbers_as_int(json_format.MessageToDict(message))


def value_from_python(value: Any) -> struct_pb2.Value:
    message = struct_pb2.Value()
    json_format.ParseDict(value, message)
    return message


def _whole_numbers_as_int(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, list):
        return [_whole_numbers_as_int(v) for v in value]
    if isinstance(value, dict):
        return {k: _whole_numbers_as_int(v) for k, v in value.items()}
    return value


def metric_from_proto(message: common_pb2.Metric) -> MetricRecord:
    if not message.name or len(message.name) > 128:
        raise invalid_argument("a metric needs a name of 1 to 128 characters", field_path="metrics.name")
    if len(message.type) > 64 or len(message.groups) > 32:
        raise invalid_argument("a metric's type or groups are too long", field_path="metrics.type")
    if len(message.data) > MAX_METRIC_POINTS_PER_REPORT:
        raise invalid_argument("too many metric values in one report", field_path="metrics.data")
    return MetricRecord(
        name=message.name,
        type=message.type,  # "" is FATE's untyped metric (shown as null), not "custom"
        groups=tuple((g.name, g.index if g.HasField("index") else None) for g in message.groups),
        step_axis=message.step_axis if message.HasField("step_axis") else None,
        data=tuple(
            {
                "metric": python_from_value(point.metric),
                "step": point.step if point.HasField("step") else None,
                "timestamp": point.timestamp,
            }
            for point in message.data
        ),
    )


def metric_to_proto(record: MetricRecord, *, with_data: bool = True) -> common_pb2.Metric:
    message = common_pb2.Metric(name=record.name, type=record.type)
    for name, index in record.groups:
        group = message.groups.add(name=name)
        if index is not None:
            group.index = index
    if record.step_axis is not None:
        message.step_axis = record.step_axis
    if with_data:
        for point in record.data:
            added = message.data.add(metric=value_from_python(point["metric"]), timestamp=point["timestamp"])
            if point.get("step") is not None:
                added.step = int(point["step"])
    return message


def model_to_proto(model: ModelRecord) -> common_pb2.ModelInfo:
    return common_pb2.ModelInfo(
        model_id=model.model_id,
        model_version=model.model_version,
        role=model.role,
        party_id=model.party_id,
        task_name=model.task_name,
        output_key=model.output_key,
        job_id=model.job_id,
        component=model.component,
        type_name=model.type_name,
        size=model.size,
        create_time_ms=model.create_time_ms,
    )
