"""Grants: which partner parties may create jobs here, run which components, read which tables."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from fate_grpc.domain.dag import ResolvedTask
from fate_grpc.domain.ids import check_name, check_party_id
from fate_grpc.errors import FieldViolation, invalid_argument
from fate_grpc.store.interface import Store
from fate_grpc.store.records import GrantRecord

JOB, COMPONENT, DATASET = "job", "component", "dataset"
ANY = "*"


def dataset_value(namespace: str, name: str) -> str:
    for value, what in ((namespace, "namespace"), (name, "name")):
        if value != ANY:
            check_name(value, what)
    return f"{namespace}/{name}"


@dataclass(frozen=True)
class GrantRequest:
    """What to grant (or revoke) to one partner party."""

    party_id: str
    components: tuple[str, ...] = ()
    datasets: tuple[tuple[str, str], ...] = ()  # (namespace, name); either may be "*"

    def records(self) -> list[GrantRecord]:
        check_party_id(self.party_id)
        records = [GrantRecord(self.party_id, JOB, ANY)]
        for component in self.components:
            if component != ANY:
                check_name(component, "component")
            records.append(GrantRecord(self.party_id, COMPONENT, component))
        for namespace, name in self.datasets:
            records.append(GrantRecord(self.party_id, DATASET, dataset_value(namespace, name)))
        return records


def parse_components(text: str) -> tuple[str, ...]:
    """FATE's form: "reader,psi" or "*"."""
    items = tuple(part.strip() for part in text.split(",") if part.strip())
    if not items:
        raise invalid_argument("no component given", field_path="component")
    return items


class PermissionPolicy:
    """Decides what a job asks of this party against the grants its requesters hold."""

    def __init__(self, *, own_party_id: str, store: Store, allow_by_default: bool) -> None:
        self._own = own_party_id
        self._store = store
        self._allow = allow_by_default

    async def violations(
        self, requesters: Iterable[str], tasks: Iterable[ResolvedTask], role: str
    ) -> list[FieldViolation]:
        """What the job needs here that a requesting partner was not granted (own party: everything)."""
        if self._allow:
            return []
        task_list = list(tasks)
        problems: list[FieldViolation] = []
        for party in sorted({p for p in requesters if p != self._own}):
            grants = await self._store.list_grants(party)
            problems.extend(self._missing(party, grants, task_list, role))
        return problems

    def _missing(
        self, party: str, grants: list[GrantRecord], tasks: list[ResolvedTask], role: str
    ) -> list[FieldViolation]:
        where = f"{role} {self._own}"
        held = {(g.kind, g.value) for g in grants}
        if (JOB, ANY) not in held:
            return [
                FieldViolation(
                    "dag.parties",
                    f"party {party} may not create jobs at {where}"
                    f" (grant it there: flow permission grant -p {party} --component ...)",
                    self._own,
                )
            ]
        problems = []
        for task in tasks:
            if (COMPONENT, ANY) not in held and (COMPONENT, task.component) not in held:
                problems.append(
                    FieldViolation(
                        f"dag.tasks.{task.name}.component_ref",
                        f"party {party} may not run component {task.component} at {where}"
                        f" (grant: flow permission grant -p {party} --component {task.component})",
                        self._own,
                    )
                )
            if task.component == "reader":
                namespace = str(task.parameters.get("namespace", ""))
                name = str(task.parameters.get("name", ""))
                if not _dataset_granted(held, namespace, name):
                    problems.append(
                        FieldViolation(
                            f"dag.tasks.{task.name}.parameters",
                            f"party {party} may not read table {namespace}.{name} at {where}"
                            f" (grant: flow permission grant -p {party} --dataset {namespace}/{name})",
                            self._own,
                        )
                    )
        return problems


def _dataset_granted(held: set[tuple[str, str]], namespace: str, name: str) -> bool:
    options = {f"{namespace}/{name}", f"{namespace}/{ANY}", f"{ANY}/{name}", f"{ANY}/{ANY}", ANY}
    return any((DATASET, value) in held for value in options)
