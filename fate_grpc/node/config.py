"""Node configuration: frozen dataclasses loaded from conf/*.yaml."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fate_grpc.common.addresses import is_loopback_address
from fate_grpc.domain.dag_loading import DEFAULT_MAX_DAG_BYTES
from fate_grpc.domain.ids import check_party_id
from fate_grpc.errors import FateGrpcError, invalid_argument
from fate_grpc.security.tls import TlsSettings

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
    party_unreachable_s: float = 300.0
    """How long the scheduler tolerates a party that does not answer its status checks before it
    fails the job (a stalled or partitioned node that comes back sooner loses nothing)."""


@dataclass(frozen=True)
class SchedulerSettings:
    """Scheduler behaviour. The happy path is event-driven; these bound the recovery paths."""

    collect_after_s: float = 5.0
    """A running task with no status report for this long gets its status asked for (lost reports)."""
    sweep_interval_s: float = 2.0
    """How often the scheduler looks for such silent tasks (and retries waiting jobs)."""
    retry_backoff_s: float = 1.0
    """Delay before the first automatic retry of a task; it doubles with each retry (at most 60 s)."""
    default_task_timeout_s: float = 259200.0
    """A task's timeout when the DAG sets none (FATE's default: 72 hours)."""
    max_task_attempts: int = 3
    """Attempts a task may have when attempts are lost to a party's restart (its node killed while
    the task ran, or unreachable when the task was to start): each lost attempt is followed by a new
    one at every party of the task; past this many the job fails, naming the party."""

    def __post_init__(self) -> None:
        if self.max_task_attempts < 1:
            raise invalid_argument(
                f"scheduler.max_task_attempts must be at least 1, got {self.max_task_attempts}",
                field_path="scheduler.max_task_attempts",
            )


@dataclass(frozen=True)
class Resources:
    """What this node lends to jobs."""

    cores: int = 32
    """Core budget: a job reserves its cores (dag.conf.cores, default 4) here before it starts."""


@dataclass(frozen=True)
class Limits:
    """Sizes that bound memory and input."""

    max_message_bytes: int = 4 * MIB
    """Largest single gRPC message a server or channel accepts."""
    chunk_bytes: int = 1 * MIB
    """Size of the chunks large objects and files are streamed in."""
    mailbox_memory_bytes: int = 64 * MIB
    """Unconsumed objects up to this total stay in memory; beyond it they are spilled to disk."""
    max_dag_bytes: int = DEFAULT_MAX_DAG_BYTES
    """Largest DAG document accepted (bytes of its UTF-8 text), at submit and from partners."""
    max_pending_creates_per_partner: int = 4
    """Job checks/creates one partner may have in flight here at once (more are refused)."""
    max_unfinished_jobs_per_partner: int = 64
    """Jobs a partner may have waiting or running here at once (more are refused at submit)."""

    def __post_init__(self) -> None:
        # A DAG travels in one message, so a larger limit would only let the transport refuse it.
        if not 1 <= self.max_dag_bytes <= self.max_message_bytes:
            raise invalid_argument(
                f"limits.max_dag_bytes must be between 1 and limits.max_message_bytes"
                f" ({self.max_message_bytes}), got {self.max_dag_bytes}",
                field_path="limits.max_dag_bytes",
            )


@dataclass(frozen=True)
class ClientAuthSettings:
    """How users of the client API prove who they are."""

    mode: str = "auto"
    """"required": a client certificate of this party or a token; "none": anyone who can connect;
    "auto": required unless the node is a plaintext loopback simulation."""
    certificates: str = "required"
    """What the TLS handshake of the user port (`client_listen`) asks of users: "required", a client
    certificate of this party; "none", no certificate (server-authenticated TLS: users send a token).
    The partners' port always demands node certificates, so "none" needs a `client_listen` of its own."""


@dataclass(frozen=True)
class PermissionSettings:
    """What partners may do here without an explicit grant."""

    default: str = "auto"
    """"deny": partners need grants (flow permission grant); "allow": everything is allowed;
    "auto": allow in a plaintext loopback simulation, deny otherwise."""


@dataclass(frozen=True)
class HttpSettings:
    """The node's HTTP port (Prometheus metrics; the board and FATE-Flow's HTTP API mount here too)."""

    listen: str
    """host:port; port 0 picks a free one. TLS and authentication are the user API's."""


@dataclass(frozen=True)
class LogSettings:
    """The node's own log (logs/node.log and stderr)."""

    format: str = "text"
    """"text": one readable line per record; "json": one JSON object per line with the job, task,
    attempt, party and request fields."""
    level: str = "info"
    """Lowest level written: debug, info, warning or error."""


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
    fork_server: bool = True
    """Fork task processes from a server that imported the task runtime once (else a fresh interpreter)."""
    timeouts: Timeouts = field(default_factory=Timeouts)
    scheduler: SchedulerSettings = field(default_factory=SchedulerSettings)
    limits: Limits = field(default_factory=Limits)
    resources: Resources = field(default_factory=Resources)
    tls: TlsSettings | None = None
    """None: plaintext, allowed only when every address is loopback (the local simulation)."""
    client_auth: ClientAuthSettings = field(default_factory=ClientAuthSettings)
    permissions: PermissionSettings = field(default_factory=PermissionSettings)
    server_data_dirs: tuple[Path, ...] = ()
    """Directories on this machine that `flow table bind` may read files from and `flow data
    download-component` may write into (none: both are refused)."""
    http: HttpSettings | None = None
    """None: no HTTP port."""
    log: LogSettings = field(default_factory=LogSettings)

    @property
    def is_loopback_simulation(self) -> bool:
        """Plaintext on loopback only: the local multi-process simulation."""
        listens = [self.listen] + ([self.client_listen] if self.client_listen else [])
        listens += [self.http.listen] if self.http else []
        return self.tls is None and all(is_loopback_address(a) for a in listens)

    @property
    def client_auth_required(self) -> bool:
        if self.client_auth.mode == "auto":
            return not self.is_loopback_simulation
        return self.client_auth.mode == "required"

    @property
    def partners_allowed_by_default(self) -> bool:
        if self.permissions.default == "auto":
            return self.is_loopback_simulation
        return self.permissions.default == "allow"

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


def config_from_mapping(
    raw: Mapping[str, Any], *, base_dir: Path | None = None, conf_dir: Path | None = None
) -> NodeConfig:
    """Build a NodeConfig from parsed YAML; relative data_dir is taken relative to `base_dir`,
    relative TLS file paths relative to `conf_dir` (the conf file's folder)."""
    allowed = {"party_id", "listen", "client_listen", "data_dir", "routes", "task_python", "timeouts"}
    allowed |= {
        "scheduler",
        "limits",
        "fork_server",
        "tls",
        "client_auth",
        "permissions",
        "resources",
        "server_data_dirs",
        "http",
        "log",
    }
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
    listen = _check_address(str(raw["listen"]), "listen")
    client_listen = (
        _check_address(str(raw["client_listen"]), "client_listen") if raw.get("client_listen") else None
    )
    http = _http(raw.get("http"))
    if raw.get("tls") is None:
        http_listen = ("http.listen", http.listen if http else None)
        for key, address in (("listen", listen), ("client_listen", client_listen), http_listen):
            if address and not is_loopback_address(address):
                raise invalid_argument(
                    f"{key} {address} is not a loopback address: serving partners or users beyond this host"
                    " needs tls (provision certificates with fate-grpc provision)",
                    field_path=key,
                )
    return NodeConfig(
        party_id=party_id,
        listen=listen,
        client_listen=client_listen,
        data_dir=data_dir,
        routes=routes,
        task_python=str(raw["task_python"]) if raw.get("task_python") else None,
        fork_server=_flag(raw.get("fork_server", True), "fork_server"),
        timeouts=_section(Timeouts, raw.get("timeouts"), "timeouts"),
        scheduler=_section(SchedulerSettings, raw.get("scheduler"), "scheduler"),
        limits=_section(Limits, raw.get("limits"), "limits"),
        resources=_section(Resources, raw.get("resources"), "resources"),
        tls=_tls(raw.get("tls"), conf_dir or base_dir or Path.cwd()),
        client_auth=_client_auth(raw, client_listen),
        permissions=PermissionSettings(
            default=_choice(raw, "permissions", "default", ("auto", "allow", "deny"))
        ),
        server_data_dirs=_server_data_dirs(raw.get("server_data_dirs"), base_dir),
        http=http,
        log=_log(raw.get("log")),
    )


def _http(raw: Any) -> HttpSettings | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or set(raw) != {"listen"} or not raw["listen"]:
        raise invalid_argument("http must be a mapping with only listen: host:port", field_path="http")
    return HttpSettings(listen=_check_address(str(raw["listen"]), "http.listen"))


LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("debug", "info", "warning", "error")


def _log(raw: Any) -> LogSettings:
    if raw is None:
        return LogSettings()
    if not isinstance(raw, Mapping):
        raise invalid_argument("log must be a mapping", field_path="log")
    unknown = sorted(set(raw) - {"format", "level"})
    if unknown:
        raise invalid_argument(f"log: unknown key(s) {', '.join(unknown)}", field_path=f"log.{unknown[0]}")
    for key, allowed in (("format", LOG_FORMATS), ("level", LOG_LEVELS)):
        if key in raw and raw[key] not in allowed:
            raise invalid_argument(
                f"log.{key} must be one of {', '.join(allowed)}, got {raw[key]!r}", field_path=f"log.{key}"
            )
    return LogSettings(**raw)


def _server_data_dirs(raw: Any, base_dir: Path | None) -> tuple[Path, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(d, str) and d for d in raw):
        raise invalid_argument(
            "server_data_dirs must be a list of directories", field_path="server_data_dirs"
        )
    folders = []
    for index, entry in enumerate(raw):
        folder = Path(entry).expanduser()
        folder = folder if folder.is_absolute() or base_dir is None else base_dir / folder
        if not folder.is_dir():
            where = f"server_data_dirs[{index}]"
            raise invalid_argument(f"{where}: {folder} is not a directory", field_path=where)
        folders.append(folder.resolve())
    return tuple(folders)


def _client_auth(raw: Mapping[str, Any], client_listen: str | None) -> ClientAuthSettings:
    keys = ("mode", "certificates")
    settings = ClientAuthSettings(
        mode=_choice(raw, "client_auth", "mode", ("auto", "required", "none"), keys=keys),
        certificates=_choice(raw, "client_auth", "certificates", ("required", "none"), keys=keys),
    )
    if settings.certificates == "none" and client_listen is None:
        raise invalid_argument(
            "client_auth.certificates none needs client_listen: the partners' port always demands"
            " certificates",
            field_path="client_auth.certificates",
        )
    return settings


def _choice(
    raw: Mapping[str, Any], section: str, key: str, allowed: tuple[str, ...], *, keys: tuple[str, ...] = ()
) -> str:
    values = raw.get(section) or {}
    if not isinstance(values, Mapping) or set(values) - {key, *keys}:
        raise invalid_argument(f"{section} may only hold {', '.join(keys or (key,))}", field_path=section)
    value = str(values.get(key, allowed[0]))
    if value not in allowed:
        raise invalid_argument(
            f"{section}.{key} must be one of {', '.join(allowed)}", field_path=f"{section}.{key}"
        )
    return value


def _tls(raw: Any, conf_dir: Path) -> TlsSettings | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise invalid_argument("tls must be a mapping", field_path="tls")
    unknown = sorted(set(raw) - {"cert", "key", "trust", "client_ca", "partner_cas"})
    if unknown:
        raise invalid_argument(f"tls: unknown key(s) {', '.join(unknown)}", field_path=f"tls.{unknown[0]}")

    def path(value: Any, where: str) -> Path:
        if not value:
            raise invalid_argument(f"{where} is required", field_path=where)
        resolved = Path(str(value)).expanduser()
        resolved = resolved if resolved.is_absolute() else (conf_dir / resolved)
        if not resolved.is_file():
            raise invalid_argument(f"{where}: file {resolved} does not exist", field_path=where)
        return resolved.resolve()

    partners_raw = raw.get("partner_cas") or {}
    if not isinstance(partners_raw, Mapping):
        raise invalid_argument("tls.partner_cas must map party id -> CA file", field_path="tls.partner_cas")
    return TlsSettings(
        cert=path(raw.get("cert"), "tls.cert"),
        key=path(raw.get("key"), "tls.key"),
        trust=path(raw.get("trust"), "tls.trust"),
        client_ca=path(raw["client_ca"], "tls.client_ca") if raw.get("client_ca") else None,
        partner_cas={
            check_party_id(str(k)): path(v, f"tls.partner_cas.{k}") for k, v in partners_raw.items()
        },
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
        return config_from_mapping(raw, base_dir=Path.cwd(), conf_dir=conf_path.resolve().parent)
    except FateGrpcError as exc:
        exc.message = f"{conf_path}: {exc.message}"
        raise


def _flag(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise invalid_argument(f"{path} must be true or false", field_path=path)
    return value


def _check_address(value: str, path: str) -> str:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise invalid_argument(f"{path} must be host:port, got {value!r}", field_path=path)
    return value
