"""Permissions and FATE's app roles as FATE's answers, and why FATE's site and partner apps have no
counterpart here (a node's parties are certificates and routes)."""

from __future__ import annotations

from typing import Any

from fate_grpc.errors import ErrorCode, FateGrpcError
from fate_grpc.security.permissions import COMPONENT, DATASET

USER_COMMANDS = "user commands: job, task, data, table, output, model, log, provider query"
ADMIN_COMMANDS = "admin commands: token, permission grant/revoke, provider register/delete"
SITE_REASON = "parties authenticate with mutual-TLS certificates that name their party id, not site apps"
PARTNER_REASON = "a node trusts a partner through its conf (routes and partner CAs), not a partner app"


def resource_data(grants: Any) -> dict[str, list[Any]]:
    result: dict[str, list[Any]] = {"component": [], "dataset": []}
    for grant in grants:
        if grant.kind == COMPONENT:
            result["component"].append(grant.value)
        elif grant.kind == DATASET:
            namespace, _, name = grant.value.partition("/")
            result["dataset"].append({"namespace": namespace, "name": name})
    result["component"].sort()
    result["dataset"].sort(key=lambda d: (d["namespace"], d["name"]))
    return result


def token_roles(tokens: Any, app_id: str) -> dict[str, list[str]]:
    """FATE's {role: permissions} for the token named app_id."""
    for token in tokens:
        if token.name == app_id:
            if token.admin:
                return {"super_client": [USER_COMMANDS, ADMIN_COMMANDS]}
            return {"client": [USER_COMMANDS]}
    raise FateGrpcError(
        ErrorCode.NOT_FOUND, f"no token named {app_id}", hint="flow token list shows the tokens of this node"
    )


def app_roles_are_tokens(action: str, app_id: str | None, role: str | None) -> FateGrpcError:
    name = app_id or "NAME"
    command = (
        f"flow token create -n {name}" + (" --admin" if role == "super_client" else "")
        if action == "grant"
        else f"flow token revoke -n {name}"
    )
    return FateGrpcError(
        ErrorCode.CLIENT_INPUT,
        f"permission {action} --app-id -r: FATE's app roles are client tokens here, and a token's role"
        " (admin or not) is fixed when it is made",
        hint=f"use: {command}"
        + ("; partners authenticate with certificates, not site apps" if role == "site" else ""),
        fields={"equivalent": command},
    )
