"""The board's JSON shapes of jobs, tasks and the DAG, from the user API's messages (pure)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message

from fate_grpc.board.layout import layered_layout
from fate_grpc.common.v1 import common_pb2
from fate_grpc.domain.status import TaskStatus, federated_task_status

# One graph node per task: its edges come from every party's view of its inputs.
TaskUpstreams = Mapping[str, tuple[str, Sequence[tuple[str, str]]]]
"""task -> (component, [(producer task, "output key -> input key")])."""


def plain(message: Message) -> dict[str, Any]:
    """A message as JSON-able Python with the proto's field names and every field present."""
    return json_format.MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )


def status_name(value: str) -> str:
    """ "JOB_STATUS_SUCCESS" / "TASK_STATUS_RUNNING" -> "success" / "running" (as flow prints them)."""
    for prefix in ("JOB_STATUS_", "TASK_STATUS_"):
        if value.startswith(prefix):
            return value.removeprefix(prefix).lower()
    return value.lower()


def task_row(task: common_pb2.TaskView) -> dict[str, Any]:
    row = plain(task)
    row["status"] = status_name(row["status"])
    return row


def job_summary(job: common_pb2.JobView) -> dict[str, Any]:
    """A job without its tasks, statuses in flow's words."""
    summary = plain(job)
    summary.pop("tasks", None)
    summary.pop("dag_yaml", None)
    summary["status"] = status_name(summary["status"])
    for party in summary.get("parties", ()):
        party["status"] = status_name(party["status"])
    return summary


def task_states(tasks: Iterable[common_pb2.TaskView]) -> dict[str, str]:
    """Each task's state over its parties (the newest attempt's), as the scheduler aggregates it."""
    by_task: dict[str, list[TaskStatus]] = {}
    for task in tasks:
        by_task.setdefault(task.task_name, []).append(
            TaskStatus(status_name(common_pb2.TaskStatus.Name(task.status)))
        )
    return {name: str(federated_task_status(statuses)) for name, statuses in by_task.items()}


def job_page(job: common_pb2.JobView, warning: str = "") -> dict[str, Any]:
    """What the job page shows and the live stream repeats: the job, its tasks, each task's state."""
    return {
        "job": job_summary(job),
        "tasks": [task_row(t) for t in job.tasks],
        "states": task_states(job.tasks),
        "warning": warning,
    }


def dag_graph(upstreams: TaskUpstreams, states: Mapping[str, str]) -> dict[str, Any]:
    """Nodes at layered positions and edges between tasks, ready for ECharts' graph series."""
    places = layered_layout({task: [p for p, _ in ups] for task, (_, ups) in upstreams.items()})
    nodes = [
        {
            "name": task,
            "component": component,
            "state": states.get(task, "waiting"),
            "x": places[task].x,
            "y": places[task].y,
            "column": places[task].column,
        }
        for task, (component, _) in upstreams.items()
    ]
    edges = [
        {"source": producer, "target": task, "label": label}
        for task, (_, ups) in upstreams.items()
        for producer, label in ups
        if producer in upstreams
    ]
    return {"nodes": nodes, "edges": edges}


def finite(value: Any) -> Any:
    """JSON for browsers: NaN and infinities (which JSON.parse refuses) become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): finite(v) for k, v in value.items()}
    return value
