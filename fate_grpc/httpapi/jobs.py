"""FATE-Flow's job, task and log endpoints (`/v2/job/...`, `/v2/log/...`) onto the user API."""

from __future__ import annotations

from typing import Any

import yaml
from aiohttp import web

from fate_grpc.client.v1 import client_pb2, jobs_pb2
from fate_grpc.errors import ErrorCode, FateGrpcError, invalid_argument
from fate_grpc.flow_answers.jobs import dependency_data, job_list_rows, job_rows, job_status_name, task_rows
from fate_grpc.httpapi.answers import answer, read_params
from fate_grpc.httpapi.context import caller_of, uploads_of
from fate_grpc.httpapi.paging import page_of

LIST_ALL = 1000
"""The most rows one list call of the user API answers."""


async def submit(request: web.Request) -> web.Response:
    params = await read_params(request)
    dag = params.mapping("dag_schema")
    if dag is None:
        raise invalid_argument("dag_schema is required (the DAG as a JSON object)", field_path="dag_schema")
    submitted = await caller_of(request).unary(
        "SubmitJob",
        client_pb2.SubmitJobRequest(
            dag_yaml=yaml.safe_dump(dag, sort_keys=False), user_name=request.headers.get("userName", "")
        ),
    )
    return answer(
        {"model_id": submitted.model_id, "model_version": submitted.model_version},
        job_id=submitted.job_id,
    )


def _matches(row: dict[str, Any], role: str, party_id: str, status: str) -> bool:
    return (
        (not role or row["role"] == role)
        and (not party_id or row["party_id"] == party_id)
        and (not status or row["status"] == status)
    )


async def query(request: web.Request) -> web.Response:
    params = await read_params(request)
    job_id, role = params.text("job_id"), params.text("role")
    party_id, status = params.text("party_id"), params.text("status")
    upload = uploads_of(request).row(job_id)
    if upload is not None:
        return answer([upload] if _matches(upload, role, party_id, status) else [])
    caller = caller_of(request)
    if not job_id:
        listed = await caller.unary(
            "ListJobs",
            client_pb2.ListJobsRequest(status=status, party_id=party_id, role=role, limit=LIST_ALL),
        )
        rows = [row for view in listed.jobs for row in job_list_rows(view)]
        return answer([row for row in rows if _matches(row, role, party_id, status)])
    found = await caller.unary("QueryJob", client_pb2.QueryJobRequest(job_id=job_id))
    rows = [row for row in job_rows(found.job) if _matches(row, role, party_id, status)]
    if not rows:
        raise FateGrpcError(ErrorCode.NOT_FOUND, f"no row of job {job_id} matches the filters")
    return answer(rows)


async def job_list(request: web.Request) -> web.Response:
    params = await read_params(request)
    listed = await caller_of(request).unary(
        "ListJobs",
        client_pb2.ListJobsRequest(
            status=params.text("status"),
            party_id=params.text("party_id"),
            role=params.text("role"),
            job_id=params.text("job_id"),
            limit=LIST_ALL,
        ),
    )
    rows = [row for view in listed.jobs for row in job_list_rows(view)]
    description = params.text("description")
    rows = [row for row in rows if description in row["description"]]
    return answer(page_of(rows, params))


async def stop(request: web.Request) -> web.Response:
    params = await read_params(request)
    job_id = params.text("job_id", required=True)
    stopped = await caller_of(request).unary("StopJob", client_pb2.StopJobRequest(job_id=job_id))
    return answer({"job_id": stopped.job_id, "status": job_status_name(stopped.status)}, job_id=job_id)


async def rerun(request: web.Request) -> web.Response:
    params = await read_params(request)
    job_id = params.text("job_id", required=True)
    rerun_answer = await caller_of(request).unary("RerunJob", client_pb2.RerunJobRequest(job_id=job_id))
    data = {"status": job_status_name(rerun_answer.status), "tasks": list(rerun_answer.tasks)}
    return answer(data, job_id=job_id)


async def add_notes(request: web.Request) -> web.Response:
    params = await read_params(request)
    notes = jobs_pb2.AddJobNotesRequest(
        job_id=params.text("job_id", required=True),
        role=params.text("role", required=True),
        party_id=params.text("party_id", required=True),
        notes=params.text("notes"),
    )
    await caller_of(request).unary("AddJobNotes", notes)
    return answer()


async def download_log(request: web.Request) -> web.StreamResponse:
    params = await read_params(request)
    job_id = params.text("job_id", required=True)
    chunks = caller_of(request).stream("DownloadJobLog", jobs_pb2.DownloadJobLogRequest(job_id=job_id))
    # The first piece is awaited before answering, so an error still reaches the client as JSON.
    first = await anext(chunks, None)
    response = web.StreamResponse(
        headers={
            "Content-Type": "application/gzip",
            "Content-Disposition": f'attachment; filename="{job_id}_logs.tar.gz"',
        }
    )
    await response.prepare(request)
    if first is not None:
        await response.write(first.chunk)
    async for piece in chunks:
        await response.write(piece.chunk)
    await response.write_eof()
    return response


async def clean_queue(request: web.Request) -> web.Response:
    cleaned = await caller_of(request).unary("CleanQueue", jobs_pb2.CleanQueueRequest())
    return answer({job.job_id: job_status_name(job.status) for job in cleaned.jobs})


async def clean(request: web.Request) -> web.Response:
    params = await read_params(request)
    job_id = params.text("job_id", required=True)
    cleaned = await caller_of(request).unary("CleanJob", client_pb2.CleanJobRequest(job_id=job_id))
    return answer({"cleaned_party_ids": list(cleaned.cleaned_party_ids)}, job_id=job_id)


async def dependency(request: web.Request) -> web.Response:
    params = await read_params(request)
    asked = jobs_pb2.GetJobDependencyRequest(
        job_id=params.text("job_id", required=True),
        role=params.text("role"),
        party_id=params.text("party_id"),
    )
    return answer(dependency_data(await caller_of(request).unary("GetJobDependency", asked)))


# -- tasks ---------------------------------------------------------------------------------------------


def _task_matches(row: dict[str, Any], params: Any) -> bool:
    wanted = {
        "status": params.text("status"),
        "task_id": params.text("task_id"),
        "task_name": params.text("task_name"),
        "role": params.text("role"),
        "party_id": params.text("party_id"),
    }
    version = params.integer("task_version", default=-1)
    return all(not value or row[key] == value for key, value in wanted.items()) and (
        version < 0 or row["task_version"] == version
    )


async def task_query(request: web.Request) -> web.Response:
    params = await read_params(request)
    job_id = params.text("job_id")
    caller = caller_of(request)
    if job_id:
        tasks = await caller.unary(
            "QueryTasks",
            client_pb2.QueryTasksRequest(
                job_id=job_id, role=params.text("role"), party_id=params.text("party_id")
            ),
        )
    else:
        tasks = await caller.unary("ListTasks", client_pb2.ListTasksRequest(limit=LIST_ALL))
    return answer([row for row in task_rows(tasks.tasks) if _task_matches(row, params)])


async def task_list(request: web.Request) -> web.Response:
    params = await read_params(request)
    listed = await caller_of(request).unary(
        "ListTasks",
        client_pb2.ListTasksRequest(
            job_id=params.text("job_id"),
            role=params.text("role"),
            party_id=params.text("party_id"),
            task_name=params.text("task_name"),
            limit=LIST_ALL,
        ),
    )
    return answer(page_of(task_rows(listed.tasks), params))


# -- logs ----------------------------------------------------------------------------------------------


async def _selector(request: web.Request) -> tuple[jobs_pb2.LogSelector, Any]:
    params = await read_params(request)
    selector = jobs_pb2.LogSelector(
        log_type=params.text("log_type", required=True),
        job_id=params.text("job_id", required=True),
        role=params.text("role"),
        party_id=params.text("party_id"),
        task_name=params.text("task_name"),
        instance_id=params.text("instance_id"),
    )
    return selector, params


async def log_count(request: web.Request) -> web.Response:
    selector, _ = await _selector(request)
    counted = await caller_of(request).unary("CountLog", jobs_pb2.CountLogRequest(log=selector))
    return answer(counted.count)


async def log_query(request: web.Request) -> web.Response:
    selector, params = await _selector(request)
    lines = await caller_of(request).unary(
        "QueryLog",
        jobs_pb2.QueryLogRequest(
            log=selector, begin=params.integer("begin", minimum=0), end=params.integer("end", minimum=0)
        ),
    )
    return answer([{"line_num": line.line_num, "content": line.content} for line in lines.lines])
