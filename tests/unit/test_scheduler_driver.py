"""The scheduler's driver against a fake party gateway: a real store, real decisions, and parties that
answer (or fail) as each test says. What the parties are told is read from the calls they got."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from pathlib import Path
from typing import Any

import pytest

from fate_grpc.common.v1 import common_pb2
from fate_grpc.components.catalog import builtin_catalog
from fate_grpc.control.v1 import control_pb2
from fate_grpc.domain.status import JobStatus, TaskStatus
from fate_grpc.errors import ErrorCode, FateGrpcError
from fate_grpc.parties.dag_cache import DagCache
from fate_grpc.parties.gateway import PartyFailure
from fate_grpc.scheduler.events import JobEvents
from fate_grpc.scheduler.job_log import JobLog
from fate_grpc.scheduler.outbox import OutboxSender
from fate_grpc.scheduler.scheduler import Scheduler
from fate_grpc.store.records import AttemptKey, JobRecord, ScheduleTaskRecord, TaskAttemptRecord, TaskKey
from fate_grpc.store.sqlite_store import SqliteStore
from fate_grpc.wire.convert import task_status_to_proto

GUEST, HOST = "9999", "10000"
JOB = "job1"
DAG = (Path(__file__).resolve().parents[2] / "examples" / "dags" / "psi.yaml").read_text()
ROLES = {GUEST: "guest", HOST: "host"}
ANSWERS: dict[str, Any] = {
    "ApplyResources": control_pb2.ApplyResourcesResponse(granted=True),
    "ReturnResources": control_pb2.ReturnResourcesResponse(),
    "StartTask": control_pb2.StartTaskResponse(),
    "StopTask": control_pb2.StopTaskResponse(),
    "SyncTaskStatus": control_pb2.SyncTaskStatusResponse(outcome=common_pb2.SYNC_OUTCOME_APPLIED),
    "SyncJobStatus": control_pb2.SyncJobStatusResponse(outcome=common_pb2.SYNC_OUTCOME_APPLIED),
}


class FakeParties:
    """The gateway as the scheduler uses it. Each party answers every call at once; `away` parties
    are unreachable; `views` say what CollectTaskStatus answers (role -> status, and lost roles)."""

    own_party_id = GUEST

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any]] = []
        self.called = asyncio.Event()
        self.away: set[str] = set()
        self.away_for: set[str] | None = None
        """The RPCs an away party does not answer (None: every one)."""
        self.views: dict[tuple[str, str, int], tuple[dict[str, TaskStatus], list[str]]] = {}

    def address_of(self, party_id: str) -> str:
        return f"10.0.0.{len(party_id)}:9370"

    async def answer(self, party_id: str, rpc: str, request: Any) -> Any:
        self.calls.append((party_id, rpc, request))
        self.called.set()
        if party_id in self.away and (self.away_for is None or rpc in self.away_for):
            raise FateGrpcError(ErrorCode.PARTY_UNAVAILABLE, f"party {party_id} is unreachable")
        if rpc == "CollectTaskStatus":
            statuses, lost = self.views.get((party_id, request.task_name, request.attempt), ({}, []))
            tasks = [
                common_pb2.TaskView(role=role, party_id=party_id, status=task_status_to_proto(status))
                for role, status in statuses.items()
            ]
            return control_pb2.CollectTaskStatusResponse(tasks=tasks, lost_roles=lost)
        return ANSWERS[rpc]

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        # The gateway's typed per-RPC calls: start_task(party_id, request, deadline_s=...) and so on.
        rpc = "".join(part.capitalize() for part in name.split("_"))
        if rpc not in ANSWERS and rpc != "CollectTaskStatus":
            raise AttributeError(name)
        return lambda party_id, request, **_deadline: self.answer(party_id, rpc, request)

    async def fan_out(
        self, party_ids: Iterable[str], call: Callable[[str], Awaitable[Any]]
    ) -> tuple[dict[str, Any], list[PartyFailure]]:
        answers, failures = {}, []
        for party_id in dict.fromkeys(party_ids):
            try:
                answers[party_id] = await call(party_id)
            except FateGrpcError as exc:
                failures.append(PartyFailure(party_id, exc))
        return answers, failures

    async def wait_told(self, rpc: str, count: int, **fields: Any) -> None:
        """Wait until `count` parties got `rpc` with these fields (each call wakes the wait)."""
        async with asyncio.timeout(10):
            while len(self.told(rpc, **fields)) < count:
                self.called.clear()
                await self.called.wait()

    def told(self, rpc: str, **fields: Any) -> list[str]:
        """The parties that got `rpc` with these request fields, in call order."""
        return [
            party
            for party, name, request in self.calls
            if name == rpc and all(getattr(request, k) == v for k, v in fields.items())
        ]


class Harness:
    def __init__(self, tmp_path: Path, parties: FakeParties) -> None:
        self.store = SqliteStore(tmp_path / "store.sqlite3")
        self.parties = parties
        self.background: set[asyncio.Task[None]] = set()
        self.tmp_path = tmp_path

    def scheduler(self, **settings: Any) -> Scheduler:
        """A scheduler on the store (a new one is a restarted scheduler)."""
        catalog = builtin_catalog()
        gateway: Any = self.parties
        return Scheduler(
            party_id=GUEST,
            store=self.store,
            gateway=gateway,
            dags=DagCache(self.store, catalog),
            catalog=catalog,
            spawn=self.spawn,
            rpc_timeout_s=1,
            collect_after_s=0,
            retry_backoff_s=settings.pop("retry_backoff_s", 0.01),
            default_task_timeout_s=settings.pop("default_task_timeout_s", 60),
            job_log=JobLog(self.tmp_path / "jobs"),
            events=JobEvents(),
            outbox=OutboxSender(store=self.store, gateway=gateway, rpc_timeout_s=1),
            **settings,
        )

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def settle(self) -> None:
        """Let the background work the scheduler spawned finish."""
        while self.background:
            await asyncio.gather(*list(self.background))

    async def create_job(self) -> None:
        await self.store.open()
        job = JobRecord(JOB, DAG, GUEST, GUEST, is_scheduler=True)
        await self.store.create_job(job, [])
        attempts = [TaskAttemptRecord(AttemptKey(JOB, name, 0), name[:-2]) for name in ("reader_0", "psi_0")]
        rows = [
            ScheduleTaskRecord(TaskKey(JOB, name, 0, role, party))
            for name in ("reader_0", "psi_0")
            for party, role in ROLES.items()
        ]
        await self.store.add_attempts(attempts, rows)


async def report(
    scheduler: Scheduler, task: str, party: str, status: TaskStatus, *, attempt: int = 0, lost: bool = False
) -> None:
    request = control_pb2.ReportTaskStatusRequest(
        job_id=JOB,
        task_name=task,
        attempt=attempt,
        role=ROLES[party],
        party_id=party,
        status=task_status_to_proto(status),
        error="node restarted" if lost else "",
        lost=lost,
    )
    await scheduler.on_report(request, status)


async def attempts(store: SqliteStore, task: str) -> list[tuple[int, TaskStatus]]:
    return sorted(
        (a.key.attempt, a.status) for a in await store.list_attempts(JOB) if a.key.task_name == task
    )


@pytest.fixture
async def harness(tmp_path: Path) -> Any:
    made = Harness(tmp_path, FakeParties())
    await made.create_job()
    yield made
    await made.settle()
    await made.store.close()


async def start(harness: Harness, scheduler: Scheduler) -> None:
    await scheduler.queue.run()
    await harness.settle()


async def test_a_job_runs_task_by_task_and_every_party_hears_its_end(harness: Harness) -> None:
    scheduler = harness.scheduler()
    await start(harness, scheduler)
    assert harness.parties.told("StartTask", task_name="reader_0") == [GUEST, HOST]
    for party in (GUEST, HOST):
        await report(scheduler, "reader_0", party, TaskStatus.RUNNING)
        await report(scheduler, "reader_0", party, TaskStatus.SUCCESS)
    assert harness.parties.told("StartTask", task_name="psi_0") == [GUEST, HOST]
    for party in (GUEST, HOST):
        await report(scheduler, "psi_0", party, TaskStatus.SUCCESS)
    await harness.settle()
    assert (await harness.store.get_job(JOB)).status is JobStatus.SUCCESS
    ended = [p for p, rpc, r in harness.parties.calls if rpc == "SyncJobStatus" and r.status == 3]
    assert set(ended) == {GUEST, HOST}
    assert set(harness.parties.told("ReturnResources")) == {GUEST, HOST}
    assert not await harness.store.list_outbox()


async def test_a_lost_attempt_is_stopped_at_its_partner_and_started_again_everywhere(
    harness: Harness,
) -> None:
    scheduler = harness.scheduler()
    await start(harness, scheduler)
    await report(scheduler, "reader_0", GUEST, TaskStatus.RUNNING)
    await report(scheduler, "reader_0", HOST, TaskStatus.FAILED, lost=True)
    await harness.settle()
    assert harness.parties.told("StopTask", task_name="reader_0", attempt=0) == [GUEST, HOST]
    assert harness.parties.told("StartTask", task_name="reader_0", attempt=1) == [GUEST, HOST]
    assert await attempts(harness.store, "reader_0") == [(0, TaskStatus.FAILED), (1, TaskStatus.RUNNING)]
    assert (await harness.store.get_job(JOB)).status is JobStatus.RUNNING


async def test_a_partner_that_fails_while_a_party_is_away_waits_for_it(harness: Harness) -> None:
    scheduler = harness.scheduler()
    await start(harness, scheduler)
    harness.parties.away.add(HOST)
    await report(scheduler, "reader_0", GUEST, TaskStatus.FAILED)
    # The host was asked first and did not answer: the attempt waits for it.
    assert await attempts(harness.store, "reader_0") == [(0, TaskStatus.RUNNING)]
    assert HOST in scheduler.reachability.away(JOB)
    # It comes back, restarted: the attempt was lost there.
    harness.parties.away.clear()
    harness.parties.views[(HOST, "reader_0", 0)] = ({"host": TaskStatus.FAILED}, ["host"])
    await scheduler.sweep()
    await harness.settle()
    assert await attempts(harness.store, "reader_0") == [(0, TaskStatus.FAILED), (1, TaskStatus.RUNNING)]


async def test_a_party_unreachable_at_start_gets_a_new_attempt_once_it_is_back(harness: Harness) -> None:
    scheduler = harness.scheduler(retry_backoff_s=1.0)  # the next attempt is due a second later
    harness.parties.away.add(HOST)
    harness.parties.away_for = {"StartTask"}  # it went away once its cores were granted
    await start(harness, scheduler)
    assert await attempts(harness.store, "reader_0") == [(0, TaskStatus.FAILED), (1, TaskStatus.WAITING)]
    harness.parties.away.clear()
    # Attempt 1 starts when its backoff is over (a timer, not a poll).
    await harness.parties.wait_told("StartTask", 2, task_name="reader_0", attempt=1)
    assert harness.parties.told("StartTask", task_name="reader_0", attempt=1) == [GUEST, HOST]


async def test_past_max_task_attempts_the_job_fails_naming_the_party(harness: Harness) -> None:
    scheduler = harness.scheduler(max_task_attempts=1)
    await start(harness, scheduler)
    await report(scheduler, "reader_0", HOST, TaskStatus.FAILED, lost=True)
    await harness.settle()
    job = await harness.store.get_job(JOB)
    assert job.status is JobStatus.FAILED
    assert "host 10000 at 10.0.0.5:9370" in job.status_reason
    assert "scheduler.max_task_attempts = 1" in job.status_reason


async def test_a_restarted_scheduler_keeps_what_runs_and_replaces_what_was_lost(harness: Harness) -> None:
    before = harness.scheduler()
    await start(harness, before)
    for party in (GUEST, HOST):
        await report(before, "reader_0", party, TaskStatus.RUNNING)
    before.cancel_timers()
    # The scheduler's node went down; its own task was lost with it, the host's still runs.
    harness.parties.views[(GUEST, "reader_0", 0)] = ({"guest": TaskStatus.FAILED}, ["guest"])
    harness.parties.views[(HOST, "reader_0", 0)] = ({"host": TaskStatus.RUNNING}, [])
    restarted = harness.scheduler()
    await restarted.resume_after_restart(await restarted.unfinished_jobs())
    await harness.settle()
    assert await attempts(harness.store, "reader_0") == [(0, TaskStatus.FAILED), (1, TaskStatus.RUNNING)]
    assert harness.parties.told("StartTask", task_name="reader_0", attempt=1) == [GUEST, HOST]
    restarted.cancel_timers()


async def test_a_restarted_scheduler_leaves_an_attempt_running_everywhere_alone(harness: Harness) -> None:
    before = harness.scheduler()
    await start(harness, before)
    for party in (GUEST, HOST):
        await report(before, "reader_0", party, TaskStatus.RUNNING)
        harness.parties.views[(party, "reader_0", 0)] = ({ROLES[party]: TaskStatus.RUNNING}, [])
    before.cancel_timers()
    calls = len(harness.parties.calls)
    restarted = harness.scheduler()
    await restarted.resume_after_restart([JOB])
    await harness.settle()
    assert await attempts(harness.store, "reader_0") == [(0, TaskStatus.RUNNING)]
    assert {rpc for _, rpc, _ in harness.parties.calls[calls:]} == {"CollectTaskStatus"}
    restarted.cancel_timers()


async def test_a_restarted_scheduler_times_out_an_attempt_past_its_deadline(harness: Harness) -> None:
    before = harness.scheduler(default_task_timeout_s=0.2)
    await start(harness, before)
    before.cancel_timers()
    restarted = harness.scheduler(default_task_timeout_s=0.2)
    deadline_passed = asyncio.Event()
    restarted.events.notify = lambda job_id: deadline_passed.set()  # type: ignore[method-assign]
    await restarted.resume_after_restart([JOB])
    job = await harness.store.get_job(JOB)
    while job.status is JobStatus.RUNNING:
        deadline_passed.clear()
        await asyncio.wait_for(deadline_passed.wait(), timeout=10)
        job = await harness.store.get_job(JOB)
    assert job.status is JobStatus.TIMEOUT
