"""Cores a job and its tasks need at one party (pure; FATE's job_cores / task cores rules)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fate_grpc.domain.dag import Dag, ResolvedTask

DEFAULT_JOB_CORES = 4
DEFAULT_TASK_CORES = 4
# FATE gives the arbiter no cores: it only aggregates.
ROLES_WITHOUT_CORES = frozenset({"arbiter"})


def task_cores(conf: Mapping[str, Any], role: str) -> int:
    """`conf.engine_run.cores` of a resolved task (default 4); 0 for roles that use none."""
    if role in ROLES_WITHOUT_CORES:
        return 0
    engine_run = conf.get("engine_run") or {}
    cores = engine_run.get("cores") if isinstance(engine_run, Mapping) else None
    if isinstance(cores, int) and not isinstance(cores, bool) and cores > 0:
        return cores
    return DEFAULT_TASK_CORES


def job_cores(dag: Dag, tasks_by_role: Mapping[str, Iterable[ResolvedTask]]) -> int:
    """Cores a job reserves at a party: dag.conf.cores (default 4), raised to its largest task's."""
    largest_task = max(
        (task_cores(task.conf, role) for role, tasks in tasks_by_role.items() for task in tasks), default=0
    )
    if largest_task == 0:
        return 0
    return max(dag.conf.cores or DEFAULT_JOB_CORES, largest_task)
