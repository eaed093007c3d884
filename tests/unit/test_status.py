"""Job and task status machines, proposal classification and aggregation."""

from __future__ import annotations

import itertools

import pytest

from fate_grpc.domain.status import (
    JOB_END_STATUSES,
    JOB_TRANSITIONS,
    NEVER_STARTED_END_STATUS,
    TASK_END_STATUSES,
    TASK_SUCCESS_STATUSES,
    TASK_TRANSITIONS,
    JobStatus,
    Proposal,
    TaskStatus,
    can_transition_job,
    can_transition_task,
    check_job_transition,
    check_task_transition,
    classify_job_proposal,
    classify_task_proposal,
    federated_task_status,
    job_status_from_tasks,
    severity,
    task_progress,
)
from fate_grpc.errors import ErrorCode, FateGrpcError

J = JobStatus
T = TaskStatus

# The intended tables, written out independently of the implementation.
EXPECTED_JOB = {
    (J.WAITING, J.RUNNING),
    (J.WAITING, J.CANCELED),
    (J.WAITING, J.FAILED),
    (J.WAITING, J.TIMEOUT),
    (J.RUNNING, J.SUCCESS),
    (J.RUNNING, J.FAILED),
    (J.RUNNING, J.CANCELED),
    (J.RUNNING, J.TIMEOUT),
    (J.FAILED, J.WAITING),
    (J.CANCELED, J.WAITING),
    (J.TIMEOUT, J.WAITING),
}
EXPECTED_TASK = {
    (T.WAITING, T.RUNNING),
    (T.WAITING, T.SUCCESS),
    (T.WAITING, T.PASS),
    (T.WAITING, T.CANCELED),
    (T.WAITING, T.FAILED),
    (T.RUNNING, T.SUCCESS),
    (T.RUNNING, T.FAILED),
    (T.RUNNING, T.CANCELED),
    (T.RUNNING, T.TIMEOUT),
    (T.RUNNING, T.PASS),
}
JOB_PAIRS = list(itertools.product(JobStatus, JobStatus))
TASK_PAIRS = list(itertools.product(TaskStatus, TaskStatus))


def test_values_are_lowercase_names() -> None:
    assert [s.value for s in JobStatus] == ["waiting", "running", "success", "failed", "canceled", "timeout"]
    assert [s.value for s in TaskStatus] == [
        "waiting",
        "running",
        "success",
        "failed",
        "canceled",
        "timeout",
        "pass",
    ]


def test_tables_cover_every_status_and_are_read_only() -> None:
    assert set(JOB_TRANSITIONS) == set(JobStatus)
    assert set(TASK_TRANSITIONS) == set(TaskStatus)
    with pytest.raises(TypeError):
        JOB_TRANSITIONS[J.SUCCESS] = frozenset({J.WAITING})  # type: ignore[index]


def test_end_statuses() -> None:
    assert {J.SUCCESS, J.FAILED, J.CANCELED, J.TIMEOUT} == JOB_END_STATUSES
    assert {T.SUCCESS, T.FAILED, T.CANCELED, T.TIMEOUT, T.PASS} == TASK_END_STATUSES
    assert all(not TASK_TRANSITIONS[s] for s in TASK_END_STATUSES)


@pytest.mark.parametrize(("current", "target"), JOB_PAIRS)
def test_job_transition(current: JobStatus, target: JobStatus) -> None:
    allowed = (current, target) in EXPECTED_JOB
    assert can_transition_job(current, target) is allowed
    if allowed:
        check_job_transition(current, target)
    else:
        with pytest.raises(FateGrpcError) as info:
            check_job_transition(current, target, what="job 123")
        assert info.value.code is ErrorCode.INVALID_TRANSITION
        assert info.value.message == f"job 123: cannot go from {current} to {target}"


@pytest.mark.parametrize(("current", "target"), TASK_PAIRS)
def test_task_transition(current: TaskStatus, target: TaskStatus) -> None:
    allowed = (current, target) in EXPECTED_TASK
    assert can_transition_task(current, target) is allowed
    if allowed:
        check_task_transition(current, target)
    else:
        with pytest.raises(FateGrpcError) as info:
            check_task_transition(current, target)
        assert info.value.code is ErrorCode.INVALID_TRANSITION
        assert info.value.message == f"task: cannot go from {current} to {target}"


def _expected_proposal(same: bool, allowed: bool, ended: bool) -> Proposal:
    if same:
        return Proposal.DUPLICATE
    if allowed:
        return Proposal.APPLY
    return Proposal.STALE if ended else Proposal.REJECT


@pytest.mark.parametrize(("current", "proposed"), TASK_PAIRS)
def test_classify_task_proposal(current: TaskStatus, proposed: TaskStatus) -> None:
    expected = _expected_proposal(
        current == proposed, (current, proposed) in EXPECTED_TASK, current in TASK_END_STATUSES
    )
    assert classify_task_proposal(current, proposed) is expected


@pytest.mark.parametrize(("current", "proposed"), JOB_PAIRS)
def test_classify_job_proposal(current: JobStatus, proposed: JobStatus) -> None:
    expected = _expected_proposal(
        current == proposed, (current, proposed) in EXPECTED_JOB, current in JOB_END_STATUSES
    )
    assert classify_job_proposal(current, proposed) is expected


def test_classify_examples() -> None:
    assert classify_task_proposal(T.SUCCESS, T.RUNNING) is Proposal.STALE
    assert classify_task_proposal(T.WAITING, T.TIMEOUT) is Proposal.REJECT
    assert classify_job_proposal(J.FAILED, J.WAITING) is Proposal.APPLY
    assert classify_job_proposal(J.SUCCESS, J.WAITING) is Proposal.STALE
    assert classify_job_proposal(J.WAITING, J.SUCCESS) is Proposal.REJECT


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([T.SUCCESS], T.SUCCESS),
        ([T.PASS], T.SUCCESS),
        ([T.PASS, T.SUCCESS], T.SUCCESS),
        ([T.WAITING, T.WAITING], T.WAITING),
        ([T.RUNNING, T.RUNNING], T.RUNNING),
        ([T.CANCELED, T.CANCELED], T.CANCELED),
        ([T.TIMEOUT], T.TIMEOUT),
        ([T.FAILED, T.FAILED], T.FAILED),
        ([T.FAILED, T.CANCELED, T.TIMEOUT, T.RUNNING], T.FAILED),
        ([T.TIMEOUT, T.CANCELED, T.SUCCESS], T.TIMEOUT),
        ([T.CANCELED, T.SUCCESS], T.CANCELED),
        ([T.CANCELED, T.WAITING], T.CANCELED),
        ([T.WAITING, T.SUCCESS], T.RUNNING),
        ([T.WAITING, T.RUNNING], T.RUNNING),
        ([T.RUNNING, T.PASS], T.RUNNING),
    ],
)
def test_federated_task_status(statuses: list[TaskStatus], expected: TaskStatus) -> None:
    assert federated_task_status(statuses) is expected
    assert federated_task_status(reversed(statuses)) is expected


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([T.SUCCESS, T.PASS], J.SUCCESS),
        ([T.PASS], J.SUCCESS),
        ([T.SUCCESS, T.FAILED, T.TIMEOUT, T.CANCELED], J.FAILED),
        ([T.TIMEOUT, T.CANCELED, T.RUNNING], J.TIMEOUT),
        ([T.CANCELED, T.SUCCESS], J.CANCELED),
        ([T.CANCELED], J.CANCELED),
        ([T.FAILED], J.FAILED),
        ([T.WAITING, T.SUCCESS], J.RUNNING),
        ([T.WAITING], J.RUNNING),
        ([T.RUNNING, T.SUCCESS, T.WAITING], J.RUNNING),
    ],
)
def test_job_status_from_tasks(statuses: list[TaskStatus], expected: JobStatus) -> None:
    assert job_status_from_tasks(statuses) is expected


def test_aggregation_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError):
        federated_task_status([])
    with pytest.raises(ValueError):
        job_status_from_tasks(iter(()))


def test_aggregation_accepts_plain_strings() -> None:
    assert federated_task_status(["running", "failed"]) is T.FAILED  # type: ignore[list-item]


def test_severity_order() -> None:
    ordered = [T.PASS, T.SUCCESS, T.WAITING, T.RUNNING, T.CANCELED, T.TIMEOUT, T.FAILED]
    assert sorted(TaskStatus, key=severity) == ordered
    assert [severity(s) for s in ordered] == sorted({severity(s) for s in ordered})
    assert all(severity(JobStatus(s.value)) == severity(s) for s in TaskStatus if s != T.PASS)


def test_a_task_that_never_started_ends_canceled_through_an_allowed_transition() -> None:
    # FATE-Flow keeps such a task waiting for ever; here it ends, and canceled (not failed or
    # timeout) because the task itself did nothing wrong. A later rerun starts it again.
    assert NEVER_STARTED_END_STATUS is T.CANCELED
    assert NEVER_STARTED_END_STATUS in TASK_END_STATUSES
    check_task_transition(T.WAITING, NEVER_STARTED_END_STATUS)
    assert classify_task_proposal(T.WAITING, NEVER_STARTED_END_STATUS) is Proposal.APPLY
    assert classify_task_proposal(NEVER_STARTED_END_STATUS, T.SUCCESS) is Proposal.STALE


@pytest.mark.parametrize("status", list(TaskStatus))
@pytest.mark.parametrize("reported", [-5, 0, 37, 90, 100, 250])
def test_task_progress(status: TaskStatus, reported: int) -> None:
    shown = task_progress(status, reported)
    if status in TASK_SUCCESS_STATUSES:
        assert shown == 100
    else:
        assert shown == max(0, min(100, reported))


def test_success_statuses() -> None:
    assert {T.SUCCESS, T.PASS} == TASK_SUCCESS_STATUSES
    assert TASK_SUCCESS_STATUSES < TASK_END_STATUSES
