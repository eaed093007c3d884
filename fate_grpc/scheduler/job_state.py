"""Reading a job's state for the decision core from the scheduler's store, and writing new attempts."""

from __future__ import annotations

from collections.abc import Callable

from fate_grpc.domain.component_spec import ComponentCatalog
from fate_grpc.domain.dag import Dag, task_parties
from fate_grpc.parties.dag_cache import DagCache
from fate_grpc.scheduler import planning
from fate_grpc.scheduler.decisions import JobState, Rules
from fate_grpc.scheduler.planning import CorePlan, latest_attempts
from fate_grpc.store.interface import Store
from fate_grpc.store.records import AttemptKey, ScheduleTaskRecord, TaskAttemptRecord, TaskKey


class JobStates:
    """What the scheduler's store holds of its jobs, as `JobState`s; what the DAG fixes (cores, timeouts)
    is worked out once per job."""

    def __init__(
        self,
        *,
        store: Store,
        dags: DagCache,
        catalog: ComponentCatalog,
        default_task_timeout_s: float,
        max_task_attempts: int,
        retry_backoff_s: float,
        address_of: Callable[[str], str],
        away: Callable[[str], frozenset[str]],
    ) -> None:
        self._store = store
        self._dags = dags
        self._catalog = catalog
        self._default_task_timeout_s = default_task_timeout_s
        self._max_task_attempts = max_task_attempts
        self._retry_backoff_s = retry_backoff_s
        self._address_of = address_of
        self._away = away
        self._plans: dict[str, tuple[CorePlan, dict[str, float]]] = {}

    async def load(self, job_id: str) -> JobState:
        job = await self._store.get_job(job_id)
        dag = await self._dags.get(job_id)
        plan, timeouts = self._plan(job_id, dag)
        return JobState(
            job_id=job_id,
            status=job.status,
            progress=job.progress,
            dag=dag,
            plan=plan,
            timeouts_s=timeouts,
            attempts=latest_attempts(await self._store.list_attempts(job_id)),
            rows={row.key: row for row in await self._store.list_schedule_tasks(job_id)},
            rules=Rules(dag.conf.auto_retries, self._max_task_attempts, self._retry_backoff_s),
            addresses={p: self._address_of(p) for p in dag.party_ids()},
            away=self._away(job_id),
        )

    async def cores_needed(self, job_id: str) -> dict[str, int]:
        """Cores the job reserves at each party."""
        dag = await self._dags.get(job_id)
        return dict(self._plan(job_id, dag)[0].job)

    def forget(self, job_id: str) -> None:
        """The job ended."""
        self._plans.pop(job_id, None)

    async def add_attempts(self, dag: Dag, previous: list[TaskAttemptRecord], *, not_before_ms: int) -> None:
        """The next attempt of each task, with a waiting row per party."""
        attempts, schedule = [], []
        for old in previous:
            key = AttemptKey(old.key.job_id, old.key.task_name, old.key.attempt + 1)
            attempts.append(TaskAttemptRecord(key=key, component=old.component, not_before_ms=not_before_ms))
            for party in task_parties(dag, key.task_name):
                row_key = TaskKey(key.job_id, key.task_name, key.attempt, party.role, party.party_id)
                schedule.append(ScheduleTaskRecord(key=row_key))
        if attempts:
            await self._store.add_attempts(attempts, schedule)

    def _plan(self, job_id: str, dag: Dag) -> tuple[CorePlan, dict[str, float]]:
        known = self._plans.get(job_id)
        if known is None:
            timeouts = {
                name: planning.task_timeout_s(dag, name, self._catalog, self._default_task_timeout_s)
                for name in dag.tasks
            }
            known = self._plans[job_id] = (CorePlan.of(dag, self._catalog), timeouts)
        return known
