"""The one async store interface of a node, grouped by aggregate. Any backend must pass tests/store."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence

from fate_grpc.domain.status import JobStatus, TaskStatus
from fate_grpc.store.records import (
    AttemptKey,
    GrantRecord,
    JobRecord,
    MetricRecord,
    ModelRecord,
    OutboxMessage,
    OutputRecord,
    ProviderRecord,
    ScheduleTaskRecord,
    TableRecord,
    TaskAttemptRecord,
    TaskKey,
    TaskRecord,
    TokenRecord,
)


class Store(ABC):
    """Persistent state of one node. Every status change is a compare-and-set.

    Status-changing methods take the status the caller believes is current (`expected`) and:
    MUST raise NotFound (FateGrpcError code NOT_FOUND) if the row does not exist,
    MUST raise InvalidTransition if expected -> to is not in the domain transition table,
    MUST raise Conflict if the row's status is not `expected`, and MUST NOT write anything then.
    """

    # -- lifecycle -------------------------------------------------------------------------------
    @abstractmethod
    async def open(self) -> None:
        """Open (creating and migrating if needed)."""

    @abstractmethod
    async def close(self) -> None:
        """Close; idempotent."""

    # -- tables ----------------------------------------------------------------------------------
    @abstractmethod
    async def put_table(self, table: TableRecord, *, overwrite: bool = False) -> None:
        """Store table metadata. MUST raise AlreadyExists if (namespace, name) exists and not overwrite."""

    @abstractmethod
    async def get_table(self, namespace: str, name: str) -> TableRecord:
        """MUST raise NotFound if absent."""

    @abstractmethod
    async def find_table(self, namespace: str, name: str) -> TableRecord | None:
        """The table, or None."""

    # -- jobs (this node's view) -----------------------------------------------------------------
    @abstractmethod
    async def create_job(
        self,
        job: JobRecord,
        tasks: Sequence[TaskRecord],
        attempts: Sequence[TaskAttemptRecord] = (),
        schedule: Sequence[ScheduleTaskRecord] = (),
        outputs: Sequence[OutputRecord] = (),
    ) -> None:
        """Insert a job with its task rows (and, on the scheduler, its schedule rows) atomically;
        `outputs` point at existing tables (inherited from an earlier job).

        MUST raise AlreadyExists if the job id exists; MUST write nothing then.
        """

    @abstractmethod
    async def get_job(self, job_id: str) -> JobRecord:
        """MUST raise NotFound if absent."""

    @abstractmethod
    async def find_job(self, job_id: str) -> JobRecord | None:
        """The job, or None."""

    @abstractmethod
    async def list_jobs(
        self, *, statuses: Iterable[JobStatus] = (), scheduler_only: bool = False, limit: int = 100
    ) -> list[JobRecord]:
        """Jobs, newest first, optionally filtered by status and by being scheduled here."""

    @abstractmethod
    async def set_job_description(self, job_id: str, description: str) -> JobRecord:
        """Replace the job's notes (FATE's description) and return the updated record.

        MUST raise NotFound if the job is absent; MUST leave the status and times unchanged.
        """

    @abstractmethod
    async def delete_job(self, job_id: str) -> bool:
        """Remove a job and everything keyed by it; True if it existed."""

    @abstractmethod
    async def transition_job(
        self,
        job_id: str,
        *,
        expected: JobStatus,
        to: JobStatus,
        reason: str = "",
        progress: int | None = None,
        outbox: Sequence[OutboxMessage] = (),
    ) -> JobRecord:
        """Compare-and-set the job status (see class doc). Sets start/end times on entering
        running / an end status.

        `outbox` messages are written in the same transaction: they MUST be stored if and only if the
        status changed (none on NotFound / InvalidTransition / Conflict)."""

    @abstractmethod
    async def set_job_progress(self, job_id: str, progress: int, reason: str | None = None) -> None:
        """Update progress (never decreasing) and optionally the status reason."""

    # -- tasks (this node's roles) ---------------------------------------------------------------
    @abstractmethod
    async def add_tasks(self, tasks: Sequence[TaskRecord]) -> None:
        """Insert new task attempt rows, stamped with the store's clock unless `create_time_ms` is
        given. MUST raise AlreadyExists on a duplicate key."""

    @abstractmethod
    async def get_task(self, key: TaskKey) -> TaskRecord:
        """MUST raise NotFound if absent."""

    @abstractmethod
    async def list_tasks(
        self, job_id: str, *, task_name: str | None = None, attempt: int | None = None
    ) -> list[TaskRecord]:
        """Task rows of a job in (task_name, attempt, role, party_id) order."""

    @abstractmethod
    async def list_tasks_with_party_status(self, statuses: Iterable[TaskStatus]) -> list[TaskRecord]:
        """Task rows (all jobs) whose local process status is one of `statuses`."""

    @abstractmethod
    async def transition_task_party_status(
        self,
        key: TaskKey,
        *,
        expected: TaskStatus,
        to: TaskStatus,
        error: str = "",
        pid: int | None = None,
    ) -> TaskRecord:
        """Compare-and-set the local process status of a task attempt (see class doc)."""

    @abstractmethod
    async def transition_task_status(
        self, key: TaskKey, *, expected: TaskStatus, to: TaskStatus, error: str = ""
    ) -> TaskRecord:
        """Compare-and-set the federated status of a task attempt as synced by the scheduler."""

    # -- schedule (scheduler party only) ---------------------------------------------------------
    @abstractmethod
    async def add_attempts(
        self, attempts: Sequence[TaskAttemptRecord], schedule: Sequence[ScheduleTaskRecord]
    ) -> None:
        """Insert new attempts and their per-party schedule rows atomically (schedule rows stamped
        with the store's clock unless `create_time_ms` is given)."""

    @abstractmethod
    async def list_attempts(self, job_id: str) -> list[TaskAttemptRecord]:
        """Every attempt of every task of a job, in (task_name, attempt) order."""

    @abstractmethod
    async def get_attempt(self, key: AttemptKey) -> TaskAttemptRecord:
        """MUST raise NotFound if absent."""

    @abstractmethod
    async def transition_attempt(
        self,
        key: AttemptKey,
        *,
        expected: TaskStatus,
        to: TaskStatus,
        error: str = "",
        outbox: Sequence[OutboxMessage] = (),
    ) -> TaskAttemptRecord:
        """Compare-and-set the federated status of an attempt (see class doc); `outbox` messages are
        stored in the same transaction, if and only if the status changed (as in transition_job)."""

    @abstractmethod
    async def list_schedule_tasks(
        self, job_id: str, *, task_name: str | None = None, attempt: int | None = None
    ) -> list[ScheduleTaskRecord]:
        """Per-party schedule rows of a job."""

    @abstractmethod
    async def transition_schedule_task(
        self,
        key: TaskKey,
        *,
        expected: TaskStatus,
        to: TaskStatus,
        error: str = "",
        start_time_ms: int = 0,
        end_time_ms: int = 0,
    ) -> ScheduleTaskRecord:
        """Compare-and-set one party's reported status of an attempt (see class doc)."""

    @abstractmethod
    async def count_unfinished_jobs(self, party_id: str) -> int:
        """Jobs waiting or running here that `party_id` initiated or schedules."""

    # -- client tokens ---------------------------------------------------------------------------
    @abstractmethod
    async def put_token(self, token: TokenRecord) -> None:
        """MUST raise AlreadyExists if a token with that name exists."""

    @abstractmethod
    async def find_token(self, token_hash: str) -> TokenRecord | None:
        """The token with this hash, or None."""

    @abstractmethod
    async def list_tokens(self) -> list[TokenRecord]:
        """Every token, by name."""

    @abstractmethod
    async def delete_token(self, name: str) -> bool:
        """True if a token of that name existed."""

    # -- grants ----------------------------------------------------------------------------------
    @abstractmethod
    async def add_grants(self, grants: Sequence[GrantRecord]) -> None:
        """Add grants (already present ones are kept as they are)."""

    @abstractmethod
    async def remove_grants(self, party_id: str, kind: str | None = None, value: str | None = None) -> int:
        """Remove a party's grants (all, of a kind, or one); returns how many were removed."""

    @abstractmethod
    async def list_grants(self, party_id: str | None = None) -> list[GrantRecord]:
        """Grants, of one party or all, ordered by party, kind, value."""

    # -- resources, progress, providers ------------------------------------------------------------
    @abstractmethod
    async def apply_job_resources(self, job_id: str, cores: int, total_cores: int) -> tuple[bool, int]:
        """Reserve `cores` for a job if the held total stays within `total_cores`; idempotent.

        Returns (reserved, cores in use afterwards). MUST raise NotFound for an unknown job."""

    @abstractmethod
    async def return_job_resources(self, job_id: str) -> bool:
        """Give a job's cores back; True if they were held."""

    @abstractmethod
    async def return_resources_of_ended_jobs(self) -> list[str]:
        """Give back the cores still held by jobs whose status here is an end status; returns those
        jobs' ids (sorted). MUST leave the cores of waiting and running jobs held."""

    @abstractmethod
    async def cores_in_use(self) -> int:
        """Cores held by jobs at this party."""

    @abstractmethod
    async def count_jobs_by_status(self) -> dict[JobStatus, int]:
        """How many jobs this node has in each status; MUST name every status (0 when none)."""

    @abstractmethod
    async def count_tasks_by_status(self) -> dict[TaskStatus, int]:
        """How many task attempts of this node's roles are in each local (process) status; MUST name
        every status (0 when none)."""

    @abstractmethod
    async def set_task_progress(self, key: TaskKey, progress: int) -> None:
        """Record a task's progress (never decreasing)."""

    @abstractmethod
    async def set_task_traceback(self, key: TaskKey, traceback: str) -> None:
        """Keep the traceback of a failed task (shown only on request, only at this party)."""

    @abstractmethod
    async def set_schedule_progress(self, key: TaskKey, progress: int) -> None:
        """The scheduler's copy of a party's task progress (never decreasing)."""

    @abstractmethod
    async def clean_job(self, job_id: str) -> list[str]:
        """Remove a job, its task/schedule/output rows and the tables no other job uses.

        Returns the file paths of the removed tables (the caller deletes the files)."""

    @abstractmethod
    async def put_provider(self, provider: ProviderRecord) -> None:
        """MUST raise AlreadyExists for a registered (name, version, device)."""

    @abstractmethod
    async def list_providers(self) -> list[ProviderRecord]:
        """Registered providers."""

    @abstractmethod
    async def delete_provider(self, name: str, version: str, device: str) -> bool:
        """True if it was registered."""

    # -- outputs ---------------------------------------------------------------------------------
    @abstractmethod
    async def put_output(self, output: OutputRecord, table: TableRecord) -> None:
        """Register a data output and its table atomically (replacing a previous registration of the
        same output key of the same attempt)."""

    @abstractmethod
    async def list_outputs(
        self,
        job_id: str,
        *,
        task_name: str | None = None,
        role: str | None = None,
        party_id: str | None = None,
    ) -> list[OutputRecord]:
        """Outputs of a job, latest attempt last."""

    @abstractmethod
    async def delete_table(self, namespace: str, name: str) -> TableRecord | None:
        """Remove a table (and its registration as a task output); None if it did not exist. The
        caller deletes the file."""

    # -- metrics ---------------------------------------------------------------------------------
    @abstractmethod
    async def add_metrics(self, key: TaskKey, metrics: Sequence[MetricRecord]) -> None:
        """Append metric values reported by a task attempt (the attempt's row must exist)."""

    @abstractmethod
    async def list_metrics(self, key: TaskKey) -> list[MetricRecord]:
        """The attempt's metric records in the order they were reported."""

    @abstractmethod
    async def delete_metrics(self, job_id: str, task_name: str, role: str, party_id: str) -> int:
        """Remove a task's metrics at one party (every attempt); returns the records removed."""

    # -- model warehouse -------------------------------------------------------------------------
    @abstractmethod
    async def put_model(self, model: ModelRecord) -> ModelRecord | None:
        """Index a model, replacing the one under the same (model_id, model_version, role, party_id,
        task_name, output_key); returns the replaced one (the caller removes its files if they differ)."""

    @abstractmethod
    async def put_models_if_absent(self, models: Sequence[ModelRecord]) -> bool:
        """Index all of `models` atomically, or none if any key is taken (returns False then)."""

    @abstractmethod
    async def list_models(self, **filters: str | None) -> list[ModelRecord]:
        """Models matching the filters (model_id, model_version, role, party_id, task_name, output_key,
        job_id; None = any)."""

    @abstractmethod
    async def delete_models(self, **filters: str | None) -> list[ModelRecord]:
        """Remove the models matching the filters (at least one must be set) and return them."""

    # -- outbox (messages that change another party's state) -------------------------------------
    @abstractmethod
    async def add_outbox_messages(self, messages: Sequence[OutboxMessage]) -> None:
        """Store messages to send (all or none). MUST raise AlreadyExists on a message_id already
        stored, and write nothing then."""

    @abstractmethod
    async def list_outbox(self, *, party_id: str | None = None, limit: int = 1000) -> list[OutboxMessage]:
        """Unacknowledged messages (of one party or all), in the order they were written. Survives a
        restart: every message stored and not acknowledged is listed."""

    @abstractmethod
    async def list_outbox_heads(self) -> list[OutboxMessage]:
        """The oldest unacknowledged message of each party (in the order they were written): what is
        next to send to each, however many messages one unreachable party has piled up."""

    @abstractmethod
    async def ack_outbox_message(self, message_id: str) -> bool:
        """Forget a delivered (or refused) message; True if it was stored. Idempotent."""

    @abstractmethod
    async def drop_outbox_messages(self, job_id: str, rpcs: Iterable[str]) -> int:
        """Forget the job's unacknowledged messages of these RPCs (superseded: a rerun makes the end
        status and the return of cores it announced wrong); returns how many. MUST leave the job's
        other messages and other jobs' messages alone."""

    @abstractmethod
    async def defer_outbox_message(self, message_id: str, *, next_attempt_ms: int, error: str) -> None:
        """Record a failed delivery: one more attempt, when the next is due and why this one failed.
        A message no longer stored (acknowledged meanwhile) is left alone, without error."""
