"""What a party checks before taking part in a job: its part of the DAG, tables, providers, grants,
cores, inherited tasks and how many jobs the requesting partner already has here."""

from __future__ import annotations

from dataclasses import dataclass

from fate_grpc.components.providers import ProviderRegistry
from fate_grpc.domain.dag import Dag, ResolvedInput, ResolvedTask, resolve_party
from fate_grpc.domain.resources import job_cores
from fate_grpc.domain.status import TaskStatus
from fate_grpc.errors import FateGrpcError, FieldViolation
from fate_grpc.security.permissions import PermissionPolicy
from fate_grpc.store.interface import Store


@dataclass(frozen=True)
class JobCheckLimits:
    total_cores: int
    max_unfinished_jobs_per_partner: int


class JobChecks:
    def __init__(
        self,
        *,
        party_id: str,
        store: Store,
        providers: ProviderRegistry,
        permissions: PermissionPolicy | None,
        limits: JobCheckLimits,
    ) -> None:
        self.party_id = party_id
        self._store = store
        self._providers = providers
        self._permissions = permissions
        self.limits = limits

    def tasks_by_role(self, dag: Dag) -> dict[str, list[ResolvedTask]]:
        return {
            role: resolve_party(dag, role, self.party_id, self._providers.catalog)
            for role in dag.roles_of(self.party_id)
        }

    def cores_here(self, dag: Dag) -> int:
        return job_cores(dag, self.tasks_by_role(dag))

    async def violations(
        self, job_id: str, dag: Dag, *, scheduler_party_id: str, initiator_party_id: str
    ) -> list[FieldViolation]:
        problems: list[FieldViolation] = []
        if await self._store.find_job(job_id) is not None:
            problems.append(self._problem("job_id", f"job {job_id} already exists here"))
        by_role = self.tasks_by_role(dag)
        if not by_role:
            return [*problems, self._problem("dag.parties", f"party {self.party_id} is not in dag.parties")]
        requesters = {scheduler_party_id, initiator_party_id} - {self.party_id}
        for role, tasks in by_role.items():
            problems.extend(await self._check_tasks(role, tasks))
            if self._permissions is not None:
                problems.extend(await self._permissions.violations(requesters, tasks, role))
        problems.extend(self._check_cores(dag, by_role))
        problems.extend(await self._check_inheritance(dag, by_role))
        problems.extend(await self._check_partner_load(requesters))
        return problems

    def _problem(self, field: str, reason: str) -> FieldViolation:
        return FieldViolation(field, reason, self.party_id)

    async def _check_tasks(self, role: str, tasks: list[ResolvedTask]) -> list[FieldViolation]:
        problems = []
        for task in tasks:
            try:
                self._providers.resolve(task.component, task.conf.get("provider"))
            except FateGrpcError as exc:
                problems.append(
                    self._problem(
                        f"dag.tasks.{task.name}.conf.provider", f"{exc.message} at {role} {self.party_id}"
                    )
                )
            problems.extend(await self._check_warehouse_inputs(role, task))
            if task.component == "reader":
                namespace = str(task.parameters.get("namespace", ""))
                name = str(task.parameters.get("name", ""))
                if await self._store.find_table(namespace, name) is None:
                    problems.append(
                        self._problem(
                            f"dag.tasks.{task.name}.parameters",
                            f"table {namespace}.{name} does not exist at {role} {self.party_id}"
                            " (upload it there with `flow data upload`)",
                        )
                    )
        return problems

    async def _check_warehouse_inputs(self, role: str, task: ResolvedTask) -> list[FieldViolation]:
        """A predict job is refused at submit when this party lacks its part of the model."""
        problems = []
        for item in task.inputs:
            field = f"dag.tasks.{task.name}.inputs.{item.kind}.{item.key}.{item.source}"
            if item.source == "model_warehouse":
                model_id, version = item.model_id or "", item.model_version or ""
                found = await self._store.list_models(
                    model_id=model_id,
                    model_version=version,
                    role=role,
                    party_id=self.party_id,
                    task_name=item.producer_task,
                    output_key=item.output_artifact_key,
                )
                if not found:
                    problems.append(
                        self._problem(
                            field,
                            f"model {model_id} version {version} has no {item.producer_task}."
                            f"{item.output_artifact_key} for {role} {self.party_id} in this party's warehouse"
                            " (train it or import it with `flow model import`)",
                        )
                    )
            elif item.source == "data_warehouse" and not await self._warehouse_table_exists(item):
                problems.append(
                    self._problem(
                        field, f"table {item.namespace}.{item.name} does not exist at {role} {self.party_id}"
                    )
                )
        return problems

    async def _warehouse_table_exists(self, item: ResolvedInput) -> bool:
        if not (item.namespace and item.name):
            return True  # addressed by job and task: checked when the task starts
        return await self._store.find_table(item.namespace, item.name) is not None

    def _check_cores(self, dag: Dag, by_role: dict[str, list[ResolvedTask]]) -> list[FieldViolation]:
        needed = job_cores(dag, by_role)
        if needed <= self.limits.total_cores:
            return []
        return [
            self._problem(
                "dag.conf.cores",
                f"the job needs {needed} cores at party {self.party_id}, which has {self.limits.total_cores}"
                " cores in all (lower dag.conf.cores / conf.task.engine_run.cores)",
            )
        ]

    async def _check_inheritance(
        self, dag: Dag, by_role: dict[str, list[ResolvedTask]]
    ) -> list[FieldViolation]:
        inheritance = dag.conf.inheritance
        if not inheritance:
            return []
        old_job_id = str(inheritance.get("job_id", ""))
        wanted = {str(t) for t in inheritance.get("task_list") or []}
        old_job = await self._store.find_job(old_job_id)
        if old_job is None:
            return [
                self._problem(
                    "dag.conf.inheritance.job_id", f"job {old_job_id} is unknown at party {self.party_id}"
                )
            ]
        problems = []
        here = {task.name for tasks in by_role.values() for task in tasks}
        rows = await self._store.list_tasks(old_job_id)
        for name in sorted(wanted & here):
            latest = _latest_rows(rows, name)
            if not latest or any(r.party_status not in (TaskStatus.SUCCESS, TaskStatus.PASS) for r in latest):
                problems.append(
                    self._problem(
                        "dag.conf.inheritance.task_list",
                        f"task {name} of job {old_job_id} did not succeed at party {self.party_id}",
                    )
                )
        return problems

    async def _check_partner_load(self, requesters: set[str]) -> list[FieldViolation]:
        """A partner cannot pile up unbounded work here."""
        problems = []
        limit = self.limits.max_unfinished_jobs_per_partner
        for party in sorted(requesters):
            unfinished = await self._store.count_unfinished_jobs(party)
            if unfinished >= limit:
                problems.append(
                    self._problem(
                        "dag",
                        f"party {party} already has {unfinished} unfinished jobs at party {self.party_id}"
                        f" (limit {limit}); retry when some have ended",
                    )
                )
        return problems


def _latest_rows(rows: list, task_name: str) -> list:  # type: ignore[type-arg]
    mine = [r for r in rows if r.key.task_name == task_name]
    if not mine:
        return []
    newest = max(r.key.attempt for r in mine)
    return [r for r in mine if r.key.attempt == newest]
