"""Jobs and tasks as users see them: the scheduler's view of every party, or one party's own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fate_grpc.common.v1 import common_pb2
from fate_grpc.domain.component_spec import ComponentCatalog
from fate_grpc.parties.dag_cache import DagCache
from fate_grpc.scheduler.events import JobEvents
from fate_grpc.scheduler.planning import latest_attempts
from fate_grpc.scheduler.reachability import PartyReachability, waiting_reason
from fate_grpc.store.interface import Store
from fate_grpc.store.records import JobRecord
from fate_grpc.wire.convert import elapsed_ms, job_status_to_proto, now_ms, task_view

END_STATUSES = {
    common_pb2.JOB_STATUS_SUCCESS,
    common_pb2.JOB_STATUS_FAILED,
    common_pb2.JOB_STATUS_CANCELED,
    common_pb2.JOB_STATUS_TIMEOUT,
}
HEARTBEAT_S = 10.0
COALESCE_S = 0.02


class JobViews:
    def __init__(
        self, *, party_id: str, store: Store, dags: DagCache, catalog: ComponentCatalog, events: JobEvents
    ) -> None:
        self._party_id = party_id
        self._store = store
        self._dags = dags
        self._catalog = catalog
        self._events = events
        self.reachability: PartyReachability | None = None
        """The scheduler's record of parties it cannot reach (shown in its views of running jobs)."""

    async def watch(self, job_id: str) -> AsyncIterator[common_pb2.JobView]:
        """The scheduler's view now and after every change, until the job ends."""
        while True:
            version = self._events.version(job_id)
            view = await self.scheduler_view(job_id)
            if view is None:
                return
            yield view
            if view.status in END_STATUSES:
                return
            await self._events.wait(job_id, version, timeout_s=HEARTBEAT_S)
            await asyncio.sleep(COALESCE_S)  # one view for a burst of changes

    async def scheduler_view(self, job_id: str, *, all_attempts: bool = False) -> common_pb2.JobView | None:
        """Every party's tasks, from the scheduler's store; None if this node does not schedule the job."""
        job = await self._store.get_job(job_id)
        if not job.is_scheduler:
            return None
        attempts = await self._store.list_attempts(job_id)
        components = {a.key.task_name: a.component for a in attempts}
        latest = {(a.key.task_name, a.key.attempt) for a in latest_attempts(attempts).values()}
        now = now_ms()
        tasks = [
            task_view(row, components.get(row.key.task_name, ""), now)
            for row in await self._store.list_schedule_tasks(job_id)
            if all_attempts or (row.key.task_name, row.key.attempt) in latest
        ]
        view = await self._job_view(job, tasks, now)
        view.from_scheduler = True
        if view.status not in END_STATUSES:
            self._show_unreachable(view, now)
        return view

    def _show_unreachable(self, view: common_pb2.JobView, now: int) -> None:
        """Mark the parties the scheduler cannot reach now, and say so in the job's reason."""
        if self.reachability is None:
            return
        away = self.reachability.away(view.job_id)
        if not away:
            return
        for party in view.parties:
            record = away.get(party.party_id)
            if record is not None:
                party.unreachable_since_ms = record.since_ms
                party.unreachable_reason = f"{record.address}: {record.error}"
        reason = waiting_reason(list(away.values()), now, self.reachability.tolerance_s)
        view.status_reason = f"{view.status_reason}; {reason}" if view.status_reason else reason

    async def local_view(self, job_id: str, *, all_attempts: bool = False) -> common_pb2.JobView:
        """This party's own rows (its local process status)."""
        job = await self._store.get_job(job_id)
        rows = await self._store.list_tasks(job_id)
        newest: dict[str, int] = {}
        for row in rows:
            newest[row.key.task_name] = max(newest.get(row.key.task_name, 0), row.key.attempt)
        now = now_ms()
        tasks = [
            task_view(row, row.component, now, status=row.party_status)
            for row in rows
            if all_attempts or row.key.attempt == newest[row.key.task_name]
        ]
        return await self._job_view(job, tasks, now)

    async def summary(self, job: JobRecord) -> common_pb2.JobView:
        """A job without its tasks (for lists)."""
        view = await self._job_view(job, [], now_ms())
        view.from_scheduler = job.is_scheduler
        return view

    async def _job_view(
        self, job: JobRecord, tasks: list[common_pb2.TaskView], now: int
    ) -> common_pb2.JobView:
        dag = await self._dags.get(job.job_id)
        return common_pb2.JobView(
            job_id=job.job_id,
            status=job_status_to_proto(job.status),
            status_reason=job.status_reason,
            initiator_party_id=job.initiator_party_id,
            scheduler_party_id=job.scheduler_party_id,
            progress=job.progress,
            create_time_ms=job.create_time_ms,
            start_time_ms=job.start_time_ms,
            end_time_ms=job.end_time_ms,
            update_time_ms=job.update_time_ms,
            elapsed_ms=elapsed_ms(job.start_time_ms, job.end_time_ms, now),
            parties=[
                common_pb2.PartyJobView(
                    role=p.role, party_id=p.party_id, status=job_status_to_proto(job.status)
                )
                for p in dag.all_parties()
            ],
            tasks=tasks,
            answered_by_party_id=self._party_id,
            stage=dag.stage,
        )
