"""Node configuration: frozen dataclasses loaded from conf/*.yaml."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fate_grpc.domain.ids import check_party_id
from fate_grpc.errors import FateGrpcError, invalid_argument

MIB = 1024 * 1024


@dataclass(frozen=True)
class Timeouts:
    """Deadlines (seconds) of outbound calls and waits."""

    rpc_s: float = 10.0
    """Deadline of one control RPC to another party (status sync, start, stop)."""
    job_create_s: float = 15.0
    """Deadline of each party's answer to job check/create at submit."""
    transfer_s: float = 600.0
    """Deadline of one object transfer to another node."""
    task_receive_s: float = 600.0
    """How long a component waits for an object from another party before failing."""
    report_retry_s: float = 30.0
    """How long a participant keeps retrying a task-status report to the scheduler."""


@dataclass(frozen=True)
class SchedulerSettings:
    """Scheduler behaviour. The happy path is event-driven; these bound the recovery paths."""

    collect_after_s: float = 5.0
    """A running task with no status report for this long gets its status asked for (lost reports)."""
    sweep_interval_s: float = 2.0
    """How often the scheduler looks for such silent tasks."""


@dataclass(frozen=True)
class Limits:
    """Sizes that bound memory and input."""

    max_message_bytes: int = 4 * MIB
    """Largest single gRPC message a server or channel accepts."""
    chunk_bytes: int = 1 * MIB
    """Size of the chunks large objects and files are streamed in."""
    mailbox_memory_bytes: int = 64 * MIB
    """Unconsumed objects up to this total stay in memory; beyond it they are spilled to disk."""
    max_dag_bytes: int = 1 * MIB
    """Largest DAG document accepted at submit."""


@dataclass(frozen=True)
class NodeConfig:
    """One party's node."""

    party_id: str
    """This party's id, e.g. "9999"."""
    listen: str
    """host:port the node serves partner nodes on (control and transfer); port 0 picks a free one."""
    data_dir: Path
    """Where the SQLite store, tables, task work dirs and logs live."""
    routes: Mapping[str, str] = field(default_factory=dict)
    """party id -> host:port of that party's node (this party's own entry is optional)."""
    client_listen: str | None = None
    """host:port of the user API; None serves it on `listen` as well."""
    task_python: str | None = None
    """Interpreter that runs task processes; None means the node's own."""
    warm_task_processes: int = 2
    """Task processes kept started and imported, ready for the next task (0 turns this off)."""
    timeouts: Timeouts = field(default_factory=Timeouts)
    scheduler: SchedulerSettings = field(default_factory=SchedulerSettings)
    limits: Limits = field(default_factory=Limits)

    @property
    def store_path(self) -> Path:
        return self.data_dir / "node.sqlite3"

    def with_routes(self, routes: Mapping[str, str]) -> NodeConfig:
        return dataclasses.replace(self, routes=dict(routes))


def _section(cls: type, raw: Any, path: str) -> Any:
    if raw is None:
        return cls()
    if not isinstance(raw, Mapping):
        raise invalid_argument(f"{path} must be a mapping", field_path=path)
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise invalid_argument(f"{path}: unknown key(s) {', '.join(unknown)}", field_path=path)
    values = {}
    for key, value in raw.items():
        expected = known[key].type
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise invalid_argument(
                f"{path}.{key} must be a number, got {value!r}", field_path=f"{path}.{key}"
            )
        values[key] = int(value) if expected == "int" else float(value)
    return cls(**values)


def config_from_mapping(raw: Mapping[str, Any], *, base_dir: Path | None = None) -> NodeConfig:
    """Build a NodeConfig from parsed YAML; relative data_dir is taken relative to `base_dir`."""
    allowed = {"party_id", "listen", "client_listen", "data_dir", "routes", "task_python", "timeouts"}
    allowed |= {"scheduler", "limits", "warm_task_processes"}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise invalid_argument(f"unknown conf key(s): {', '.join(unknown)}", field_path=unknown[0])
    for key in ("party_id", "listen", "data_dir"):
        if key not in raw or raw[key] in (None, ""):
            raise invalid_argument(f"conf needs {key}", field_path=key)
    party_id = check_party_id(str(raw["party_id"]))
    routes_raw = raw.get("routes") or {}
    if not isinstance(routes_raw, Mapping):
        raise invalid_argument("routes must map party id -> host:port", field_path="routes")
    routes = {check_party_id(str(k)): _check_address(str(v), f"routes.{k}") for k, v in routes_raw.items()}
    data_dir = Path(str(raw["data_dir"])).expanduser()
    if not data_dir.is_absolute() and base_dir is not None:
        data_dir = base_dir / data_dir
    client_listen = raw.get("client_listen")
    return NodeConfig(
        party_id=party_id,
        listen=_check_address(str(raw["listen"]), "listen"),
        client_listen=_check_address(str(client_listen), "client_listen") if client_listen else None,
        data_dir=data_dir,
        routes=routes,
        task_python=str(raw["task_python"]) if raw.get("task_python") else None,
        warm_task_processes=_count(raw.get("warm_task_processes", 2), "warm_task_processes"),
        timeouts=_section(Timeouts, raw.get("timeouts"), "timeouts"),
        scheduler=_section(SchedulerSettings, raw.get("scheduler"), "scheduler"),
        limits=_section(Limits, raw.get("limits"), "limits"),
    )


def load_config(path: str | Path) -> NodeConfig:
    """Read a node conf file (YAML). Errors name the file and the field."""
    conf_path = Path(path)
    try:
        raw = yaml.safe_load(conf_path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise invalid_argument(f"cannot read conf {conf_path}: {exc.strerror}", field_path="conf") from None
    except yaml.YAMLError as exc:
        raise invalid_argument(f"conf {conf_path} is not valid YAML: {exc}", field_path="conf") from None
    if not isinstance(raw, Mapping):
        raise invalid_argument(f"conf {conf_path} must be a YAML mapping", field_path="conf")
    try:
        return config_from_mapping(raw, base_dir=Path.cwd())
    except FateGrpcError as exc:
        exc.message = f"{conf_path}: {exc.message}"
        raise


def _count(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 64:
        raise invalid_argument(f"{path} must be an integer from 0 to 64", field_path=path)
    return value


def _check_address(value: str, path: str) -> str:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise invalid_argument(f"{path} must be host:port, got {value!r}", field_path=path)
    return value


def split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def is_loopback_address(address: str) -> bool:
    host, _ = split_address(address)
    return host in ("localhost", "::1") or host.startswith("127.")
