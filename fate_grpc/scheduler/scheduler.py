"""The scheduler party's driver: it loads a job's state, lets the pure decision core decide
(`decisions`), and carries out the effects - store writes through the compare-and-set, messages to
the parties through the outbox, timers.

Event-driven: a job is advanced when it starts and whenever a party reports a status change; timers
fire deadlines and backed-off attempts. The recovery paths (status checks of silent parties, resuming
after a restart) are in `party_checks`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Coroutine
from typing import Any

from fate_grpc.control.v1 import control_pb2
from fate_grpc.domain.component_spec import ComponentCatalog
from fate_grpc.domain.status import JOB_END_STATUSES, JobStatus, Proposal, TaskStatus
from fate_grpc.errors import ErrorCode, FateGrpcError, invalid_transition
from fate_grpc.parties.dag_cache import DagCache
from fate_grpc.parties.gateway import PartyGateway
from fate_grpc.scheduler import decisions, planning
from fate_grpc.scheduler.decisions import JobState, Outcome, Report, StartFailure
from fate_grpc.scheduler.effects import (
    ArmDeadline,
    CancelNeverStarted,
    Effect,
    EndAttempt,
    EndJob,
    MoveAttempt,
    MoveRow,
    NewAttempt,
    Note,
    SetRowProgress,
    StartAttempt,
    SyncJobProgress,
    WakeAt,
)
from fate_grpc.scheduler.events import JobEvents
from fate_grpc.scheduler.job_log import JobLog
from fate_grpc.scheduler.job_state import JobStates
from fate_grpc.scheduler.outbox import OutboxSender
from fate_grpc.scheduler.party_checks import PartyChecks, with_now
from fate_grpc.scheduler.party_sync import PartySync, move_schedule_row
from fate_grpc.scheduler.planning import SUCCESSFUL, latest_attempts
from fate_grpc.scheduler.queue import JobQueue
from fate_grpc.scheduler.reachability import PartyReachability
from fate_grpc.scheduler.timers import Timers
from fate_grpc.store.interface import Store
from fate_grpc.store.records import AttemptKey, ScheduleTaskRecord, TaskKey
from fate_grpc.wire.convert import job_status_to_proto

log = logging.getLogger("fate_grpc.scheduler")

Spawn = Callable[[Coroutine[Any, Any, None]], None]
Decide = Callable[[JobState], Outcome]
__all__ = ["Scheduler", "latest_attempts"]


def now_ms() -> int:
    return int(time.time() * 1000)


class Scheduler:
    def __init__(
        self,
        *,
        party_id: str,
        store: Store,
        gateway: PartyGateway,
        dags: DagCache,
        catalog: ComponentCatalog,
        spawn: Spawn,
        rpc_timeout_s: float,
        collect_after_s: float,
        retry_backoff_s: float,
        default_task_timeout_s: float,
        party_unreachable_s: float = 300.0,
        max_task_attempts: int = 3,
        job_log: JobLog,
        events: JobEvents,
        outbox: OutboxSender,
    ) -> None:
        self._party_id = party_id
        self.outbox = outbox
        self._store = store
        self._gateway = gateway
        self._dags = dags
        self._spawn = spawn
        self._timeout = rpc_timeout_s
        self.job_log = job_log
        self.events = events
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.reachability = PartyReachability(party_unreachable_s)
        self._timers = Timers(on_deadline=self._on_deadline, on_wake=self.kick)
        self._parties = PartySync(
            store=store, gateway=gateway, dags=dags, rpc_timeout_s=rpc_timeout_s, outbox=outbox
        )
        self.states = JobStates(
            store=store,
            dags=dags,
            catalog=catalog,
            default_task_timeout_s=default_task_timeout_s,
            max_task_attempts=max_task_attempts,
            retry_backoff_s=retry_backoff_s,
            address_of=lambda party_id: self.checks.address_of(party_id),
            away=lambda job_id: frozenset(self.reachability.away(job_id)),
        )
        self.queue = JobQueue(
            store=store,
            gateway=gateway,
            dags=dags,
            spawn=spawn,
            rpc_timeout_s=rpc_timeout_s,
            start_job=self._start_job,
            cores_needed=self.states.cores_needed,
            job_log=job_log,
            events=events,
            outbox=outbox,
        )
        self.checks = PartyChecks(
            party_id=party_id,
            store=store,
            gateway=gateway,
            rpc_timeout_s=rpc_timeout_s,
            collect_after_s=collect_after_s,
            reachability=self.reachability,
            decide=self.decide,
            job_log=job_log,
            events=events,
        )

    # -- entry points ----------------------------------------------------------------------------
    def job_created(self, job_id: str, parties: list[str]) -> None:
        self.job_log.line(job_id, f"created at parties {', '.join(parties)}; waiting for cores")
        self.events.notify(job_id)
        self.queue.kick()

    def kick(self, job_id: str) -> None:
        """Advance a job soon (in the background)."""
        self._spawn(self.advance(job_id))

    async def advance(self, job_id: str) -> None:
        await self.decide(job_id, lambda state: decisions.on_tick(state, now_ms()))

    async def _start_job(self, job_id: str) -> None:
        """Its cores are held at every party: run it."""
        async with self._locks[job_id]:
            job = await self._store.get_job(job_id)
            if job.status is not JobStatus.WAITING:
                return
            job = await self._store.transition_job(job_id, expected=JobStatus.WAITING, to=JobStatus.RUNNING)
            self.job_log.line(job_id, "cores held at every party; running")
            await self._parties.push_job_status(job)
            await self._decide_locked(job_id, lambda state: decisions.on_tick(state, now_ms()))
        self.events.notify(job_id)

    async def on_report(self, request: control_pb2.ReportTaskStatusRequest, status: TaskStatus) -> Proposal:
        """A party's local status (or progress) of a task attempt changed."""
        key = TaskKey(request.job_id, request.task_name, request.attempt, request.role, request.party_id)
        job = await self._store.get_job(key.job_id)
        if not job.is_scheduler:
            raise FateGrpcError(
                ErrorCode.NOT_SCHEDULER, f"party {self._party_id} does not schedule job {key.job_id}"
            )
        report = Report(
            key,
            status,
            request.error,
            request.start_time_ms,
            request.end_time_ms,
            request.progress,
            lost=request.lost,
        )
        if status is TaskStatus.FAILED and not report.lost:
            # A task fails when a partner it sends to is gone: ask the partners first, so that a partner
            # that restarted (lost) or cannot be reached (away) is known before the failure is judged.
            await self.checks.probe_partners(key)
        outcome = await self.decide(key.job_id, with_now(decisions.on_report, report))
        await self.checks.heard(key)
        return outcome.proposal

    async def stop_job(self, job_id: str, requester_party_id: str) -> JobStatus:
        """Cancel a job at every party (user request).

        Raises:
            FateGrpcError: INVALID_TRANSITION if the job already ended, CONFLICT while it is still
                being created; nothing changes then.
        """
        async with self._locks[job_id]:
            job = await self._store.get_job(job_id)
            if job.status in JOB_END_STATUSES:
                raise invalid_transition(
                    f"job {job_id} already ended: {job.status.value}", job_id=job_id, status=job.status.value
                )
            if not await self._store.list_attempts(job_id):
                raise _still_being_created(job_id)
            reason = f"stopped by a user at party {requester_party_id}"
            await self._decide_locked(job_id, lambda state: decisions.on_stop(state, reason, now_ms()))
        self.events.notify(job_id)
        return JobStatus.CANCELED

    async def rerun_job(self, job_id: str, requester_party_id: str) -> tuple[JobStatus, list[str]]:
        """New attempts for the failed/canceled/timed-out tasks and what depends on them."""
        async with self._locks[job_id]:
            job = await self._store.get_job(job_id)
            if job.status not in (JobStatus.FAILED, JobStatus.CANCELED, JobStatus.TIMEOUT):
                raise invalid_transition(
                    f"job {job_id} is {job.status.value}:"
                    " only a failed, canceled or timed-out job can be rerun"
                )
            dag = await self._dags.get(job_id)
            latest = latest_attempts(await self._store.list_attempts(job_id))
            names = planning.tasks_to_rerun(dag, latest)
            await self.states.add_attempts(dag, [latest[n] for n in names], not_before_ms=0)
            reason = f"rerun requested at party {requester_party_id}: {', '.join(names)}"
            job = await self._store.transition_job(
                job_id, expected=job.status, to=JobStatus.WAITING, reason=reason
            )
            # The end it announced is over, and cores given back late would free those of the rerun.
            await self._store.drop_outbox_messages(job_id, ("SyncJobStatus", "ReturnResources"))
            self.job_log.line(job_id, reason)
            await self._parties.push_job_status(job)
        self.events.notify(job_id)
        self.queue.kick()
        return JobStatus.WAITING, names

    async def clean_job(self, job_id: str) -> list[str]:
        """Remove a finished job at every party; returns the parties that removed it."""
        async with self._locks[job_id]:
            job = await self._store.get_job(job_id)
            if job.status not in JOB_END_STATUSES:
                raise invalid_transition(f"job {job_id} is {job.status.value}: stop it before cleaning it")
            dag = await self._dags.get(job_id)
            try:
                return await self._parties.clean_everywhere(dag, job_id)
            finally:
                self._locks.pop(job_id, None)

    async def sweep(self) -> None:
        """The slow recovery pass: undelivered messages, waiting jobs, silent parties."""
        self.outbox.wake(ignore_backoff=True)
        self.queue.kick()
        await self.checks.sweep()

    async def unfinished_jobs(self) -> list[str]:
        """Jobs scheduled here that have not ended (read at start, before the node serves)."""
        jobs = await self._store.list_jobs(
            statuses=[JobStatus.WAITING, JobStatus.RUNNING], scheduler_only=True, limit=1_000_000
        )
        return [job.job_id for job in jobs]

    async def resume_after_restart(self, job_ids: list[str]) -> None:
        """Jobs this node was scheduling when it went down carry on: deadlines re-armed, every party
        asked how each running attempt stands there (what it lost gets a new attempt)."""
        for job_id in job_ids:
            outcome = await self.decide(job_id, lambda state: decisions.on_resume(state, now_ms()))
            if outcome.state.status is JobStatus.RUNNING:
                self.job_log.line(
                    job_id, f"the scheduler (party {self._party_id}) restarted; the job carries on"
                )
                await self.checks.resume(outcome.state)
        self.queue.kick()

    # -- deciding --------------------------------------------------------------------------------
    async def decide(self, job_id: str, decide: Decide) -> Outcome:
        """Load the job, decide, carry the effects out (under the job's lock)."""
        async with self._locks[job_id]:
            outcome = await self._decide_locked(job_id, decide)
        self.events.notify(job_id)
        return outcome

    async def _decide_locked(self, job_id: str, decide: Decide) -> Outcome:
        outcome = decide(await self.load(job_id))
        await self._carry_out(job_id, outcome.effects)
        return outcome

    async def load(self, job_id: str) -> JobState:
        """The job as this scheduler's store holds it."""
        return await self.states.load(job_id)

    # -- carrying effects out --------------------------------------------------------------------
    async def _carry_out(self, job_id: str, effects: tuple[Effect, ...]) -> None:
        starts: list[StartAttempt] = []
        cancels: list[CancelNeverStarted] = []
        for effect in (*effects, None):
            if isinstance(effect, StartAttempt):
                starts.append(effect)
                continue
            if isinstance(effect, CancelNeverStarted):
                cancels.append(effect)
                continue
            if starts:
                await self._start_attempts(job_id, starts)
                starts = []
            if cancels:
                await self._cancel_never_started(job_id, cancels)
                cancels = []
            if effect is not None:
                await self._carry_out_one(job_id, effect)

    async def _carry_out_one(self, job_id: str, effect: Effect) -> None:
        match effect:
            case SetRowProgress(key, progress):
                await self._store.set_schedule_progress(key, progress)
            case MoveRow(row, to, error, start_ms, end_ms):
                await self._move_row(row, to, error, start_ms, end_ms)
            case MoveAttempt(key, expected, to):
                await self._store.transition_attempt(key, expected=expected, to=to)
            case EndAttempt():
                await self._end_attempt(effect)
            case NewAttempt(previous, not_before_ms):
                dag = await self._dags.get(job_id)
                await self.states.add_attempts(dag, [previous], not_before_ms=not_before_ms)
            case ArmDeadline(key, at_ms):
                self._timers.arm_deadline(key, at_ms)
            case WakeAt(at_ms):
                self._timers.wake_at(job_id, at_ms)
            case EndJob():
                await self._end_job(job_id, effect)
            case SyncJobProgress(progress):
                await self._store.set_job_progress(job_id, progress)
                await self._parties.push_job_status(await self._store.get_job(job_id))
            case Note(text):
                self.job_log.line(job_id, text)

    async def _move_row(
        self, row: ScheduleTaskRecord, to: TaskStatus, error: str, start: int, end: int
    ) -> None:
        try:
            await move_schedule_row(self._store, row, to, error=error, start_time_ms=start, end_time_ms=end)
        except FateGrpcError as exc:
            if exc.code is not ErrorCode.CONFLICT:
                raise
            log.info("task %s: row changed meanwhile, %s not applied", row.key, to.value)

    async def _start_attempts(self, job_id: str, starts: list[StartAttempt]) -> None:
        results = await asyncio.gather(*(self._start_attempt(start) for start in starts))
        for start, failures in zip(starts, results, strict=True):
            if failures:
                await self._decide_locked(job_id, with_now(decisions.on_start_failed, start.key, failures))

    async def _start_attempt(self, start: StartAttempt) -> dict[str, StartFailure]:
        """Start the attempt at every party of its task; returns the parties that did not take it."""
        key = start.key
        await self._store.transition_attempt(key, expected=TaskStatus.WAITING, to=TaskStatus.RUNNING)
        self.job_log.line(
            key.job_id,
            f"task {key.task_name} attempt {key.attempt}: starting at parties {', '.join(start.parties)}",
        )
        request = control_pb2.StartTaskRequest(
            job_id=key.job_id, task_name=key.task_name, attempt=key.attempt
        )

        async def call(party_id: str) -> control_pb2.StartTaskResponse:
            return await self._gateway.start_task(party_id, request, deadline_s=self._timeout)

        _, failures = await self._gateway.fan_out(start.parties, call)
        if failures:
            return {f.party_id: self.checks.start_failure(key, f.party_id, f.error) for f in failures}
        # The timeout counts from here: every party has answered that the task runs there (starting
        # it may take seconds on a loaded machine, which is not the task's own time).
        self._timers.arm_deadline(key, now_ms() + int(start.timeout_s * 1000))
        return {}

    async def _end_attempt(self, effect: EndAttempt) -> None:
        key = effect.key
        self._timers.disarm_deadline(key)
        dag = await self._dags.get(key.job_id)
        messages = self._parties.attempt_end_messages(dag, key, effect.status, effect.error)
        ended = await self._store.transition_attempt(
            key, expected=effect.expected, to=effect.status, error=effect.error, outbox=messages
        )
        detail = f": {effect.error}" if effect.error else ""
        self.job_log.line(
            key.job_id, f"task {key.task_name} attempt {key.attempt} ended {effect.status.value}{detail}"
        )
        push = self._parties.push_attempt_end(dag, ended, effect.status, effect.error, messages)
        if effect.status in SUCCESSFUL:
            # Parties learn of a success in the background: starting the tasks that wait for it comes first.
            self._spawn(push)
        else:
            # A failed or stopped attempt is stopped everywhere before anything else happens.
            await push

    async def _cancel_never_started(self, job_id: str, cancels: list[CancelNeverStarted]) -> None:
        dag = await self._dags.get(job_id)
        attempts = [await self._store.get_attempt(c.key) for c in cancels]
        await self._parties.end_never_started(dag, attempts, cancels[0].error)

    async def _end_job(self, job_id: str, effect: EndJob) -> None:
        dag = await self._dags.get(job_id)
        job = await self._store.get_job(job_id)
        final = control_pb2.SyncJobStatusRequest(
            job_id=job_id,
            status=job_status_to_proto(effect.status),
            reason=effect.reason,
            progress=effect.progress,
        )
        # Every party must hear of the end (and give the cores back), however long it is away: the
        # messages are stored with the status change and sent until each party acknowledges them.
        messages = self._parties.job_end_messages(dag, job_id, final)
        await self._store.transition_job(
            job_id,
            expected=job.status,
            to=effect.status,
            reason=effect.reason,
            progress=effect.progress,
            outbox=messages,
        )
        await self.outbox.deliver(messages)
        detail = f": {effect.reason}" if effect.reason else ""
        self.job_log.line(job_id, f"job ended {effect.status.value}{detail}")
        self.job_log.close(job_id)
        self.states.forget(job_id)
        self.reachability.forget(job_id)
        log.info("job %s ended %s%s", job_id, effect.status.value, detail)
        self.queue.kick()

    # -- timers ----------------------------------------------------------------------------------
    def _on_deadline(self, key: AttemptKey) -> None:
        self._spawn(self._deadline_passed(key))

    async def _deadline_passed(self, key: AttemptKey) -> None:
        await self.decide(key.job_id, with_now(decisions.on_deadline, key))

    def cancel_timers(self) -> None:
        self._timers.cancel_all()


def _still_being_created(job_id: str) -> FateGrpcError:
    return FateGrpcError(
        ErrorCode.CONFLICT,
        f"job {job_id} is still being created at its parties",
        hint="stop it once flow job submit has answered with its id",
        fields={"job_id": job_id},
    )
