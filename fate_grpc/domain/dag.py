"""FATE 2.x DAGs: the parsed model, the task graph, and the public parse and resolve functions.

Parsing and validation live in `dag_validation`, per-party resolution in `dag_resolution`; both are
re-exported here, so callers only import this module.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from fate_grpc.domain.component_spec import ComponentCatalog
from fate_grpc.errors import FieldViolation, invalid_dag

ChannelSource = Literal["task_output_artifact", "model_warehouse", "data_warehouse"]
InputKind = Literal["data", "model"]

CHANNEL_SOURCES: tuple[ChannelSource, ...] = ("task_output_artifact", "model_warehouse", "data_warehouse")
INPUT_KINDS: tuple[InputKind, ...] = ("data", "model")


@dataclass(frozen=True)
class PartyRef:
    """One party in one role."""

    role: str
    party_id: str

    def __str__(self) -> str:
        return f"{self.role} {self.party_id}"


@dataclass(frozen=True)
class PartySpec:
    """One `{role, party_id: [...]}` entry of a party list."""

    role: str
    party_ids: tuple[str, ...]

    def refs(self) -> tuple[PartyRef, ...]:
        """The entry as one reference per party id."""
        return tuple(PartyRef(self.role, party_id) for party_id in self.party_ids)


def expand_parties(specs: Iterable[PartySpec]) -> tuple[PartyRef, ...]:
    """The parties of a party list, without repeats, in declaration order."""
    return tuple(dict.fromkeys(ref for spec in specs for ref in spec.refs()))


@dataclass(frozen=True)
class ArtifactChannel:
    """Where one input artifact comes from."""

    source: ChannelSource
    producer_task: str | None
    output_artifact_key: str | None
    # None: not restricted to some parties.
    parties: tuple[PartySpec, ...] | None
    model_id: str | None = None
    model_version: str | None = None
    job_id: str | None = None
    namespace: str | None = None
    name: str | None = None
    dataset_id: str | None = None


@dataclass(frozen=True)
class InputBinding:
    """The channels bound to one input key of a task."""

    key: str
    kind: InputKind
    channels: tuple[ArtifactChannel, ...]
    # The DAG gave a list of channels (a multi input), even if it has one element.
    is_list: bool


@dataclass(frozen=True)
class TaskConf:
    """`dag.conf.task`: defaults for every task's runtime conf."""

    timeout: int | None = None
    provider: str | None = None
    engine_run: Mapping[str, Any] = field(default_factory=dict)
    launcher_name: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class JobConf:
    """`dag.conf`: job-wide settings."""

    priority: int = 0
    scheduler_party_id: str | None = None
    initiator_party_id: str | None = None
    inheritance: Mapping[str, Any] | None = None
    cores: int | None = None
    computing_partitions: int | None = None
    sync_type: str | None = None
    auto_retries: int = 0
    model_id: str | None = None
    model_version: str | None = None
    model_warehouse: Mapping[str, Any] | None = None
    task: TaskConf = field(default_factory=TaskConf)
    extra: Mapping[str, Any] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TaskSpec:
    """One entry of `dag.tasks`, as written."""

    name: str
    component_ref: str
    dependent_tasks: tuple[str, ...]
    parameters: Mapping[str, Any]
    inputs: tuple[InputBinding, ...]
    outputs: Mapping[str, Any]
    # None: the task runs at every party of the DAG.
    parties: tuple[PartySpec, ...] | None
    conf: Mapping[str, Any]
    stage: str | None


@dataclass(frozen=True)
class PartyTaskRef:
    """Per-party overrides of one task inside a `party_tasks` entry."""

    conf: Mapping[str, Any]
    parameters: Mapping[str, Any]


@dataclass(frozen=True)
class PartyTasksSpec:
    """One `party_tasks` entry: overrides for the tasks of some parties (the alias is a label)."""

    alias: str
    parties: tuple[PartySpec, ...]
    conf: Mapping[str, Any]
    tasks: Mapping[str, PartyTaskRef]


@dataclass(frozen=True)
class Dag:
    """A validated FATE 2.x DAG."""

    schema_version: str
    kind: str
    parties: tuple[PartySpec, ...]
    conf: JobConf
    stage: str
    tasks: Mapping[str, TaskSpec]
    party_tasks: Mapping[str, PartyTasksSpec]

    def all_parties(self) -> tuple[PartyRef, ...]:
        """Every (role, party id) of the job, in declaration order."""
        return expand_parties(self.parties)

    def party_ids(self) -> tuple[str, ...]:
        """Every party id of the job once, in declaration order."""
        return tuple(dict.fromkeys(ref.party_id for ref in self.all_parties()))

    def roles_of(self, party_id: str) -> tuple[str, ...]:
        """The roles a party id plays in the job, in declaration order."""
        return tuple(dict.fromkeys(ref.role for ref in self.all_parties() if ref.party_id == party_id))


@dataclass(frozen=True)
class ResolvedInput:
    """One input channel of a task as one party sees it."""

    key: str
    kind: InputKind
    # Position within a list input (0 for a single input), counting only this party's channels.
    index: int
    source: ChannelSource
    producer_task: str | None
    output_artifact_key: str | None
    model_id: str | None
    model_version: str | None
    job_id: str | None
    namespace: str | None
    name: str | None
    dataset_id: str | None = None


@dataclass(frozen=True)
class ResolvedTask:
    """A task as it runs at one party: merged parameters and conf, and that party's inputs."""

    name: str
    component: str
    stage: str
    parameters: dict[str, Any]
    conf: dict[str, Any]
    inputs: tuple[ResolvedInput, ...]
    # Every party the task runs at (not only the one it was resolved for).
    parties: tuple[PartyRef, ...]
    dependencies: frozenset[str]


DEFAULT_MODEL_VERSION = "0"


def job_model_ref(dag: Dag, job_id: str) -> tuple[str, str]:
    """(model_id, model_version) the job's models are filed under: dag.conf's, else (job_id, "0")."""
    return dag.conf.model_id or job_id, dag.conf.model_version or DEFAULT_MODEL_VERSION


def task_parties(dag: Dag, task_name: str) -> tuple[PartyRef, ...]:
    """The parties a task runs at: its own `parties`, else those of the DAG.

    Args:
        dag: A parsed DAG.
        task_name: A task of the DAG.

    Returns:
        The parties, without repeats, in declaration order.
    """
    task = dag.tasks[task_name]
    return expand_parties(task.parties if task.parties is not None else dag.parties)


def task_dependencies(dag: Dag) -> dict[str, frozenset[str]]:
    """The tasks each task waits for: its `dependent_tasks` plus the producers of its inputs.

    Warehouse inputs come from other jobs, so they add no dependency.

    Args:
        dag: A parsed DAG.

    Returns:
        A mapping from every task name to the names it depends on.
    """
    return {name: _dependencies_of(task) for name, task in dag.tasks.items()}


def _dependencies_of(task: TaskSpec) -> frozenset[str]:
    producers = {
        channel.producer_task
        for binding in task.inputs
        for channel in binding.channels
        if channel.source == "task_output_artifact" and channel.producer_task is not None
    }
    return frozenset(task.dependent_tasks) | producers


def topological_order(dag: Dag) -> list[str]:
    """The tasks in an order where each comes after its dependencies; ties go by name.

    Args:
        dag: A parsed DAG.

    Returns:
        Every task name once.

    Raises:
        FateGrpcError: INVALID_DAG if the dependencies form a cycle.
    """
    dependencies = task_dependencies(dag)
    cycles = dependency_cycles(dependencies)
    if cycles:
        raise invalid_dag([cycle_violation(cycle) for cycle in cycles])
    waiting_on = {name: set(deps & dependencies.keys()) for name, deps in dependencies.items()}
    dependents: dict[str, list[str]] = {name: [] for name in dependencies}
    for name, deps in waiting_on.items():
        for dep in deps:
            dependents[dep].append(name)
    ready = [name for name, deps in waiting_on.items() if not deps]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        name = heapq.heappop(ready)
        order.append(name)
        for dependent in dependents[name]:
            waiting_on[dependent].discard(name)
            if not waiting_on[dependent]:
                heapq.heappush(ready, dependent)
    return order


def dependency_cycles(dependencies: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Cycles in a dependency graph, each as a path that ends where it starts.

    Each cycle starts at its smallest name, so the result does not depend on mapping order.
    Names that are not keys of `dependencies` are ignored.

    Args:
        dependencies: Task name -> names it depends on.

    Returns:
        Distinct cycles such as ["a", "b", "a"], sorted; empty when the graph is acyclic.
    """
    graph = {name: sorted(set(deps) & dependencies.keys()) for name, deps in dependencies.items()}
    found: dict[tuple[str, ...], list[str]] = {}
    finished: set[str] = set()
    for start in sorted(graph):
        if start not in finished:
            _walk(graph, start, finished, found)
    return [found[key] for key in sorted(found)]


def _walk(
    graph: Mapping[str, list[str]],
    start: str,
    finished: set[str],
    found: dict[tuple[str, ...], list[str]],
) -> None:
    # Iterative depth-first search (a long chain of tasks must not hit the recursion limit); an
    # edge back to a node on the current path closes a cycle.
    path = [start]
    position = {start: 0}
    pending = [iter(graph[start])]
    while pending:
        dep = next(pending[-1], None)
        if dep is None:
            node = path.pop()
            del position[node]
            finished.add(node)
            pending.pop()
        elif dep in position:
            cycle = path[position[dep] :]
            pivot = cycle.index(min(cycle))
            rotated = cycle[pivot:] + cycle[:pivot]
            found.setdefault(tuple(rotated), [*rotated, rotated[0]])
        elif dep not in finished:
            position[dep] = len(path)
            path.append(dep)
            pending.append(iter(graph[dep]))


def cycle_violation(cycle: list[str]) -> FieldViolation:
    """The violation reported for a dependency cycle."""
    return FieldViolation(
        f"dag.tasks.{cycle[0]}",
        f"dependency cycle: {' -> '.join(cycle)} (each task waits for the next, through "
        "dependent_tasks or task_output_artifact inputs)",
    )


def type_name(value: object) -> str:
    """A user-facing name for the type of a parsed YAML/JSON value."""
    names = {bool: "boolean", int: "integer", float: "number", str: "string", list: "list"}
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "mapping"
    return names.get(type(value), type(value).__name__)


def load_dag_document(text: str) -> dict[str, Any]:
    """Read a DAG document from YAML 1.2 (core schema) or JSON text, as plain data.

    Args:
        text: The document.

    Returns:
        The top-level mapping.

    Raises:
        FateGrpcError: INVALID_DAG if the text does not parse, is not a mapping, repeats a key,
            uses a tag other than plain data, or goes beyond the loader's bounds (nesting depth,
            values with aliases expanded); see `fate_grpc.domain.dag_loading`.
    """
    return dag_loading.load_dag_document(text)


def parse_dag(document: str | Mapping[str, Any], catalog: ComponentCatalog) -> Dag:
    """Parse and validate a FATE 2.x DAG against the components that can run.

    Args:
        document: YAML or JSON text, or the already loaded top-level mapping.
        catalog: The components available, by name.

    Returns:
        The parsed DAG.

    Raises:
        FateGrpcError: INVALID_DAG listing every problem found, each with its field path.
    """
    return dag_validation.parse_dag(document, catalog)


def resolve_task(
    dag: Dag, task_name: str, role: str, party_id: str, catalog: ComponentCatalog
) -> ResolvedTask | None:
    """A task as it runs at one party.

    Args:
        dag: A parsed DAG.
        task_name: A task of the DAG.
        role: The party's role.
        party_id: The party id.
        catalog: The components available, by name.

    Returns:
        The resolved task, or None if the task does not run at that party.

    Raises:
        FateGrpcError: NOT_FOUND for an unknown task; INVALID_DAG if its component or stage is
            not in the catalog.
    """
    return dag_resolution.resolve_task(dag, task_name, role, party_id, catalog)


def resolve_party(dag: Dag, role: str, party_id: str, catalog: ComponentCatalog) -> list[ResolvedTask]:
    """Every task that runs at one party, resolved, in topological order.

    Args:
        dag: A parsed DAG.
        role: The party's role.
        party_id: The party id.
        catalog: The components available, by name.

    Returns:
        The party's tasks; empty if none runs there.
    """
    return dag_resolution.resolve_party(dag, role, party_id, catalog)


# The implementation modules import the model above, so they are imported last; the functions
# above look them up at call time, which works whichever module is imported first.
from fate_grpc.domain import dag_loading, dag_resolution, dag_validation  # noqa: E402
