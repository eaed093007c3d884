"""How a parsed DAG resolves: per party (parameters, conf, inputs) and against the component catalog.

`consistency_violations` checks that every task resolves at every party it runs at; the resolve
functions assume that it does. Import the public names from `fate_grpc.domain.dag`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from fate_grpc.domain.component_spec import ComponentCatalog, ComponentSpec, ParamSpec, StageSpec
from fate_grpc.domain.dag import (
    ArtifactChannel,
    Dag,
    InputBinding,
    PartyRef,
    PartyTaskRef,
    PartyTasksSpec,
    ResolvedInput,
    ResolvedTask,
    cycle_violation,
    dependency_cycles,
    expand_parties,
    task_dependencies,
    task_parties,
    topological_order,
)
from fate_grpc.domain.param_checks import ParamValueError
from fate_grpc.errors import FieldViolation, invalid_dag, not_found, shown


def party_overrides(
    dag: Dag, task_name: str, party: PartyRef
) -> Iterator[tuple[PartyTasksSpec, PartyTaskRef]]:
    """The `party_tasks` entries that apply to a task at a party, in declaration order.

    Args:
        dag: A parsed DAG.
        task_name: A task of the DAG.
        party: The party.

    Yields:
        (entry, the entry's overrides for the task) for every entry listing the party and the task.
    """
    for entry in dag.party_tasks.values():
        ref = entry.tasks.get(task_name)
        if ref is not None and party in expand_parties(entry.parties):
            yield entry, ref


def merged_parameters(dag: Dag, task_name: str, party: PartyRef) -> dict[str, Any]:
    """A task's parameters at a party: the task's, then each matching party_tasks entry's on top.

    The override is a shallow update, as in FATE: a party's mapping-valued parameter replaces the
    task's one whole.

    Args:
        dag: A parsed DAG.
        task_name: A task of the DAG.
        party: The party.

    Returns:
        A fresh dict the caller may change.
    """
    merged = copy.deepcopy(dict(dag.tasks[task_name].parameters))
    for _, ref in party_overrides(dag, task_name, party):
        merged.update(copy.deepcopy(dict(ref.parameters)))
    return merged


def merged_conf(dag: Dag, task_name: str, party: PartyRef) -> dict[str, Any]:
    """A task's runtime conf at a party, deep-merged from lowest to highest precedence.

    The order is dag.conf.task, then tasks[t].conf, then each matching party_tasks entry's conf,
    then that entry's tasks[t].conf.

    Args:
        dag: A parsed DAG.
        task_name: A task of the DAG.
        party: The party.

    Returns:
        A fresh dict the caller may change.
    """
    merged = deep_merge({}, dag.conf.task.raw)
    merged = deep_merge(merged, dag.tasks[task_name].conf)
    for entry, ref in party_overrides(dag, task_name, party):
        merged = deep_merge(merged, entry.conf)
        merged = deep_merge(merged, ref.conf)
    return merged


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """`base` updated with `override`, merging nested mappings key by key (inputs are not changed)."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def channel_applies(dag: Dag, channel: ArtifactChannel, party: PartyRef) -> bool:
    """Whether an input channel feeds a party.

    A channel with `parties` feeds only those; a task output without `parties` feeds only the
    parties where the producer runs; any other channel feeds every party of the task.
    """
    if channel.parties is not None:
        return party in expand_parties(channel.parties)
    if channel.source != "task_output_artifact":
        return True
    producer = channel.producer_task
    return producer is not None and producer in dag.tasks and party in task_parties(dag, producer)


def resolved_stage(dag: Dag, task_name: str, spec: ComponentSpec) -> str | None:
    """The stage a task runs in: its own stage, else the DAG's, as the component maps it."""
    task = dag.tasks[task_name]
    return spec.stage_for(task.stage or dag.stage)


def resolve_task(
    dag: Dag, task_name: str, role: str, party_id: str, catalog: ComponentCatalog
) -> ResolvedTask | None:
    """See `fate_grpc.domain.dag.resolve_task`."""
    task = dag.tasks.get(task_name)
    if task is None:
        raise not_found(f"task {task_name!r} is not in the DAG", task_name=task_name)
    party = PartyRef(role, party_id)
    parties = task_parties(dag, task_name)
    if party not in parties:
        return None
    spec = catalog.get(task.component_ref)
    if spec is None:
        raise invalid_dag(
            [
                FieldViolation(
                    f"dag.tasks.{task_name}.component_ref", f"unknown component {shown(task.component_ref)}"
                )
            ]
        )
    stage = resolved_stage(dag, task_name, spec)
    if stage is None:
        raise invalid_dag(
            [
                FieldViolation(
                    f"dag.tasks.{task_name}.stage",
                    f"component {spec.name!r} does not support stage {task.stage or dag.stage!r}",
                )
            ]
        )
    return ResolvedTask(
        name=task_name,
        component=task.component_ref,
        stage=stage,
        parameters=_parameters_with_defaults(merged_parameters(dag, task_name, party), spec, role),
        conf=merged_conf(dag, task_name, party),
        inputs=tuple(_resolve_inputs(dag, task.inputs, party, spec, stage)),
        parties=parties,
        dependencies=task_dependencies(dag)[task_name],
    )


def resolve_party(dag: Dag, role: str, party_id: str, catalog: ComponentCatalog) -> list[ResolvedTask]:
    """See `fate_grpc.domain.dag.resolve_party`."""
    resolved = (resolve_task(dag, name, role, party_id, catalog) for name in topological_order(dag))
    return [task for task in resolved if task is not None]


def _parameters_with_defaults(parameters: dict[str, Any], spec: ComponentSpec, role: str) -> dict[str, Any]:
    # An explicit null counts as unset, as it does in validation. A parameter required of other
    # roles only is optional here, so it gets its default too.
    for name, param in spec.parameters.items():
        required_here = param.required and role in (param.required_roles or spec.roles)
        if parameters.get(name) is None and not required_here:
            parameters[name] = copy.deepcopy(param.default)
    return parameters


def _resolve_inputs(
    dag: Dag, bindings: tuple[InputBinding, ...], party: PartyRef, spec: ComponentSpec, stage: str
) -> Iterator[ResolvedInput]:
    stage_spec = spec.stages[stage]
    for binding in bindings:
        declared = stage_spec.input(binding.key)
        # An input declared for other roles (e.g. guest-only labels) is not given to this party.
        if declared is not None and party.role not in declared.roles:
            continue
        channels = [c for c in binding.channels if channel_applies(dag, c, party)]
        # The component reads the input under its current name, whichever name the DAG used.
        key = declared.key if declared is not None else binding.key
        for index, channel in enumerate(channels):
            yield _resolve_channel(dag, binding, key, index, channel)


def _resolve_channel(
    dag: Dag, binding: InputBinding, key: str, index: int, channel: ArtifactChannel
) -> ResolvedInput:
    model_id, model_version = channel.model_id, channel.model_version
    warehouse = dag.conf.model_warehouse
    if channel.source == "model_warehouse" and warehouse is not None:
        # Predict DAGs name the trained model once, in dag.conf.model_warehouse.
        model_id = model_id or _str_or_none(warehouse.get("model_id"))
        model_version = model_version or _str_or_none(warehouse.get("model_version"))
    return ResolvedInput(
        key=key,
        kind=binding.kind,
        index=index,
        source=channel.source,
        producer_task=channel.producer_task,
        output_artifact_key=channel.output_artifact_key,
        model_id=model_id,
        model_version=model_version,
        job_id=channel.job_id,
        namespace=channel.namespace,
        name=channel.name,
        dataset_id=channel.dataset_id,
    )


def _str_or_none(value: object) -> str | None:
    return None if value is None else str(value)


# -- consistency checks ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelSite:
    """A parsed channel and where it came from."""

    task: str
    binding: InputBinding
    channel: ArtifactChannel
    path: str


@dataclass
class DocumentSites:
    """Where the parsed pieces of a DAG came from in the document, so checks can name field paths."""

    # Every task name in the document, including tasks too broken to parse.
    task_names: frozenset[str] = frozenset()
    # Tasks whose definition (or a party_tasks entry naming them) has a structural problem:
    # checks that depend on the whole definition (roles, required inputs and parameters) skip them.
    broken: set[str] = field(default_factory=set)
    channels: list[ChannelSite] = field(default_factory=list)
    # (task, kind, key, path) of every declared output.
    outputs: list[tuple[str, str, str, str]] = field(default_factory=list)
    # (task, parameters, path) of task parameters and of every party_tasks override.
    parameters: list[tuple[str, Mapping[str, Any], str]] = field(default_factory=list)


def consistency_violations(dag: Dag, catalog: ComponentCatalog, sites: DocumentSites) -> list[FieldViolation]:
    """Checks that a parsed DAG resolves: against the component catalog, at each party, and as a graph.

    Args:
        dag: The parsed DAG (possibly partial, when the document had structural problems).
        catalog: The components available, by name.
        sites: Where the parsed pieces came from in the document.

    Returns:
        The problems found, each with its field path.
    """
    checker = _Checker(dag, catalog, sites)
    checker.check()
    return checker.violations


class _Checker:
    def __init__(self, dag: Dag, catalog: ComponentCatalog, sites: DocumentSites) -> None:
        self.dag = dag
        self.catalog = catalog
        self.sites = sites
        self.violations: list[FieldViolation] = []
        self.stages: dict[str, str] = {}

    def add(self, path: str, reason: str) -> None:
        self.violations.append(FieldViolation(path, reason))

    def check(self) -> None:
        for name in self.dag.tasks:
            self.component(name)
        for site in self.sites.channels:
            self.channel(site)
        for task, kind, key, path in self.sites.outputs:
            self.output(task, kind, key, path)
        for task, parameters, path in self.sites.parameters:
            self.parameter_values(task, parameters, path)
        for name in self.dag.tasks:
            self.required_parameters(name)
        self.violations.extend(cycle_violation(c) for c in dependency_cycles(task_dependencies(self.dag)))

    def spec(self, task: str) -> ComponentSpec | None:
        return self.catalog.get(self.dag.tasks[task].component_ref)

    def component(self, name: str) -> None:
        task = self.dag.tasks[name]
        path = f"dag.tasks.{name}"
        spec = self.spec(name)
        if spec is None:
            available = ", ".join(sorted(self.catalog)) or "none"
            self.add(
                f"{path}.component_ref",
                f"unknown component {shown(task.component_ref)} (available: {available})",
            )
            return
        stage = resolved_stage(self.dag, name, spec)
        if stage is None:
            origin = "" if task.stage else " (inherited from dag.stage)"
            self.add(
                f"{path}.stage",
                f"component {spec.name} does not support stage {task.stage or self.dag.stage!r}{origin}; "
                f"it supports: {', '.join(spec.stages)}",
            )
            return
        self.stages[name] = stage
        self.input_keys(name, spec, stage, path)
        if name not in self.sites.broken:
            self.roles(name, spec, path)
            self.required_inputs(name, spec, stage, path)

    def roles(self, name: str, spec: ComponentSpec, path: str) -> None:
        task = self.dag.tasks[name]
        where = f"{path}.parties" if task.parties is not None else path
        inherited = (
            ""
            if task.parties is not None
            else " (the task has no parties, so it runs at every party of the DAG)"
        )
        for role in dict.fromkeys(ref.role for ref in task_parties(self.dag, name)):
            if role not in spec.roles:
                self.add(
                    where,
                    f"component {spec.name} cannot run as {role}{inherited}; "
                    f"its roles: {', '.join(sorted(spec.roles))}",
                )

    def input_keys(self, name: str, spec: ComponentSpec, stage: str, path: str) -> None:
        stage_spec = spec.stages[stage]
        bound = {(b.kind, b.key) for b in self.dag.tasks[name].inputs}
        for binding in self.dag.tasks[name].inputs:
            kind, key = binding.kind, binding.key
            key_path = f"{path}.inputs.{kind}.{key}"
            declared = stage_spec.input(key)
            expected = ", ".join(a.key for a in stage_spec.inputs if a.kind == kind) or "none"
            if declared is None or declared.kind != kind:
                hint = (
                    f"; it is a {declared.kind} input, put it under inputs.{declared.kind}"
                    if declared
                    else ""
                )
                self.add(
                    key_path,
                    f"component {spec.name} (stage {stage}) has no {kind} input {key!r}; "
                    f"{kind} inputs: {expected}{hint}",
                )
            elif len(binding.channels) > 1 and not declared.multi:
                self.add(
                    key_path,
                    f"input {key} of component {spec.name} takes one channel, got {len(binding.channels)}",
                )
            elif key != declared.key and (kind, declared.key) in bound:
                self.add(key_path, f"{key} is FATE 2.0's name of input {declared.key}, which is bound too")

    def required_inputs(self, name: str, spec: ComponentSpec, stage: str, path: str) -> None:
        stage_spec = spec.stages[stage]
        bound = {(b.kind, _current_key(stage_spec, b.key)): b for b in self.dag.tasks[name].inputs}
        parties = task_parties(self.dag, name)
        for declared in stage_spec.inputs:
            needing = [p for p in parties if p.role in declared.roles]
            if declared.optional or not needing:
                continue
            key_path = f"{path}.inputs.{declared.kind}.{declared.key}"
            binding = bound.get((declared.kind, declared.key))
            if binding is None:
                self.add(key_path, f"required {declared.kind} input of component {spec.name} is not bound")
                continue
            for party in needing:
                if not any(channel_applies(self.dag, c, party) for c in binding.channels):
                    self.add(key_path, f"required input has no channel for {party}")

    def channel(self, site: ChannelSite) -> None:
        channel = site.channel
        if channel.source != "task_output_artifact" or channel.producer_task is None:
            # Warehouse channels name tasks of other jobs.
            return
        producer = channel.producer_task
        if producer not in self.dag.tasks:
            if producer not in self.sites.task_names:
                self.add(f"{site.path}.producer_task", f"task {producer!r} is not in dag.tasks")
            return
        if channel.parties is not None and not self.sites.broken & {site.task, producer}:
            consumer = set(task_parties(self.dag, site.task))
            producer_parties = task_parties(self.dag, producer)
            for party in expand_parties(channel.parties):
                if party in consumer and party not in producer_parties:
                    self.add(f"{site.path}.parties", f"task {producer} does not run at {party}")
        spec, stage = self.spec(producer), self.stages.get(producer)
        if spec is None or stage is None:
            return
        output = spec.stages[stage].output(channel.output_artifact_key or "")
        kind = site.binding.kind
        if output is None or output.kind != kind:
            outputs = ", ".join(a.key for a in spec.stages[stage].outputs if a.kind == kind) or "none"
            self.add(
                f"{site.path}.output_artifact_key",
                f"task {producer} (component {spec.name}, stage {stage}) has no {kind} output "
                f"{channel.output_artifact_key!r}; its {kind} outputs: {outputs}",
            )

    def output(self, task: str, kind: str, key: str, path: str) -> None:
        spec, stage = (self.spec(task), self.stages.get(task)) if task in self.dag.tasks else (None, None)
        if kind == "metric" or spec is None or stage is None:
            # Every component has a metric output, whatever the catalog says.
            return
        output = spec.stages[stage].output(key)
        if output is None or output.kind != kind:
            outputs = ", ".join(a.key for a in spec.stages[stage].outputs if a.kind == kind) or "none"
            self.add(
                path,
                f"component {spec.name} (stage {stage}) has no {kind} output {key!r}; "
                f"{kind} outputs: {outputs}",
            )

    def parameter_values(self, task: str, parameters: Mapping[str, Any], path: str) -> None:
        spec = self.spec(task) if task in self.dag.tasks else None
        if spec is None:
            return
        for name, value in parameters.items():
            param = spec.parameters.get(name)
            if param is None:
                known = ", ".join(spec.parameters) or "none"
                self.add(
                    f"{path}.{name}",
                    f"unknown parameter of component {spec.name} (expected one of: {known})",
                )
                continue
            problem = _parameter_problem(param, value)
            if problem is not None:
                where, reason = problem
                self.add(f"{path}.{name}{where}", reason)

    def required_parameters(self, name: str) -> None:
        spec = self.spec(name)
        if spec is None or name in self.sites.broken:
            return
        for party in task_parties(self.dag, name):
            merged = merged_parameters(self.dag, name, party)
            for param in spec.parameters.values():
                roles = param.required_roles or spec.roles
                if param.required and party.role in roles and merged.get(param.name) is None:
                    self.add(
                        f"dag.tasks.{name}.parameters.{param.name}",
                        f"required for {party}; set it in the task or in a party_tasks entry for that party",
                    )


def _parameter_problem(param: ParamSpec, value: object) -> tuple[str, str] | None:
    """Where inside the value (``""``, ``.kind``, ``[0]``) and why FATE would refuse it, or None.

    Null means "the default", so it is always fine here; a required one is reported per party.
    """
    try:
        param.normalize(value)
    except ParamValueError as error:
        return error.path, error.reason
    return None


def _current_key(stage_spec: StageSpec, key: str) -> str:
    declared = stage_spec.input(key)
    return declared.key if declared is not None else key
