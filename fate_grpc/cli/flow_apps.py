"""`flow client ...`: FATE's apps, mapped onto this node's security model.

FATE signs requests with app ids and tokens: client apps for users, a site app per party and partner
apps for the parties it talks to. Here a user's app is a client token (create-client, delete-client,
query-client do that); parties authenticate each other with mutual-TLS certificates that carry their
party id, and a node knows its partners from its conf (`routes`, `tls.partner_cas`). The site and
partner commands therefore answer with what to do instead; query-partner lists the partners.
"""

from __future__ import annotations

from typing import Any

import click

from fate_grpc.cli.flow_cli import Settings, cli, pass_settings, run, success
from fate_grpc.errors import ErrorCode, FateGrpcError
from fate_grpc.flow_answers.admin import PARTNER_REASON, SITE_REASON

SITE_EQUIVALENT = "fate-grpc provision --party ID=HOST:PORT ... (or fate-grpc demo --tls)"
PARTNER_EQUIVALENT = (
    "the partner's address under `routes` and its CA under `tls.partner_cas` in the node's conf"
)


@cli.group("client")
def client_group() -> None:
    """FATE's apps: client apps are tokens here; sites and partners are certificates and routes."""


@client_group.command("create-client")
@click.option("--app-name", required=True, help="Who the app is for (the token's name).")
@pass_settings
def create_client(settings: Settings, app_name: str) -> None:
    """A client token for a user (FATE's app_id is the token's name, app_token the token)."""

    def action() -> None:
        with settings.client() as flow:
            answer = flow.create_token(app_name)
        success(
            {"app_name": answer.name, "app_id": answer.name, "app_token": answer.token, "app_type": "client"}
        )

    run(action)


@client_group.command("delete-client")
@click.option("--app-id", required=True, help="The token's name.")
@pass_settings
def delete_client(settings: Settings, app_id: str) -> None:
    """Revoke a client token: {"status": true} if it existed."""

    def action() -> None:
        with settings.client() as flow:
            answer = flow.revoke_token(app_id)
        success({"status": answer.revoked})

    run(action)


@client_group.command("query-client")
@click.option("--app-id", default="", help="Only the token of this name.")
@click.option("--app-name", default="", help="Only the token of this name.")
@pass_settings
def query_client(settings: Settings, app_id: str, app_name: str) -> None:
    """Client tokens (never the token itself: only its hash is stored)."""

    def action() -> None:
        with settings.client() as flow:
            tokens = flow.list_tokens().tokens
        wanted = {name for name in (app_id, app_name) if name}
        success([_app_row(t) for t in tokens if not wanted or t.name in wanted])

    run(action)


def _app_row(token: Any) -> dict[str, Any]:
    return {
        "app_name": token.name,
        "app_id": token.name,
        "app_token": None,
        "app_type": "super_client" if token.admin else "client",
        "create_time": token.create_time_ms or None,
        "expire_time": token.expire_time_ms or None,
    }


def _no_site_apps(command: str, equivalent: str, what: str) -> FateGrpcError:
    return FateGrpcError(
        ErrorCode.CLIENT_INPUT,
        f"client {command}: {what}",
        hint=f"instead: {equivalent}",
        fields={"equivalent": equivalent},
    )


def _refuse(command: str, equivalent: str, reason: str) -> None:
    def action() -> None:
        raise _no_site_apps(command, equivalent, reason)

    run(action)


@client_group.command("create-site")
@click.option("-p", "--party-id", required=True)
def create_site(party_id: str) -> None:
    """FATE's site app: here the party's node certificate."""
    _refuse("create-site", SITE_EQUIVALENT, SITE_REASON)


@client_group.command("delete-site")
@click.option("-p", "--party-id", required=True)
def delete_site(party_id: str) -> None:
    """FATE's site app: here the party's node certificate (replace or stop using it)."""
    _refuse("delete-site", SITE_EQUIVALENT, SITE_REASON)


@client_group.command("query-site")
@click.option("-p", "--party-id", required=True)
def query_site(party_id: str) -> None:
    """FATE's site app: here the party's node certificate (flow server info shows the node)."""
    _refuse("query-site", "flow server info (this node's party, TLS and partners)", SITE_REASON)


@client_group.command("create-partner")
@click.option("-p", "--party-id", required=True)
@click.option("--app-id", required=True)
@click.option("--app-token", required=True)
def create_partner(party_id: str, app_id: str, app_token: str) -> None:
    """FATE's partner app: here the partner's route and CA in the node's conf."""
    _refuse("create-partner", PARTNER_EQUIVALENT, PARTNER_REASON)


@client_group.command("delete-partner")
@click.option("-p", "--party-id", required=True)
def delete_partner(party_id: str) -> None:
    """FATE's partner app: here the partner's route and CA in the node's conf."""
    _refuse("delete-partner", PARTNER_EQUIVALENT, PARTNER_REASON)


@client_group.command("query-partner")
@click.option("-p", "--party-id", default="", help="Only this partner.")
@pass_settings
def query_partner(settings: Settings, party_id: str) -> None:
    """The partners this node knows (from its routes), with their addresses."""

    def action() -> None:
        with settings.client() as flow:
            info = flow.node_info()
        rows = [
            {"party_id": pid, "address": address}
            for pid, address in sorted(info.routes.items())
            if pid != info.party_id and (not party_id or pid == party_id)
        ]
        success(rows)

    run(action)
