"""Proto views -> the JSON rows flow prints (FATE's field names where FATE has them)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from google.protobuf import json_format

from fate_grpc.common.v1 import common_pb2
from fate_grpc.domain.dag import load_dag_document
from fate_grpc.errors import FateGrpcError
from fate_grpc.wire.convert import python_from_value


def job_status_name(value: int) -> str:
    return (
        common_pb2.JobStatus.Name(common_pb2.JobStatus.ValueType(value)).removeprefix("JOB_STATUS_").lower()
    )


def task_status_name(value: int) -> str:
    return (
        common_pb2.TaskStatus.Name(common_pb2.TaskStatus.ValueType(value))
        .removeprefix("TASK_STATUS_")
        .lower()
    )


def epoch_ms(ms: int) -> int | None:
    """FATE's time form: unix milliseconds, None while unset."""
    return ms or None


def job_row(view: common_pb2.JobView, party: common_pb2.PartyJobView) -> dict[str, Any]:
    """A job at one party, with FATE's field names (times in unix ms, elapsed in ms)."""
    return {
        "job_id": view.job_id,
        "role": party.role,
        "party_id": party.party_id,
        "status": job_status_name(party.status),
        "status_reason": view.status_reason,
        "progress": view.progress,
        "description": party.description,
        "initiator_party_id": view.initiator_party_id,
        "scheduler_party_id": view.scheduler_party_id,
        "stage": view.stage,
        "create_time": epoch_ms(view.create_time_ms),
        "update_time": epoch_ms(view.update_time_ms),
        "start_time": epoch_ms(view.start_time_ms),
        "end_time": epoch_ms(view.end_time_ms),
        "elapsed": view.elapsed_ms,
    }


def job_rows(view: common_pb2.JobView) -> list[dict[str, Any]]:
    """One row per party, like FATE's job query, with each party's task statuses and, when the
    answer carries it, the submitted DAG (FATE's `dag`)."""
    dag = _dag(view.dag_yaml)
    rows = []
    for party in view.parties:
        tasks = [t for t in view.tasks if t.party_id == party.party_id and t.role == party.role]
        row = job_row(view, party)
        row["tasks"] = {t.task_name: task_status_name(t.status) for t in tasks}
        if party.unreachable_since_ms:  # only while the scheduler cannot reach that party
            row["unreachable_since"] = party.unreachable_since_ms
            row["unreachable_reason"] = party.unreachable_reason
        if dag is not None:
            row["dag"] = dag
        rows.append(row)
    return rows


def job_list_rows(view: common_pb2.JobView) -> list[dict[str, Any]]:
    """The rows of a job at the answering party (one per role it plays), with its partners."""
    own = [p for p in view.parties if p.party_id == view.answered_by_party_id] or list(view.parties)[:1]
    partners = sorted({p.party_id for p in view.parties} - {view.answered_by_party_id})
    return [
        {
            **job_row(view, party),
            "partners": partners,
            "parties": [f"{p.role} {p.party_id}" for p in view.parties],
        }
        for party in own
    ]


def task_rows(tasks: Iterable[common_pb2.TaskView], *, traceback: bool = False) -> list[dict[str, Any]]:
    return [
        {
            **({"traceback": t.traceback} if traceback and t.traceback else {}),
            "job_id": t.job_id,
            "task_name": t.task_name,
            "task_id": f"{t.job_id}_{t.task_name}",
            "task_version": t.attempt,
            "component": t.component,
            "role": t.role,
            "party_id": t.party_id,
            "status": task_status_name(t.status),
            "create_time": epoch_ms(t.create_time_ms),
            "update_time": epoch_ms(t.update_time_ms),
            "start_time": epoch_ms(t.start_time_ms),
            "end_time": epoch_ms(t.end_time_ms),
            "elapsed": t.elapsed_ms,
            "progress": t.progress,
            "error": t.error,
        }
        for t in tasks
    ]


def _dag(dag_yaml: str) -> Any:
    if not dag_yaml:
        return None
    try:
        # The node's own YAML 1.2 reading, so `1e-06` shows as the number the components receive.
        return load_dag_document(dag_yaml)
    except FateGrpcError:
        return dag_yaml


def table_info(info: common_pb2.TableInfo) -> dict[str, Any]:
    return {
        "namespace": info.namespace,
        "name": info.name,
        "count": info.count,
        "header": list(info.header),
        "match_id_name": info.match_id_name,
        "label_name": info.label_name,
        "weight_name": info.weight_name,
        "delimiter": info.delimiter,
        "create_time": epoch_ms(info.create_time_ms),
        "meta": json_format.MessageToDict(info.meta),
    }


def metric_to_json(message: common_pb2.Metric, *, with_data: bool = True) -> dict[str, Any]:
    """FATE's metric record: name, type, groups [{name, index}], step_axis, data [{metric, step, ...}]."""
    record: dict[str, Any] = {
        "name": message.name,
        "type": message.type or None,  # FATE writes null for a metric logged without a type
        "groups": [
            {"name": g.name, "index": g.index if g.HasField("index") else None} for g in message.groups
        ],
        "step_axis": message.step_axis if message.HasField("step_axis") else None,
    }
    if with_data:
        record["data"] = [
            {
                "metric": python_from_value(p.metric),
                "step": p.step if p.HasField("step") else None,
                "timestamp": p.timestamp,
            }
            for p in message.data
        ]
    return record
