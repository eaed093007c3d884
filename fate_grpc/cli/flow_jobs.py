"""`flow job watch|rerun|list|clean|log|dependency|add-notes|download-log|clean-queue`, `flow task list`,
`flow provider ...`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from fate_grpc.cli.flow_cli import (
    ROLE_CHOICE,
    STATUS_CHOICE,
    Settings,
    cli,
    job,
    load_json_conf,
    pass_settings,
    run,
    success,
    task,
)
from fate_grpc.cli.log_archive import unpack_log_archive
from fate_grpc.cli.watch_view import EXIT_CODES, follow
from fate_grpc.client.v1 import client_pb2
from fate_grpc.errors import ErrorCode, FateGrpcError
from fate_grpc.flow_answers.jobs import (
    dependency_data,
    job_list_rows,
    job_status_name,
    provider_filter,
    provider_row,
    task_rows,
)


@job.command("watch")
@click.option("-j", "--job-id", required=True)
@click.option("--plain", is_flag=True, help="Plain lines even on a terminal.")
@click.option("--json", "as_json", is_flag=True, help="One JSON line per change (FATE's job and task rows).")
@pass_settings
def job_watch(settings: Settings, job_id: str, plain: bool, as_json: bool) -> None:
    """Follow a job live until it ends; exit status 0 only on success (10 failed, 11 canceled, 12 timeout)."""
    outcome: dict[str, Any] = {}

    def action() -> None:
        with settings.client() as client:
            live = sys.stdout.isatty() and not plain and not as_json
            last = follow(client.watch_job(job_id), sys.stdout, live=live, as_json=as_json)
        if last is None:
            raise FateGrpcError(ErrorCode.NOT_FOUND, f"job {job_id} sent no status")
        status = job_status_name(last.status)
        outcome["status"] = status
        reason = f": {last.status_reason}" if last.status_reason else ""
        if not as_json:
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
@click.option("-j", "--job-id", default="", help="Only jobs whose id contains this.")
@click.option(
    "-r", "--role", type=ROLE_CHOICE, default="", metavar="TEXT", help="Only jobs where this node plays it."
)
@click.option("-p", "--party-id", default="", help="Only jobs this party takes part in.")
@click.option(
    "-s", "--status", type=STATUS_CHOICE, default="", metavar="TEXT", help="Only jobs in this status."
)
@click.option("-l", "--limit", type=int, default=10, show_default=True)
@pass_settings
def job_list(settings: Settings, job_id: str, role: str, party_id: str, status: str, limit: int) -> None:
    """Jobs at this node, newest first: {"count": matches, "data": [FATE's job rows]}."""

    def action() -> None:
        with settings.client() as client:
            answer = client.list_jobs(status=status, party_id=party_id, job_id=job_id, role=role, limit=limit)
        rows = [row for view in answer.jobs for row in job_list_rows(view) if not role or row["role"] == role]
        success({"count": answer.count, "data": rows})

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
@click.option("-r", "--role", type=ROLE_CHOICE, default="", metavar="TEXT")
@click.option("-p", "--party-id", default="")
@click.option("-tn", "--task-name", default="")
@click.option("-s", "--status", default="", help="Only attempts in this status at this party.")
@click.option("-l", "--limit", type=int, default=10, show_default=True)
@pass_settings
def task_list(
    settings: Settings, job_id: str, role: str, party_id: str, task_name: str, status: str, limit: int
) -> None:
    """Task attempts of this party, newest first: {"count": matches, "data": [FATE's task rows]}."""

    def action() -> None:
        with settings.client() as client:
            answer = client.list_tasks(
                job_id=job_id, role=role, party_id=party_id, task_name=task_name, status=status, limit=limit
            )
        success({"count": answer.count, "data": task_rows(answer.tasks)})

    run(action)


@job.command("dependency")
@click.option("-j", "--job-id", required=True)
@click.option("-r", "--role", type=ROLE_CHOICE, required=True, metavar="TEXT")
@click.option("-p", "--party-id", required=True)
@pass_settings
def job_dependency(settings: Settings, job_id: str, role: str, party_id: str) -> None:
    """The tasks that run at a party and what each waits for (FATE's dependency answer)."""

    def action() -> None:
        with settings.client() as client:
            answer = client.job_dependency(job_id, role, party_id)
        success(dependency_data(answer))

    run(action)


@job.command("add-notes")
@click.option("-j", "--job-id", required=True)
@click.option("-r", "--role", type=ROLE_CHOICE, required=True, metavar="TEXT")
@click.option("-p", "--party-id", required=True)
@click.option("--notes", required=True, help="Notes on the job (FATE's description); replaces earlier ones.")
@pass_settings
def job_add_notes(settings: Settings, job_id: str, role: str, party_id: str, notes: str) -> None:
    """Keep notes on this party's job; `job query` and `job list` show them as description."""

    def action() -> None:
        with settings.client() as client:
            client.add_job_notes(job_id, role, party_id, notes)
        success()

    run(action)


@job.command("download-log")
@click.option("-j", "--job-id", required=True)
@click.option("-o", "--path", "path", required=True, type=click.Path(file_okay=False), help="A directory.")
@pass_settings
def job_download_log(settings: Settings, job_id: str, path: str) -> None:
    """This party's logs of the job (scheduler log and task logs), unpacked into PATH/<job_id>_logs."""

    def action() -> None:
        target = Path(path) / f"{job_id}_logs"
        with settings.client() as client:
            files = unpack_log_archive(client.download_job_log(job_id), target)
        success(
            {"directory": str(target), "files": files},
            message=f"download success, please check the path: {target}",
        )

    run(action)


@job.command("clean-queue")
@pass_settings
def job_clean_queue(settings: Settings) -> None:
    """Cancel every job waiting at this node: {job_id: status}."""

    def action() -> None:
        with settings.client() as client:
            answer = client.clean_queue()
        errors = {j.job_id: j.error for j in answer.jobs if j.error}
        extra: dict[str, Any] = {"errors": errors} if errors else {}
        success({j.job_id: job_status_name(j.status) for j in answer.jobs}, **extra)

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
        success(provider_row(answer.provider))

    run(action)


@provider.command("query")
@click.option("-n", "--name", default="")
@click.option("--device", default="")
@click.option("--version", default="")
@click.option("--provider-name", default="", help="name:version@device")
@pass_settings
def provider_query(settings: Settings, name: str, device: str, version: str, provider_name: str) -> None:
    """Providers known at this node and their components."""

    def action() -> None:
        wanted_name, wanted_version, wanted_device = provider_filter(name, device, version, provider_name)
        with settings.client() as client:
            answer = client.query_provider(wanted_name)
        success(
            [
                provider_row(p)
                for p in answer.providers
                if (not wanted_version or p.version == wanted_version)
                and (not wanted_device or p.device == wanted_device)
            ]
        )

    run(action)


@provider.command("delete")
@click.option("-n", "--name", default="")
@click.option("--device", default="")
@click.option("--version", default="")
@click.option("--provider-name", default="", help="name:version@device")
@pass_settings
def provider_delete(settings: Settings, name: str, device: str, version: str, provider_name: str) -> None:
    """Remove a registered provider."""

    def action() -> None:
        name_, version_, device_ = provider_filter(name, device, version, provider_name)
        if not name_ or not version_:
            raise FateGrpcError(
                ErrorCode.CLIENT_INPUT, "say which provider: -n NAME --version VERSION or --provider-name"
            )
        device_ = device_ or "local"
        with settings.client() as client:
            answer = client.delete_provider(name_, version_, device_)
        if not answer.deleted:
            raise FateGrpcError(
                ErrorCode.NOT_FOUND, f"provider {name_}:{version_}@{device_} is not registered"
            )
        success({"name": name_, "version": version_, "device": device_, "deleted": True})

    run(action)
