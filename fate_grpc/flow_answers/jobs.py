"""Jobs, tasks, job dependencies and providers as FATE's JSON rows (FATE's field names where it has them)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fate_grpc.client.v1 import client_pb2, jobs_pb2
from fate_grpc.common.v1 import common_pb2
from fate_grpc.domain.dag import load_dag_document
from fate_grpc.errors import FateGrpcError


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


def dependency_data(answer: jobs_pb2.GetJobDependencyResponse) -> dict[str, Any]:
    """FATE's shape: component_list, component_stage, component_module, dependencies."""
    dependencies: dict[str, list[dict[str, Any]]] = {}
    for task_node in answer.tasks:
        edges: list[dict[str, Any]] = [
            {
                "type": u.input_key,
                "model_type": u.kind,
                "component_name": u.producer_task,
                "up_output_info": [u.output_artifact_key],
            }
            for u in task_node.upstreams
        ]
        dependencies[task_node.task_name] = edges or [{"up_output_info": []}]
    return {
        "component_list": [t.task_name for t in answer.tasks],
        "component_stage": {t.task_name: t.stage for t in answer.tasks},
        "component_module": {t.task_name: t.component for t in answer.tasks},
        "dependencies": dependencies,
    }


def provider_filter(name: str, device: str, version: str, provider_name: str) -> tuple[str, str, str]:
    """(name, version, device) from FATE's flags; --provider-name is name:version@device."""
    if provider_name:
        head, _, device_part = provider_name.partition("@")
        name_part, _, version_part = head.partition(":")
        name, version, device = name or name_part, version or version_part, device or device_part
    return name, version, device


def provider_row(info: client_pb2.ProviderInfo) -> dict[str, Any]:
    return {
        "provider_name": f"{info.name}:{info.version}@{info.device}",
        "name": info.name,
        "version": info.version,
        "device": info.device,
        "components": list(info.components),
        "builtin": info.builtin,
        "metadata": {"module": info.module, "path": info.path} if not info.builtin else {},
    }
