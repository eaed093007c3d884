"""The scheduler party's reactions: start ready tasks, fold party reports into federated status, retry,
time out, end jobs.

Event-driven: a job is advanced when it starts and whenever a party reports a status change; timers
fire timeouts and backed-off retries. A slow sweep asks parties about running tasks that have been
silent (lost reports) and retries waiting jobs whose cores are elsewhere - not the happy path.
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
from fate_grpc.domain.dag import Dag, task_parties
from fate_grpc.domain.status import (
    JOB_END_STATUSES,
    TASK_END_STATUSES,
    JobStatus,
    Proposal,
    TaskStatus,
    can_transition_task,
    classify_task_proposal,
    federated_task_status,
    job_status_from_tasks,
)
from fate_grpc.errors import ErrorCode, FateGrpcError, invalid_transition
from fate_grpc.parties.dag_cache import DagCache
from fate_grpc.parties.gateway import PartyGateway
from fate_grpc.scheduler import planning
from fate_grpc.scheduler.events import JobEvents
from fate_grpc.scheduler.job_log import JobLog
from fate_grpc.scheduler.outbox import RETRYABLE_CODES, OutboxSender, to_each
from fate_grpc.scheduler.party_sync import PartySync, implies_running, move_schedule_row
from fate_grpc.scheduler.planning import SUCCESSFUL, CorePlan, latest_attempts
from fate_grpc.scheduler.queue import JobQueue
from fate_grpc.scheduler.reachability import PartyReachability, Unreachable, Verdict, give_up_reason
from fate_grpc.store.interface import Store
from fate_grpc.store.records import (
    AttemptKey,
    JobRecord,
    ScheduleTaskRecord,
    TaskAttemptRecord,
    TaskKey,
)
from fate_grpc.wire.convert import job_status_to_proto, task_status_from_proto, task_status_to_proto

log = logging.getLogger("fate_grpc.scheduler")

Spawn = Callable[[Coroutine[Any, Any, None]], None]
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
        job_log: JobLog,
        events: JobEvents,
        outbox: OutboxSender,
    ) -> None:
        self._party_id = party_id
        self.outbox = outbox
        self._store = store
        self._gateway = gateway
        self._dags = dags
        self._catalog = catalog
        self._spawn = spawn
        self._timeout = rpc_timeout_s
        self._collect_after_ms = int(collect_after_s * 1000)
        self._retry_backoff_s = retry_backoff_s
        self._default_task_timeout_s = default_task_timeout_s
        self.job_log = job_log
        self.events = events
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._last_collect: dict[TaskKey, int] = {}
        self.reachability = PartyReachability(party_unreachable_s)
        self._plans: dict[str, CorePlan] = {}
        self._timers: dict[tuple[str, str, int, str], asyncio.TimerHandle] = {}
        self._parties = PartySync(
            store=store, gateway=gateway, dags=dags, rpc_timeout_s=rpc_timeout_s, outbox=outbox
        )
        self.queue = JobQueue(
            store=store,
            gateway=gateway,
            dags=dags,
            spawn=spawn,
            rpc_timeout_s=rpc_timeout_s,
            start_job=self._start_job,
            cores_needed=self._cores_needed,
            job_log=job_log,
            events=events,
            outbox=outbox,
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
        async with self._locks[job_id]:
            await self._advance(job_id)
        self.events.notify(job_id)

    async def _start_job(self, job_id: str) -> None:
        """Its cores are held at every party: run it."""
        async with self._locks[job_id]:
            job = await self._store.get_job(job_id)
            if job.status is not JobStatus.WAITING:
                return
            job = await self._store.transition_job(job_id, expected=JobStatus.WAITING, to=JobStatus.RUNNING)
            self.job_log.line(job_id, "cores held at every party; running")
            await self._parties.push_job_status(job)
            await self._advance(job_id)
        self.events.notify(job_id)

    async def on_report(
        self,
        request: control_pb2.ReportTaskStatusRequest,
        status: TaskStatus,
        *,
        heard_from_party: bool = True,
    ) -> Proposal:
        """A party's local status (or progress) of a task attempt changed.

        `heard_from_party` is false only for the scheduler's own verdict on a party it cannot reach."""
        key = TaskKey(request.job_id, request.task_name, request.attempt, request.role, request.party_id)
        if heard_from_party:  # a party that reports is no longer shown unreachable
            self.reachability.record(key.job_id, key.party_id, None, now_ms())
        async with self._locks[key.job_id]:
            job = await self._store.get_job(key.job_id)
            if not job.is_scheduler:
                raise FateGrpcError(
                    ErrorCode.NOT_SCHEDULER, f"party {self._party_id} does not schedule job {key.job_id}"
                )
            proposal = await self._apply_report(key, status, request)
            if proposal is Proposal.APPLY:
                self.job_log.line(
                    key.job_id,
                    f"task {key.task_name} attempt {key.attempt}: {key.role} {key.party_id} is {status.value}"
                    + (f" ({request.error})" if request.error else ""),
                )
                await self._reconcile_attempt(job, key.task_name, key.attempt)
                await self._advance(key.job_id)
        self.events.notify(key.job_id)
        return proposal

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
            await self._finish(job, JobStatus.CANCELED, f"stopped by a user at party {requester_party_id}")
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
            await self._new_attempts(dag, [latest[n] for n in names], not_before_ms=0)
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
            request = control_pb2.CleanJobRequest(job_id=job_id)

            async def clean(party_id: str) -> control_pb2.CleanJobResponse:
                return await self._gateway.clean_job(party_id, request, deadline_s=self._timeout)

            answers, failures = await self._gateway.fan_out(dag.party_ids(), clean)
            if failures:
                # The parties away now clean it when they are back (the outbox re-sends the request).
                missed = [f.party_id for f in failures if f.error.code in RETRYABLE_CODES]
                await self._store.add_outbox_messages(to_each(missed, job_id, "CleanJob", request))
                self.outbox.wake()
        self._locks.pop(job_id, None)
        if failures:
            cleaned = ", ".join(sorted(answers)) or "none"
            problems = "; ".join(f.error.message for f in failures)
            raise FateGrpcError(
                failures[0].error.code,
                f"job {job_id} was cleaned at parties {cleaned} but not everywhere: {problems}",
                hint="the parties that could not be reached clean it when they are back;"
                " or run flow job clean again then",
                fields={"party_id": failures[0].party_id},
            )
        return sorted(answers)

    async def _cores_needed(self, job_id: str) -> dict[str, int]:
        dag = await self._dags.get(job_id)
        return dict(self._plan(job_id, dag).job)

    # -- the core loop body ----------------------------------------------------------------------
    def _plan(self, job_id: str, dag: Dag) -> CorePlan:
        plan = self._plans.get(job_id)
        if plan is None:
            plan = self._plans[job_id] = CorePlan.of(dag, self._catalog)
        return plan

    async def _advance(self, job_id: str) -> None:
        job = await self._store.get_job(job_id)
        if job.status is not JobStatus.RUNNING:
            return
        dag = await self._dags.get(job_id)
        latest = latest_attempts(await self._store.list_attempts(job_id))
        if not latest:
            return  # still being created
        ready, next_due = planning.ready_tasks(dag, latest, self._plan(job_id, dag), now_ms())
        if next_due:
            self._wake_at(job_id, next_due)
        if ready:
            await asyncio.gather(*(self._start_attempt(job, dag, latest[name]) for name in ready))
            latest = latest_attempts(await self._store.list_attempts(job_id))
        statuses = [a.status for a in latest.values()]
        job_status = job_status_from_tasks(statuses)
        progress = planning.progress(statuses)
        if job_status in JOB_END_STATUSES:
            await self._finish(job, job_status, planning.job_reason(job_status, latest))
        elif progress != job.progress:
            await self._store.set_job_progress(job_id, progress)
            await self._parties.push_job_status(await self._store.get_job(job_id))

    async def _start_attempt(self, job: JobRecord, dag: Dag, attempt: TaskAttemptRecord) -> None:
        key = attempt.key
        running = await self._store.transition_attempt(
            key, expected=TaskStatus.WAITING, to=TaskStatus.RUNNING
        )
        request = control_pb2.StartTaskRequest(
            job_id=key.job_id, task_name=key.task_name, attempt=key.attempt
        )
        party_ids = [p.party_id for p in task_parties(dag, key.task_name)]
        timeout_s = planning.task_timeout_s(dag, key.task_name, self._catalog, self._default_task_timeout_s)
        self.job_log.line(
            key.job_id,
            f"task {key.task_name} attempt {key.attempt}: starting at parties {', '.join(party_ids)}",
        )

        async def start(party_id: str) -> control_pb2.StartTaskResponse:
            return await self._gateway.start_task(party_id, request, deadline_s=self._timeout)

        _, failures = await self._gateway.fan_out(party_ids, start)
        if failures:
            error = "; ".join(f"could not start at party {f.party_id}: {f.error.message}" for f in failures)
            await self._end_attempt(job, dag, running, TaskStatus.FAILED, error)
            return
        # The timeout counts from here: every party has answered that the task runs there (starting
        # it may take seconds on a loaded machine, which is not the task's own time).
        self._arm_timeout(key, timeout_s)

    async def _apply_report(
        self, key: TaskKey, status: TaskStatus, request: control_pb2.ReportTaskStatusRequest
    ) -> Proposal:
        rows = await self._store.list_schedule_tasks(key.job_id, task_name=key.task_name, attempt=key.attempt)
        row = next((r for r in rows if r.key == key), None)
        if row is None:
            return Proposal.REJECT
        if request.progress > row.progress:
            await self._store.set_schedule_progress(key, min(request.progress, 100))
        proposal = classify_task_proposal(row.status, status)
        if proposal is Proposal.REJECT and implies_running(row.status, status):
            proposal = Proposal.APPLY
        if proposal is Proposal.APPLY:
            try:
                await move_schedule_row(
                    self._store,
                    row,
                    status,
                    error=request.error,
                    start_time_ms=request.start_time_ms,
                    end_time_ms=request.end_time_ms,
                )
            except FateGrpcError as exc:
                if exc.code is not ErrorCode.CONFLICT:
                    raise
                return Proposal.STALE
        self._last_collect.pop(key, None)
        return proposal

    async def _reconcile_attempt(self, job: JobRecord, task_name: str, attempt_no: int) -> None:
        """Derive the attempt's federated status from the parties' rows; push it if it changed."""
        rows = await self._store.list_schedule_tasks(job.job_id, task_name=task_name, attempt=attempt_no)
        attempt = await self._store.get_attempt(AttemptKey(job.job_id, task_name, attempt_no))
        federated = federated_task_status(r.status for r in rows)
        if federated is attempt.status or not can_transition_task(attempt.status, federated):
            return
        dag = await self._dags.get(job.job_id)
        if federated in TASK_END_STATUSES:
            await self._end_attempt(job, dag, attempt, federated, planning.attempt_error(rows, federated))
        else:
            await self._store.transition_attempt(attempt.key, expected=attempt.status, to=federated)

    async def _end_attempt(
        self,
        job: JobRecord,
        dag: Dag,
        attempt: TaskAttemptRecord,
        status: TaskStatus,
        error: str,
        *,
        may_retry: bool = True,
    ) -> None:
        key = attempt.key
        self._disarm_timeout(key)
        messages = self._parties.attempt_end_messages(dag, key, status, error)
        ended = await self._store.transition_attempt(
            key, expected=attempt.status, to=status, error=error, outbox=messages
        )
        self.job_log.line(
            key.job_id,
            f"task {key.task_name} attempt {key.attempt} ended {status.value}"
            + (f": {error}" if error else ""),
        )
        if status in SUCCESSFUL:
            # Parties learn of a success in the background: starting the tasks that wait for it comes first.
            self._spawn(self._parties.push_attempt_end(dag, ended, status, error, messages))
        else:
            # A failed or stopped attempt is stopped everywhere before anything else happens.
            await self._parties.push_attempt_end(dag, ended, status, error, messages)
        if may_retry and planning.should_retry(ended, status, dag.conf.auto_retries):
            delay = planning.retry_delay_s(key.attempt, self._retry_backoff_s)
            await self._new_attempts(dag, [ended], not_before_ms=now_ms() + int(delay * 1000))
            self.job_log.line(key.job_id, f"task {key.task_name}: attempt {key.attempt + 1} in {delay:g}s")
            self._wake_at(key.job_id, now_ms() + int(delay * 1000))

    async def _new_attempts(self, dag: Dag, previous: list[TaskAttemptRecord], *, not_before_ms: int) -> None:
        attempts, schedule = [], []
        for old in previous:
            key = AttemptKey(old.key.job_id, old.key.task_name, old.key.attempt + 1)
            attempts.append(TaskAttemptRecord(key=key, component=old.component, not_before_ms=not_before_ms))
            for party in task_parties(dag, key.task_name):
                schedule.append(
                    ScheduleTaskRecord(
                        key=TaskKey(key.job_id, key.task_name, key.attempt, party.role, party.party_id)
                    )
                )
        if attempts:
            await self._store.add_attempts(attempts, schedule)

    async def _finish(self, job: JobRecord, status: JobStatus, reason: str) -> None:
        dag = await self._dags.get(job.job_id)
        latest = latest_attempts(await self._store.list_attempts(job.job_id))
        for attempt in latest.values():
            if attempt.status is TaskStatus.RUNNING:
                await self._end_attempt(job, dag, attempt, TaskStatus.CANCELED, reason, may_retry=False)
        latest = latest_attempts(await self._store.list_attempts(job.job_id))
        # As in FATE, the job's progress counts the tasks that ended, not those that never started.
        progress = planning.progress(a.status for a in latest.values())
        never_started = [a for a in latest.values() if a.status is TaskStatus.WAITING]
        await self._parties.end_never_started(
            dag, never_started, f"the job ended {status.value} before the task started"
        )
        final = control_pb2.SyncJobStatusRequest(
            job_id=job.job_id, status=job_status_to_proto(status), reason=reason, progress=progress
        )
        # Every party must hear of the end (and give the cores back), however long it is away: the
        # messages are stored with the status change and sent until each party acknowledges them.
        messages = self._parties.job_end_messages(dag, job.job_id, final)
        job = await self._store.transition_job(
            job.job_id, expected=job.status, to=status, reason=reason, progress=progress, outbox=messages
        )
        await self.outbox.deliver(messages)
        self.job_log.line(job.job_id, f"job ended {status.value}" + (f": {reason}" if reason else ""))
        self.job_log.close(job.job_id)
        self._plans.pop(job.job_id, None)
        self.reachability.forget(job.job_id)
        log.info("job %s ended %s%s", job.job_id, status.value, f": {reason}" if reason else "")
        self.queue.kick()

    # -- timers ----------------------------------------------------------------------------------
    def _arm_timeout(self, key: AttemptKey, timeout_s: float) -> None:
        loop = asyncio.get_running_loop()
        handle = loop.call_later(timeout_s, lambda: self._spawn(self._on_timeout(key, timeout_s)))
        self._timers[(key.job_id, key.task_name, key.attempt, "timeout")] = handle

    def _disarm_timeout(self, key: AttemptKey) -> None:
        handle = self._timers.pop((key.job_id, key.task_name, key.attempt, "timeout"), None)
        if handle is not None:
            handle.cancel()

    def _wake_at(self, job_id: str, when_ms: int) -> None:
        """Advance the job again at `when_ms` (a backed-off retry becomes due)."""
        delay = max(0.0, (when_ms - now_ms()) / 1000)
        asyncio.get_running_loop().call_later(delay, lambda: self.kick(job_id))

    async def _on_timeout(self, key: AttemptKey, timeout_s: float) -> None:
        async with self._locks[key.job_id]:
            self._timers.pop((key.job_id, key.task_name, key.attempt, "timeout"), None)
            attempt = await self._store.get_attempt(key)
            job = await self._store.get_job(key.job_id)
            if attempt.status is not TaskStatus.RUNNING or job.status is not JobStatus.RUNNING:
                return
            dag = await self._dags.get(key.job_id)
            error = (
                f"task {key.task_name} ran longer than its timeout of {timeout_s:g}s"
                " and was stopped at every party"
            )
            await self._end_attempt(job, dag, attempt, TaskStatus.TIMEOUT, error)
            await self._advance(key.job_id)
        self.events.notify(key.job_id)

    def cancel_timers(self) -> None:
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()

    # -- recovery paths --------------------------------------------------------------------------
    async def sweep(self) -> None:
        """Ask parties about running tasks that have not reported for a while (lost reports), and look
        at waiting jobs again (cores freed by jobs other schedulers run). Parties that missed a
        job's or task's end are sent it again now (the outbox's backoff aside)."""
        self.outbox.wake(ignore_backoff=True)
        self.queue.kick()
        now = now_ms()
        for job in await self._store.list_jobs(statuses=[JobStatus.RUNNING], scheduler_only=True):
            latest = latest_attempts(await self._store.list_attempts(job.job_id))
            for attempt in (a for a in latest.values() if a.status is TaskStatus.RUNNING):
                rows = await self._store.list_schedule_tasks(
                    job.job_id, task_name=attempt.key.task_name, attempt=attempt.key.attempt
                )
                if rows and all(r.status in TASK_END_STATUSES for r in rows):
                    # Every party has ended but the attempt has not: fold the reports in again.
                    async with self._locks[job.job_id]:
                        await self._reconcile_attempt(job, attempt.key.task_name, attempt.key.attempt)
                        await self._advance(job.job_id)
                    self.events.notify(job.job_id)
                    continue
                for row in rows:
                    if row.status in TASK_END_STATUSES:
                        continue
                    last = max(row.update_time_ms, self._last_collect.get(row.key, 0))
                    if now - last >= self._collect_after_ms:
                        self._last_collect[row.key] = now
                        await self._collect(row)

    async def _collect(self, row: ScheduleTaskRecord) -> None:
        key = row.key
        request = control_pb2.CollectTaskStatusRequest(
            job_id=key.job_id, task_name=key.task_name, attempt=key.attempt
        )
        try:
            answer = await self._gateway.collect_task_status(key.party_id, request, deadline_s=self._timeout)
        except FateGrpcError as exc:
            await self._party_unanswered(key, exc)
            return
        await self._party_answered(key)
        for view in answer.tasks:
            if view.role == key.role:
                status = task_status_from_proto(view.status)
                report = _report(key, status, view.error, view.start_time_ms, view.end_time_ms, view.progress)
                await self.on_report(report, status)

    async def _party_unanswered(self, key: TaskKey, exc: FateGrpcError) -> None:
        """A status check of the party failed: wait for it up to the tolerance, then fail the task."""
        now = now_ms()
        failure = Unreachable(key.party_id, self._address_of(key.party_id), now, exc.message)
        was_away = key.party_id in self.reachability.away(key.job_id)
        decision = self.reachability.record(key.job_id, key.party_id, failure, now)
        if decision.verdict is Verdict.GIVE_UP and decision.state is not None:
            error = give_up_reason(decision.state, key.role, now)
            await self.on_report(
                _report(key, TaskStatus.FAILED, error), TaskStatus.FAILED, heard_from_party=False
            )
            return
        if not was_away:
            self.job_log.line(
                key.job_id, f"party {key.party_id} at {failure.address} does not answer: {exc.message}"
            )
        self.events.notify(key.job_id)

    async def _party_answered(self, key: TaskKey) -> None:
        was_away = key.party_id in self.reachability.away(key.job_id)
        self.reachability.record(key.job_id, key.party_id, None, now_ms())
        if was_away:
            self.job_log.line(key.job_id, f"party {key.party_id} answers again")
            self.events.notify(key.job_id)

    def _address_of(self, party_id: str) -> str:
        try:
            return self._gateway.address_of(party_id)
        except FateGrpcError:
            return "no route"

    async def unfinished_jobs(self) -> list[str]:
        """Jobs scheduled here that have not ended (read at start, before the node serves)."""
        jobs = await self._store.list_jobs(
            statuses=[JobStatus.WAITING, JobStatus.RUNNING], scheduler_only=True, limit=1_000_000
        )
        return [job.job_id for job in jobs]

    async def fail_after_restart(self, job_ids: list[str]) -> None:
        """Jobs this node was scheduling when it went down cannot be continued: fail them everywhere."""
        for job_id in job_ids:
            async with self._locks[job_id]:
                current = await self._store.get_job(job_id)
                if current.status in JOB_END_STATUSES:
                    continue
                reason = f"the scheduler node (party {self._party_id}) restarted while the job ran; rerun it"
                await self._finish(current, JobStatus.FAILED, reason)


def _still_being_created(job_id: str) -> FateGrpcError:
    return FateGrpcError(
        ErrorCode.CONFLICT,
        f"job {job_id} is still being created at its parties",
        hint="stop it once flow job submit has answered with its id",
        fields={"job_id": job_id},
    )


def _report(
    key: TaskKey, status: TaskStatus, error: str, start_ms: int = 0, end_ms: int = 0, progress: int = 0
) -> control_pb2.ReportTaskStatusRequest:
    return control_pb2.ReportTaskStatusRequest(
        job_id=key.job_id,
        task_name=key.task_name,
        attempt=key.attempt,
        role=key.role,
        party_id=key.party_id,
        status=task_status_to_proto(status),
        error=error,
        start_time_ms=start_ms,
        end_time_ms=end_ms,
        progress=progress,
    )
