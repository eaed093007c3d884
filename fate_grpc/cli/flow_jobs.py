"""`flow job watch|rerun|list|clean|log`, `flow task list`, `flow provider ...`."""

from __future__ import annotations

import sys
from typing import Any

import click

from fate_grpc.cli.flow_cli import Settings, cli, job, load_json_conf, pass_settings, run, success, task
from fate_grpc.cli.render import job_status_name, task_rows
from fate_grpc.cli.watch_view import EXIT_CODES, follow
from fate_grpc.client.v1 import client_pb2
from fate_grpc.errors import ErrorCode, FateGrpcError


@job.command("watch")
@click.option("-j", "--job-id", required=True)
@click.option("--plain", is_flag=True, help="Plain lines even on a terminal.")
@pass_settings
def job_watch(settings: Settings, job_id: str, plain: bool) -> None:
    """Follow a job live until it ends; exit status 0 only on success (10 failed, 11 canceled, 12 timeout)."""
    outcome: dict[str, Any] = {}

    def action() -> None:
        with settings.client() as client:
            last = follow(client.watch_job(job_id), sys.stdout, live=sys.stdout.isatty() and not plain)
        if last is None:
            raise FateGrpcError(ErrorCode.NOT_FOUND, f"job {job_id} sent no status")
        status = job_status_name(last.status)
        outcome["status"] = status
        reason = f": {last.status_reason}" if last.status_reason else ""
        click.echo(f"job {job_id} ended {status}{reason}")

    run(action)
    sys.exit(EXIT_CODES.get(outcome.get("status", ""), 1))


@job.command("rerun")
@click.option("-j", "--job-id", required=True)
@pass_settings
def job_rerun(settings: Settings, job_id: str) -> None:
    """Rerun the failed/canceled/timed-out tasks and what depends on them, as new attempts."""

    def action() -> None:
        with settings.client() as client:
            answer = client.rerun_job(job_id)
        success({"job_id": job_id, "status": job_status_name(answer.status), "tasks": list(answer.tasks)})

    run(action)


@job.command("list")
@click.option("-s", "--status", default="", help="Only jobs in this status.")
@click.option("-p", "--party-id", default="", help="Only jobs this party takes part in.")
@click.option("-l", "--limit", type=int, default=10, show_default=True)
@pass_settings
def job_list(settings: Settings, status: str, party_id: str, limit: int) -> None:
    """Jobs at this node, newest first."""

    def action() -> None:
        with settings.client() as client:
            answer = client.list_jobs(status=status, party_id=party_id, limit=limit)
        success(
            [
                {
                    "job_id": view.job_id,
                    "status": job_status_name(view.status),
                    "status_reason": view.status_reason,
                    "progress": view.progress,
                    "initiator_party_id": view.initiator_party_id,
                    "scheduler_party_id": view.scheduler_party_id,
                    "parties": [f"{p.role} {p.party_id}" for p in view.parties],
                    "elapsed": view.elapsed_ms,
                }
                for view in answer.jobs
            ]
        )

    run(action)


@job.command("clean")
@click.option("-j", "--job-id", required=True)
@pass_settings
def job_clean(settings: Settings, job_id: str) -> None:
    """Remove a finished job's outputs and rows at every party."""

    def action() -> None:
        with settings.client() as client:
            answer = client.clean_job(job_id)
        success({"job_id": job_id, "cleaned_party_ids": list(answer.cleaned_party_ids)})

    run(action)


@job.command("log")
@click.option("-j", "--job-id", required=True)
@click.option("-r", "--role", default="")
@click.option("-p", "--party-id", default="")
@click.option("-tn", "--task-name", default="")
@click.option("--tail", type=int, default=0, help="Only the last N lines of each log.")
@pass_settings
def job_log(settings: Settings, job_id: str, role: str, party_id: str, task_name: str, tail: int) -> None:
    """Print the job's logs at this party: the scheduler's log of the job and each task's log."""

    def action() -> None:
        with settings.client() as client:
            current = None
            for part in client.job_log(job_id, role=role, party_id=party_id, task_name=task_name, tail=tail):
                if part.source != current:
                    click.echo(f"==> {part.source} <==")
                    current = part.source
                for line in part.lines:
                    click.echo(line)

    run(action)


@task.command("list")
@click.option("-j", "--job-id", default="")
@click.option("-s", "--status", default="")
@click.option("-l", "--limit", type=int, default=10, show_default=True)
@pass_settings
def task_list(settings: Settings, job_id: str, status: str, limit: int) -> None:
    """Task attempts of this party, newest first."""

    def action() -> None:
        with settings.client() as client:
            answer = client.list_tasks(job_id=job_id, status=status, limit=limit)
        success(task_rows(answer.tasks))

    run(action)


@cli.group()
def provider() -> None:
    """Component providers (name:version@device)."""


@provider.command("register")
@click.option("-c", "--conf-path", "conf", required=True, type=click.Path(dir_okay=False))
@pass_settings
def provider_register(settings: Settings, conf: str) -> None:
    """Register a provider: {"name", "version", "device": "local", "metadata": {"module", "path"}}."""

    def action() -> None:
        raw = load_json_conf(conf)
        metadata = raw.get("metadata") or {}
        info = client_pb2.ProviderInfo(
            name=str(raw.get("name", "")),
            version=str(raw.get("version", "")),
            device=str(raw.get("device", "local")),
            module=str(metadata.get("module", "")),
            path=str(metadata.get("path", "") or ""),
        )
        with settings.client() as client:
            answer = client.register_provider(info)
        success(_provider_row(answer.provider))

    run(action)


@provider.command("query")
@click.option("--name", default="")
@pass_settings
def provider_query(settings: Settings, name: str) -> None:
    """Providers known at this node and their components."""

    def action() -> None:
        with settings.client() as client:
            answer = client.query_provider(name)
        success([_provider_row(p) for p in answer.providers])

    run(action)


@provider.command("delete")
@click.option("--name", required=True)
@click.option("--version", required=True)
@click.option("--device", default="local")
@pass_settings
def provider_delete(settings: Settings, name: str, version: str, device: str) -> None:
    """Remove a registered provider."""

    def action() -> None:
        with settings.client() as client:
            answer = client.delete_provider(name, version, device)
        if not answer.deleted:
            raise FateGrpcError(ErrorCode.NOT_FOUND, f"provider {name}:{version}@{device} is not registered")
        success({"name": name, "version": version, "device": device, "deleted": True})

    run(action)


def _provider_row(info: client_pb2.ProviderInfo) -> dict[str, Any]:
    return {
        "provider_name": f"{info.name}:{info.version}@{info.device}",
        "name": info.name,
        "version": info.version,
        "device": info.device,
        "components": list(info.components),
        "builtin": info.builtin,
        "metadata": {"module": info.module, "path": info.path} if not info.builtin else {},
    }
