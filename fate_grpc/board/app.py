"""The board as an aiohttp sub-application: the page, its static files and /api/ (mounted at /board).

Static files (the page, its script and the vendored chart library) carry no data and are served to
anyone who reaches the port, so a browser can load the page before it has a token to send; every
/api/ answer comes from a user-API servicer method, which authenticates the caller exactly as the
gRPC user port does (bearer token or this party's client certificate).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path
from typing import Any

from aiohttp import web
from cryptography import x509

from fate_grpc.board.api import DEFAULT_LOG_TAIL, MAX_LOG_TAIL, BoardApi, query_int, task_ref, watch_page
from fate_grpc.board.calls import CallFailed, Credentials, ServicerCalls
from fate_grpc.board.views import finite
from fate_grpc.client.v1 import client_pb2
from fate_grpc.domain.component_spec import ComponentCatalog
from fate_grpc.errors import FateGrpcError, internal

log = logging.getLogger("fate_grpc.board")

STATIC_DIR = Path(str(resources.files("fate_grpc.board") / "static"))
TASK_PATH = "/api/jobs/{job_id}/tasks/{role}/{party_id}/{task_name}"
API_KEY = web.AppKey("board_api", BoardApi)
SECURITY_HEADERS = {
    # Only the board's own files run; charts draw on canvases styled inline by ECharts.
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def board_app(servicer: Any, catalog: ComponentCatalog) -> web.Application:
    """The board, answering from `servicer` (the node's ClientService servicer).

    Args:
        servicer: The node's ClientServicer; its methods are called in process.
        catalog: The node's component catalog (to show a task's parameters as its party runs them).
    """
    app = web.Application(middlewares=[_headers, _errors])
    app[API_KEY] = BoardApi(ServicerCalls(servicer), catalog)
    app.router.add_get("/", _index)
    app.router.add_get("", _to_index)
    app.router.add_get("/api/node", _node)
    app.router.add_get("/api/jobs", _jobs)
    app.router.add_get("/api/jobs/{job_id}", _job)
    app.router.add_get("/api/jobs/{job_id}/watch", _watch)
    app.router.add_get(TASK_PATH, _task)
    app.router.add_get(TASK_PATH + "/metrics", _metrics)
    app.router.add_get(TASK_PATH + "/model", _model)
    app.router.add_get(TASK_PATH + "/data", _data)
    app.router.add_get(TASK_PATH + "/log", _log)
    app.router.add_get(TASK_PATH + "/log/download", _log_download)
    app.router.add_static("/static/", STATIC_DIR, follow_symlinks=False)
    return app


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    if not response.prepared:
        response.headers.update(SECURITY_HEADERS)
    return response


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Errors as the user API words them, in FATE's {code, message, hint} shape; never a traceback."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except CallFailed as failed:
        return web.json_response(failed.as_json(), status=failed.http_status)
    except FateGrpcError as error:
        return _error_response(error)
    except Exception:
        log.exception("board request %s failed unexpectedly", request.path)
        return _error_response(internal())


def _error_response(error: FateGrpcError) -> web.Response:
    failed = CallFailed(error)
    return web.json_response(failed.as_json(), status=failed.http_status)


def credentials(request: web.Request) -> Credentials:
    """The caller's Authorization header and the client certificate its TLS handshake verified."""
    transport = request.transport
    ssl_object = transport.get_extra_info("ssl_object") if transport else None
    der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
    certificate = x509.load_der_x509_certificate(der) if der else None
    return Credentials(request.headers.get("Authorization", ""), certificate, request.remote or "")


def _json(value: Any) -> web.Response:
    return web.json_response(finite(value), dumps=lambda v: json.dumps(v, allow_nan=False))


async def _to_index(request: web.Request) -> web.Response:
    # "/board" -> "/board/": the page's relative links (static/, api/) need the trailing slash.
    raise web.HTTPFound(request.path + "/")


async def _index(request: web.Request) -> web.Response:
    return web.FileResponse(STATIC_DIR / "index.html")  # type: ignore[return-value]


async def _node(request: web.Request) -> web.Response:
    return _json(await request.app[API_KEY].node(credentials(request)))


async def _jobs(request: web.Request) -> web.Response:
    return _json(await request.app[API_KEY].jobs(credentials(request), request.query))


async def _job(request: web.Request) -> web.Response:
    return _json(await request.app[API_KEY].job(credentials(request), request.match_info["job_id"]))


async def _task(request: web.Request) -> web.Response:
    m = request.match_info
    api = request.app[API_KEY]
    return _json(await api.task(credentials(request), m["job_id"], m["role"], m["party_id"], m["task_name"]))


def _ref(request: web.Request) -> Any:
    m = request.match_info
    return task_ref(m["job_id"], m["role"], m["party_id"], m["task_name"])


async def _metrics(request: web.Request) -> web.Response:
    return _json(await request.app[API_KEY].metrics(credentials(request), _ref(request)))


async def _model(request: web.Request) -> web.Response:
    return _json(await request.app[API_KEY].model(credentials(request), _ref(request)))


async def _data(request: web.Request) -> web.Response:
    return _json(await request.app[API_KEY].data(credentials(request), _ref(request), request.query))


def _log_request(request: web.Request, tail: int) -> client_pb2.GetJobLogRequest:
    m = request.match_info
    return client_pb2.GetJobLogRequest(
        job_id=m["job_id"], role=m["role"], party_id=m["party_id"], task_name=m["task_name"], tail=tail
    )


async def _log(request: web.Request) -> web.Response:
    tail = query_int(request.query, "tail", DEFAULT_LOG_TAIL, 1, MAX_LOG_TAIL)
    sources = await request.app[API_KEY].log(credentials(request), _log_request(request, tail))
    return _json({"tail": tail, "sources": sources})


async def _log_download(request: web.Request) -> web.StreamResponse:
    """The task's whole log at this party (every attempt) as one text file, streamed as it is read.

    An error before the first lines (no such task, another party's task, no credentials) is a plain
    JSON answer; the file itself never sits whole in memory."""
    parts = request.app[API_KEY].log_parts(credentials(request), _log_request(request, 0))
    first = await anext(parts, None)
    m = request.match_info
    name = f"{m['job_id']}_{m['role']}_{m['party_id']}_{m['task_name']}.log"
    response = web.StreamResponse(
        headers={
            **SECURITY_HEADERS,
            "Content-Type": "text/plain; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{name}"',
        }
    )
    await response.prepare(request)
    source = ""
    try:
        part = first
        while part is not None:
            if part.source != source:
                source = part.source
                await response.write(f"==> {source} <==\n".encode())
            await response.write("".join(f"{line}\n" for line in part.lines).encode())
            part = await anext(parts, None)
    finally:
        await parts.aclose()
    await response.write_eof()
    return response


async def _watch(request: web.Request) -> web.StreamResponse:
    """Server-sent events: the job page's data on every change the scheduler's watch stream reports,
    until the job ends (then an `end` event). An error before the first view is a plain JSON answer."""
    stream = request.app[API_KEY].watch(credentials(request), request.match_info["job_id"])
    first = await anext(stream, None)  # errors (unknown job, no credentials) surface here as JSON
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    response.headers.update(SECURITY_HEADERS)
    await response.prepare(request)
    try:
        message = first
        while message is not None:
            await response.write(_event("view", finite(watch_page(message))))
            message = await anext(stream, None)
        await response.write(_event("end", {}))
    except CallFailed as failed:
        await response.write(_event("failure", failed.as_json()))
    except ConnectionResetError:
        pass  # the browser left the page
    finally:
        await stream.aclose()
    return response


def _event(name: str, data: Any) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, allow_nan=False)}\n\n".encode()
