"""Job and task status machines, proposal classification and multi-party aggregation (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from types import MappingProxyType

from fate_grpc.errors import invalid_transition


class JobStatus(StrEnum):
    """Status of a job, both per party and federated."""

    WAITING = "waiting"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    CANCELED = "canceled"
    TIMEOUT = "timeout"


class TaskStatus(StrEnum):
    """Status of one attempt of a task, per party or federated across parties."""

    WAITING = "waiting"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    CANCELED = "canceled"
    TIMEOUT = "timeout"
    PASS = "pass"


class Proposal(StrEnum):
    """What to do with a reported status, given the status already recorded."""

    APPLY = "apply"  # an allowed transition: write it
    DUPLICATE = "duplicate"  # same status again (retried report): nothing to do
    STALE = "stale"  # the record already ended: a late report, ignore it quietly
    REJECT = "reject"  # not allowed from an ongoing status: a bug or a confused party


_J = JobStatus
_T = TaskStatus

# Stricter than FATE: success is final for a job (a rerun of a successful job is a new job), and a
# timed-out job does not silently become failed or success.
JOB_TRANSITIONS: Mapping[JobStatus, frozenset[JobStatus]] = MappingProxyType(
    {
        _J.WAITING: frozenset({_J.RUNNING, _J.CANCELED, _J.FAILED, _J.TIMEOUT}),
        _J.RUNNING: frozenset({_J.SUCCESS, _J.FAILED, _J.CANCELED, _J.TIMEOUT}),
        _J.SUCCESS: frozenset(),
        _J.FAILED: frozenset({_J.WAITING}),
        _J.CANCELED: frozenset({_J.WAITING}),
        _J.TIMEOUT: frozenset({_J.WAITING}),
    }
)

# Each attempt of a task has its own row and a retry creates a new attempt, so every end status of
# an attempt is terminal.
#
# FATE-Flow 2.2 lets a waiting task go only to running or success (inheritance), so a task that never
# started keeps showing `waiting` after its job was stopped, failed or timed out, for ever. Here a
# never-started task ends instead, through the same compare-and-set as every other change:
# - waiting -> canceled: the job ended (a user's stop, a failed or timed-out task upstream) before the
#   task started. Canceled is FATE's own word for work the system gave up on without the task being
#   at fault: FATE resolves a job whose remaining tasks can no longer run to canceled, and reruns
#   canceled tasks like failed ones (so does `flow job rerun` here). Failed would blame a task that
#   never ran; timeout would claim a deadline it never had.
# - waiting -> failed: a party could not start the task (its inputs or process could not be made).
# - waiting -> success / pass: the task is inherited from an earlier job.
TASK_TRANSITIONS: Mapping[TaskStatus, frozenset[TaskStatus]] = MappingProxyType(
    {
        _T.WAITING: frozenset({_T.RUNNING, _T.SUCCESS, _T.PASS, _T.CANCELED, _T.FAILED}),
        _T.RUNNING: frozenset({_T.SUCCESS, _T.FAILED, _T.CANCELED, _T.TIMEOUT, _T.PASS}),
        _T.SUCCESS: frozenset(),
        _T.FAILED: frozenset(),
        _T.CANCELED: frozenset(),
        _T.TIMEOUT: frozenset(),
        _T.PASS: frozenset(),
    }
)

JOB_END_STATUSES: frozenset[JobStatus] = frozenset({_J.SUCCESS, _J.FAILED, _J.CANCELED, _J.TIMEOUT})
TASK_END_STATUSES: frozenset[TaskStatus] = frozenset(
    {_T.SUCCESS, _T.FAILED, _T.CANCELED, _T.TIMEOUT, _T.PASS}
)
TASK_SUCCESS_STATUSES: frozenset[TaskStatus] = frozenset({_T.SUCCESS, _T.PASS})
# The status a task that never started ends in when its job ends (see TASK_TRANSITIONS).
NEVER_STARTED_END_STATUS = _T.CANCELED

# Display and aggregation order, worst last: among mixed statuses the interrupt with the highest
# severity wins (failed over timeout over canceled).
_SEVERITY: Mapping[str, int] = MappingProxyType(
    {
        "pass": 0,
        "success": 1,
        "waiting": 2,
        "running": 3,
        "canceled": 4,
        "timeout": 5,
        "failed": 6,
    }
)
_INTERRUPTS = (_T.FAILED, _T.TIMEOUT, _T.CANCELED)


def severity(status: JobStatus | TaskStatus) -> int:
    """How bad a status is, for sorting and display.

    The order is pass < success < waiting < running < canceled < timeout < failed.

    Args:
        status: A job or task status.

    Returns:
        A small non-negative integer; higher is worse.
    """
    return _SEVERITY[str(status)]


def can_transition_job(current: JobStatus, target: JobStatus) -> bool:
    """Whether a job may move from `current` to `target`."""
    return JobStatus(target) in JOB_TRANSITIONS[JobStatus(current)]


def can_transition_task(current: TaskStatus, target: TaskStatus) -> bool:
    """Whether a task attempt may move from `current` to `target`."""
    return TaskStatus(target) in TASK_TRANSITIONS[TaskStatus(current)]


def check_job_transition(current: JobStatus, target: JobStatus, *, what: str = "job") -> None:
    """Raise unless a job may move from `current` to `target`.

    Args:
        current: The recorded status.
        target: The wanted status.
        what: How to name the job in the message, e.g. "job 2024...".

    Raises:
        FateGrpcError: INVALID_TRANSITION when the move is not allowed.
    """
    if not can_transition_job(current, target):
        raise _transition_error(what, str(current), str(target))


def check_task_transition(current: TaskStatus, target: TaskStatus, *, what: str = "task") -> None:
    """Raise unless a task attempt may move from `current` to `target`.

    Args:
        current: The recorded status.
        target: The wanted status.
        what: How to name the task in the message, e.g. "task psi_0 (attempt 1)".

    Raises:
        FateGrpcError: INVALID_TRANSITION when the move is not allowed.
    """
    if not can_transition_task(current, target):
        raise _transition_error(what, str(current), str(target))


def _transition_error(what: str, current: str, target: str) -> Exception:
    return invalid_transition(f"{what}: cannot go from {current} to {target}", current=current, target=target)


def classify_task_proposal(current: TaskStatus, proposed: TaskStatus) -> Proposal:
    """Decide what to do with a reported task status.

    Args:
        current: The recorded status of the attempt.
        proposed: The status a party reports.

    Returns:
        DUPLICATE for the same status, APPLY for an allowed move, STALE when the attempt already
        ended, REJECT otherwise.
    """
    current, proposed = TaskStatus(current), TaskStatus(proposed)
    return _classify(
        current == proposed, can_transition_task(current, proposed), current in TASK_END_STATUSES
    )


def classify_job_proposal(current: JobStatus, proposed: JobStatus) -> Proposal:
    """Decide what to do with a reported job status.

    Args:
        current: The recorded status of the job.
        proposed: The reported status.

    Returns:
        DUPLICATE for the same status, APPLY for an allowed move, STALE when the job already
        ended (and the move is not a rerun), REJECT otherwise.
    """
    current, proposed = JobStatus(current), JobStatus(proposed)
    return _classify(current == proposed, can_transition_job(current, proposed), current in JOB_END_STATUSES)


def _classify(same: bool, allowed: bool, ended: bool) -> Proposal:
    if same:
        return Proposal.DUPLICATE
    if allowed:
        return Proposal.APPLY
    if ended:
        return Proposal.STALE
    return Proposal.REJECT


def task_progress(status: TaskStatus, reported: int) -> int:
    """The progress (0-100) to show for a task attempt.

    A component reports progress only when it wants to (some never do, most stop short of 100), so
    a successful attempt shows 100 whatever was last reported; otherwise the report, kept in range.

    Args:
        status: The attempt's status as shown (a party's own, or the federated one).
        reported: The last progress the component reported.

    Returns:
        An integer between 0 and 100.
    """
    if TaskStatus(status) in TASK_SUCCESS_STATUSES:
        return 100
    return max(0, min(100, reported))


def federated_task_status(party_statuses: Iterable[TaskStatus]) -> TaskStatus:
    """The status of a task attempt across all its parties.

    Pass counts as success. If every party agrees, that is the answer; otherwise the worst
    interrupt (failed, then timeout, then canceled) wins; otherwise the task is still running.

    Args:
        party_statuses: One status per party running the task.

    Returns:
        The federated status (never PASS).

    Raises:
        ValueError: If no status is given.
    """
    statuses = {_T.SUCCESS if s == _T.PASS else TaskStatus(s) for s in party_statuses}
    return _aggregate(statuses, "party statuses")


def job_status_from_tasks(task_statuses: Iterable[TaskStatus]) -> JobStatus:
    """The status of a job from the federated statuses of its tasks.

    All success (pass counts as success) gives success; otherwise the worst interrupt (failed,
    then timeout, then canceled) wins; otherwise the job is running.

    Args:
        task_statuses: One federated status per task of the job.

    Returns:
        The job status.

    Raises:
        ValueError: If no status is given.
    """
    statuses = {_T.SUCCESS if s == _T.PASS else TaskStatus(s) for s in task_statuses}
    if not statuses:
        raise ValueError("no task statuses to aggregate")
    if statuses == {_T.SUCCESS}:
        return JobStatus.SUCCESS
    interrupt = _worst_interrupt(statuses)
    # Anything else (including all waiting) means the job still has work to do.
    return JobStatus(str(interrupt)) if interrupt else JobStatus.RUNNING


def _aggregate(statuses: set[TaskStatus], what: str) -> TaskStatus:
    if not statuses:
        raise ValueError(f"no {what} to aggregate")
    if len(statuses) == 1:
        return next(iter(statuses))
    return _worst_interrupt(statuses) or _T.RUNNING


def _worst_interrupt(statuses: set[TaskStatus]) -> TaskStatus | None:
    return next((s for s in _INTERRUPTS if s in statuses), None)
