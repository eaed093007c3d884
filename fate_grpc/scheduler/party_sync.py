"""The scheduler party telling the parties how tasks and jobs ended, and recording what they answer."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fate_grpc.control.v1 import control_pb2
from fate_grpc.domain.dag import Dag, task_parties
from fate_grpc.domain.status import (
    NEVER_STARTED_END_STATUS,
    TASK_END_STATUSES,
    Proposal,
    TaskStatus,
    classify_task_proposal,
)
from fate_grpc.errors import FateGrpcError
from fate_grpc.parties.dag_cache import DagCache
from fate_grpc.parties.gateway import PartyGateway
from fate_grpc.scheduler import planning
from fate_grpc.scheduler.decisions import implies_running
from fate_grpc.scheduler.outbox import RETRYABLE_CODES, OutboxSender, ack_all, new_message, to_each
from fate_grpc.scheduler.planning import SUCCESSFUL
from fate_grpc.store.interface import Store
from fate_grpc.store.records import (
    AttemptKey,
    JobRecord,
    OutboxMessage,
    ScheduleTaskRecord,
    TaskAttemptRecord,
)
from fate_grpc.wire.convert import job_status_to_proto, task_status_from_proto, task_status_to_proto

log = logging.getLogger("fate_grpc.scheduler")


class PartySync:
    """Status pushes from the scheduler to the parties of a job. What ends a task or a job at a party
    is also in the outbox (written with the status change): a party that cannot be reached now gets
    it later, however long it is away."""

    def __init__(
        self,
        *,
        store: Store,
        gateway: PartyGateway,
        dags: DagCache,
        rpc_timeout_s: float,
        outbox: OutboxSender,
    ) -> None:
        self._store = store
        self._gateway = gateway
        self._dags = dags
        self._timeout = rpc_timeout_s
        self._outbox = outbox

    def attempt_end_messages(
        self, dag: Dag, key: AttemptKey, status: TaskStatus, error: str
    ) -> list[OutboxMessage]:
        """What every party of the task must hear of the attempt's end: a stop unless it succeeded,
        then its federated status (store them with the attempt's transition)."""
        party_ids = [p.party_id for p in task_parties(dag, key.task_name)]
        stop, _ = _stop_request(key, status, error)
        sync = control_pb2.SyncTaskStatusRequest(
            job_id=key.job_id,
            task_name=key.task_name,
            attempt=key.attempt,
            status=task_status_to_proto(status),
            reason=error,
        )
        messages = []
        for party_id in dict.fromkeys(party_ids):
            if status not in SUCCESSFUL:
                messages.append(new_message(party_id, key.job_id, "StopTask", stop))
            messages.append(new_message(party_id, key.job_id, "SyncTaskStatus", sync))
        return messages

    async def push_attempt_end(
        self,
        dag: Dag,
        attempt: TaskAttemptRecord,
        status: TaskStatus,
        error: str,
        messages: list[OutboxMessage],
    ) -> None:
        """Tell every party of the task how the attempt ended; stop it where it still runs.

        `messages` are the stored outbox messages saying the same: those of a party that answered
        are acknowledged, the others are left to the outbox."""
        key = attempt.key
        party_ids = [p.party_id for p in task_parties(dag, key.task_name)]
        sync = control_pb2.SyncTaskStatusRequest(
            job_id=key.job_id,
            task_name=key.task_name,
            attempt=key.attempt,
            status=task_status_to_proto(status),
            reason=error,
        )
        stop, stop_status = _stop_request(key, status, error)

        async def push(party_id: str) -> None:
            if status not in SUCCESSFUL:
                await self._gateway.stop_task(party_id, stop, deadline_s=self._timeout)
                await self._record_stopped(key, party_id, stop_status, stop.reason)
            await self._gateway.sync_task_status(party_id, sync, deadline_s=self._timeout)
            await ack_all(self._store, (m for m in messages if m.party_id == party_id))

        _, failures = await self._gateway.fan_out(party_ids, push)
        for failure in failures:
            log.warning(
                "task %s: could not sync %s to party %s now (the outbox retries): %s",
                key,
                status,
                failure.party_id,
                failure.error,
            )
        if failures:
            self._outbox.wake()

    async def _record_stopped(self, key: AttemptKey, party_id: str, status: TaskStatus, reason: str) -> None:
        """The party answered the stop: its rows here take the statuses it has now, so the job's final
        view is right at once. They are asked for, not assumed: a task may have ended on its own (even
        succeeded) just before the stop arrived, and its late report would then be refused as stale."""
        own = await self._party_statuses(key, party_id)
        rows = await self._store.list_schedule_tasks(key.job_id, task_name=key.task_name, attempt=key.attempt)
        for row in rows:
            if row.key.party_id != party_id or row.status in TASK_END_STATUSES:
                continue
            # A timeout is armed only once every party answered that the task runs there, so a row
            # still waiting here only lacks its "running" report: it ends timeout, not canceled.
            ran = status is TaskStatus.TIMEOUT
            assumed = (status if ran else planning.stopped_status(row.status, status), reason)
            target, error = own.get(row.key.role, assumed)
            proposal = classify_task_proposal(row.status, target)
            if proposal is Proposal.APPLY or implies_running(row.status, target):
                with contextlib.suppress(FateGrpcError):
                    await move_schedule_row(self._store, row, target, error=row.error or error)

    async def _party_statuses(self, key: AttemptKey, party_id: str) -> dict[str, tuple[TaskStatus, str]]:
        """role -> (status, error) of an attempt at a party, as that party has it; {} if it cannot say."""
        request = control_pb2.CollectTaskStatusRequest(
            job_id=key.job_id, task_name=key.task_name, attempt=key.attempt
        )
        try:
            answer = await self._gateway.collect_task_status(party_id, request, deadline_s=self._timeout)
        except FateGrpcError as exc:
            log.warning("task %s: could not ask party %s how it ended: %s", key, party_id, exc.message)
            return {}
        return {view.role: (task_status_from_proto(view.status), view.error) for view in answer.tasks}

    async def end_never_started(self, dag: Dag, attempts: list[TaskAttemptRecord], error: str) -> None:
        """Attempts that never started end canceled (see TASK_TRANSITIONS), here and at their parties."""
        for attempt in attempts:
            key = attempt.key
            await self._store.transition_attempt(
                key, expected=TaskStatus.WAITING, to=NEVER_STARTED_END_STATUS, error=error
            )
            for row in await self._store.list_schedule_tasks(
                key.job_id, task_name=key.task_name, attempt=key.attempt
            ):
                if row.status is TaskStatus.WAITING:
                    await self._store.transition_schedule_task(
                        row.key, expected=TaskStatus.WAITING, to=NEVER_STARTED_END_STATUS, error=error
                    )
        await asyncio.gather(*(self._sync_never_started(dag, a.key, error) for a in attempts))

    async def _sync_never_started(self, dag: Dag, key: AttemptKey, error: str) -> None:
        """Each party's rows of the attempt end canceled too (created there first for a retry)."""
        request = control_pb2.SyncTaskStatusRequest(
            job_id=key.job_id,
            task_name=key.task_name,
            attempt=key.attempt,
            status=task_status_to_proto(NEVER_STARTED_END_STATUS),
            reason=error,
        )

        async def sync(party_id: str) -> None:
            await self._gateway.sync_task_status(party_id, request, deadline_s=self._timeout)

        party_ids = [p.party_id for p in task_parties(dag, key.task_name)]
        _, failures = await self._gateway.fan_out(party_ids, sync)
        for failure in failures:
            # That party cancels what never started there when it learns the job's end status.
            log.warning(
                "task %s: could not sync canceled to party %s: %s", key, failure.party_id, failure.error
            )

    def job_end_messages(
        self, dag: Dag, job_id: str, request: control_pb2.SyncJobStatusRequest
    ) -> list[OutboxMessage]:
        """A job's final status and the return of its cores, for every party (store them with the
        job's transition)."""
        parties = list(dag.party_ids())
        returned = control_pb2.ReturnResourcesRequest(job_id=job_id)
        messages = []
        for party_id in dict.fromkeys(parties):
            messages.append(new_message(party_id, job_id, "SyncJobStatus", request))
            messages.append(new_message(party_id, job_id, "ReturnResources", returned))
        return messages

    async def push_job_status(self, job: JobRecord) -> None:
        """Tell every party of the job its status, reason and progress as recorded here."""
        dag = await self._dags.get(job.job_id)
        request = control_pb2.SyncJobStatusRequest(
            job_id=job.job_id,
            status=job_status_to_proto(job.status),
            reason=job.status_reason,
            progress=job.progress,
        )

        async def sync(party_id: str) -> None:
            await self._gateway.sync_job_status(party_id, request, deadline_s=self._timeout)

        _, failures = await self._gateway.fan_out(dag.party_ids(), sync)
        for failure in failures:
            log.warning(
                "job %s: could not sync %s to %s: %s", job.job_id, job.status, failure.party_id, failure.error
            )

    async def clean_everywhere(self, dag: Dag, job_id: str) -> list[str]:
        """Remove a finished job at every party; returns the parties that removed it.

        Raises:
            FateGrpcError: some party did not clean it (those away do when they are back: the request
                waits in the outbox for them).
        """
        request = control_pb2.CleanJobRequest(job_id=job_id)

        async def clean(party_id: str) -> control_pb2.CleanJobResponse:
            return await self._gateway.clean_job(party_id, request, deadline_s=self._timeout)

        answers, failures = await self._gateway.fan_out(dag.party_ids(), clean)
        if not failures:
            return sorted(answers)
        missed = [f.party_id for f in failures if f.error.code in RETRYABLE_CODES]
        await self._store.add_outbox_messages(to_each(missed, job_id, "CleanJob", request))
        self._outbox.wake()
        cleaned = ", ".join(sorted(answers)) or "none"
        problems = "; ".join(f.error.message for f in failures)
        raise FateGrpcError(
            failures[0].error.code,
            f"job {job_id} was cleaned at parties {cleaned} but not everywhere: {problems}",
            hint="the parties that could not be reached clean it when they are back;"
            " or run flow job clean again then",
            fields={"party_id": failures[0].party_id},
        )


def _stop_request(
    key: AttemptKey, status: TaskStatus, error: str
) -> tuple[control_pb2.StopTaskRequest, TaskStatus]:
    """The stop a party gets when an attempt ends `status` (not success) elsewhere."""
    stop_status = TaskStatus.TIMEOUT if status is TaskStatus.TIMEOUT else TaskStatus.CANCELED
    stop = control_pb2.StopTaskRequest(
        job_id=key.job_id,
        task_name=key.task_name,
        attempt=key.attempt,
        status=task_status_to_proto(stop_status),
        reason=error
        if status is TaskStatus.TIMEOUT
        else (f"task {key.task_name} ended {status.value} elsewhere: {error}" if error else ""),
    )
    return stop, stop_status


async def move_schedule_row(
    store: Store,
    row: ScheduleTaskRecord,
    target: TaskStatus,
    *,
    error: str = "",
    start_time_ms: int = 0,
    end_time_ms: int = 0,
) -> None:
    """Compare-and-set a party's row to ``target``, through running where the target implies it ran."""
    current = row.status
    if implies_running(current, target):
        await store.transition_schedule_task(
            row.key, expected=current, to=TaskStatus.RUNNING, start_time_ms=start_time_ms
        )
        current = TaskStatus.RUNNING
    await store.transition_schedule_task(
        row.key,
        expected=current,
        to=target,
        error=error,
        start_time_ms=start_time_ms,
        end_time_ms=end_time_ms,
    )
