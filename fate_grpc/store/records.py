"""Rows of the store, as frozen dataclasses (times are unix milliseconds, 0 = not yet)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fate_grpc.domain.status import JobStatus, TaskStatus


@dataclass(frozen=True)
class TableRecord:
    """A stored table: uploaded, or written by a task as an output."""

    namespace: str
    name: str
    path: str
    count: int
    header: tuple[str, ...]
    match_id_name: str
    label_name: str = ""
    weight_name: str = ""
    delimiter: str = ","
    meta: dict[str, Any] = field(default_factory=dict)
    source_job_id: str = ""
    source_task: str = ""
    create_time_ms: int = 0


@dataclass(frozen=True)
class JobRecord:
    """This node's row for a job; on the scheduler party its status is the authoritative one."""

    job_id: str
    dag_yaml: str
    initiator_party_id: str
    scheduler_party_id: str
    is_scheduler: bool
    status: JobStatus = JobStatus.WAITING
    status_reason: str = ""
    user_name: str = ""
    priority: int = 0
    progress: int = 0
    create_time_ms: int = 0
    start_time_ms: int = 0
    end_time_ms: int = 0
    update_time_ms: int = 0
    cores: int = 0
    """Cores this party reserved for the job."""
    resources_held: bool = False
    description: str = ""
    """Notes this party's users keep on the job (FATE's description)."""


@dataclass(frozen=True)
class TaskKey:
    """One attempt of one task at one (role, party) of this node."""

    job_id: str
    task_name: str
    attempt: int
    role: str
    party_id: str


@dataclass(frozen=True)
class TaskRecord:
    """A task attempt at a role this node plays: its local process state and the federated status."""

    key: TaskKey
    component: str
    status: TaskStatus = TaskStatus.WAITING
    party_status: TaskStatus = TaskStatus.WAITING
    error: str = ""
    pid: int = 0
    start_time_ms: int = 0
    end_time_ms: int = 0
    update_time_ms: int = 0
    progress: int = 0
    traceback: str = ""
    create_time_ms: int = 0
    """When the row was made (the store's clock unless given)."""


@dataclass(frozen=True)
class ScheduleTaskRecord:
    """The scheduler's copy of one party's status of a task attempt (as that party reported it)."""

    key: TaskKey
    status: TaskStatus = TaskStatus.WAITING
    error: str = ""
    start_time_ms: int = 0
    end_time_ms: int = 0
    update_time_ms: int = 0
    progress: int = 0
    create_time_ms: int = 0
    """When the row was made (the store's clock unless given)."""


@dataclass(frozen=True)
class AttemptKey:
    job_id: str
    task_name: str
    attempt: int


@dataclass(frozen=True)
class TaskAttemptRecord:
    """The scheduler's federated status of one attempt of a task."""

    key: AttemptKey
    component: str
    status: TaskStatus = TaskStatus.WAITING
    error: str = ""
    start_time_ms: int = 0
    end_time_ms: int = 0
    update_time_ms: int = 0
    not_before_ms: int = 0
    """A retry does not start before this time (backoff)."""


@dataclass(frozen=True)
class TokenRecord:
    """A client token of this party (only its hash is stored)."""

    token_hash: str
    name: str
    is_admin: bool = False
    create_time_ms: int = 0
    expire_time_ms: int = 0


@dataclass(frozen=True)
class GrantRecord:
    """Something a partner party may do here: create jobs, run a component, read a table."""

    party_id: str
    kind: str
    value: str
    create_time_ms: int = 0


@dataclass(frozen=True)
class OutputRecord:
    """A data output of a task at one party, pointing at a stored table."""

    key: TaskKey
    output_key: str
    namespace: str
    name: str
    kind: str = "data"
    create_time_ms: int = 0


@dataclass(frozen=True)
class MetricRecord:
    """Values of one metric reported by a task attempt (several records of one metric are merged on
    query, in the order they were reported)."""

    name: str
    type: str
    groups: tuple[tuple[str, int | None], ...]
    step_axis: str | None
    # [{"metric": value, "step": int | None, "timestamp": float}, ...]
    data: tuple[dict[str, Any], ...]
    create_time_ms: int = 0


@dataclass(frozen=True)
class ModelRecord:
    """A model in this party's warehouse, saved by a task or imported."""

    model_id: str
    model_version: str
    role: str
    party_id: str
    task_name: str
    output_key: str
    job_id: str
    attempt: int
    component: str
    type_name: str
    path: str
    size: int
    create_time_ms: int = 0


@dataclass(frozen=True)
class ProviderRecord:
    """A registered component provider (module importable on this node's host)."""

    name: str
    version: str
    device: str
    module: str
    path: str = ""
    create_time_ms: int = 0


@dataclass(frozen=True)
class OutboxMessage:
    """A message to another party that changes its state, kept until that party acknowledges it.

    `payload` is the serialized request of the ControlService RPC named by `rpc`; `message_id` is chosen
    by the sender (unique), so the sender can acknowledge what it delivered at once without a read.
    """

    message_id: str
    party_id: str
    job_id: str
    rpc: str
    payload: bytes
    attempts: int = 0
    """Deliveries tried and failed so far."""
    next_attempt_ms: int = 0
    """When the next delivery is due (0 = now)."""
    last_error: str = ""
    create_time_ms: int = 0
    seq: int = 0
    """Order of writing at this node (set by the store)."""
