"""The scheduler's pure decision core: every event in every state of a two-task job (reader_0 -> psi_0
between guest 9999 and host 10000), and the races the issue tracker saw."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable
from pathlib import Path

import pytest

from fate_grpc.components.catalog import builtin_catalog
from fate_grpc.domain.dag import parse_dag
from fate_grpc.domain.status import (
    JOB_END_STATUSES,
    TASK_END_STATUSES,
    JobStatus,
    Proposal,
    TaskStatus,
    can_transition_task,
)
from fate_grpc.scheduler import decisions
from fate_grpc.scheduler.decisions import JobState, Outcome, Report, Rules, StartFailure
from fate_grpc.scheduler.effects import (
    ArmDeadline,
    CancelNeverStarted,
    EndAttempt,
    EndJob,
    MoveAttempt,
    MoveRow,
    NewAttempt,
    StartAttempt,
    WakeAt,
)
from fate_grpc.scheduler.planning import CorePlan
from fate_grpc.scheduler.reachability import Decision, Unreachable, Verdict
from fate_grpc.store.records import AttemptKey, ScheduleTaskRecord, TaskAttemptRecord, TaskKey

T = TaskStatus
CATALOG = builtin_catalog()
DAG = parse_dag((Path(__file__).resolve().parents[2] / "examples" / "dags" / "psi.yaml").read_text(), CATALOG)
PLAN = CorePlan.of(DAG, CATALOG)
GUEST, HOST = ("guest", "9999"), ("host", "10000")
NOW = 1_000_000
JOB = "job1"


def key(task: str, attempt: int = 0) -> AttemptKey:
    return AttemptKey(JOB, task, attempt)


def row_key(task: str, party: tuple[str, str], attempt: int = 0) -> TaskKey:
    return TaskKey(JOB, task, attempt, *party)


def state(
    job: JobStatus = JobStatus.RUNNING,
    reader: tuple[TaskStatus, TaskStatus, TaskStatus] = (T.RUNNING, T.RUNNING, T.RUNNING),
    psi: tuple[TaskStatus, TaskStatus, TaskStatus] = (T.WAITING, T.WAITING, T.WAITING),
    *,
    attempt: int = 0,
    rules: Rules | None = None,
    timeout_s: float = 2.0,
) -> JobState:
    """The job with each task's latest attempt (federated, guest row, host row); reader_0 is at
    `attempt`, psi_0 at attempt 0."""
    attempts, rows = {}, {}
    for task, (federated, guest, host), number in (("reader_0", reader, attempt), ("psi_0", psi, 0)):
        started = NOW - 1000 if federated is not T.WAITING else 0
        attempts[task] = TaskAttemptRecord(key(task, number), task[:-2], federated, start_time_ms=started)
        for party, status in ((GUEST, guest), (HOST, host)):
            rows[row_key(task, party, number)] = ScheduleTaskRecord(row_key(task, party, number), status)
    return JobState(
        job_id=JOB,
        status=job,
        progress=0,
        dag=DAG,
        plan=PLAN,
        timeouts_s={"reader_0": timeout_s, "psi_0": timeout_s},
        attempts=attempts,
        rows=rows,
        rules=rules or Rules(),
        addresses={"9999": "127.0.0.1:9360", "10000": "127.0.0.1:9361"},
    )


def kinds(outcome: Outcome) -> list[str]:
    return [type(e).__name__ for e in outcome.effects if type(e).__name__ != "Note"]


def report(
    status: TaskStatus,
    party: tuple[str, str] = HOST,
    *,
    lost: bool = False,
    error: str = "",
    attempt: int = 0,
) -> Report:
    return Report(row_key("reader_0", party, attempt), status, error, lost=lost)


# -- the table: one event, one state, what happens -------------------------------------------------
TABLE = [
    # A party's "running" while its row waits: the row moves, the attempt was already running.
    ("running report", state(reader=(T.RUNNING, T.RUNNING, T.WAITING)), report(T.RUNNING), ["MoveRow"]),
    # The first running row makes a waiting attempt running (a start answered late).
    (
        "first running report",
        state(reader=(T.WAITING, T.WAITING, T.WAITING)),
        report(T.RUNNING),
        ["MoveRow", "MoveAttempt"],
    ),
    ("duplicate", state(), report(T.RUNNING), []),
    # One party succeeded, the other still runs: nothing else happens yet.
    ("half success", state(), report(T.SUCCESS), ["MoveRow"]),
    # The last party succeeded: the attempt ends, psi_0 starts, progress moves.
    (
        "success",
        state(reader=(T.RUNNING, T.SUCCESS, T.RUNNING)),
        report(T.SUCCESS),
        ["MoveRow", "EndAttempt", "StartAttempt", "SyncJobProgress"],
    ),
    # A failure ends the attempt, stops its partner (EndAttempt carries the stop), the job fails and
    # psi_0, which never started, ends canceled.
    (
        "failure",
        state(),
        report(T.FAILED, error="boom"),
        ["MoveRow", "EndAttempt", "CancelNeverStarted", "EndJob"],
    ),
    # A timeout reported for a waiting row implies the task ran there.
    ("timeout for a waiting row", state(reader=(T.RUNNING, T.RUNNING, T.WAITING)), report(T.TIMEOUT), None),
    # A lost attempt ends and a new one starts at once (every party of the task).
    (
        "lost",
        state(),
        report(T.FAILED, lost=True, error="node restarted"),
        ["MoveRow", "EndAttempt", "NewAttempt", "StartAttempt"],
    ),
    # A late report of an attempt that already ended is stale: nothing happens.
    ("stale", state(reader=(T.FAILED, T.FAILED, T.CANCELED)), report(T.SUCCESS), []),
    # A job that ended takes no new attempts, even for a lost report.
    (
        "lost after the end",
        state(JobStatus.CANCELED, reader=(T.CANCELED, T.CANCELED, T.CANCELED)),
        report(T.FAILED, lost=True),
        [],
    ),
]


@pytest.mark.parametrize(("name", "before", "event", "expected"), TABLE, ids=[row[0] for row in TABLE])
def test_reports(name: str, before: JobState, event: Report, expected: list[str] | None) -> None:
    outcome = decisions.on_report(before, event, NOW)
    if expected is not None:
        assert kinds(outcome) == expected
    _assert_consistent(before, outcome)


def test_a_success_of_the_last_party_starts_the_next_task_at_every_party() -> None:
    outcome = decisions.on_report(state(reader=(T.RUNNING, T.SUCCESS, T.RUNNING)), report(T.SUCCESS), NOW)
    [start] = [e for e in outcome.effects if isinstance(e, StartAttempt)]
    assert start == StartAttempt(key("psi_0"), ("9999", "10000"), 2.0)
    assert outcome.state.attempts["psi_0"].status is T.RUNNING
    assert outcome.proposal is Proposal.APPLY


def test_a_lost_attempt_is_replaced_at_every_party_and_its_partner_stopped() -> None:
    outcome = decisions.on_report(state(), report(T.FAILED, lost=True, error="node restarted"), NOW)
    end = next(e for e in outcome.effects if isinstance(e, EndAttempt))
    assert (end.key, end.status) == (key("reader_0"), T.FAILED)
    assert "lost at host 10000 at 127.0.0.1:9361" in end.error
    new = outcome.state.attempts["reader_0"]
    assert (new.key, new.status) == (key("reader_0", 1), T.RUNNING)
    assert {k.party_id for k in outcome.state.rows if k.attempt == 1} == {"9999", "10000"}
    assert outcome.state.status is JobStatus.RUNNING


def test_a_task_lost_in_each_allowed_attempt_fails_the_job_naming_the_party() -> None:
    before = state(attempt=2, rules=Rules(max_task_attempts=3))
    outcome = decisions.on_report(before, report(T.FAILED, lost=True, error="node restarted", attempt=2), NOW)
    assert "NewAttempt" not in kinds(outcome)
    [end_job] = [e for e in outcome.effects if isinstance(e, EndJob)]
    assert end_job.status is JobStatus.FAILED
    assert "host 10000 at 127.0.0.1:9361" in end_job.reason
    assert "scheduler.max_task_attempts = 3" in end_job.reason


def test_auto_retries_still_retry_a_failure_with_backoff() -> None:
    before = state(rules=Rules(auto_retries=1, retry_backoff_s=1.0))
    outcome = decisions.on_report(before, report(T.FAILED, error="boom"), NOW)
    assert kinds(outcome) == ["MoveRow", "EndAttempt", "NewAttempt", "WakeAt"]
    assert WakeAt(NOW + 1000) in outcome.effects
    assert outcome.state.status is JobStatus.RUNNING


# -- the timeout-before-running race ----------------------------------------------------------------
def test_a_deadline_before_the_partys_running_reports_ends_the_attempt_timeout() -> None:
    # A 2 s timeout fired while both parties' "running" reports are still on their way.
    before = state(reader=(T.RUNNING, T.WAITING, T.WAITING), timeout_s=2)
    outcome = decisions.on_deadline(before, key("reader_0"), NOW)
    end = next(e for e in outcome.effects if isinstance(e, EndAttempt))
    assert end.status is T.TIMEOUT
    assert "timeout of 2s" in end.error
    # psi_0 never started: canceled, not timeout; the job ends timeout.
    assert (
        CancelNeverStarted(key("psi_0"), "the job ended timeout before the task started") in outcome.effects
    )
    assert outcome.state.status is JobStatus.TIMEOUT
    # Then the parties' late "running" reports are stale for the attempt.
    late = decisions.on_report(outcome.state, report(T.RUNNING), NOW + 1)
    assert "EndAttempt" not in kinds(late) and "StartAttempt" not in kinds(late)


def test_a_stop_of_a_waiting_row_cancels_what_never_started() -> None:
    before = state(reader=(T.RUNNING, T.RUNNING, T.WAITING))
    outcome = decisions.on_stop(before, "stopped by a user at party 9999", NOW)
    assert kinds(outcome) == ["EndAttempt", "CancelNeverStarted", "EndJob"]
    end = next(e for e in outcome.effects if isinstance(e, EndAttempt))
    assert end.status is T.CANCELED
    assert outcome.state.attempts["psi_0"].status is T.CANCELED
    assert outcome.state.status is JobStatus.CANCELED


def test_a_deadline_of_an_attempt_that_ended_or_was_replaced_does_nothing() -> None:
    assert decisions.on_deadline(state(reader=(T.SUCCESS,) * 3), key("reader_0"), NOW).effects == ()
    assert decisions.on_deadline(state(attempt=1), key("reader_0", 0), NOW).effects == ()


# -- starts, unreachable parties, restarts ----------------------------------------------------------
def test_a_party_unreachable_at_start_loses_the_attempt_with_backoff() -> None:
    before = state(reader=(T.RUNNING, T.WAITING, T.WAITING))
    failure = StartFailure("connection refused", unreachable=True)
    outcome = decisions.on_start_failed(before, key("reader_0"), {"10000": failure}, NOW)
    assert kinds(outcome) == ["EndAttempt", "NewAttempt", "WakeAt"]
    assert outcome.state.attempts["reader_0"].not_before_ms == NOW + 1000


def test_a_party_unreachable_at_start_is_waited_for_beyond_max_task_attempts() -> None:
    # Only the tolerance bounds a party that is away: not the count of attempts.
    before = state(reader=(T.RUNNING, T.WAITING, T.WAITING), attempt=5, rules=Rules(max_task_attempts=3))
    failure = StartFailure("connection refused", unreachable=True)
    outcome = decisions.on_start_failed(before, key("reader_0", 5), {"10000": failure}, NOW)
    assert outcome.state.attempts["reader_0"].key.attempt == 6
    gone = StartFailure("connection refused", unreachable=True, gone=away(400, Verdict.GIVE_UP).state)
    outcome = decisions.on_start_failed(before, key("reader_0", 5), {"10000": gone}, NOW)
    assert outcome.state.status is JobStatus.FAILED
    assert (
        "host 10000 at 127.0.0.1:9361 has not answered the scheduler for 400s"
        in outcome.state.attempts["reader_0"].error
    )


def test_a_party_that_refuses_a_start_fails_the_attempt() -> None:
    before = state(reader=(T.RUNNING, T.WAITING, T.WAITING))
    outcome = decisions.on_start_failed(
        before, key("reader_0"), {"10000": StartFailure("no such table")}, NOW
    )
    assert outcome.state.status is JobStatus.FAILED
    assert "could not start at party 10000: no such table" in outcome.state.attempts["reader_0"].error


def away(seconds: float, verdict: Verdict) -> Decision:
    party = Unreachable("10000", "127.0.0.1:9361", NOW - int(seconds * 1000), "connection refused", 3)
    return Decision(verdict, party)


def test_an_unreachable_party_fails_the_job_only_past_the_tolerance() -> None:
    waiting = decisions.on_unanswered(state(), row_key("reader_0", HOST), away(30, Verdict.WAITING), NOW)
    assert waiting.effects == ()
    given_up = decisions.on_unanswered(state(), row_key("reader_0", HOST), away(400, Verdict.GIVE_UP), NOW)
    assert given_up.state.status is JobStatus.FAILED
    assert (
        "host 10000 at 127.0.0.1:9361 has not answered the scheduler for 400s"
        in given_up.state.attempts["reader_0"].error
    )


def test_a_partners_failure_while_a_party_is_away_waits_for_that_party() -> None:
    # The host is away (killed): the guest's task fails sending to it. Nothing ends yet.
    before = dataclasses.replace(state(), away=frozenset({"10000"}))
    held = decisions.on_report(before, report(T.FAILED, GUEST, error="sending to host 10000 failed"), NOW)
    assert kinds(held) == ["MoveRow"]
    assert held.state.attempts["reader_0"].status is T.RUNNING
    # It comes back restarted: the attempt was lost there, a new one starts everywhere.
    lost = decisions.on_report(held.state, report(T.FAILED, lost=True, error="node restarted"), NOW)
    assert kinds(lost) == ["MoveRow", "EndAttempt", "NewAttempt", "StartAttempt"]
    # Or it comes back without having restarted (a partition): the attempt is lost at it all the same.
    back = decisions.on_party_back(held.state, "10000", NOW)
    assert kinds(back) == ["EndAttempt", "NewAttempt", "StartAttempt"]
    assert "host 10000 at 127.0.0.1:9361" in next(e for e in back.effects if isinstance(e, EndAttempt)).error
    # Or it stays away past the tolerance: the job fails, naming it.
    gone = decisions.on_unanswered(held.state, row_key("reader_0", HOST), away(400, Verdict.GIVE_UP), NOW)
    assert gone.state.status is JobStatus.FAILED
    assert (
        "host 10000 at 127.0.0.1:9361 has not answered the scheduler for 400s"
        in gone.state.attempts["reader_0"].error
    )


def test_a_task_that_failed_at_a_party_while_it_was_cut_off_is_lost_there() -> None:
    # A partition: the host's task failed sending; the report gets through once the link is back.
    before = dataclasses.replace(state(), away=frozenset({"10000"}))
    outcome = decisions.on_report(before, report(T.FAILED, error="sending to guest 9999 failed"), NOW)
    assert kinds(outcome) == ["MoveRow", "EndAttempt", "NewAttempt", "StartAttempt"]
    end = next(e for e in outcome.effects if isinstance(e, EndAttempt))
    assert "attempt lost at host 10000" in end.error and "(while cut off)" in end.error


def test_a_party_back_with_nothing_failed_changes_nothing() -> None:
    before = dataclasses.replace(state(), away=frozenset({"10000"}))
    assert decisions.on_party_back(before, "10000", NOW).effects == ()


def test_a_restarted_scheduler_rearms_deadlines_from_the_attempts_start() -> None:
    outcome = decisions.on_resume(state(), NOW)
    assert outcome.effects == (ArmDeadline(key("reader_0"), NOW - 1000 + 2000),)


@pytest.mark.parametrize(
    ("host_says", "expected"),
    [
        (Report(row_key("reader_0", HOST), T.RUNNING), []),
        (Report(row_key("reader_0", HOST), T.SUCCESS), ["MoveRow"]),
        (Report(row_key("reader_0", HOST), T.WAITING), ["EndAttempt", "NewAttempt", "StartAttempt"]),
        (
            Report(row_key("reader_0", HOST), T.FAILED, "restarted", lost=True),
            ["MoveRow", "EndAttempt", "NewAttempt", "StartAttempt"],
        ),
    ],
    ids=["still running", "ended", "never started", "lost"],
)
def test_a_restarted_scheduler_continues_what_runs_and_replaces_what_was_lost(
    host_says: Report, expected: list[str]
) -> None:
    outcome = decisions.on_resume_check(state(), "10000", [host_says], NOW)
    assert kinds(outcome) == expected


# -- every event in every state: the invariants ---------------------------------------------------
ATTEMPT_STATES = [
    (T.WAITING, T.WAITING, T.WAITING),
    (T.RUNNING, T.WAITING, T.WAITING),
    (T.RUNNING, T.RUNNING, T.WAITING),
    (T.RUNNING, T.RUNNING, T.RUNNING),
    (T.RUNNING, T.SUCCESS, T.RUNNING),
    (T.SUCCESS, T.SUCCESS, T.SUCCESS),
    (T.FAILED, T.FAILED, T.CANCELED),
    (T.TIMEOUT, T.TIMEOUT, T.TIMEOUT),
    (T.CANCELED, T.CANCELED, T.CANCELED),
]


def reported(status: TaskStatus, *, lost: bool = False) -> Callable[[JobState], Outcome]:
    return lambda st: decisions.on_report(st, report(status, lost=lost), NOW)


EVENTS: dict[str, Callable[[JobState], Outcome]] = {
    **{f"report {s.value}": reported(s) for s in TaskStatus},
    "report lost": reported(T.FAILED, lost=True),
    "deadline": lambda st: decisions.on_deadline(st, key("reader_0"), NOW),
    "start refused": lambda st: decisions.on_start_failed(
        st, key("reader_0"), {"10000": StartFailure("no")}, NOW
    ),
    "start unreachable": lambda st: decisions.on_start_failed(
        st, key("reader_0"), {"10000": StartFailure("x", unreachable=True)}, NOW
    ),
    "unreachable": lambda st: decisions.on_unanswered(
        st, row_key("reader_0", HOST), away(1, Verdict.WAITING), NOW
    ),
    "gone": lambda st: decisions.on_unanswered(
        st, row_key("reader_0", HOST), away(900, Verdict.GIVE_UP), NOW
    ),
    "resume": lambda st: decisions.on_resume(st, NOW),
    "party back": lambda st: decisions.on_party_back(st, "10000", NOW),
    "partner failed while away": lambda st: decisions.on_report(
        dataclasses.replace(st, away=frozenset({"10000"})), report(T.FAILED, GUEST), NOW
    ),
    "resume check waiting": lambda st: decisions.on_resume_check(
        st, "10000", [Report(row_key("reader_0", HOST), T.WAITING)], NOW
    ),
    "stop": lambda st: decisions.on_stop(st, "stopped", NOW),
    "tick": lambda st: decisions.on_tick(st, NOW),
}
JOB_STATES = [JobStatus.RUNNING, JobStatus.CANCELED, JobStatus.FAILED]


@pytest.mark.parametrize(
    ("event", "job", "reader"),
    list(itertools.product(EVENTS, JOB_STATES, ATTEMPT_STATES)),
    ids=lambda value: "/".join(value) if isinstance(value, tuple) else str(value),
)
def test_every_event_in_every_state(event: str, job: JobStatus, reader: tuple[TaskStatus, ...]) -> None:
    before = state(job, reader)  # type: ignore[arg-type]
    outcome = EVENTS[event](before)
    _assert_consistent(before, outcome)
    if job in JOB_END_STATUSES:
        # A job that ended changes no more (a stop of it is refused by the driver before deciding).
        assert [k for k in kinds(outcome) if k not in ("MoveRow", "SetRowProgress")] == []


def _assert_consistent(before: JobState, outcome: Outcome) -> None:
    """What every decision keeps true, whatever the event."""
    after = outcome.state
    for effect in outcome.effects:
        if isinstance(effect, MoveRow):
            assert effect.row.status not in TASK_END_STATUSES
        if isinstance(effect, MoveAttempt):
            assert can_transition_task(effect.expected, effect.to)
        if isinstance(effect, EndAttempt):
            assert can_transition_task(effect.expected, effect.status)
        if isinstance(effect, StartAttempt):
            # Only a waiting attempt whose inputs succeeded starts, and only while the job runs.
            assert before.status is JobStatus.RUNNING
            deps = {"psi_0": ["reader_0"], "reader_0": []}[effect.key.task_name]
            assert all(after.attempts[d].status is T.SUCCESS for d in deps)
    ended_jobs = [e for e in outcome.effects if isinstance(e, EndJob)]
    assert len(ended_jobs) <= 1
    if ended_jobs:
        assert after.status is ended_jobs[0].status
        assert all(a.status in TASK_END_STATUSES for a in after.attempts.values())
    new = [e for e in outcome.effects if isinstance(e, NewAttempt)]
    for effect in new:
        assert after.attempts[effect.previous.key.task_name].key.attempt == effect.previous.key.attempt + 1
