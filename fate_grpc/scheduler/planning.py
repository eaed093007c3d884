"""Pure scheduling decisions: which attempts are latest, which tasks may start now, retries, progress."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from fate_grpc.domain.component_spec import ComponentCatalog
from fate_grpc.domain.dag import Dag, resolve_task, task_dependencies, task_parties, topological_order
from fate_grpc.domain.resources import job_cores, task_cores
from fate_grpc.domain.status import (
    NEVER_STARTED_END_STATUS,
    TASK_END_STATUSES,
    TASK_SUCCESS_STATUSES,
    JobStatus,
    TaskStatus,
    severity,
)
from fate_grpc.store.records import ScheduleTaskRecord, TaskAttemptRecord

SUCCESSFUL = TASK_SUCCESS_STATUSES
RETRYABLE = frozenset({TaskStatus.FAILED, TaskStatus.TIMEOUT})
RERUNNABLE = frozenset({TaskStatus.FAILED, TaskStatus.CANCELED, TaskStatus.TIMEOUT})
MAX_BACKOFF_S = 60.0


def latest_attempts(attempts: Iterable[TaskAttemptRecord]) -> dict[str, TaskAttemptRecord]:
    latest: dict[str, TaskAttemptRecord] = {}
    for attempt in attempts:
        current = latest.get(attempt.key.task_name)
        if current is None or attempt.key.attempt > current.key.attempt:
            latest[attempt.key.task_name] = attempt
    return latest


@dataclass(frozen=True)
class CorePlan:
    """Cores per party: the job's reservation, and what each task uses there."""

    job: Mapping[str, int]
    task: Mapping[tuple[str, str], int]

    @classmethod
    def of(cls, dag: Dag, catalog: ComponentCatalog) -> CorePlan:
        tasks: dict[tuple[str, str], int] = {}
        by_party: dict[str, dict[str, list]] = {}
        for name in dag.tasks:
            for party in task_parties(dag, name):
                resolved = resolve_task(dag, name, party.role, party.party_id, catalog)
                if resolved is None:
                    continue
                by_party.setdefault(party.party_id, {}).setdefault(party.role, []).append(resolved)
                cores = task_cores(resolved.conf, party.role)
                tasks[(name, party.party_id)] = max(tasks.get((name, party.party_id), 0), cores)
        jobs = {party: job_cores(dag, roles) for party, roles in by_party.items()}
        return cls(job=jobs, task=tasks)


def ready_tasks(
    dag: Dag, latest: Mapping[str, TaskAttemptRecord], plan: CorePlan, now_ms: int
) -> tuple[list[str], int]:
    """Tasks to start now, in topological order, within each party's job cores.

    Returns the tasks and the earliest time (ms) a backed-off retry becomes due (0 if none)."""
    dependencies = task_dependencies(dag)
    in_use: dict[str, int] = {}
    for name, running in latest.items():
        if running.status is TaskStatus.RUNNING:
            for party in task_parties(dag, name):
                in_use[party.party_id] = in_use.get(party.party_id, 0) + plan.task.get(
                    (name, party.party_id), 0
                )
    ready: list[str] = []
    next_due = 0
    for name in topological_order(dag):
        attempt = latest.get(name)
        if attempt is None or attempt.status is not TaskStatus.WAITING:
            continue
        if not all(latest[d].status in SUCCESSFUL for d in dependencies.get(name, ())):
            continue
        if attempt.not_before_ms > now_ms:
            next_due = attempt.not_before_ms if not next_due else min(next_due, attempt.not_before_ms)
            continue
        party_ids = {p.party_id for p in task_parties(dag, name)}
        needs = {pid: plan.task.get((name, pid), 0) for pid in party_ids}
        if any(
            in_use.get(pid, 0) + needs[pid] > plan.job.get(pid, 0) and in_use.get(pid, 0) > 0
            for pid in party_ids
        ):
            continue  # the job's cores at some party are taken by its running tasks
        for pid, cores in needs.items():
            in_use[pid] = in_use.get(pid, 0) + cores
        ready.append(name)
    return ready, next_due


def stopped_status(current: TaskStatus, stop_status: TaskStatus) -> TaskStatus:
    """How a party's row ends when its attempt is stopped there: a running task ends as the stop
    says; one that never started ends canceled."""
    return stop_status if current is TaskStatus.RUNNING else NEVER_STARTED_END_STATUS


def retry_delay_s(attempt: int, base_s: float) -> float:
    """Backoff before attempt `attempt + 1`: base, doubling, capped."""
    return min(base_s * (2**attempt), MAX_BACKOFF_S)


def should_retry(attempt: TaskAttemptRecord, status: TaskStatus, auto_retries: int) -> bool:
    return status in RETRYABLE and attempt.key.attempt < auto_retries


def downstream(dag: Dag, roots: Iterable[str]) -> set[str]:
    """The tasks that depend, directly or not, on any of `roots` (roots included)."""
    dependencies = task_dependencies(dag)
    result = set(roots)
    changed = True
    while changed:
        changed = False
        for name, needs in dependencies.items():
            if name not in result and needs & result:
                result.add(name)
                changed = True
    return result


def tasks_to_rerun(dag: Dag, latest: Mapping[str, TaskAttemptRecord]) -> list[str]:
    """Failed/canceled/timed-out tasks and everything below them that has not succeeded."""
    roots = {name for name, a in latest.items() if a.status in RERUNNABLE}
    chosen = {n for n in downstream(dag, roots) if latest[n].status not in SUCCESSFUL}
    return [name for name in topological_order(dag) if name in chosen]


def progress(statuses: Iterable[TaskStatus]) -> int:
    values = list(statuses)
    if not values:
        return 100
    return int(100 * sum(s in TASK_END_STATUSES for s in values) / len(values))


def attempt_error(rows: Iterable[ScheduleTaskRecord], status: TaskStatus) -> str:
    if status in SUCCESSFUL:
        return ""
    culprits = sorted((r for r in rows if r.error), key=lambda r: -severity(r.status))
    return culprits[0].error if culprits else ""


def job_reason(status: JobStatus, latest: Mapping[str, TaskAttemptRecord]) -> str:
    if status is JobStatus.SUCCESS:
        return ""
    for attempt in sorted(latest.values(), key=lambda a: -severity(a.status)):
        if attempt.status.value == status.value:
            detail = f": {attempt.error}" if attempt.error else ""
            tries = f" (attempt {attempt.key.attempt + 1})" if attempt.key.attempt else ""
            return f"task {attempt.key.task_name} {attempt.status.value}{tries}{detail}"
    return ""


def task_timeout_s(dag: Dag, task_name: str, catalog: ComponentCatalog, default_s: float) -> float:
    """The task's timeout: conf.timeout at any of its parties (the largest), else the default."""
    timeouts = []
    for party in task_parties(dag, task_name):
        resolved = resolve_task(dag, task_name, party.role, party.party_id, catalog)
        value = resolved.conf.get("timeout") if resolved else None
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            timeouts.append(float(value))
    return max(timeouts) if timeouts else default_s
