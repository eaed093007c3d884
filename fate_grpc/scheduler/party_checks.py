"""The scheduler asking parties how its running attempts stand: silent parties on the sweep (lost
reports, unreachable parties), and every party of every running attempt after the scheduler restarted.

What the answers mean is decided by the pure core (`decisions`); this module only asks, and keeps in
memory which parties do not answer (`PartyReachability`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from fate_grpc.control.v1 import control_pb2
from fate_grpc.domain.status import TASK_END_STATUSES, JobStatus, TaskStatus
from fate_grpc.errors import FateGrpcError
from fate_grpc.parties.gateway import PartyGateway
from fate_grpc.scheduler import decisions
from fate_grpc.scheduler.decisions import JobState, Outcome, Report, StartFailure
from fate_grpc.scheduler.events import JobEvents
from fate_grpc.scheduler.job_log import JobLog
from fate_grpc.scheduler.outbox import RETRYABLE_CODES
from fate_grpc.scheduler.planning import latest_attempts
from fate_grpc.scheduler.reachability import PartyReachability, Unreachable, Verdict
from fate_grpc.store.interface import Store
from fate_grpc.store.records import AttemptKey, ScheduleTaskRecord, TaskKey
from fate_grpc.wire.convert import task_status_from_proto

log = logging.getLogger("fate_grpc.scheduler")

DecideFn = Callable[[str, Callable[[JobState], Outcome]], Awaitable[Outcome]]


def now_ms() -> int:
    return int(time.time() * 1000)


def with_now(decide: Callable[..., Outcome], *event: object) -> Callable[[JobState], Outcome]:
    """A decision on `event` to be taken on the state loaded under the job's lock, at that time."""
    return lambda state: decide(state, *event, now_ms())


class PartyChecks:
    def __init__(
        self,
        *,
        party_id: str,
        store: Store,
        gateway: PartyGateway,
        rpc_timeout_s: float,
        collect_after_s: float,
        reachability: PartyReachability,
        decide: DecideFn,
        job_log: JobLog,
        events: JobEvents,
    ) -> None:
        self._party_id = party_id
        self._store = store
        self._gateway = gateway
        self._timeout = rpc_timeout_s
        self._collect_after_ms = int(collect_after_s * 1000)
        self._reachability = reachability
        self._decide = decide
        self._job_log = job_log
        self._events = events
        self._last_check: dict[TaskKey, int] = {}

    async def heard(self, key: TaskKey) -> None:
        """A party reported on a row: its silence is counted from now, and it is not away."""
        self._last_check.pop(key, None)
        await self._answered(key.job_id, key.party_id)

    async def probe_partners(self, key: TaskKey) -> None:
        """Ask the other parties of an attempt, still running there, how it stands (a partner failed)."""
        attempt = AttemptKey(key.job_id, key.task_name, key.attempt)
        rows = await self._store.list_schedule_tasks(key.job_id, task_name=key.task_name, attempt=key.attempt)
        running = {r.key.party_id for r in rows if r.status not in TASK_END_STATUSES}
        for party_id in sorted(running - {key.party_id}):
            # Briefly: the reporting party waits for the answer to its report meanwhile.
            await self._fold(attempt, party_id, "", deadline_s=self._timeout / 3)

    def start_failure(self, key: AttemptKey, party_id: str, error: FateGrpcError) -> StartFailure:
        """What a failed start call says of the party; an unreachable party is recorded as away."""
        if error.code not in RETRYABLE_CODES:
            return StartFailure(error.message)
        now = now_ms()
        failure = Unreachable(party_id, self.address_of(party_id), now, error.message)
        decision = self._reachability.record(key.job_id, party_id, failure, now)
        gone = decision.state if decision.verdict is Verdict.GIVE_UP else None
        return StartFailure(error.message, unreachable=True, gone=gone)

    def address_of(self, party_id: str) -> str:
        try:
            return self._gateway.address_of(party_id)
        except FateGrpcError:
            return "no route"

    async def sweep(self) -> None:
        """Ask parties about running attempts that have not reported for a while; fold in attempts
        whose parties all ended but whose end was not derived (a lost wake-up)."""
        now = now_ms()
        for job in await self._store.list_jobs(statuses=[JobStatus.RUNNING], scheduler_only=True):
            latest = latest_attempts(await self._store.list_attempts(job.job_id))
            for attempt in (a for a in latest.values() if a.status is TaskStatus.RUNNING):
                rows = await self._store.list_schedule_tasks(
                    job.job_id, task_name=attempt.key.task_name, attempt=attempt.key.attempt
                )
                if rows and all(r.status in TASK_END_STATUSES for r in rows):
                    await self._decide(job.job_id, lambda state: decisions.on_tick(state, now_ms()))
                    continue
                for row in rows:
                    if row.status in TASK_END_STATUSES:
                        continue
                    last = max(row.update_time_ms, self._last_check.get(row.key, 0))
                    if now - last >= self._collect_after_ms:
                        self._last_check[row.key] = now
                        await self._check_row(row)

    async def _check_row(self, row: ScheduleTaskRecord) -> None:
        key = row.key
        await self._fold(AttemptKey(key.job_id, key.task_name, key.attempt), key.party_id, key.role)

    async def resume(self, state: JobState) -> None:
        """After the scheduler restarted: ask every party of every running attempt how it stands."""
        for attempt in list(state.attempts.values()):
            if attempt.status is not TaskStatus.RUNNING:
                continue
            roles = {r.key.party_id: r.key.role for r in state.attempt_rows(attempt.key)}
            for party_id, role in sorted(roles.items()):
                await self._fold(attempt.key, party_id, role, resume=True)

    async def _fold(
        self, key: AttemptKey, party_id: str, role: str, *, resume: bool = False, deadline_s: float = 0
    ) -> None:
        """Ask the party about the attempt and decide on its answers (those of `role`, or of every role
        when empty; as a restarted scheduler's check with `resume`). A party back from away is decided
        on last, once what it said is known."""
        was_away = party_id in self._reachability.away(key.job_id)
        reports = await self._ask(key, party_id, role, deadline_s or self._timeout)
        if reports is None:
            return
        if resume:
            await self._decide(key.job_id, with_now(decisions.on_resume_check, party_id, reports))
        for report in () if resume else reports:
            if not role or report.key.role == role:
                await self._decide(key.job_id, with_now(decisions.on_report, report))
        if was_away:
            await self._answered(key.job_id, party_id)

    async def _ask(self, key: AttemptKey, party_id: str, role: str, deadline_s: float) -> list[Report] | None:
        """The party's reports of the attempt at each of its roles; None if it did not answer."""
        request = control_pb2.CollectTaskStatusRequest(
            job_id=key.job_id, task_name=key.task_name, attempt=key.attempt
        )
        try:
            answer = await self._gateway.collect_task_status(party_id, request, deadline_s=deadline_s)
        except FateGrpcError as exc:
            await self._unanswered(TaskKey(key.job_id, key.task_name, key.attempt, role, party_id), exc)
            return None
        lost = set(answer.lost_roles)
        return [
            Report(
                TaskKey(key.job_id, key.task_name, key.attempt, view.role, party_id),
                task_status_from_proto(view.status),
                view.error,
                view.start_time_ms,
                view.end_time_ms,
                view.progress,
                lost=view.role in lost,
            )
            for view in answer.tasks
        ]

    async def _unanswered(self, key: TaskKey, exc: FateGrpcError) -> None:
        """A status check of the party failed: wait for it up to the tolerance, then fail the task."""
        now = now_ms()
        failure = Unreachable(key.party_id, self.address_of(key.party_id), now, exc.message)
        was_away = key.party_id in self._reachability.away(key.job_id)
        decision = self._reachability.record(key.job_id, key.party_id, failure, now)
        if not was_away:
            self._job_log.line(
                key.job_id, f"party {key.party_id} at {failure.address} does not answer: {exc.message}"
            )
        if key.role:
            await self._decide(
                key.job_id, lambda state: decisions.on_unanswered(state, key, decision, now_ms())
            )
        self._events.notify(key.job_id)

    async def _answered(self, job_id: str, party_id: str) -> None:
        """The party answered: if it was away, it is back (attempts its partners failed meanwhile are
        decided on now)."""
        if party_id not in self._reachability.away(job_id):
            return
        self._reachability.record(job_id, party_id, None, now_ms())
        self._job_log.line(job_id, f"party {party_id} answers again")
        await self._decide(job_id, with_now(decisions.on_party_back, party_id))
