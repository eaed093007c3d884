"""The board's JSON endpoints under /board/api/: each one the user API's answer, shaped for the page."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Mapping
from typing import Any

import anyio
from google.protobuf.message import Message

from fate_grpc.board.calls import Credentials, ServicerCalls
from fate_grpc.board.charts import metric_charts, model_charts
from fate_grpc.board.views import (
    TaskUpstreams,
    dag_graph,
    job_page,
    job_summary,
    plain,
    task_row,
)
from fate_grpc.client.v1 import client_pb2, jobs_pb2, outputs_pb2
from fate_grpc.domain.component_spec import ComponentCatalog
from fate_grpc.domain.dag import parse_dag, resolve_party
from fate_grpc.errors import invalid_argument, not_found
from fate_grpc.flow_answers.outputs import metric_to_json
from fate_grpc.wire.convert import python_from_value

DEFAULT_PAGE = 20
MAX_PAGE = 200
# The list RPC caps how far back it looks; paging stays within what it returns.
MAX_LISTED = 1000
DEFAULT_LOG_TAIL = 200
MAX_LOG_TAIL = 10_000
DEFAULT_PREVIEW_ROWS = 20


def query_int(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter within [low, high]; a bad one is refused naming the parameter."""
    text = query.get(name, "")
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise invalid_argument(f"{name} must be a whole number, got {text[:40]!r}", field_path=name) from None
    if not low <= value <= high:
        raise invalid_argument(f"{name} must be between {low} and {high}, got {value}", field_path=name)
    return value


class BoardApi:
    """What the page asks for, each answered through the user API's servicer methods."""

    def __init__(self, calls: ServicerCalls, catalog: ComponentCatalog) -> None:
        self._calls = calls
        self._catalog = catalog

    async def node(self, who: Credentials) -> dict[str, Any]:
        info = await self._calls.unary("GetNodeInfo", client_pb2.GetNodeInfoRequest(), who)
        return {
            "party_id": info.party_id,
            "version": info.version,
            "user": info.user,
            "auth_method": info.auth_method,
        }

    async def jobs(self, who: Credentials, query: Mapping[str, str]) -> dict[str, Any]:
        """A page of jobs, newest first, with flow job list's filters."""
        offset = query_int(query, "offset", 0, 0, MAX_LISTED - 1)
        limit = query_int(query, "limit", DEFAULT_PAGE, 1, MAX_PAGE)
        request = client_pb2.ListJobsRequest(
            status=query.get("status", ""),
            role=query.get("role", ""),
            party_id=query.get("party_id", ""),
            job_id=query.get("job_id", ""),
            limit=min(offset + limit, MAX_LISTED),
        )
        answer = await self._calls.unary("ListJobs", request, who)
        page = list(answer.jobs)[offset : offset + limit]
        return {
            "jobs": [job_summary(j) for j in page],
            "count": answer.count,
            "offset": offset,
            "limit": limit,
        }

    async def job(self, who: Credentials, job_id: str) -> dict[str, Any]:
        """The job, its tasks at every party (the scheduler's view), and its DAG drawn."""
        answer = await self._calls.unary("QueryJob", client_pb2.QueryJobRequest(job_id=job_id), who)
        page = job_page(answer.job, answer.warning)
        upstreams = await self._upstreams(who, job_id, answer.job.parties)
        page["dag"] = dag_graph(upstreams, page["states"])
        return page

    async def _upstreams(self, who: Credentials, job_id: str, parties: Any) -> TaskUpstreams:
        """Every task's inputs from other tasks, over the dependency views of all the job's parties."""
        requests = [
            jobs_pb2.GetJobDependencyRequest(job_id=job_id, role=p.role, party_id=p.party_id) for p in parties
        ]
        answers = await asyncio.gather(*(self._calls.unary("GetJobDependency", r, who) for r in requests))
        graph: dict[str, tuple[str, list[tuple[str, str]]]] = {}
        for answer in answers:
            for task in answer.tasks:
                _, edges = graph.setdefault(task.task_name, (task.component, []))
                for up in task.upstreams:
                    edge = (up.producer_task, f"{up.output_artifact_key} -> {up.input_key}")
                    if edge not in edges:
                        edges.append(edge)
        return graph

    async def task(
        self, who: Credentials, job_id: str, role: str, party_id: str, task_name: str
    ) -> dict[str, Any]:
        """One task at one party: its parameters as that party runs them, and every attempt."""
        request = client_pb2.QueryTasksRequest(
            job_id=job_id, role=role, party_id=party_id, task_name=task_name, all_attempts=True
        )
        attempts = await self._calls.unary("QueryTasks", request, who)
        if not attempts.tasks:
            raise not_found(f"task {task_name} of job {job_id} does not run at {role} {party_id}")
        job = await self._calls.unary("QueryJob", client_pb2.QueryJobRequest(job_id=job_id), who)
        resolved = await anyio.to_thread.run_sync(self._resolved, job.job.dag_yaml, role, party_id, task_name)
        return {
            "job_id": job_id,
            "role": role,
            "party_id": party_id,
            "task_name": task_name,
            "component": resolved.get("component", attempts.tasks[-1].component),
            "stage": resolved.get("stage", ""),
            "parameters": resolved.get("parameters", {}),
            "conf": resolved.get("conf", {}),
            "attempts": [task_row(t) for t in sorted(attempts.tasks, key=lambda t: t.attempt)],
            "warning": attempts.warning,
        }

    def _resolved(self, dag_yaml: str, role: str, party_id: str, task_name: str) -> dict[str, Any]:
        dag = parse_dag(dag_yaml, self._catalog)
        for task in resolve_party(dag, role, party_id, self._catalog):
            if task.name == task_name:
                return {
                    "component": task.component,
                    "stage": task.stage,
                    "parameters": task.parameters,
                    "conf": task.conf,
                }
        return {}

    async def metrics(self, who: Credentials, ref: outputs_pb2.TaskOutputRef) -> dict[str, Any]:
        answer = await self._calls.unary("QueryMetrics", outputs_pb2.QueryMetricsRequest(task=ref), who)
        records = [metric_to_json(m) for m in answer.metrics]
        return {"attempt": answer.attempt, "metrics": records, "charts": metric_charts(records)}

    async def model(self, who: Credentials, ref: outputs_pb2.TaskOutputRef) -> dict[str, Any]:
        request = outputs_pb2.QueryOutputModelsRequest(task=ref)
        answer = await self._calls.unary("QueryOutputModels", request, who)
        models = []
        for model in answer.models:
            document = python_from_value(model.document)
            models.append({"info": plain(model.info), "document": document, "charts": model_charts(document)})
        return {"models": models}

    async def data(
        self, who: Credentials, ref: outputs_pb2.TaskOutputRef, query: Mapping[str, str]
    ) -> dict[str, Any]:
        limit = query_int(query, "limit", DEFAULT_PREVIEW_ROWS, 1, 1000)
        request = outputs_pb2.DisplayOutputDataRequest(task=ref, limit=limit)
        answer = await self._calls.unary("DisplayOutputData", request, who)
        return {
            "outputs": [
                {
                    "output_key": o.output_key,
                    "header": list(o.header),
                    "rows": [list(r.values) for r in o.rows],
                    "count": o.count,
                }
                for o in answer.outputs
            ]
        }

    def watch(self, who: Credentials, job_id: str) -> AsyncGenerator[Any, None]:
        """The user API's live stream of the job (relayed from its scheduler party)."""
        return self._calls.stream("WatchJob", client_pb2.WatchJobRequest(job_id=job_id), who)

    async def log(self, who: Credentials, request: client_pb2.GetJobLogRequest) -> list[dict[str, Any]]:
        """The task's log at this party, by attempt: {source, lines}."""
        sources: dict[str, list[str]] = {}
        async for part in self.log_parts(who, request):
            sources.setdefault(part.source, []).extend(part.lines)
        return [{"source": source, "lines": lines} for source, lines in sources.items()]

    def log_parts(self, who: Credentials, request: client_pb2.GetJobLogRequest) -> AsyncGenerator[Any, None]:
        """The user API's log stream as it comes: parts of {source, lines}."""
        return self._calls.stream("GetJobLog", request, who)


def task_ref(job_id: str, role: str, party_id: str, task_name: str) -> outputs_pb2.TaskOutputRef:
    return outputs_pb2.TaskOutputRef(job_id=job_id, role=role, party_id=party_id, task_name=task_name)


def watch_page(message: Message) -> dict[str, Any]:
    """One view of the job's watch stream, in the job page's shape."""
    return job_page(message.job)  # type: ignore[attr-defined]
