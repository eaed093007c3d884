"""FATE-Flow's output endpoints (`/v2/output/...`): a task's metrics, models and data."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from aiohttp import web

from fate_grpc.client.v1 import outputs_pb2
from fate_grpc.flow_answers.outputs import metric_to_json
from fate_grpc.httpapi.answers import Params, answer, read_params
from fate_grpc.httpapi.context import caller_of
from fate_grpc.httpapi.files import fate_csv_lines, tar_response
from fate_grpc.wire.convert import python_from_value


def _task(params: Params) -> outputs_pb2.TaskOutputRef:
    return outputs_pb2.TaskOutputRef(
        job_id=params.text("job_id", required=True),
        role=params.text("role", required=True),
        party_id=params.text("party_id", required=True),
        task_name=params.text("task_name", required=True),
    )


def _tar_name(task: outputs_pb2.TaskOutputRef) -> str:
    return f"{task.job_id}_{task.role}_{task.party_id}_{task.task_name}"


async def metric_keys(request: web.Request) -> web.Response:
    task = _task(await read_params(request))
    found = await caller_of(request).unary("QueryMetricKeys", outputs_pb2.QueryMetricKeysRequest(task=task))
    return answer([metric_to_json(key, with_data=False) for key in found.keys])


def _filtered(metrics: list[dict[str, Any]], filters: dict[str, Any] | None) -> list[dict[str, Any]]:
    # FATE's filters: equality on the record's own fields (name, type, step_axis, groups).
    if not filters:
        return metrics
    return [m for m in metrics if all(m.get(key) == value for key, value in filters.items())]


async def metrics(request: web.Request) -> web.Response:
    params = await read_params(request)
    task = _task(params)
    found = await caller_of(request).unary("QueryMetrics", outputs_pb2.QueryMetricsRequest(task=task))
    return answer(_filtered([metric_to_json(m) for m in found.metrics], params.mapping("filters")))


async def delete_metrics(request: web.Request) -> web.Response:
    task = _task(await read_params(request))
    deleted = await caller_of(request).unary("DeleteMetrics", outputs_pb2.DeleteMetricsRequest(task=task))
    return answer(deleted.deleted > 0)


async def model(request: web.Request) -> web.Response:
    task = _task(await read_params(request))
    found = await caller_of(request).unary(
        "QueryOutputModels", outputs_pb2.QueryOutputModelsRequest(task=task)
    )
    return answer({m.info.output_key: python_from_value(m.document) for m in found.models})


async def download_model(request: web.Request) -> web.StreamResponse:
    task = _task(await read_params(request))
    parts = caller_of(request).stream(
        "DownloadOutputModels", outputs_pb2.DownloadOutputModelsRequest(task=task)
    )
    return await tar_response(request, parts, f"{_tar_name(task)}.tar.gz", lambda path: path)


async def delete_model(request: web.Request) -> web.Response:
    task = _task(await read_params(request))
    await caller_of(request).unary("DeleteOutputModels", outputs_pb2.DeleteOutputModelsRequest(task=task))
    return answer()


def fate_data_layout(path: PurePosixPath) -> PurePosixPath:
    """`<output key>.csv` / `.meta.json` as the user API names them -> FATE's `<output key>/0.csv` /
    `<output key>/0.meta` (one table per output key)."""
    name = path.name
    if name.endswith(".meta.json"):
        return PurePosixPath(name.removesuffix(".meta.json"), "0.meta")
    if name.endswith(".csv"):
        return PurePosixPath(name.removesuffix(".csv"), "0.csv")
    return path


async def download_data(request: web.Request) -> web.StreamResponse:
    params = await read_params(request)
    task = _task(params)
    asked = outputs_pb2.DownloadOutputDataRequest(task=task, output_key=params.text("output_key"))
    parts = caller_of(request).stream("DownloadOutputData", asked)
    return await tar_response(request, parts, _tar_name(task), fate_data_layout, fate_csv_lines)


async def data_table(request: web.Request) -> web.Response:
    task = _task(await read_params(request))
    found = await caller_of(request).unary(
        "QueryOutputTables", outputs_pb2.QueryOutputTablesRequest(task=task)
    )
    tables: dict[str, list[dict[str, str]]] = {}
    for item in found.tables:
        tables.setdefault(item.output_key, []).append(
            {"namespace": item.table.namespace, "name": item.table.name}
        )
    return answer(tables)


async def display_data(request: web.Request) -> web.Response:
    task = _task(await read_params(request))
    shown = await caller_of(request).unary(
        "DisplayOutputData", outputs_pb2.DisplayOutputDataRequest(task=task, limit=100)
    )
    return answer(
        {
            output.output_key: [
                {
                    "data": [list(row.values) for row in output.rows],
                    "metadata": {"header": list(output.header)},
                    "total": output.count,
                }
            ]
            for output in shown.outputs
        }
    )
