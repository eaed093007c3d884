"""Parsing and validation of FATE 2.x DAG documents; every problem is collected with its field path.

Import the public names from `fate_grpc.domain.dag`.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

# A module import: `dag` imports this module and `dag_resolution` at its end, in either order.
from fate_grpc.domain import dag_resolution as resolution
from fate_grpc.domain.component_spec import ROLES, STAGES, ComponentCatalog
from fate_grpc.domain.dag import (
    CHANNEL_SOURCES,
    INPUT_KINDS,
    ArtifactChannel,
    ChannelSource,
    Dag,
    InputBinding,
    InputKind,
    JobConf,
    PartyRef,
    PartySpec,
    PartyTaskRef,
    PartyTasksSpec,
    TaskConf,
    TaskSpec,
    expand_parties,
    type_name,
)
from fate_grpc.domain.dag_loading import load_dag_document, old_format_violation
from fate_grpc.domain.ids import is_valid_job_id, is_valid_party_id, name_problem
from fate_grpc.errors import FieldViolation, invalid_dag, shown

_TOP_KEYS = ("dag", "kind", "schema_version")
_DAG_KEYS = ("conf", "parties", "party_tasks", "stage", "tasks")
_PARTY_KEYS = ("party_id", "role")
_JOB_CONF_KEYS = (
    "auto_retries",
    "computing_partitions",
    "cores",
    "extra",
    "inheritance",
    "initiator_party_id",
    "model_id",
    "model_version",
    "model_warehouse",
    "priority",
    "scheduler_party_id",
    "sync_type",
    "task",
)
# The FATE client writes these; FATE-Flow ignores them, and so do we.
_IGNORED_JOB_CONF_KEYS = ("engine", "federated_status_collect_type", "task_parallelism")
_TASK_CONF_KEYS = ("engine_run", "launcher_name", "provider", "timeout")
_TASK_KEYS = (
    "component_ref",
    "conf",
    "dependent_tasks",
    "inputs",
    "outputs",
    "parameters",
    "parties",
    "stage",
)
_PARTY_TASKS_KEYS = ("conf", "parties", "tasks")
_PARTY_TASK_REF_KEYS = ("conf", "parameters")
_OUTPUT_KINDS = ("data", "metric", "model")
_OUTPUT_SPEC_KEYS = ("output_artifact_key_alias", "output_artifact_type_alias", "parties")
_CHANNEL_KEYS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # source: (allowed keys, required keys)
    "task_output_artifact": (
        ("output_artifact_key", "output_artifact_type_alias", "parties", "producer_task"),
        ("output_artifact_key", "producer_task"),
    ),
    "model_warehouse": (
        ("model_id", "model_version", "output_artifact_key", "parties", "producer_task"),
        ("output_artifact_key", "producer_task"),
    ),
    "data_warehouse": (
        ("dataset_id", "job_id", "name", "namespace", "output_artifact_key", "parties", "producer_task"),
        (),
    ),
}
# Warehouse sources carry one kind of artifact only.
_SOURCE_KIND: Mapping[str, str] = {"model_warehouse": "model", "data_warehouse": "data"}
_PROVIDER_PATTERN = re.compile(r"^[A-Za-z0-9_.-]+:[A-Za-z0-9_.+-]+@[A-Za-z0-9_.-]+$")
_SYNC_TYPES = ("callback", "poll")

_T = TypeVar("_T")


def parse_dag(document: str | Mapping[str, Any], catalog: ComponentCatalog) -> Dag:
    """See `fate_grpc.domain.dag.parse_dag`."""
    loaded = load_dag_document(document) if isinstance(document, str) else document
    old_format = old_format_violation(loaded) if isinstance(loaded, Mapping) else None
    if old_format is not None:
        # One answer saying what to change, rather than every old field as an unknown key.
        raise invalid_dag([old_format])
    parser = _Parser()
    dag = parser.parse(loaded)
    if dag is not None:
        if parser.declared is None:
            # With broken dag.parties, checks of who runs what would only guess.
            parser.sites.broken.update(dag.tasks)
        for violation in resolution.consistency_violations(dag, catalog, parser.sites):
            parser.add(violation.field, violation.reason)
    if parser.violations or dag is None:
        raise invalid_dag(parser.violations)
    return dag


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


class _Parser:
    """Structural parsing: builds the model from what is well-formed and records every problem."""

    def __init__(self) -> None:
        self.violations: list[FieldViolation] = []
        self._seen: set[tuple[str, str]] = set()
        self.declared: frozenset[PartyRef] | None = None
        self.sites = resolution.DocumentSites()

    def add(self, path: str, reason: str) -> None:
        if (path, reason) not in self._seen:
            self._seen.add((path, reason))
            self.violations.append(FieldViolation(path, reason))

    # -- generic shapes ------------------------------------------------------------------------

    def mapping(
        self, value: object, path: str, keys: tuple[str, ...] | None = None, required: tuple[str, ...] = ()
    ) -> dict[str, Any] | None:
        """The string-keyed entries of a mapping; unknown keys and missing required keys are violations."""
        if not isinstance(value, Mapping):
            self.add(path, f"must be a mapping, got {type_name(value)}")
            return None
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                self.add(path, f"key {shown(key)} must be a string")
            elif keys is not None and key not in keys:
                self.add(_join(path, key), f"unknown key (expected one of: {', '.join(keys)})")
            else:
                out[key] = item
        for key in required:
            if out.get(key) is None:
                self.add(_join(path, key), "required but missing")
        return out

    def optional_mapping(self, value: object, path: str) -> dict[str, Any]:
        mapping = self.mapping(value, path) if value is not None else {}
        return copy.deepcopy(mapping) if mapping is not None else {}

    def string(self, value: object, path: str) -> str | None:
        if isinstance(value, str):
            return value
        self.add(path, f"must be a string, got {type_name(value)}")
        return None

    def str_or_int(self, value: object, path: str) -> str | None:
        # FATE coerces numeric ids and versions to strings (YAML reads `model_version: 0` as int).
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, str):
            return value
        self.add(path, f"must be a string or an integer, got {type_name(value)}")
        return None

    def integer(self, value: object, path: str, minimum: int | None = None) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(path, f"must be an integer, got {type_name(value)}")
            return None
        if minimum is not None and value < minimum:
            self.add(path, f"must be at least {minimum}, got {value}")
            return None
        return value

    def choice(self, value: object, path: str, choices: tuple[str, ...]) -> str | None:
        text = self.string(value, path)
        if text is not None and text not in choices:
            self.add(path, f"must be one of: {', '.join(choices)}; got {shown(text)}")
            return None
        return text

    def name(self, value: object, path: str, what: str) -> str | None:
        problem = name_problem(value)
        if problem is not None:
            self.add(path, f"{what} {shown(value)} {problem}")
            return None
        return value if isinstance(value, str) else None

    def string_list(self, value: object, path: str) -> list[str]:
        if not isinstance(value, list):
            self.add(path, f"must be a list of strings, got {type_name(value)}")
            return []
        return [s for i, item in enumerate(value) if (s := self.string(item, f"{path}[{i}]")) is not None]

    # -- parties -------------------------------------------------------------------------------

    def parties(
        self, value: object, path: str, *, check_declared: bool = True
    ) -> tuple[PartySpec, ...] | None:
        """A party list; with `check_declared`, every party must also be in dag.parties."""
        if not isinstance(value, list):
            self.add(path, f"must be a list of {{role, party_id}} entries, got {type_name(value)}")
            return None
        if not value:
            self.add(path, "must list at least one party")
            return None
        specs: list[PartySpec] = []
        seen: set[PartyRef] = set()
        for i, item in enumerate(value):
            spec = self.party_entry(item, f"{path}[{i}]", seen, check_declared)
            if spec is not None:
                specs.append(spec)
        return tuple(specs)

    def party_entry(
        self, value: object, path: str, seen: set[PartyRef], check_declared: bool
    ) -> PartySpec | None:
        entry = self.mapping(value, path, _PARTY_KEYS, required=_PARTY_KEYS)
        if entry is None or entry.get("role") is None or entry.get("party_id") is None:
            return None
        role = self.choice(entry["role"], _join(path, "role"), ROLES)
        ids = self.party_ids(entry["party_id"], _join(path, "party_id"))
        if role is None or ids is None:
            return None
        for party_id in ids:
            ref = PartyRef(role, party_id)
            if ref in seen:
                self.add(_join(path, "party_id"), f"party {party_id} is listed more than once as {role}")
            seen.add(ref)
            if check_declared and self.declared is not None and ref not in self.declared:
                self.add(_join(path, "party_id"), f"{role} {party_id} is not declared in dag.parties")
        return PartySpec(role, ids)

    def party_ids(self, value: object, path: str) -> tuple[str, ...] | None:
        if not isinstance(value, list):
            self.add(path, f"must be a list of party ids, got {type_name(value)}")
            return None
        if not value:
            self.add(path, "must list at least one party id")
            return None
        ids: list[str] = []
        for i, item in enumerate(value):
            party_id = self.str_or_int(item, f"{path}[{i}]")
            if party_id is not None and not is_valid_party_id(party_id):
                reason = f"party id {shown(party_id)} must be 1 to 64 letters, digits, '_' or '-'"
                self.add(f"{path}[{i}]", reason)
            elif party_id is not None:
                ids.append(party_id)
        return tuple(ids) if len(ids) == len(value) else None

    # -- document ------------------------------------------------------------------------------

    def parse(self, document: object) -> Dag | None:
        top = self.mapping(document, "", _TOP_KEYS, required=("dag", "schema_version"))
        if top is None:
            return None
        schema_version = self.schema_version(top.get("schema_version"))
        kind = "fate" if top.get("kind") is None else self.choice(top["kind"], "kind", ("fate",))
        if top.get("dag") is None:
            return None
        body = self.mapping(top["dag"], "dag", _DAG_KEYS, required=("parties", "tasks"))
        if body is None:
            return None
        before = len(self.violations)
        parties = None
        if body.get("parties") is not None:
            parties = self.parties(body["parties"], "dag.parties", check_declared=False)
        if parties is not None and len(self.violations) == before:
            self.declared = frozenset(expand_parties(parties))
        stage = "default" if body.get("stage") is None else self.choice(body["stage"], "dag.stage", STAGES)
        tasks = self.tasks(body["tasks"]) if body.get("tasks") is not None else {}
        conf = self.job_conf(body.get("conf"), "dag.conf")
        party_tasks = self.party_tasks(body.get("party_tasks"), "dag.party_tasks")
        return Dag(
            schema_version=schema_version or "",
            kind=kind or "fate",
            parties=parties or (),
            conf=conf,
            stage=stage or "default",
            tasks=tasks,
            party_tasks=party_tasks,
        )

    def schema_version(self, value: object) -> str | None:
        if value is None:
            return None
        # YAML reads `schema_version: 2.1` as a number; FATE accepts it as a string.
        text = str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value
        version = self.string(text, "schema_version")
        if version is not None and not version.startswith("2."):
            self.add(
                "schema_version",
                f"only FATE 2.x DAGs are supported (a version starting with '2.'), got {shown(version)}",
            )
        return version

    # -- conf ----------------------------------------------------------------------------------

    def job_conf(self, value: object, path: str) -> JobConf:
        raw = self.mapping(value, path, _JOB_CONF_KEYS + _IGNORED_JOB_CONF_KEYS) if value is not None else {}
        if not raw:
            return JobConf()
        get = {k: v for k, v in raw.items() if v is not None}.get

        def sub(key: str) -> str:
            return _join(path, key)

        scheduler = self.party_ref_id(get("scheduler_party_id"), sub("scheduler_party_id"))
        return JobConf(
            priority=self.integer(get("priority", 0), sub("priority")) or 0,
            scheduler_party_id=scheduler,
            initiator_party_id=self.optional(
                get("initiator_party_id"), sub("initiator_party_id"), self.str_or_int
            ),
            inheritance=self.inheritance(get("inheritance"), sub("inheritance")),
            cores=self.optional_int(get("cores"), sub("cores"), 1),
            computing_partitions=self.optional_int(
                get("computing_partitions"), sub("computing_partitions"), 1
            ),
            sync_type=self.optional(get("sync_type"), sub("sync_type"), self.sync_type),
            auto_retries=self.integer(get("auto_retries", 0), sub("auto_retries"), 0) or 0,
            model_id=self.optional(get("model_id"), sub("model_id"), self.str_or_int),
            model_version=self.optional(get("model_version"), sub("model_version"), self.str_or_int),
            model_warehouse=self.model_warehouse(get("model_warehouse"), sub("model_warehouse")),
            task=self.task_conf(get("task"), sub("task")),
            extra=self.optional_mapping(get("extra"), sub("extra")),
            raw=copy.deepcopy(raw),
        )

    def optional(self, value: object, path: str, parse: Callable[[object, str], _T | None]) -> _T | None:
        return None if value is None else parse(value, path)

    def sync_type(self, value: object, path: str) -> str | None:
        return self.choice(value, path, _SYNC_TYPES)

    def optional_name(self, value: object, path: str) -> str | None:
        return None if value is None else self.name(value, path, path.rsplit(".", 1)[-1])

    def optional_int(self, value: object, path: str, minimum: int) -> int | None:
        return None if value is None else self.integer(value, path, minimum)

    def party_ref_id(self, value: object, path: str) -> str | None:
        party_id = self.optional(value, path, self.str_or_int)
        declared_ids = {ref.party_id for ref in self.declared or ()}
        if party_id is not None and self.declared is not None and party_id not in declared_ids:
            self.add(path, f"party {party_id} is not declared in dag.parties")
        return party_id

    def inheritance(self, value: object, path: str) -> dict[str, Any] | None:
        if value is None:
            return None
        spec = self.mapping(value, path, ("job_id", "task_list"), required=("job_id", "task_list"))
        if spec is None or spec.get("job_id") is None or spec.get("task_list") is None:
            return None
        job_id = self.str_or_int(spec["job_id"], _join(path, "job_id"))
        if job_id is not None and not is_valid_job_id(job_id):
            reason = f"job id {shown(job_id)} must be 1 to 64 letters, digits, '_' or '-'"
            self.add(_join(path, "job_id"), reason)
        task_list = self.string_list(spec["task_list"], _join(path, "task_list"))
        for i, name in enumerate(task_list):
            if name not in self.sites.task_names:
                self.add(f"{path}.task_list[{i}]", f"task {shown(name)} is not in dag.tasks")
        return {"job_id": job_id, "task_list": task_list}

    def model_warehouse(self, value: object, path: str) -> dict[str, str] | None:
        if value is None:
            return None
        spec = self.mapping(
            value, path, ("model_id", "model_version"), required=("model_id", "model_version")
        )
        if spec is None:
            return None
        model_id = self.optional(spec.get("model_id"), _join(path, "model_id"), self.str_or_int)
        version = self.optional(spec.get("model_version"), _join(path, "model_version"), self.str_or_int)
        return {"model_id": model_id, "model_version": version} if model_id and version else None

    def task_conf(self, value: object, path: str) -> TaskConf:
        raw = self.mapping(value, path, _TASK_CONF_KEYS) if value is not None else {}
        if not raw:
            return TaskConf()
        valid = self.task_conf_values(raw, path)
        return TaskConf(
            timeout=valid.get("timeout"),
            provider=valid.get("provider"),
            engine_run=copy.deepcopy(valid.get("engine_run") or {}),
            launcher_name=valid.get("launcher_name"),
            raw=copy.deepcopy(raw),
        )

    def task_conf_values(self, conf: Mapping[str, Any], path: str) -> dict[str, Any]:
        """The well-typed known keys of a task conf; task-level confs may also carry other keys."""
        get = {k: v for k, v in conf.items() if v is not None}.get
        valid = {
            "timeout": self.optional(get("timeout"), _join(path, "timeout"), self.timeout),
            "engine_run": self.optional(get("engine_run"), _join(path, "engine_run"), self.mapping),
            "launcher_name": self.optional(get("launcher_name"), _join(path, "launcher_name"), self.string),
            "provider": self.optional(get("provider"), _join(path, "provider"), self.provider),
        }
        return {k: v for k, v in valid.items() if v is not None}

    def timeout(self, value: object, path: str) -> int | None:
        return self.integer(value, path, 1)

    def provider(self, value: object, path: str) -> str | None:
        text = self.string(value, path)
        if text is not None and not _PROVIDER_PATTERN.fullmatch(text):
            self.add(path, f"must look like name:version@device (e.g. fate:2.1.0@local), got {shown(text)}")
            return None
        return text

    def task_level_conf(self, value: object, path: str) -> dict[str, Any]:
        conf = self.optional_mapping(value, path)
        self.task_conf_values(conf, path)
        return conf

    # -- tasks ---------------------------------------------------------------------------------

    def tasks(self, value: object) -> dict[str, TaskSpec]:
        raw = self.mapping(value, "dag.tasks")
        if raw is None:
            return {}
        if not raw:
            self.add("dag.tasks", "must define at least one task")
        self.sites.task_names = frozenset(raw)
        tasks: dict[str, TaskSpec] = {}
        for name, item in raw.items():
            path = _join("dag.tasks", name)
            self.name(name, path, "task name")
            task = self.task(name, item, path)
            if task is not None:
                tasks[name] = task
        return tasks

    def task(self, name: str, value: object, path: str) -> TaskSpec | None:
        before = len(self.violations)
        task = self.task_spec(name, value, path)
        if len(self.violations) != before:
            self.sites.broken.add(name)
        return task

    def task_spec(self, name: str, value: object, path: str) -> TaskSpec | None:
        raw = self.mapping(value, path, _TASK_KEYS, required=("component_ref",))
        if raw is None:
            return None
        get = {k: v for k, v in raw.items() if v is not None}.get
        component_ref = self.optional(get("component_ref"), _join(path, "component_ref"), self.string)
        parameters = self.optional_mapping(get("parameters"), _join(path, "parameters"))
        self.sites.parameters.append((name, parameters, _join(path, "parameters")))
        parties = self.optional(get("parties"), _join(path, "parties"), self.parties)
        task = TaskSpec(
            name=name,
            component_ref=component_ref or "",
            dependent_tasks=tuple(
                self.dependent_tasks(get("dependent_tasks"), _join(path, "dependent_tasks"))
            ),
            parameters=parameters,
            inputs=self.inputs(name, get("inputs"), _join(path, "inputs")),
            outputs=self.outputs(name, get("outputs"), _join(path, "outputs")),
            parties=parties,
            conf=self.task_level_conf(get("conf"), _join(path, "conf")),
            stage=self.optional(get("stage"), _join(path, "stage"), self.stage),
        )
        return task if component_ref is not None else None

    def stage(self, value: object, path: str) -> str | None:
        return self.choice(value, path, STAGES)

    def dependent_tasks(self, value: object, path: str) -> list[str]:
        if value is None:
            return []
        names = self.string_list(value, path)
        for i, dep in enumerate(names):
            if dep not in self.sites.task_names:
                self.add(f"{path}[{i}]", f"task {shown(dep)} is not in dag.tasks")
        return names

    def outputs(self, task: str, value: object, path: str) -> dict[str, Any]:
        raw = self.mapping(value, path, _OUTPUT_KINDS) if value is not None else {}
        for kind, by_key in (raw or {}).items():
            keys = self.mapping(by_key, _join(path, kind)) if by_key is not None else {}
            for key, spec in (keys or {}).items():
                key_path = _join(_join(path, kind), key)
                self.name(key, key_path, "output key")
                self.sites.outputs.append((task, kind, key, key_path))
                out = self.mapping(spec, key_path, _OUTPUT_SPEC_KEYS) if spec is not None else {}
                if out:
                    self.optional(out.get("parties"), _join(key_path, "parties"), self.parties)
        return copy.deepcopy(raw or {})

    # -- inputs --------------------------------------------------------------------------------

    def inputs(self, task: str, value: object, path: str) -> tuple[InputBinding, ...]:
        raw = self.mapping(value, path, INPUT_KINDS) if value is not None else {}
        bindings: list[InputBinding] = []
        for kind in INPUT_KINDS:
            by_key = (raw or {}).get(kind)
            keys = self.mapping(by_key, _join(path, kind)) if by_key is not None else {}
            for key, sources in (keys or {}).items():
                binding = self.binding(task, kind, key, sources, _join(_join(path, kind), key))
                if binding is not None:
                    bindings.append(binding)
        return tuple(bindings)

    def binding(self, task: str, kind: InputKind, key: str, value: object, path: str) -> InputBinding | None:
        self.name(key, path, "input key")
        sources = self.mapping(value, path, CHANNEL_SOURCES)
        if sources is None:
            return None
        if not sources:
            self.add(path, f"must name a source: {', '.join(CHANNEL_SOURCES)}")
        sites: list[tuple[ArtifactChannel, str]] = []
        is_list = False
        for source, raw in sources.items():
            source_path = _join(path, source)
            source = cast(ChannelSource, source)  # the mapping check allowed only CHANNEL_SOURCES
            if _SOURCE_KIND.get(source, kind) != kind:
                self.add(source_path, f"{source} can only feed {_SOURCE_KIND[source]} inputs")
                continue
            if isinstance(raw, list):
                is_list = True
                if not raw:
                    self.add(source_path, "must list at least one channel")
                items = [(item, f"{source_path}[{i}]") for i, item in enumerate(raw)]
            else:
                items = [(raw, source_path)]
            for item, item_path in items:
                channel = self.channel(source, item, item_path)
                if channel is not None:
                    sites.append((channel, item_path))
        binding = InputBinding(key, kind, tuple(c for c, _ in sites), is_list)
        self.sites.channels.extend(resolution.ChannelSite(task, binding, c, p) for c, p in sites)
        return binding

    def channel(self, source: ChannelSource, value: object, path: str) -> ArtifactChannel | None:
        keys, required = _CHANNEL_KEYS[source]
        raw = self.mapping(value, path, keys, required=required)
        if raw is None:
            return None
        before = len(self.violations)
        get = {k: v for k, v in raw.items() if v is not None}.get

        def sub(key: str) -> str:
            return _join(path, key)

        channel = ArtifactChannel(
            source=source,
            producer_task=self.optional_name(get("producer_task"), sub("producer_task")),
            output_artifact_key=self.optional_name(get("output_artifact_key"), sub("output_artifact_key")),
            parties=self.optional(get("parties"), sub("parties"), self.parties),
            model_id=self.optional(get("model_id"), sub("model_id"), self.str_or_int),
            model_version=self.optional(get("model_version"), sub("model_version"), self.str_or_int),
            job_id=self.optional(get("job_id"), sub("job_id"), self.str_or_int),
            namespace=self.optional_name(get("namespace"), sub("namespace")),
            name=self.optional_name(get("name"), sub("name")),
            dataset_id=self.optional_name(get("dataset_id"), sub("dataset_id")),
        )
        self.optional(get("output_artifact_type_alias"), sub("output_artifact_type_alias"), self.string)
        if source == "data_warehouse" and not _has_warehouse_address(channel):
            self.add(
                path,
                "needs namespace and name, or producer_task and output_artifact_key (with job_id), "
                "or dataset_id",
            )
        return channel if len(self.violations) == before else None

    # -- party_tasks ---------------------------------------------------------------------------

    def party_tasks(self, value: object, path: str) -> dict[str, PartyTasksSpec]:
        raw = self.mapping(value, path) if value is not None else {}
        entries: dict[str, PartyTasksSpec] = {}
        for alias, item in (raw or {}).items():
            entry = self.party_tasks_entry(alias, item, _join(path, alias))
            if entry is not None:
                entries[alias] = entry
        return entries

    def party_tasks_entry(self, alias: str, value: object, path: str) -> PartyTasksSpec | None:
        before = len(self.violations)
        entry = self.party_tasks_spec(alias, value, path)
        if len(self.violations) != before:
            # The overrides of a broken entry are unknown, so required-parameter checks would guess.
            tasks = value.get("tasks") if isinstance(value, Mapping) else None
            self.sites.broken.update(
                t for t in (tasks if isinstance(tasks, Mapping) else {}) if isinstance(t, str)
            )
        return entry

    def party_tasks_spec(self, alias: str, value: object, path: str) -> PartyTasksSpec | None:
        # Without parties an entry would apply to nobody, which is surely a mistake.
        raw = self.mapping(value, path, _PARTY_TASKS_KEYS, required=("parties",))
        if raw is None:
            return None
        parties = self.optional(raw.get("parties"), _join(path, "parties"), self.parties)
        conf = self.task_level_conf(raw.get("conf"), _join(path, "conf"))
        tasks_raw = self.mapping(raw["tasks"], _join(path, "tasks")) if raw.get("tasks") is not None else {}
        refs: dict[str, PartyTaskRef] = {}
        for name, ref in (tasks_raw or {}).items():
            ref_path = _join(_join(path, "tasks"), name)
            if name not in self.sites.task_names:
                self.add(ref_path, f"task {shown(name)} is not in dag.tasks")
                continue
            entries = self.mapping(ref, ref_path, _PARTY_TASK_REF_KEYS) if ref is not None else {}
            parameters = self.optional_mapping(
                (entries or {}).get("parameters"), _join(ref_path, "parameters")
            )
            self.sites.parameters.append((name, parameters, _join(ref_path, "parameters")))
            ref_conf = self.task_level_conf((entries or {}).get("conf"), _join(ref_path, "conf"))
            refs[name] = PartyTaskRef(conf=ref_conf, parameters=parameters)
        return PartyTasksSpec(alias, parties, conf, refs) if parties is not None else None


def _has_warehouse_address(channel: ArtifactChannel) -> bool:
    return bool(
        (channel.namespace and channel.name)
        or (channel.producer_task and channel.output_artifact_key)
        or channel.dataset_id
    )
