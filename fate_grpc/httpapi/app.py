"""The FATE-Flow HTTP API as an aiohttp sub-application (mounted at /v2 on the node's HTTP port).

Every endpoint translates one FATE-Flow 2.2 client call into the user API's servicer method and its
answer into FATE's `{code, message, data}`: authentication, permissions, party checks and error
wording stay the user API's. A request is authenticated as a user-API call is (bearer token or
client certificate), or by FATE's app signature (appId, Nonce, Timestamp, Signature headers), which
this application checks itself.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from fate_grpc.errors import FateGrpcError, internal
from fate_grpc.httpapi import admin, data, jobs, models, outputs
from fate_grpc.httpapi.answers import failure, unknown_route
from fate_grpc.httpapi.caller import SignatureUsers
from fate_grpc.httpapi.context import SIGNED_USER_KEY, STATE_KEY, HttpApiState, state_of
from fate_grpc.store.interface import Store

log = logging.getLogger("fate_grpc.httpapi")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

GET_ROUTES: dict[str, Handler] = {
    "/job/query": jobs.query,
    "/job/list/query": jobs.job_list,
    "/job/dag/dependency": jobs.dependency,
    "/job/task/query": jobs.task_query,
    "/job/task/list/query": jobs.task_list,
    "/log/count": jobs.log_count,
    "/log/query": jobs.log_query,
    "/output/metric/key/query": outputs.metric_keys,
    "/output/metric/query": outputs.metrics,
    "/output/model/query": outputs.model,
    "/output/model/download": outputs.download_model,
    "/output/data/download": outputs.download_data,
    "/output/data/table": outputs.data_table,
    "/output/data/display": outputs.display_data,
    "/data/download": data.download,
    "/table/query": data.table_query,
    "/provider/query": admin.provider_query,
    "/permission/query": admin.app_role_query,
    "/permission/role/query": admin.roles,
    "/permission/resource/query": admin.query_resource,
    "/app/client/query": admin.query_client,
    "/app/site/query": admin.site_apps,
    "/app/partner/query": admin.partner_apps,
    "/site/info/query": admin.site_info,
    "/server/fateflow": admin.server_info,
}
POST_ROUTES: dict[str, Handler] = {
    "/job/submit": jobs.submit,
    "/job/stop": jobs.stop,
    "/job/rerun": jobs.rerun,
    "/job/notes/add": jobs.add_notes,
    "/job/log/download": jobs.download_log,
    "/job/queue/clean": jobs.clean_queue,
    "/job/clean": jobs.clean,
    "/output/metric/delete": outputs.delete_metrics,
    "/output/model/delete": outputs.delete_model,
    "/data/component/upload": data.upload,
    "/data/component/upload/file": data.upload_file,
    "/data/component/dataframe/transformer": data.transformer,
    "/data/component/download": data.download_component,
    "/table/delete": data.table_delete,
    "/table/bind/path": data.table_bind,
    "/model/export": models.export,
    "/model/import": models.import_model,
    "/model/delete": models.delete,
    "/model/load": models.not_kept,
    "/model/migrate": models.not_kept,
    "/model/store": models.not_kept,
    "/model/restore": models.not_kept,
    "/provider/register": admin.provider_register,
    "/provider/delete": admin.provider_delete,
    "/permission/grant": admin.app_role_change,
    "/permission/delete": admin.app_role_change,
    "/permission/resource/grant": admin.grant_resource,
    "/permission/resource/delete": admin.delete_resource,
    "/app/client/create": admin.create_client,
    "/app/client/delete": admin.delete_client,
    "/app/site/create": admin.site_apps,
    "/app/site/delete": admin.site_apps,
    "/app/partner/create": admin.partner_apps,
    "/app/partner/delete": admin.partner_apps,
}


def flow_http_app(
    servicer: Any,
    *,
    store: Store,
    party_id: str,
    signing_key: bytes,
    server_data_dirs: tuple[Path, ...] = (),
) -> web.Application:
    """FATE-Flow 2.2's client API, answered by `servicer` (the node's ClientService servicer).

    Args:
        servicer: The node's ClientServicer; its methods are called in process.
        store: The node's store (the tokens behind FATE app signatures).
        party_id: This node's party (answers of uploads, which FATE runs as jobs).
        signing_key: The node's secret from which each token's FATE app_token is derived.
        server_data_dirs: Where `model export` may write on the node's machine (the node's conf).
    """
    app = web.Application(middlewares=[_answer_errors, _signature])
    app[STATE_KEY] = HttpApiState(servicer, SignatureUsers(store, signing_key), party_id, server_data_dirs)
    for path, handler in GET_ROUTES.items():
        app.router.add_get(path, handler, allow_head=False)
    for path, handler in POST_ROUTES.items():
        app.router.add_post(path, handler)
    return app


@web.middleware
async def _answer_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Errors in FATE's answer shape (HTTP 200, code and message), never a traceback."""
    try:
        return await handler(request)
    except FateGrpcError as error:
        return failure(error)
    except web.HTTPNotFound:
        return failure(unknown_route(request.path))
    except web.HTTPMethodNotAllowed as refused:
        return failure(
            unknown_route(f"{request.method} {request.path} (use {', '.join(refused.allowed_methods)})")
        )
    except web.HTTPException:
        raise
    except Exception:
        log.exception("FATE-Flow HTTP API %s %s failed", request.method, request.path)
        return failure(internal("internal error"))


@web.middleware
async def _signature(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A request signed as fate_client signs (flow init --app-id --app-token) names its user."""
    user = await state_of(request).signatures.user(request)
    if user is not None:
        request[SIGNED_USER_KEY] = user
    return await handler(request)
