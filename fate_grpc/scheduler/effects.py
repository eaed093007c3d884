"""What a scheduler decision asks for: store writes and messages to parties, carried out in order by
the driver (`scheduler.Scheduler`). Plain values, so decisions can be compared in tests."""

from __future__ import annotations

from dataclasses import dataclass

from fate_grpc.domain.status import JobStatus, TaskStatus
from fate_grpc.store.records import AttemptKey, ScheduleTaskRecord, TaskAttemptRecord, TaskKey


@dataclass(frozen=True)
class SetRowProgress:
    """A party's progress of a task attempt, as it reported it."""

    key: TaskKey
    progress: int


@dataclass(frozen=True)
class MoveRow:
    """Compare-and-set a party's row of an attempt (through running where `to` implies it ran)."""

    row: ScheduleTaskRecord
    to: TaskStatus
    error: str = ""
    start_time_ms: int = 0
    end_time_ms: int = 0


@dataclass(frozen=True)
class MoveAttempt:
    """The attempt's federated status moves on (not to an end)."""

    key: AttemptKey
    expected: TaskStatus
    to: TaskStatus


@dataclass(frozen=True)
class EndAttempt:
    """The attempt ends: stored with its messages to every party of the task (a stop unless it
    succeeded, then its status), which are sent at once and re-sent until acknowledged."""

    key: AttemptKey
    expected: TaskStatus
    status: TaskStatus
    error: str = ""


@dataclass(frozen=True)
class NewAttempt:
    """The next attempt of `previous`'s task, with a waiting row per party; not started before
    `not_before_ms`."""

    previous: TaskAttemptRecord
    not_before_ms: int = 0


@dataclass(frozen=True)
class StartAttempt:
    """The attempt runs: every party of the task is asked to start it; its deadline is armed once
    they all answered."""

    key: AttemptKey
    parties: tuple[str, ...]
    timeout_s: float


@dataclass(frozen=True)
class ArmDeadline:
    """The attempt times out at `at_ms` unless it ended (a restarted scheduler re-arms what ran)."""

    key: AttemptKey
    at_ms: int


@dataclass(frozen=True)
class WakeAt:
    """Look at the job again at `at_ms` (a backed-off attempt becomes due)."""

    at_ms: int


@dataclass(frozen=True)
class CancelNeverStarted:
    """An attempt that never started ends canceled, here and at its parties."""

    key: AttemptKey
    error: str


@dataclass(frozen=True)
class EndJob:
    """The job ends: stored with its final status and the return of its cores for every party."""

    status: JobStatus
    reason: str
    progress: int


@dataclass(frozen=True)
class SyncJobProgress:
    """The job's progress changed: store it and tell the parties."""

    progress: int


@dataclass(frozen=True)
class Note:
    """A line for the job's scheduler log."""

    text: str


Effect = (
    SetRowProgress
    | MoveRow
    | MoveAttempt
    | EndAttempt
    | NewAttempt
    | StartAttempt
    | ArmDeadline
    | WakeAt
    | CancelNeverStarted
    | EndJob
    | SyncJobProgress
    | Note
)
