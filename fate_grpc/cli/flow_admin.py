"""`flow token ...` and `flow permission ...`: this party's client tokens and partners' grants.

FATE's permission commands come in two kinds. The resource ones (grant-resource, delete-resource,
query-resource) are partners' grants here too. The app-role ones (grant/delete/query with --app-id and
-r) give an app the role client or super_client; here an app is a client token and its role is fixed
when the token is made (`flow token create -n NAME [--admin]`), so query answers and grant/delete
answer with that command.
"""

from __future__ import annotations

from typing import Any

import click

from fate_grpc.cli.flow_cli import Settings, cli, load_json_conf, pass_settings, run, success
from fate_grpc.errors import ErrorCode, FateGrpcError
from fate_grpc.flow_answers.admin import app_roles_are_tokens, resource_data, token_roles
from fate_grpc.security.permissions import parse_components

# FATE's app roles (`flow permission grant -r`).
APP_ROLES = click.Choice(["site", "client", "super_client"])


# -- tokens and permissions -------------------------------------------------------------------------
@cli.group()
def token() -> None:
    """Client tokens of this party (admins only)."""


@token.command("create")
@click.option("-n", "--name", required=True, help="Who the token is for.")
@click.option("--admin", is_flag=True, help="The token may manage tokens and permissions.")
@click.option("--expires-days", type=int, default=0, help="Lifetime in days (0: no expiry).")
@pass_settings
def token_create(settings: Settings, name: str, admin: bool, expires_days: int) -> None:
    """Create a token; it is printed once and only its hash is stored."""

    def action() -> None:
        with settings.client() as client:
            answer = client.create_token(name, admin=admin, expires_s=expires_days * 86400)
        success(
            {
                "name": answer.name,
                "token": answer.token,
                "admin": answer.admin,
                "expire_time": answer.expire_time_ms or None,
            }
        )

    run(action)


@token.command("list")
@pass_settings
def token_list(settings: Settings) -> None:
    """Token names and times (never the tokens)."""

    def action() -> None:
        with settings.client() as client:
            answer = client.list_tokens()
        success(
            [
                {
                    "name": t.name,
                    "admin": t.admin,
                    "create_time": t.create_time_ms,
                    "expire_time": t.expire_time_ms or None,
                }
                for t in answer.tokens
            ]
        )

    run(action)


@token.command("revoke")
@click.option("-n", "--name", required=True)
@pass_settings
def token_revoke(settings: Settings, name: str) -> None:
    """Revoke a token."""

    def action() -> None:
        with settings.client() as client:
            answer = client.revoke_token(name)
        if not answer.revoked:
            raise FateGrpcError(ErrorCode.NOT_FOUND, f"no token named {name}")
        success({"name": name, "revoked": True})

    run(action)


@cli.group()
def permission() -> None:
    """What partner parties may do at this party (FATE's grant-resource)."""


def _grant_args(
    party_id: str | None, component: str | None, dataset: tuple[str, ...], conf: str | None
) -> tuple[str, list[str], list[tuple[str, str]]]:
    components = list(parse_components(component)) if component else []
    datasets = [_parse_dataset(d) for d in dataset]
    if conf:
        raw = load_json_conf(conf)
        party_id = party_id or str(raw.get("party_id", ""))
        if raw.get("component"):
            components += list(parse_components(str(raw["component"])))
        for item in raw.get("dataset") or []:
            if not isinstance(item, dict) or not item.get("namespace") or not item.get("name"):
                raise FateGrpcError(ErrorCode.CLIENT_INPUT, "each dataset needs namespace and name")
            datasets.append((str(item["namespace"]), str(item["name"])))
    if not party_id:
        raise FateGrpcError(ErrorCode.CLIENT_INPUT, "say which party: -p PARTY_ID (or party_id in -c)")
    return party_id, components, datasets


def _parse_dataset(text: str) -> tuple[str, str]:
    namespace, sep, name = text.partition("/")
    if not sep or not namespace or not name:
        raise FateGrpcError(
            ErrorCode.CLIENT_INPUT, f"--dataset takes NAMESPACE/NAME (either may be *), got {text!r}"
        )
    return namespace, name


def _grant_rows(grants: Any) -> list[dict[str, Any]]:
    return [{"party_id": g.party_id, "kind": g.kind, "value": g.value} for g in grants]


@permission.command("grant")
@click.option("-p", "--party-id", help="The partner party.")
@click.option("--component", help='Components it may run here: "reader,psi" or "*".')
@click.option("--dataset", multiple=True, help="A table it may read: NAMESPACE/NAME (repeatable; * allowed).")
@click.option("-c", "--conf-path", "conf", type=click.Path(dir_okay=False), help="FATE grant-resource conf.")
@click.option("--app-id", help="FATE: the app to give a role (here: a token name).")
@click.option("-r", "--role", type=APP_ROLES, metavar="TEXT", help="FATE: site, client or super_client.")
@pass_settings
def permission_grant(
    settings: Settings,
    party_id: str | None,
    component: str | None,
    dataset: tuple[str, ...],
    conf: str | None,
    app_id: str | None,
    role: str | None,
) -> None:
    """Allow a partner to create jobs here, with these components and tables (FATE's --app-id -r:
    app roles, see `flow token create`)."""

    def action() -> None:
        if app_id or role:
            raise app_roles_are_tokens("grant", app_id, role)
        party, components, datasets = _grant_args(party_id, component, dataset, conf)
        with settings.client() as client:
            answer = client.grant(party, components, datasets)
        success(_grant_rows(answer.grants))

    run(action)


@permission.command("revoke")
@click.option("-p", "--party-id", help="The partner party.")
@click.option("--component", help='Components to take back: "reader,psi" or "*".')
@click.option("--dataset", multiple=True, help="NAMESPACE/NAME to take back (repeatable).")
@click.option("--all", "everything", is_flag=True, help="Take back every grant (no more jobs from it).")
@click.option("-c", "--conf-path", "conf", type=click.Path(dir_okay=False), help="FATE grant-resource conf.")
@pass_settings
def permission_revoke(
    settings: Settings,
    party_id: str | None,
    component: str | None,
    dataset: tuple[str, ...],
    everything: bool,
    conf: str | None,
) -> None:
    """Take grants back from a partner."""

    def action() -> None:
        party, components, datasets = _grant_args(party_id, component, dataset, conf)
        with settings.client() as client:
            answer = client.revoke(party, components, datasets, everything=everything)
        success({"party_id": party, "removed": answer.removed})

    run(action)


@permission.command("query")
@click.option("-p", "--party-id", default="", help="Only this partner.")
@click.option("--app-id", default="", help="FATE: the roles of an app (here: of the token with this name).")
@pass_settings
def permission_query(settings: Settings, party_id: str, app_id: str) -> None:
    """Grants held by partners, and the rule for partners without grants; with --app-id, FATE's
    answer {role: [what it may do]} for the token of that name."""

    def action() -> None:
        with settings.client() as client:
            if app_id:
                success(token_roles(client.list_tokens().tokens, app_id))
                return
            answer = client.query_permission(party_id)
        success({"default_policy": answer.default_policy, "grants": _grant_rows(answer.grants)})

    run(action)


@permission.command("delete")
@click.option("--app-id", required=True, help="FATE: the app to take a role from (here: a token name).")
@click.option("-r", "--role", type=APP_ROLES, required=True, metavar="TEXT")
def permission_delete(app_id: str, role: str) -> None:
    """FATE's role removal: a token's role is fixed; revoke the token (and make a new one)."""
    run(lambda: _raise(app_roles_are_tokens("delete", app_id, role)))


@permission.command("grant-resource")
@click.option("-c", "--conf-path", "conf", required=True, type=click.Path(dir_okay=False))
@pass_settings
def permission_grant_resource(settings: Settings, conf: str) -> None:
    """FATE's conf {"party_id", "component": "a,b" or "*", "dataset": [{"namespace", "name"}]}."""

    def action() -> None:
        party, components, datasets = _grant_args(None, None, (), conf)
        with settings.client() as client:
            client.grant(party, components, datasets)
        success()

    run(action)


@permission.command("delete-resource")
@click.option("-c", "--conf-path", "conf", required=True, type=click.Path(dir_okay=False))
@pass_settings
def permission_delete_resource(settings: Settings, conf: str) -> None:
    """Take back what a FATE grant-resource conf grants."""

    def action() -> None:
        party, components, datasets = _grant_args(None, None, (), conf)
        with settings.client() as client:
            answer = client.revoke(party, components, datasets)
        success({"party_id": party, "removed": answer.removed})

    run(action)


@permission.command("query-resource")
@click.option("-p", "--party-id", required=True)
@pass_settings
def permission_query_resource(settings: Settings, party_id: str) -> None:
    """What a partner may use here, in FATE's shape {"component": [...], "dataset": [{namespace, name}]}."""

    def action() -> None:
        with settings.client() as client:
            answer = client.query_permission(party_id)
        success(resource_data(answer.grants))

    run(action)


def _raise(error: FateGrpcError) -> None:
    raise error
