"""`flow`: the FATE-compatible command line. Every command prints {code, message, data} as JSON."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import yaml

from fate_grpc import __version__
from fate_grpc.cli.client import ClientTls, FlowClient
from fate_grpc.errors import CATALOG, OMITTED_VIOLATIONS_FIELD, ErrorCode, FateGrpcError
from fate_grpc.flow_answers.jobs import (
    job_list_rows,
    job_rows,
    job_status_name,
    task_rows,
    task_status_name,
)

CONF_ENV = "FATE_GRPC_FLOW_CONF"


class FateChoice(click.Choice):
    """FATE's fixed choices; an unset option (empty default) stays empty."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        return value if value in ("", None) else super().convert(value, param, ctx)


# FATE's choices for -r and -s (fate_client's cli_args).
ROLE_CHOICE = FateChoice(["guest", "host", "arbiter", "local"])
STATUS_CHOICE = FateChoice(
    ["success", "failed", "running", "waiting", "timeout", "canceled", "partial", "deleted"]
)


def conf_path() -> Path:
    return Path(os.environ.get(CONF_ENV) or Path.home() / ".fate_grpc" / "flow.yaml")


def emit(payload: dict[str, Any], *, sort_keys: bool = False) -> None:
    click.echo(json.dumps(payload, indent=4, ensure_ascii=False, sort_keys=sort_keys))


def success(data: Any = None, *, sort_keys: bool = False, **extra: Any) -> None:
    """Print FATE's success answer; output commands sort keys, as FATE's answers show them."""
    payload: dict[str, Any] = {"code": 0, "message": "success"}
    if data is not None:
        payload["data"] = data
    payload.update(extra)
    emit(payload, sort_keys=sort_keys)


def fail(error: FateGrpcError) -> None:
    payload: dict[str, Any] = {"code": int(error.code), "message": failure_message(error)}
    if error.hint:
        payload["hint"] = error.hint
    data: dict[str, Any] = {}
    if error.fields:
        data.update(error.fields)
    if error.violations:
        data["violations"] = [
            {k: v for k, v in (("party_id", x.party_id), ("field", x.field), ("reason", x.reason)) if v}
            for x in error.violations
        ]
    if data:
        payload["data"] = data
    emit(payload)
    sys.exit(error.exit_code)


def failure_message(error: FateGrpcError) -> str:
    """The message, listing every violation the node sent when there is more than one."""
    omitted = int(error.fields.get(OMITTED_VIOLATIONS_FIELD, "0") or 0)
    if len(error.violations) + omitted <= 1:
        return error.message
    listed = "; ".join(f"({i}) {v}" for i, v in enumerate(error.violations, start=1))
    more = f"; and {omitted} more the node did not send" if omitted else ""
    total = len(error.violations) + omitted
    return f"{CATALOG[error.code].public_message}: {total} problems: {listed}{more}"


def run(action: Callable[[], None]) -> None:
    try:
        action()
    except FateGrpcError as error:
        fail(error)


def checked_address(address: str, source: str) -> str:
    """`address` if it is HOST:PORT with a port gRPC can dial; otherwise an error naming it as typed
    (gRPC would fold 93600 into another port, or fail with an unrelated message)."""
    host, sep, port = address.rpartition(":")
    if not sep or not host.strip("[]") or not port.isdigit() or not 1 <= int(port) <= 65535:
        problem = f"{port!r} is not a port (1-65535)" if sep and host.strip("[]") else "it is not HOST:PORT"
        raise FateGrpcError(
            ErrorCode.CLIENT_INPUT,
            f"{source} {address!r} is not a node address: {problem}",
            hint="give the node's address as HOST:PORT, e.g. --node 127.0.0.1:9360",
        )
    return address


class Settings:
    """Where and how flow talks to its node: flow.yaml (from `flow init`), overridden by options."""

    def __init__(self, overrides: dict[str, str | None]) -> None:
        self._overrides = {k: v for k, v in overrides.items() if v}

    def _stored(self) -> dict[str, Any]:
        path = conf_path()
        if not path.exists():
            return {}
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            return {}
        return raw if isinstance(raw, dict) else {}

    def _value(self, key: str) -> str | None:
        value = self._overrides.get(key) or self._stored().get(key)
        return str(value) if value else None

    def address(self) -> str:
        if self._overrides.get("node"):
            return checked_address(str(self._overrides["node"]), "--node")
        stored = self._stored()
        if stored.get("ip") and stored.get("port"):
            return checked_address(f"{stored['ip']}:{stored['port']}", f"ip/port in {conf_path()}")
        raise FateGrpcError(
            ErrorCode.CLIENT_CONFIG,
            "flow does not know which node to talk to",
            hint="run `flow init --ip 127.0.0.1 --port PORT` or pass --node HOST:PORT",
        )

    def client(self) -> FlowClient:
        ca = self._value("ca")
        tls = None
        if ca:
            tls = ClientTls.from_files(
                ca, self._value("cert"), self._value("key"), self._value("server_name")
            )
        return FlowClient(self.address(), tls=tls, token=self._value("token"))


pass_settings = click.make_pass_decorator(Settings)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--node", metavar="HOST:PORT", help="Node to talk to (overrides `flow init`).")
@click.option("--token", help="Client token (overrides `flow init --token`).")
@click.option("--ca", type=click.Path(dir_okay=False), help="CA certificate of the node (turns on TLS).")
@click.option("--cert", type=click.Path(dir_okay=False), help="Your client certificate.")
@click.option("--key", type=click.Path(dir_okay=False), help="Your client key.")
@click.pass_context
def cli(
    ctx: click.Context, node: str | None, token: str | None, ca: str | None, cert: str | None, key: str | None
) -> None:
    """FATE-compatible client of a fate-grpc node."""
    ctx.obj = Settings({"node": node, "token": token, "ca": ca, "cert": cert, "key": key})


@cli.command()
@click.option("--ip", help="IP of the node's client API.")
@click.option("--port", type=int, help="Port of the node's client API.")
@click.option(
    "--token",
    "--app-token",
    "init_token",
    help="Client token to send (see `flow token create`; FATE's app token).",
)
@click.option("--app-id", "app_id", help="FATE's app id: here the name of the token (informational).")
@click.option("--ca", "init_ca", type=click.Path(exists=True, dir_okay=False), help="CA certificate (TLS).")
@click.option("--cert", "init_cert", type=click.Path(exists=True, dir_okay=False), help="Client certificate.")
@click.option("--key", "init_key", type=click.Path(exists=True, dir_okay=False), help="Client key.")
@click.option(
    "--server-name", help="Name in the node's certificate, when not its IP (e.g. party-9999.fate-grpc)."
)
@click.option("--reset", is_flag=True, help="Forget the stored settings.")
def init(
    ip: str | None,
    port: int | None,
    init_token: str | None,
    app_id: str | None,
    init_ca: str | None,
    init_cert: str | None,
    init_key: str | None,
    server_name: str | None,
    reset: bool,
) -> None:
    """Store which node flow talks to, and how it authenticates."""

    def action() -> None:
        path = conf_path()
        if reset:
            path.unlink(missing_ok=True)
            success({"conf": str(path)})
            return
        if not ip or not port:
            raise FateGrpcError(ErrorCode.CLIENT_INPUT, "flow init needs --ip and --port")
        checked_address(f"{ip}:{port}", "--ip/--port")
        settings: dict[str, Any] = {"ip": ip, "port": port, "api_version": "v1"}
        for key, value in (("ca", init_ca), ("cert", init_cert), ("key", init_key)):
            if value:
                settings[key] = str(Path(value).resolve())
        if server_name:
            settings["server_name"] = server_name
        if init_token:
            settings["token"] = init_token
        if app_id:
            settings["app_id"] = app_id
        path.parent.mkdir(parents=True, exist_ok=True)
        # The file may hold a token: readable by its owner only.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(yaml.safe_dump(settings))
        shown = {k: v for k, v in settings.items() if k != "token"}
        success({**shown, "token": "(stored)" if init_token else None, "conf": str(path)})

    run(action)


@cli.command()
def version() -> None:
    """Client version (the bare version string, as FATE's `flow version` prints it)."""
    click.echo(__version__)


# -- job ---------------------------------------------------------------------------------------------
@cli.group()
def job() -> None:
    """Submit, query and stop jobs."""


@job.command("submit")
@click.option("-c", "--conf-path", "conf", required=True, type=click.Path(dir_okay=False), help="DAG YAML.")
@pass_settings
def job_submit(settings: Settings, conf: str) -> None:
    """Submit a FATE 2.x DAG; the node becomes the initiator."""

    def action() -> None:
        dag_yaml = _read_text(conf, "DAG")
        with settings.client() as client:
            answer = client.submit_job(dag_yaml, user_name=os.environ.get("USER", ""))
        success(
            {"model_id": answer.model_id, "model_version": answer.model_version, "job_id": answer.job_id},
            job_id=answer.job_id,
        )

    run(action)


@job.command("query")
@click.option("-j", "--job-id", default="", help="The job (all jobs at this node when omitted).")
@click.option("-r", "--role", type=ROLE_CHOICE, default=None, metavar="TEXT")
@click.option("-p", "--party-id", default=None)
@click.option("-s", "--status", type=STATUS_CHOICE, default=None, metavar="TEXT")
@pass_settings
def job_query(
    settings: Settings, job_id: str, role: str | None, party_id: str | None, status: str | None
) -> None:
    """A job's status at every party (FATE's job rows, with the DAG); without -j, every job here."""

    def keep(row: dict[str, Any]) -> bool:
        return (
            (role is None or row["role"] == role)
            and (party_id is None or row["party_id"] == party_id)
            and (status is None or row["status"] == status)
        )

    def action() -> None:
        with settings.client() as client:
            if not job_id:
                listed = client.list_jobs(
                    status=status or "", party_id=party_id or "", role=role or "", limit=1000
                )
                success([row for view in listed.jobs for row in job_list_rows(view) if keep(row)])
                return
            answer = client.query_job(job_id)
        rows = [row for row in job_rows(answer.job) if keep(row)]
        if not rows:
            raise FateGrpcError(ErrorCode.NOT_FOUND, f"no row of job {job_id} matches the filters")
        extra: dict[str, Any] = {"warning": answer.warning} if answer.warning else {}
        success(rows, **extra)

    run(action)


@job.command("stop")
@click.option("-j", "--job-id", required=True)
@click.option(
    "--force",
    is_flag=True,
    help="End the job at this node's party only, whatever its scheduler says (admins; a last resort).",
)
@pass_settings
def job_stop(settings: Settings, job_id: str, force: bool) -> None:
    """Cancel a job at every party (with --force: end it at this party only)."""

    def action() -> None:
        with settings.client() as client:
            answer = client.stop_job(job_id, force=force)
        data: dict[str, Any] = {"job_id": job_id, "status": job_status_name(answer.status)}
        if force:
            forced = answer.forced
            data["forced"] = {
                "party_id": forced.party_id,
                "previous_status": job_status_name(forced.previous_status),
                "killed_processes": forced.killed_processes,
                "ended_tasks": forced.ended_tasks,
                "cores_returned": forced.cores_returned,
            }
        success(data)

    run(action)


# -- task --------------------------------------------------------------------------------------------
@cli.group()
def task() -> None:
    """Query tasks."""


@task.command("query")
@click.option("-j", "--job-id", default="", help="The job (else from -tid; every job here when neither).")
@click.option("-r", "--role", type=ROLE_CHOICE, default="", metavar="TEXT")
@click.option("-p", "--party-id", default="")
@click.option("-tn", "--task-name", default="")
@click.option("-s", "--status", type=STATUS_CHOICE, default=None, metavar="TEXT")
@click.option("-tid", "--task-id", default="", help="FATE's task id: <job_id>_<task_name>.")
@click.option("-tv", "--task-version", type=int, default=None, help="The attempt (FATE's task version).")
@click.option("--all-attempts", is_flag=True, help="Show every attempt, not only the latest.")
@click.option("--traceback", is_flag=True, help="Add the tracebacks of this party's failed tasks.")
@pass_settings
def task_query(
    settings: Settings,
    job_id: str,
    role: str,
    party_id: str,
    task_name: str,
    status: str | None,
    task_id: str,
    task_version: int | None,
    all_attempts: bool,
    traceback: bool,
) -> None:
    """Task status per party (role, party id, task, status, times, elapsed, error)."""

    def action() -> None:
        if not job_id and not task_id:
            # FATE's task query without a job: every task of this node matching the filters.
            with settings.client() as client:
                listed = client.list_tasks(
                    role=role, party_id=party_id, task_name=task_name, status=status or "", limit=1000
                )
            success(task_rows([t for t in listed.tasks if task_version is None or t.attempt == task_version]))
            return
        job, name = _task_ref(job_id, task_name, task_id)
        with settings.client() as client:
            answer = client.query_tasks(
                job,
                role=role,
                party_id=party_id,
                task_name=name,
                all_attempts=all_attempts or task_version is not None,
                traceback=traceback,
            )
        tasks = [
            t
            for t in answer.tasks
            if (task_version is None or t.attempt == task_version)
            and (status is None or task_status_name(t.status) == status)
        ]
        extra: dict[str, Any] = {"warning": answer.warning} if answer.warning else {}
        success(task_rows(tasks, traceback=traceback), **extra)

    run(action)


def _task_ref(job_id: str, task_name: str, task_id: str) -> tuple[str, str]:
    """(job id, task name) from -j/-tn or FATE's task id (<job_id>_<task_name>; job ids hold no '_')."""
    if task_id:
        tid_job, sep, tid_task = task_id.partition("_")
        if not sep or not tid_task or (job_id and job_id != tid_job) or (task_name and task_name != tid_task):
            raise FateGrpcError(
                ErrorCode.CLIENT_INPUT,
                f"task id {task_id!r} must be <job_id>_<task_name> and agree with -j/-tn",
            )
        return tid_job, tid_task
    return job_id, task_name


# -- data / table ------------------------------------------------------------------------------------
@cli.group()
def data() -> None:
    """Upload, transform and download tables (commands in flow_data)."""


@cli.group()
def table() -> None:
    """Query, bind and delete stored tables (commands in flow_data)."""


# -- helpers -----------------------------------------------------------------------------------------
def _read_text(path: str, what: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise FateGrpcError(
            ErrorCode.CLIENT_INPUT, f"cannot read {what} file {path}: {exc.strerror}"
        ) from None
    except UnicodeDecodeError:
        raise FateGrpcError(ErrorCode.CLIENT_INPUT, f"{what} file {path} is not UTF-8 text") from None


def load_json_conf(path: str) -> dict[str, Any]:
    text = _read_text(path, "conf")
    try:
        loaded = yaml.safe_load(text)  # JSON is YAML, so both forms work
    except yaml.YAMLError as exc:
        raise FateGrpcError(ErrorCode.CLIENT_INPUT, f"conf {path} is not valid JSON/YAML: {exc}") from None
    if not isinstance(loaded, dict):
        raise FateGrpcError(ErrorCode.CLIENT_INPUT, f"conf {path} must be a JSON object")
    return loaded


# Token, permission, client-app, lifecycle, provider, log, site and server commands live in their own
# modules; importing registers them.
from fate_grpc.cli import (  # noqa: E402, F401
    flow_admin,
    flow_apps,
    flow_completion,
    flow_data,
    flow_jobs,
    flow_node,
    flow_outputs,
    flow_test,
)


def main(argv: list[str] | None = None) -> int:
    try:
        cli.main(args=argv, prog_name="flow", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        emit({"code": int(ErrorCode.CLIENT_INPUT), "message": exc.format_message()})
        return 2
    except click.exceptions.Abort:
        return 130
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


if __name__ == "__main__":
    # Run through the package module so that the commands registered by flow_admin are present.
    from fate_grpc.cli.flow_cli import main as package_main

    sys.exit(package_main())
