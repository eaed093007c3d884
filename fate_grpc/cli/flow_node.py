"""`flow log query|count`, `flow site query`, `flow server info`: the node, its logs and its partners."""

from __future__ import annotations

from typing import Any

import click

from fate_grpc.cli.flow_cli import ROLE_CHOICE, Settings, cli, pass_settings, run, success
from fate_grpc.client.v1 import jobs_pb2
from fate_grpc.errors import FateGrpcError

LOG_TYPE_HELP = "schedule_info, schedule_error, task_info, task_warning, task_error or task_debug"


@cli.group()
def log() -> None:
    """A job's logs at this party by FATE's log types."""


def _selector(
    log_type: str, job_id: str, role: str, party_id: str, task_name: str, instance_id: str
) -> jobs_pb2.LogSelector:
    return jobs_pb2.LogSelector(
        log_type=log_type,
        job_id=job_id,
        role=role,
        party_id=party_id,
        task_name=task_name,
        instance_id=instance_id,
    )


@log.command("count")
@click.option("--log-type", required=True, help=LOG_TYPE_HELP)
@click.option("-j", "--job-id", required=True)
@click.option("-r", "--role", type=ROLE_CHOICE, default="", metavar="TEXT")
@click.option("-p", "--party-id", default="")
@click.option("-tn", "--task-name", default="", help="Only this task's log (task_* types).")
@click.option("--instance-id", default="", help="FATE's server instance (accepted; a party has one node).")
@pass_settings
def log_count(
    settings: Settings, log_type: str, job_id: str, role: str, party_id: str, task_name: str, instance_id: str
) -> None:
    """How many lines the log has."""

    def action() -> None:
        with settings.client() as client:
            answer = client.count_log(_selector(log_type, job_id, role, party_id, task_name, instance_id))
        success(answer.count)

    run(action)


@log.command("query")
@click.option("--log-type", required=True, help=LOG_TYPE_HELP)
@click.option("-j", "--job-id", required=True)
@click.option("-r", "--role", type=ROLE_CHOICE, default="", metavar="TEXT")
@click.option("-p", "--party-id", default="")
@click.option("-tn", "--task-name", default="", help="Only this task's log (task_* types).")
@click.option("--instance-id", default="", help="FATE's server instance (accepted; a party has one node).")
@click.option("--begin", type=int, default=0, help="First line wanted (from 1).")
@click.option("--end", type=int, default=0, help="Last line wanted (included).")
@pass_settings
def log_query(
    settings: Settings,
    log_type: str,
    job_id: str,
    role: str,
    party_id: str,
    task_name: str,
    instance_id: str,
    begin: int,
    end: int,
) -> None:
    """Lines of the log: [{"line_num", "content"}]."""

    def action() -> None:
        selector = _selector(log_type, job_id, role, party_id, task_name, instance_id)
        with settings.client() as client:
            answer = client.query_log(selector, begin=begin, end=end)
        success([{"line_num": line.line_num, "content": line.content} for line in answer.lines])

    run(action)


@cli.group()
def site() -> None:
    """This site (party)."""


@site.command("query")
@pass_settings
def site_query(settings: Settings) -> None:
    """This node's party id: {"party_id"} (FATE's site info)."""

    def action() -> None:
        with settings.client() as client:
            info = client.node_info()
        success({"party_id": info.party_id})

    run(action)


@cli.group()
def server() -> None:
    """The node flow talks to."""


@server.command("info")
@click.option(
    "--timeout", "timeout_s", type=float, default=2.0, show_default=True, help="Seconds per partner check."
)
@pass_settings
def server_info(settings: Settings, timeout_s: float) -> None:
    """Everything the node says about itself (party, version, routes, TLS certificate expiry, auth,
    cores, HTTP port), and whether each partner's node answers it, with the round trip."""

    def action() -> None:
        extra: dict[str, Any] = {}
        with settings.client() as client:
            info = client.node_info()
            try:
                partners: list[dict[str, Any]] | None = [
                    {
                        "party_id": p.party_id,
                        "address": p.address,
                        "reachable": p.reachable,
                        "latency_ms": p.latency_ms,
                        **({"error": p.error} if p.error else {}),
                    }
                    for p in client.check_partners(timeout_s).partners
                ]
            except FateGrpcError as exc:
                partners = None
                extra["warning"] = f"partner reachability unknown: {exc.message}"
        success(
            {
                "party_id": info.party_id,
                "version": info.version,
                "routes": dict(info.routes),
                "tls": info.tls,
                "auth_method": info.auth_method,
                "user": info.user,
                "is_admin": info.is_admin,
                "ready_task_processes": info.ready_task_processes,
                "partners": partners,
                # Unix ms, as FATE's times; null without TLS.
                "tls_cert_expire_time": info.tls_cert_expire_time_ms or None,
                "cores": {"total": info.cores_total, "in_use": info.cores_in_use},
                "http": info.http_address or None,
            },
            **extra,
        )

    run(action)
