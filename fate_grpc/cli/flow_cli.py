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
from fate_grpc.cli.render import job_rows, job_status_name, task_rows
from fate_grpc.errors import CATALOG, OMITTED_VIOLATIONS_FIELD, ErrorCode, FateGrpcError

CONF_ENV = "FATE_GRPC_FLOW_CONF"


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
            return str(self._overrides["node"])
        stored = self._stored()
        if stored.get("ip") and stored.get("port"):
            return f"{stored['ip']}:{stored['port']}"
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
@click.option("--token", "init_token", help="Client token to send (see `flow token create`).")
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
        settings: dict[str, Any] = {"ip": ip, "port": port, "api_version": "v1"}
        for key, value in (("ca", init_ca), ("cert", init_cert), ("key", init_key)):
            if value:
                settings[key] = str(Path(value).resolve())
        if server_name:
            settings["server_name"] = server_name
        if init_token:
            settings["token"] = init_token
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
    """Client version."""
    success({"version": __version__})


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
@click.option("-j", "--job-id", required=True)
@click.option("-r", "--role", default=None)
@click.option("-p", "--party-id", default=None)
@pass_settings
def job_query(settings: Settings, job_id: str, role: str | None, party_id: str | None) -> None:
    """A job's status at every party."""

    def action() -> None:
        with settings.client() as client:
            answer = client.query_job(job_id)
        rows = [
            r
            for r in job_rows(answer.job)
            if (role is None or r["role"] == role) and (party_id is None or r["party_id"] == party_id)
        ]
        extra: dict[str, Any] = {"warning": answer.warning} if answer.warning else {}
        success(rows, **extra)

    run(action)


@job.command("stop")
@click.option("-j", "--job-id", required=True)
@pass_settings
def job_stop(settings: Settings, job_id: str) -> None:
    """Cancel a job at every party."""

    def action() -> None:
        with settings.client() as client:
            answer = client.stop_job(job_id)
        success({"job_id": job_id, "status": job_status_name(answer.status)})

    run(action)


# -- task --------------------------------------------------------------------------------------------
@cli.group()
def task() -> None:
    """Query tasks."""


@task.command("query")
@click.option("-j", "--job-id", required=True)
@click.option("-r", "--role", default="")
@click.option("-p", "--party-id", default="")
@click.option("-tn", "--task-name", default="")
@click.option("--all-attempts", is_flag=True, help="Show every attempt, not only the latest.")
@click.option("--traceback", is_flag=True, help="Add the tracebacks of this party's failed tasks.")
@pass_settings
def task_query(
    settings: Settings,
    job_id: str,
    role: str,
    party_id: str,
    task_name: str,
    all_attempts: bool,
    traceback: bool,
) -> None:
    """Task status per party (role, party id, task, status, times, elapsed, error)."""

    def action() -> None:
        with settings.client() as client:
            answer = client.query_tasks(
                job_id,
                role=role,
                party_id=party_id,
                task_name=task_name,
                all_attempts=all_attempts,
                traceback=traceback,
            )
        extra: dict[str, Any] = {"warning": answer.warning} if answer.warning else {}
        success(task_rows(answer.tasks, traceback=traceback), **extra)

    run(action)


# -- data / table ------------------------------------------------------------------------------------
@cli.group()
def data() -> None:
    """Upload, transform and download tables (commands in flow_data)."""


@cli.group()
def table() -> None:
    """Query, bind and delete stored tables (commands in flow_data)."""


@cli.group()
def server() -> None:
    """The node flow talks to."""


@server.command("info")
@pass_settings
def server_info(settings: Settings) -> None:
    """Party id, version and route table of the node."""

    def action() -> None:
        with settings.client() as client:
            info = client.node_info()
        success({"party_id": info.party_id, "version": info.version, "routes": dict(info.routes)})

    run(action)


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


# Token, permission, lifecycle and provider commands live in their own modules; importing registers them.
from fate_grpc.cli import flow_admin, flow_data, flow_jobs, flow_outputs, flow_test  # noqa: E402, F401


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
