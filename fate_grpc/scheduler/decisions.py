"""The scheduler's decisions: pure functions of a job's stored state, one event and the time.

Each `on_*` function takes a `JobState` (what the scheduler's store holds of the job), an event and
`now_ms`, and returns an `Outcome`: the job's state after the event and the effects that make it so
(store writes and messages to parties, in order). Nothing here reads a clock, a store or a socket; the
driver (`scheduler.Scheduler`) loads the state, calls one function and carries the effects out.

A task attempt *lost* at a party (that party's node restarted while it ran, or could not be reached to
start it) is not the task's fault: the attempt ends at every party of the task (their protocol state
is gone with the lost side) and a new attempt starts, while the task has had fewer than
`Rules.max_task_attempts` attempts; then the job fails with a reason naming the party.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from fate_grpc.domain.dag import Dag, task_parties
from fate_grpc.domain.status import (
    JOB_END_STATUSES,
    NEVER_STARTED_END_STATUS,
    TASK_END_STATUSES,
    JobStatus,
    Proposal,
    TaskStatus,
    can_transition_task,
    classify_task_proposal,
    federated_task_status,
    job_status_from_tasks,
)
from fate_grpc.scheduler import planning
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
from fate_grpc.scheduler.reachability import Decision, Unreachable, Verdict, give_up_reason
from fate_grpc.store.records import AttemptKey, ScheduleTaskRecord, TaskAttemptRecord, TaskKey


@dataclass(frozen=True)
class Rules:
    """The job's and the node's settings that decisions depend on."""

    auto_retries: int = 0
    """dag.conf.auto_retries: new attempts for a task that failed or timed out on its own."""
    max_task_attempts: int = 3
    """scheduler.max_task_attempts: attempts a task may have when attempts are lost to restarts."""
    retry_backoff_s: float = 1.0


@dataclass(frozen=True)
class JobState:
    """What the scheduler's store holds of one job, plus what the DAG fixes."""

    job_id: str
    status: JobStatus
    progress: int
    dag: Dag
    plan: planning.CorePlan
    timeouts_s: Mapping[str, float]
    """task name -> its timeout."""
    attempts: Mapping[str, TaskAttemptRecord]
    """task name -> its latest attempt."""
    rows: Mapping[TaskKey, ScheduleTaskRecord]
    """Every party's row of every attempt."""
    rules: Rules = field(default_factory=Rules)
    addresses: Mapping[str, str] = field(default_factory=dict)
    """party id -> the address the scheduler reaches it at (for reasons that name a party)."""
    away: frozenset[str] = frozenset()
    """Parties that do not answer the scheduler now (within the tolerance)."""

    def attempt_rows(self, key: AttemptKey) -> list[ScheduleTaskRecord]:
        return [
            row
            for k, row in self.rows.items()
            if (k.job_id, k.task_name, k.attempt) == (key.job_id, key.task_name, key.attempt)
        ]

    def latest(self, key: AttemptKey) -> TaskAttemptRecord | None:
        """The task's latest attempt if it is `key`, else None (an older attempt's event)."""
        attempt = self.attempts.get(key.task_name)
        return attempt if attempt is not None and attempt.key == key else None

    def address_of(self, party_id: str) -> str:
        return self.addresses.get(party_id, "no route")


@dataclass(frozen=True)
class Report:
    """A party's status of a task attempt at one of its roles (its report, or its answer to a check)."""

    key: TaskKey
    status: TaskStatus
    error: str = ""
    start_time_ms: int = 0
    end_time_ms: int = 0
    progress: int = 0
    lost: bool = False
    """The party's node restarted while the attempt ran there: the attempt is gone, not failed."""


@dataclass(frozen=True)
class StartFailure:
    """Why a party did not take an attempt's start."""

    error: str
    unreachable: bool = False
    """The party could not be reached (or did not answer in time): it refused nothing."""
    gone: Unreachable | None = None
    """Set when the party has been away longer than the tolerance (`timeouts.party_unreachable_s`)."""


@dataclass(frozen=True)
class Outcome:
    state: JobState
    effects: tuple[Effect, ...] = ()
    proposal: Proposal = Proposal.DUPLICATE
    """What became of a report (answered to the reporting party)."""


class _Plan:
    """Effects gathered while one event is decided, with the state they lead to."""

    def __init__(self, state: JobState) -> None:
        self.state = state
        self.effects: list[Effect] = []

    def add(self, effect: Effect) -> None:
        self.effects.append(effect)

    def note(self, text: str) -> None:
        self.effects.append(Note(text))

    def set_row(self, row: ScheduleTaskRecord) -> None:
        self.state = dataclasses.replace(self.state, rows={**self.state.rows, row.key: row})

    def set_attempt(self, attempt: TaskAttemptRecord) -> None:
        attempts = {**self.state.attempts, attempt.key.task_name: attempt}
        self.state = dataclasses.replace(self.state, attempts=attempts)

    def done(self, proposal: Proposal = Proposal.DUPLICATE) -> Outcome:
        return Outcome(self.state, tuple(self.effects), proposal)


# -- events ---------------------------------------------------------------------------------------
def on_report(state: JobState, report: Report, now_ms: int) -> Outcome:
    """A party's status (or progress) of a task attempt."""
    plan = _Plan(state)
    proposal = _fold_report(plan, report, now_ms)
    if proposal is Proposal.APPLY:
        _advance(plan, now_ms)
    return plan.done(proposal)


def on_deadline(state: JobState, key: AttemptKey, now_ms: int) -> Outcome:
    """The attempt's timeout fired. Its parties' rows may still be waiting (their "running" reports
    not in yet): the attempt still ends timeout, and each party's row takes what the party says when
    it is stopped."""
    plan = _Plan(state)
    attempt = state.latest(key)
    if attempt is None or attempt.status is not TaskStatus.RUNNING or state.status is not JobStatus.RUNNING:
        return plan.done()
    timeout_s = state.timeouts_s.get(key.task_name, 0.0)
    error = (
        f"task {key.task_name} ran longer than its timeout of {timeout_s:g}s and was stopped at every party"
    )
    _end_attempt(plan, attempt, TaskStatus.TIMEOUT, error, now_ms)
    _advance(plan, now_ms)
    return plan.done()


def on_start_failed(
    state: JobState, key: AttemptKey, failures: Mapping[str, StartFailure], now_ms: int
) -> Outcome:
    """Some parties did not take the attempt's start. A party that refused fails the attempt; one
    that could not be reached loses it (a new attempt follows, backed off, not counted against
    `max_task_attempts`) until it has been away longer than the tolerance, which fails it."""
    plan = _Plan(state)
    attempt = state.latest(key)
    running = state.status is JobStatus.RUNNING
    if attempt is None or attempt.status is not TaskStatus.RUNNING or not failures or not running:
        return plan.done()
    refused = {p: f.error for p, f in failures.items() if not f.unreachable}
    gone = sorted((p, f.gone) for p, f in failures.items() if f.gone is not None)
    if refused:
        error = "; ".join(f"could not start at party {p}: {e}" for p, e in sorted(refused.items()))
        _end_attempt(plan, attempt, TaskStatus.FAILED, error, now_ms)
    elif gone:
        party_id, away = gone[0]
        role = _role_at(state, key, party_id)
        _end_attempt(
            plan, attempt, TaskStatus.FAILED, give_up_reason(away, role, now_ms), now_ms, may_retry=False
        )
    else:
        party_id, failure = sorted(failures.items())[0]
        why = f"could not be reached to start the task: {failure.error}"
        _lose_attempt(plan, attempt, party_id, why, now_ms, backoff=True, counted=False)
    _advance(plan, now_ms)
    return plan.done()


def on_unanswered(state: JobState, key: TaskKey, decision: Decision, now_ms: int) -> Outcome:
    """A status check of a party failed; `decision` is the reachability verdict for it. The job fails
    only once the party has been away longer than the tolerance."""
    if decision.verdict is not Verdict.GIVE_UP or decision.state is None:
        return Outcome(state)
    error = give_up_reason(decision.state, key.role, now_ms)
    # Given up: the party's silence is no longer a reason to hold its partners' failures.
    plan = _Plan(dataclasses.replace(state, away=state.away - {key.party_id}))
    attempt = plan.state.latest(_attempt_key(key))
    if attempt is not None and attempt.status not in TASK_END_STATUSES and state.status is JobStatus.RUNNING:
        # The attempt ends for this reason, whatever its partners said while they waited.
        _end_attempt(plan, attempt, TaskStatus.FAILED, error, now_ms)
    proposal = _fold_report(plan, Report(key, TaskStatus.FAILED, error), now_ms)
    _advance(plan, now_ms)
    return plan.done(proposal)


def on_party_back(state: JobState, party_id: str, now_ms: int) -> Outcome:
    """A party that did not answer answers again. Running attempts of it whose partners failed
    meanwhile (held while it was away, see `_reconcile`) are lost at it: a new attempt follows."""
    plan = _Plan(dataclasses.replace(state, away=state.away - {party_id}))
    if state.status is not JobStatus.RUNNING:
        return plan.done()
    for attempt in list(state.attempts.values()):
        rows = state.attempt_rows(attempt.key)
        at_party = [r for r in rows if r.key.party_id == party_id and r.status not in TASK_END_STATUSES]
        if (
            attempt.status is TaskStatus.RUNNING
            and at_party
            and any(r.status is TaskStatus.FAILED for r in rows)
        ):
            why = "a partner of the task failed while the party could not be reached"
            _lose_attempt(plan, attempt, party_id, why, now_ms)
    _advance(plan, now_ms)
    return plan.done()


def on_resume_check(state: JobState, party_id: str, reports: Sequence[Report], now_ms: int) -> Outcome:
    """A restarted scheduler asked a party about a running attempt. What still runs there continues;
    what ended is folded in; what the party lost, or never started (the scheduler went down while
    starting it), gets a new attempt at every party of the task."""
    plan = _Plan(state)
    changed = False
    if state.status is not JobStatus.RUNNING:
        return plan.done()
    for report in reports:
        attempt = plan.state.latest(_attempt_key(report.key))
        never_started = (
            attempt is not None
            and attempt.status is TaskStatus.RUNNING
            and report.status is TaskStatus.WAITING
            and not report.lost
        )
        if never_started and attempt is not None:
            why = "the task never started there (the scheduler restarted while starting it)"
            changed |= _lose_attempt(plan, attempt, party_id, why, now_ms)
        else:
            changed |= _fold_report(plan, report, now_ms) is Proposal.APPLY
    if changed:
        _advance(plan, now_ms)
    return plan.done()


def on_resume(state: JobState, now_ms: int) -> Outcome:
    """The scheduler restarted: re-arm the deadline of every running attempt (counted from its
    start), and start what became ready."""
    plan = _Plan(state)
    if state.status is not JobStatus.RUNNING:
        return plan.done()
    for attempt in state.attempts.values():
        if attempt.status is TaskStatus.RUNNING:
            timeout_ms = int(state.timeouts_s.get(attempt.key.task_name, 0.0) * 1000)
            plan.add(ArmDeadline(attempt.key, (attempt.start_time_ms or now_ms) + timeout_ms))
    _advance(plan, now_ms)
    return plan.done()


def on_tick(state: JobState, now_ms: int) -> Outcome:
    """Advance the job: start what is ready, end the job when every task ended."""
    plan = _Plan(state)
    _advance(plan, now_ms)
    return plan.done()


def on_stop(state: JobState, reason: str, now_ms: int) -> Outcome:
    """A user stops the job: running attempts are stopped, never-started ones end canceled."""
    plan = _Plan(state)
    if state.status in JOB_END_STATUSES:
        return plan.done(Proposal.STALE)
    _finish(plan, JobStatus.CANCELED, reason, now_ms)
    return plan.done(Proposal.APPLY)


# -- the steps events share -----------------------------------------------------------------------
def _fold_report(plan: _Plan, report: Report, now_ms: int) -> Proposal:
    row = plan.state.rows.get(report.key)
    if row is None:
        return Proposal.REJECT
    if report.progress > row.progress:
        plan.add(SetRowProgress(report.key, min(report.progress, 100)))
        plan.set_row(dataclasses.replace(row, progress=min(report.progress, 100)))
    proposal = classify_task_proposal(row.status, report.status)
    if proposal is Proposal.REJECT and implies_running(row.status, report.status):
        proposal = Proposal.APPLY
    if proposal is not Proposal.APPLY:
        return proposal
    plan.add(MoveRow(row, report.status, report.error, report.start_time_ms, report.end_time_ms))
    plan.set_row(dataclasses.replace(row, status=report.status, error=report.error or row.error))
    key = report.key
    detail = f" ({report.error})" if report.error else ""
    what = f"task {key.task_name} attempt {key.attempt}: {key.role} {key.party_id}"
    plan.note(f"{what} is {report.status.value}{detail}")
    attempt = plan.state.latest(_attempt_key(key))
    if plan.state.status is not JobStatus.RUNNING:
        attempt = None  # a job that is not running takes the party's row, nothing more
    # A task that failed while its party could not be reached failed for the partition, most likely (it
    # could not send to its partners either): the attempt is lost there, within the bound.
    cut_off = report.status is TaskStatus.FAILED and key.party_id in plan.state.away
    if attempt is not None and (report.lost or cut_off) and attempt.status not in TASK_END_STATUSES:
        why = report.error or "its node restarted"
        _lose_attempt(plan, attempt, key.party_id, why if report.lost else f"{why} (while cut off)", now_ms)
    elif attempt is not None:
        _reconcile(plan, attempt, now_ms)
    return proposal


def _reconcile(plan: _Plan, attempt: TaskAttemptRecord, now_ms: int) -> None:
    """Derive the attempt's federated status from its parties' rows."""
    rows = plan.state.attempt_rows(attempt.key)
    if not rows:
        return
    federated = federated_task_status(r.status for r in rows)
    if federated is attempt.status or not can_transition_task(attempt.status, federated):
        return
    away = sorted(
        {
            r.key.party_id
            for r in rows
            if r.key.party_id in plan.state.away and r.status not in TASK_END_STATUSES
        }
    )
    if federated is TaskStatus.FAILED and away:
        # A party of the task cannot be reached: its partners fail when they cannot send to it. Whether
        # it restarted (the attempt is lost, a new one follows) or stays away (the job fails after
        # the tolerance) is known only when it answers again, or does not.
        what = f"task {attempt.key.task_name} attempt {attempt.key.attempt}"
        plan.note(f"{what} failed at a partner while party {', '.join(away)} does not answer; waiting for it")
        return
    if federated in TASK_END_STATUSES:
        _end_attempt(plan, attempt, federated, planning.attempt_error(rows, federated), now_ms)
    else:
        plan.add(MoveAttempt(attempt.key, attempt.status, federated))
        plan.set_attempt(dataclasses.replace(attempt, status=federated))


def _end_attempt(
    plan: _Plan,
    attempt: TaskAttemptRecord,
    status: TaskStatus,
    error: str,
    now_ms: int,
    *,
    may_retry: bool = True,
) -> None:
    """End the attempt at every party of the task; an automatic retry follows where the DAG asks."""
    plan.add(EndAttempt(attempt.key, attempt.status, status, error))
    plan.set_attempt(dataclasses.replace(attempt, status=status, error=error, end_time_ms=now_ms))
    key = attempt.key
    if may_retry and planning.should_retry(attempt, status, plan.state.rules.auto_retries):
        delay_ms = int(planning.retry_delay_s(key.attempt, plan.state.rules.retry_backoff_s) * 1000)
        _new_attempt(plan, attempt, now_ms + delay_ms)
        plan.note(f"task {key.task_name}: attempt {key.attempt + 1} in {delay_ms / 1000:g}s")


def _lose_attempt(
    plan: _Plan,
    attempt: TaskAttemptRecord,
    party_id: str,
    why: str,
    now_ms: int,
    *,
    backoff: bool = False,
    counted: bool = True,
) -> bool:
    """The attempt is gone at `party_id`: end it everywhere and start a new one, within the bound
    (unless not `counted`: a party that is only away is bounded by time, not attempts)."""
    key = attempt.key
    if attempt.status in TASK_END_STATUSES:
        return False
    role = _role_at(plan.state, key, party_id)
    where = f"{role} {party_id} at {plan.state.address_of(party_id)}"
    limit = plan.state.rules.max_task_attempts
    if counted and key.attempt + 1 >= limit:
        error = (
            f"task {key.task_name} was lost at {where} in its attempt {key.attempt + 1}, the last"
            f" scheduler.max_task_attempts = {limit} allows: {why}"
        )
        _end_attempt(plan, attempt, TaskStatus.FAILED, error, now_ms, may_retry=False)
        return True
    error = f"attempt lost at {where}: {why}; a new attempt starts at every party of the task"
    _end_attempt(plan, attempt, TaskStatus.FAILED, error, now_ms, may_retry=False)
    delay_ms = (
        int(planning.retry_delay_s(key.attempt, plan.state.rules.retry_backoff_s) * 1000) if backoff else 0
    )
    _new_attempt(plan, attempt, now_ms + delay_ms)
    plan.note(
        f"task {key.task_name}: attempt {key.attempt} lost at {where}; attempt {key.attempt + 1} follows"
    )
    return True


def _new_attempt(plan: _Plan, previous: TaskAttemptRecord, not_before_ms: int) -> None:
    old = previous.key
    key = AttemptKey(old.job_id, old.task_name, old.attempt + 1)
    plan.add(NewAttempt(previous, not_before_ms))
    plan.set_attempt(TaskAttemptRecord(key=key, component=previous.component, not_before_ms=not_before_ms))
    for party in task_parties(plan.state.dag, key.task_name):
        row_key = TaskKey(key.job_id, key.task_name, key.attempt, party.role, party.party_id)
        plan.set_row(ScheduleTaskRecord(key=row_key))


def _advance(plan: _Plan, now_ms: int) -> None:
    """Start the tasks that are ready; end the job once every task ended."""
    state = plan.state
    if state.status is not JobStatus.RUNNING or not state.attempts:
        return
    ready, next_due = planning.ready_tasks(state.dag, state.attempts, state.plan, now_ms)
    if next_due:
        plan.add(WakeAt(next_due))
    for name in ready:
        attempt = state.attempts[name]
        parties = tuple(dict.fromkeys(p.party_id for p in task_parties(state.dag, name)))
        plan.add(StartAttempt(attempt.key, parties, state.timeouts_s.get(name, 0.0)))
        plan.set_attempt(dataclasses.replace(attempt, status=TaskStatus.RUNNING, start_time_ms=now_ms))
    statuses = [a.status for a in plan.state.attempts.values()]
    job_status = job_status_from_tasks(statuses)
    if job_status in JOB_END_STATUSES:
        _finish(plan, job_status, planning.job_reason(job_status, plan.state.attempts), now_ms)
        return
    progress = planning.progress(statuses)
    if progress != plan.state.progress:
        plan.add(SyncJobProgress(progress))
        plan.state = dataclasses.replace(plan.state, progress=progress)


def _finish(plan: _Plan, status: JobStatus, reason: str, now_ms: int) -> None:
    for attempt in list(plan.state.attempts.values()):
        if attempt.status is TaskStatus.RUNNING:
            _end_attempt(plan, attempt, TaskStatus.CANCELED, reason, now_ms, may_retry=False)
    # As in FATE, the job's progress counts the tasks that ended, not those that never started.
    progress = planning.progress(a.status for a in plan.state.attempts.values())
    error = f"the job ended {status.value} before the task started"
    for attempt in list(plan.state.attempts.values()):
        if attempt.status is TaskStatus.WAITING:
            plan.add(CancelNeverStarted(attempt.key, error))
            plan.set_attempt(dataclasses.replace(attempt, status=NEVER_STARTED_END_STATUS, error=error))
            for row in plan.state.attempt_rows(attempt.key):
                if row.status is TaskStatus.WAITING:
                    plan.set_row(dataclasses.replace(row, status=NEVER_STARTED_END_STATUS, error=error))
    plan.add(EndJob(status, reason, progress))
    plan.state = dataclasses.replace(plan.state, status=status, progress=progress)


def implies_running(current: TaskStatus, reported: TaskStatus) -> bool:
    """Whether a party's status can only follow "running" while this row still waits.

    A party's "running" report and its end report may arrive out of order (or the first be merged
    into the second); a timeout can only end a task that ran, so the row goes through running.
    """
    return (
        current is TaskStatus.WAITING
        and not can_transition_task(current, reported)
        and can_transition_task(TaskStatus.RUNNING, reported)
    )


def _attempt_key(key: TaskKey) -> AttemptKey:
    return AttemptKey(key.job_id, key.task_name, key.attempt)


def _role_at(state: JobState, key: AttemptKey, party_id: str) -> str:
    roles = sorted({row.key.role for row in state.attempt_rows(key) if row.key.party_id == party_id})
    return "/".join(roles) or "party"
