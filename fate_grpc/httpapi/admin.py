"""FATE-Flow's site, server, provider, permission and client-app endpoints onto the user API."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fate_grpc.client.v1 import client_pb2
from fate_grpc.errors import ErrorCode, FateGrpcError, invalid_argument
from fate_grpc.flow_answers.admin import (
    PARTNER_REASON,
    SITE_REASON,
    app_roles_are_tokens,
    resource_data,
    token_roles,
)
from fate_grpc.flow_answers.jobs import provider_filter, provider_row
from fate_grpc.httpapi.answers import Params, answer, read_params
from fate_grpc.httpapi.context import caller_of, state_of
from fate_grpc.security.permissions import parse_components


async def site_info(request: web.Request) -> web.Response:
    info = await caller_of(request).unary("GetNodeInfo", client_pb2.GetNodeInfoRequest())
    return answer({"party_id": info.party_id})


async def server_info(request: web.Request) -> web.Response:
    info = await caller_of(request).unary("GetNodeInfo", client_pb2.GetNodeInfoRequest())
    host, _, port = (request.host or "").rpartition(":")
    node = {
        "party_id": info.party_id,
        "version": info.version,
        "host": host,
        "http_port": port,
        "tls": info.tls,
    }
    return answer({"fateflow": [node]})


# -- providers -----------------------------------------------------------------------------------------


def _provider_names(params: Params) -> tuple[str, str, str]:
    return provider_filter(
        params.text("name"), params.text("device"), params.text("version"), params.text("provider_name")
    )


async def provider_register(request: web.Request) -> web.Response:
    params = await read_params(request)
    metadata = params.mapping("metadata") or {}
    info = client_pb2.ProviderInfo(
        name=params.text("name", required=True),
        version=params.text("version", required=True),
        device=params.text("device", default="local"),
        module=str(metadata.get("module", "") or ""),
        path=str(metadata.get("path", "") or ""),
    )
    registered = await caller_of(request).unary(
        "RegisterProvider", client_pb2.RegisterProviderRequest(provider=info)
    )
    return answer(provider_row(registered.provider))


async def provider_query(request: web.Request) -> web.Response:
    name, version, device = _provider_names(await read_params(request))
    found = await caller_of(request).unary("QueryProvider", client_pb2.QueryProviderRequest(name=name))
    rows = [
        provider_row(p)
        for p in found.providers
        if (not version or p.version == version) and (not device or p.device == device)
    ]
    return answer(rows)


async def provider_delete(request: web.Request) -> web.Response:
    name, version, device = _provider_names(await read_params(request))
    if not name or not version:
        raise invalid_argument("name and version (or provider_name) are required", field_path="name")
    asked = client_pb2.DeleteProviderRequest(name=name, version=version, device=device or "local")
    deleted = await caller_of(request).unary("DeleteProvider", asked)
    if not deleted.deleted:
        raise FateGrpcError(
            ErrorCode.NOT_FOUND, f"provider {name}:{version}@{asked.device} is not registered"
        )
    return answer({"name": name, "version": version, "device": asked.device, "deleted": True})


# -- permissions ---------------------------------------------------------------------------------------


def _resources(params: Params) -> tuple[str, list[str], list[client_pb2.DatasetRef]]:
    party_id = params.text("party_id", required=True)
    component = params.text("component")
    components = list(parse_components(component)) if component else []
    raw = params.raw("dataset") or []
    items = [raw] if isinstance(raw, dict) else raw
    if not isinstance(items, list):
        raise invalid_argument("dataset must be a list of {namespace, name}", field_path="dataset")
    datasets = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not item.get("namespace") or not item.get("name"):
            raise invalid_argument("each dataset needs namespace and name", field_path=f"dataset[{index}]")
        datasets.append(client_pb2.DatasetRef(namespace=str(item["namespace"]), name=str(item["name"])))
    return party_id, components, datasets


async def grant_resource(request: web.Request) -> web.Response:
    party_id, components, datasets = _resources(await read_params(request))
    asked = client_pb2.GrantPermissionRequest(party_id=party_id, components=components, datasets=datasets)
    await caller_of(request).unary("GrantPermission", asked)
    return answer()


async def delete_resource(request: web.Request) -> web.Response:
    party_id, components, datasets = _resources(await read_params(request))
    asked = client_pb2.RevokePermissionRequest(party_id=party_id, components=components, datasets=datasets)
    revoked = await caller_of(request).unary("RevokePermission", asked)
    return answer({"party_id": party_id, "removed": revoked.removed})


async def query_resource(request: web.Request) -> web.Response:
    party_id = (await read_params(request)).text("party_id", required=True)
    found = await caller_of(request).unary(
        "QueryPermission", client_pb2.QueryPermissionRequest(party_id=party_id)
    )
    return answer(resource_data(found.grants))


async def app_role_change(request: web.Request) -> web.Response:
    """FATE's permission grant/delete of an app role: a token's role is fixed when it is made here."""
    params = await read_params(request)
    action = "grant" if request.path.endswith("/grant") else "delete"
    raise app_roles_are_tokens(action, params.text("app_id"), params.text("role"))


async def app_role_query(request: web.Request) -> web.Response:
    app_id = (await read_params(request)).text("app_id", required=True)
    tokens = await caller_of(request).unary("ListTokens", client_pb2.ListTokensRequest())
    return answer(token_roles(tokens.tokens, app_id))


async def roles(request: web.Request) -> web.Response:
    return answer(["client", "super_client"])


# -- client apps ---------------------------------------------------------------------------------------


async def _app_row(request: web.Request, token: Any) -> dict[str, Any]:
    return {
        "app_name": token.name,
        "app_id": token.name,
        "app_token": await state_of(request).signatures.app_token_of(token.name),
        "app_type": "super_client" if token.admin else "client",
        "create_time": token.create_time_ms or None,
        "expire_time": token.expire_time_ms or None,
    }


async def create_client(request: web.Request) -> web.Response:
    name = (await read_params(request)).text("app_name", required=True)
    created = await caller_of(request).unary("CreateToken", client_pb2.CreateTokenRequest(name=name))
    app_token = await state_of(request).signatures.app_token_of(created.name)
    # `token` is the same user's bearer token, for this project's own `flow` and gRPC clients.
    data = {
        "app_name": name,
        "app_id": name,
        "app_token": app_token,
        "app_type": "client",
        "token": created.token,
    }
    return answer(data)


async def delete_client(request: web.Request) -> web.Response:
    app_id = (await read_params(request)).text("app_id", required=True)
    revoked = await caller_of(request).unary("RevokeToken", client_pb2.RevokeTokenRequest(name=app_id))
    return answer({"status": revoked.revoked})


async def query_client(request: web.Request) -> web.Response:
    params = await read_params(request)
    wanted = {name for name in (params.text("app_id"), params.text("app_name")) if name}
    tokens = await caller_of(request).unary("ListTokens", client_pb2.ListTokensRequest())
    return answer([await _app_row(request, t) for t in tokens.tokens if not wanted or t.name in wanted])


async def site_apps(request: web.Request) -> web.Response:
    raise FateGrpcError(ErrorCode.INVALID_ARGUMENT, f"{request.path}: {SITE_REASON}")


async def partner_apps(request: web.Request) -> web.Response:
    if request.path.endswith("/query"):
        party_id = (await read_params(request)).text("party_id")
        info = await caller_of(request).unary("GetNodeInfo", client_pb2.GetNodeInfoRequest())
        rows = [
            {"party_id": pid, "address": address}
            for pid, address in sorted(info.routes.items())
            if pid != info.party_id and (not party_id or pid == party_id)
        ]
        return answer(rows)
    raise FateGrpcError(ErrorCode.INVALID_ARGUMENT, f"{request.path}: {PARTNER_REASON}")
