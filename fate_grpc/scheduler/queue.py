"""Waiting jobs of this scheduler: start them in priority order as their cores become free everywhere.

A job that cannot get its cores at some party is skipped, never blocking the jobs behind it (FATE-Flow
only ever looks at the first waiting job). Runs when a job is created or ends here, and on the sweep.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fate_grpc.control.v1 import control_pb2
from fate_grpc.domain.status import JobStatus
from fate_grpc.parties.dag_cache import DagCache
from fate_grpc.parties.gateway import PartyGateway
from fate_grpc.scheduler.events import JobEvents
from fate_grpc.scheduler.job_log import JobLog
from fate_grpc.scheduler.outbox import OutboxSender, to_each
from fate_grpc.store.interface import Store
from fate_grpc.store.records import JobRecord

log = logging.getLogger("fate_grpc.scheduler")

Spawn = Callable[[Coroutine[Any, Any, None]], None]


class JobQueue:
    def __init__(
        self,
        *,
        store: Store,
        gateway: PartyGateway,
        dags: DagCache,
        spawn: Spawn,
        rpc_timeout_s: float,
        start_job: Callable[[str], Awaitable[None]],
        cores_needed: Callable[[str], Awaitable[dict[str, int]]],
        job_log: JobLog,
        events: JobEvents,
        outbox: OutboxSender,
    ) -> None:
        self._outbox = outbox
        self._cores_needed = cores_needed
        self._store = store
        self._gateway = gateway
        self._dags = dags
        self._spawn = spawn
        self._timeout = rpc_timeout_s
        self._start_job = start_job
        self._job_log = job_log
        self._events = events
        self._running = False
        self._again = False

    def kick(self) -> None:
        """Look at the waiting jobs soon (coalesced: one pass at a time, another if kicked meanwhile)."""
        self._spawn(self.run())

    async def run(self) -> None:
        if self._running:
            self._again = True
            return
        self._running = True
        try:
            while True:
                self._again = False
                await self._pass()
                if not self._again:
                    return
        finally:
            self._running = False

    async def _pass(self) -> None:
        waiting = await self._store.list_jobs(
            statuses=[JobStatus.WAITING], scheduler_only=True, limit=100_000
        )
        waiting.sort(key=lambda job: (-job.priority, job.create_time_ms, job.job_id))
        # Free cores a party reported in this pass: a job that needs more there is skipped without
        # asking again (a smaller job behind it may still fit).
        known_free: dict[str, int] = {}
        for job in waiting:
            needs = await self._cores_needed(job.job_id)
            short = next((p for p, n in needs.items() if n > known_free.get(p, n)), None)
            if short is not None:
                continue
            if not await self._store.list_attempts(job.job_id):
                continue  # still being created: its parties may not all have it yet
            granted, reason, free = await self._apply_everywhere(job)
            known_free.update(free)
            if granted:
                for party, cores in needs.items():
                    if party in known_free:
                        known_free[party] -= cores
                await self._start_job(job.job_id)
            elif reason != job.status_reason:
                await self._store.set_job_progress(job.job_id, job.progress, reason)
                self._job_log.line(job.job_id, f"waiting: {reason}")
                self._events.notify(job.job_id)

    async def _apply_everywhere(self, job: JobRecord) -> tuple[bool, str, dict[str, int]]:
        """Reserve the job's cores at every party, or at none (what was granted is given back).

        Returns whether it worked, why not, and the free cores of the parties that refused."""
        dag = await self._dags.get(job.job_id)
        request = control_pb2.ApplyResourcesRequest(job_id=job.job_id)

        async def apply(party_id: str) -> control_pb2.ApplyResourcesResponse:
            return await self._gateway.apply_resources(party_id, request, deadline_s=self._timeout)

        answers, failures = await self._gateway.fan_out(dag.party_ids(), apply)
        refused = {p: a for p, a in answers.items() if not a.granted}
        free = {p: a.total_cores - a.cores_in_use for p, a in refused.items()}
        if not failures and not refused:
            return True, "", {}
        # A party that did not answer may have reserved the cores all the same (its answer lost).
        holding = [p for p in dag.party_ids() if p not in refused]
        await self.return_everywhere(job.job_id, holding)
        if failures:
            return False, f"waiting for party {failures[0].party_id}: {failures[0].error.message}", free
        party, answer = next(iter(refused.items()))
        return (
            False,
            f"waiting for cores at party {party}: the job needs {answer.cores},"
            f" {answer.cores_in_use} of {answer.total_cores} are in use",
            free,
        )

    async def return_everywhere(self, job_id: str, party_ids: list[str]) -> None:
        """Give the job's cores back at these parties: through the outbox, so a party that cannot be
        reached now does it when it is back (cores held for a waiting job block every other job)."""
        request = control_pb2.ReturnResourcesRequest(job_id=job_id)
        messages = to_each(party_ids, job_id, "ReturnResources", request)
        await self._store.add_outbox_messages(messages)
        await self._outbox.deliver(messages)
