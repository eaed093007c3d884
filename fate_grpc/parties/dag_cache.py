"""Parsed DAGs of stored jobs, shared by the scheduler and the participant side."""

from __future__ import annotations

from fate_grpc.domain.component_spec import ComponentCatalog
from fate_grpc.domain.dag import Dag, parse_dag
from fate_grpc.store.interface import Store


class DagCache:
    """Parsed DAGs of stored jobs (parsing is pure, so a job's DAG never changes once stored)."""

    def __init__(self, store: Store, catalog: ComponentCatalog) -> None:
        self._store = store
        self._catalog = catalog
        self._dags: dict[str, Dag] = {}

    async def get(self, job_id: str) -> Dag:
        dag = self._dags.get(job_id)
        if dag is None:
            job = await self._store.get_job(job_id)
            dag = parse_dag(job.dag_yaml, self._catalog)
            self._dags[job_id] = dag
        return dag

    def forget(self, job_id: str) -> None:
        self._dags.pop(job_id, None)
