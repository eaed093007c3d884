"""A job's task dependency graph as one party sees it (what `flow job dependency` shows)."""

from __future__ import annotations

from dataclasses import dataclass

from fate_grpc.domain.component_spec import ComponentCatalog
from fate_grpc.domain.dag import Dag, resolve_party


@dataclass(frozen=True)
class Upstream:
    """An input of a task that another task of the same job produces."""

    input_key: str
    kind: str
    producer_task: str
    output_artifact_key: str


@dataclass(frozen=True)
class TaskNode:
    """A task that runs at the party, its component, stage and upstream inputs."""

    task_name: str
    component: str
    stage: str
    upstreams: tuple[Upstream, ...]


def dependency_graph(dag: Dag, role: str, party_id: str, catalog: ComponentCatalog) -> list[TaskNode]:
    """The tasks that run at (role, party_id), each after the tasks it depends on.

    Inputs from the model or data warehouse come from outside the job, so they are no edge.

    Args:
        dag: A parsed DAG.
        role: The role whose view is wanted.
        party_id: The party whose view is wanted.
        catalog: The components known at the node (for stages and role-specific inputs).

    Returns:
        One node per task that runs at the party, in topological order.
    """
    nodes = []
    for task in resolve_party(dag, role, party_id, catalog):
        upstreams = tuple(
            Upstream(
                input_key=item.key,
                kind=item.kind,
                producer_task=item.producer_task,
                output_artifact_key=item.output_artifact_key or "",
            )
            for item in task.inputs
            if item.source == "task_output_artifact"
            and item.producer_task
            and item.producer_task != task.name
        )
        nodes.append(TaskNode(task.name, task.component, task.stage, upstreams))
    return nodes
