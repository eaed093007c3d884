"""One view of a job's tasks: every party, every command (task query, task list, watch) and the
scheduler's relayed view say the same thing about each task, however the job ends."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import anyio
import pytest

from fate_grpc.client.v1 import client_pb2
from fate_grpc.common.v1 import common_pb2
from fate_grpc.domain.status import JobStatus, TaskStatus
from fate_grpc.errors import ErrorCode
from fate_grpc.node.config import SchedulerSettings, Timeouts
from tests.lifecycle.dags import dag, task
from tests.rpc.helpers import PSI_YAML, rpc_error
from tests.support.nodes import ROOT, Federation, assert_eventually, federation

GUEST, HOST = "9999", "10000"
FAST = SchedulerSettings(collect_after_s=2, sweep_interval_s=0.3, retry_backoff_s=0.2)
pytestmark = pytest.mark.timeout(120)

Seen = dict[tuple[str, str], tuple[str, int]]  # (task, party) -> (status, progress) of the latest attempt


def _latest(tasks: list[common_pb2.TaskView]) -> Seen:
    newest: dict[tuple[str, str], common_pb2.TaskView] = {}
    for view in tasks:
        key = (view.task_name, view.party_id)
        if key not in newest or view.attempt > newest[key].attempt:
            newest[key] = view
    return {k: (common_pb2.TaskStatus.Name(v.status)[12:].lower(), v.progress) for k, v in newest.items()}


async def everything_seen(fed: Federation, job_id: str) -> dict[str, Seen]:
    """What each command shows at each party: the scheduler's view relayed (task query), the
    party's own rows (task list) and the last view of the live stream (job watch)."""
    seen: dict[str, Seen] = {}
    for pid in fed.nodes:
        client = fed.client(pid)
        relayed = await client.QueryTasks(client_pb2.QueryTasksRequest(job_id=job_id), timeout=10)
        seen[f"flow task query at {pid}"] = _latest(list(relayed.tasks))
        own = await client.ListTasks(client_pb2.ListTasksRequest(job_id=job_id, limit=100), timeout=10)
        seen[f"flow task list at {pid}"] = _latest(list(own.tasks))
        stream = client.WatchJob(client_pb2.WatchJobRequest(job_id=job_id), timeout=30)
        watched = [answer.job async for answer in stream]
        seen[f"flow job watch at {pid}"] = _latest(list(watched[-1].tasks))
    return seen


async def stored_rows(fed: Federation, job_id: str) -> dict[tuple[str, str], tuple[str, str]]:
    """(federated status, the party's own status) of each party's latest attempt rows."""
    rows: dict[tuple[str, str], tuple[int, str, str]] = {}
    for pid, node in fed.nodes.items():
        for row in await node.store.list_tasks(job_id):
            key = (row.key.task_name, pid)
            if key not in rows or row.key.attempt > rows[key][0]:
                rows[key] = (row.key.attempt, row.status.value, row.party_status.value)
    return {k: (status, own) for k, (_, status, own) in rows.items()}


def assert_all_agree(seen: dict[str, Seen], expected: dict[tuple[str, str], str]) -> None:
    """Every command at every party shows `expected` for the rows it shows; success shows 100."""
    for source, rows in seen.items():
        statuses = {key: status for key, (status, _) in rows.items()}
        wanted = expected if "task list" not in source else _of_party(expected, source.rsplit(" ", 1)[1])
        assert statuses == wanted, source
        for key, (status, progress) in rows.items():
            if status == "success":
                assert progress == 100, (source, key)


def _of_party(expected: dict[tuple[str, str], str], party_id: str) -> dict[tuple[str, str], str]:
    return {key: status for key, status in expected.items() if key[1] == party_id}


async def job_everywhere(fed: Federation, job_id: str) -> set[JobStatus]:
    return {(await node.store.get_job(job_id)).status for node in fed.nodes.values()}


async def progress_everywhere(fed: Federation, job_id: str) -> set[int]:
    """The job's progress as each party stores it and as each party's job query shows it."""
    stored = {(await node.store.get_job(job_id)).progress for node in fed.nodes.values()}
    shown = {
        (await fed.client(pid).QueryJob(client_pb2.QueryJobRequest(job_id=job_id), timeout=10)).job.progress
        for pid in fed.nodes
    }
    return stored | shown


async def flow_cli(conf: Path, *args: str) -> tuple[int, dict]:
    """The `flow` command as a user runs it (a separate process with its own settings file)."""
    done = await anyio.run_process(
        [sys.executable, "-m", "fate_grpc.cli.flow_cli", *args],
        cwd=ROOT,
        check=False,
        env={**os.environ, "FATE_GRPC_FLOW_CONF": str(conf)},
    )
    output = done.stdout.decode()
    assert "Traceback" not in output + done.stderr.decode(), output
    return done.returncode, json.loads(output)


async def test_a_successful_task_shows_progress_100_everywhere(tmp_path: Path) -> None:
    async with federation(tmp_path, [GUEST, HOST], scheduler=FAST) as fed:
        await fed.upload_breast()
        # reader reports no progress at all; psi's last report is below 100.
        job_id = await fed.submit(GUEST, PSI_YAML)
        assert (await fed.wait_job(GUEST, job_id)).status == common_pb2.JOB_STATUS_SUCCESS

        seen = await everything_seen(fed, job_id)

        expected = {(t, p): "success" for t in ("reader_0", "psi_0") for p in (GUEST, HOST)}
        assert_all_agree(seen, expected)
        assert all(rows[key][1] == 100 for rows in seen.values() for key in rows)


async def test_stop_cancels_running_and_never_started_tasks_at_every_party(tmp_path: Path) -> None:
    pid_dir = tmp_path / "pids"
    async with federation(tmp_path, [GUEST, HOST], scheduler=FAST) as fed:
        await fed.register_testkit()
        job_id = await fed.submit(
            GUEST,
            dag(
                {
                    "first": task("testkit_sleep", seconds=0.1),
                    "slow": task("testkit_sleep", ["first"], seconds=60, pid_dir=str(pid_dir)),
                    "next": task("testkit_sleep", ["slow"], seconds=0.1),
                    "last": task("testkit_sleep", ["next"], seconds=0.1),
                }
            ),
        )

        async def slow_runs_at_both() -> bool:
            return len(list(pid_dir.glob("*_*_*"))) == 2 if pid_dir.exists() else False

        await assert_eventually(slow_runs_at_both, timeout_s=60, what="slow started at both parties")

        stopped = await fed.client(HOST).StopJob(client_pb2.StopJobRequest(job_id=job_id), timeout=30)

        assert stopped.status == common_pb2.JOB_STATUS_CANCELED
        assert await job_everywhere(fed, job_id) == {JobStatus.CANCELED}
        assert await progress_everywhere(fed, job_id) == {50}, "2 of 4 tasks ended, 2 never started"
        expected = {("first", p): "success" for p in (GUEST, HOST)}
        expected |= {(t, p): "canceled" for t in ("slow", "next", "last") for p in (GUEST, HOST)}
        assert_all_agree(await everything_seen(fed, job_id), expected)
        rows = await stored_rows(fed, job_id)
        assert rows == {key: (status, status) for key, status in expected.items()}


async def test_stop_of_an_ended_job_says_so_and_changes_nothing(tmp_path: Path) -> None:
    async with federation(tmp_path, [GUEST, HOST], scheduler=FAST) as fed:
        await fed.register_testkit()
        job_id = await fed.submit(GUEST, dag({"t": task("testkit_sleep", seconds=0.1)}))
        assert (await fed.wait_job(GUEST, job_id)).status == common_pb2.JOB_STATUS_SUCCESS
        before = await everything_seen(fed, job_id)
        jobs_before = [await node.store.get_job(job_id) for node in fed.nodes.values()]

        for pid in (GUEST, HOST):
            error = await rpc_error(fed.client(pid).StopJob(client_pb2.StopJobRequest(job_id=job_id)))
            assert error.code is ErrorCode.INVALID_TRANSITION
            assert f"job {job_id} already ended: success" in error.message
        code, answer = await flow_cli(
            tmp_path / "flow.yaml", "--node", fed.address(HOST), "job", "stop", "-j", job_id
        )

        assert code != 0
        assert answer["code"] == ErrorCode.INVALID_TRANSITION
        assert f"job {job_id} already ended: success" in answer["message"]
        assert await everything_seen(fed, job_id) == before
        assert [await node.store.get_job(job_id) for node in fed.nodes.values()] == jobs_before


async def test_stop_of_a_job_still_being_created_says_so_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    timeouts = Timeouts(rpc_s=5, job_create_s=60, report_retry_s=5, task_receive_s=60)
    async with federation(tmp_path, [GUEST, HOST], scheduler=FAST, timeouts=timeouts) as fed:
        await fed.register_testkit()
        guest, host = fed.nodes[GUEST], fed.nodes[HOST]
        release = asyncio.Event()
        create_at_host = host.participant.create_job

        async def held_create(request):  # type: ignore[no-untyped-def]
            await release.wait()
            return await create_at_host(request)

        monkeypatch.setattr(host.participant, "create_job", held_create)
        submit = asyncio.ensure_future(fed.submit(GUEST, dag({"t": task("testkit_sleep", seconds=0.1)})))

        async def created_at_guest() -> bool:
            return bool(await guest.store.list_jobs())

        await assert_eventually(created_at_guest, what="the job is stored at the scheduler party")
        job_id = (await guest.store.list_jobs())[0].job_id
        before = await guest.store.get_job(job_id)

        error = await rpc_error(fed.client(GUEST).StopJob(client_pb2.StopJobRequest(job_id=job_id)))
        await guest.scheduler.queue.run()  # a queue pass (another job ended) must leave it alone too

        assert error.code is ErrorCode.CONFLICT
        assert f"job {job_id} is still being created" in error.message
        assert await guest.store.get_job(job_id) == before
        assert await guest.store.list_attempts(job_id) == []
        release.set()
        assert await submit == job_id
        view = await fed.wait_job(HOST, job_id)
        assert view.status == common_pb2.JOB_STATUS_SUCCESS, view.status_reason


@pytest.mark.parametrize("ending", ["failed", "timeout"])
async def test_tasks_below_a_failed_or_timed_out_task_end_canceled_everywhere(
    tmp_path: Path, ending: str
) -> None:
    async with federation(tmp_path, [GUEST, HOST], scheduler=FAST) as fed:
        await fed.register_testkit()
        if ending == "failed":
            culprit, conf = task("testkit_fail", ["ok"], party=HOST, message="broken on purpose"), {}
        else:
            # The timeout applies to every task: it must leave the 0.1 s tasks time to start and end on a
            # busy machine (3 s was sometimes not enough at a load of 12-16 on 2 cores).
            culprit, conf = task("testkit_sleep", ["ok"], seconds=60), {"task": {"timeout": 10}}
        job_id = await fed.submit(
            GUEST,
            dag(
                {
                    "ok": task("testkit_sleep", seconds=0.1),
                    "culprit": culprit,
                    "below": task("testkit_sleep", ["culprit"], seconds=0.1),
                    "further_below": task("testkit_sleep", ["below"], seconds=0.1),
                },
                conf=conf,
            ),
        )

        view = await fed.wait_job(HOST, job_id)

        assert common_pb2.JobStatus.Name(view.status) == f"JOB_STATUS_{ending.upper()}"
        assert await job_everywhere(fed, job_id) == {JobStatus(ending)}
        assert view.progress == 50 and await progress_everywhere(fed, job_id) == {50}
        seen = await everything_seen(fed, job_id)
        culprit_rows = {p: seen[f"flow task query at {GUEST}"][("culprit", p)][0] for p in (GUEST, HOST)}
        assert culprit_rows[HOST] == ending
        expected = {("ok", p): "success" for p in (GUEST, HOST)}
        expected |= {("culprit", p): status for p, status in culprit_rows.items()}
        expected |= {(t, p): "canceled" for t in ("below", "further_below") for p in (GUEST, HOST)}
        assert_all_agree(seen, expected)
        rows = await stored_rows(fed, job_id)
        assert {k: own for k, (_, own) in rows.items()} == expected
        assert all(
            rows[(t, p)] == ("canceled",) * 2 for t in ("below", "further_below") for p in (GUEST, HOST)
        )


async def test_a_retry_that_never_started_ends_canceled_at_every_party(tmp_path: Path) -> None:
    slow_retry = SchedulerSettings(collect_after_s=2, sweep_interval_s=0.3, retry_backoff_s=60)
    async with federation(tmp_path, [GUEST, HOST], scheduler=slow_retry) as fed:
        await fed.register_testkit()
        job_id = await fed.submit(
            GUEST,
            dag(
                {"bad": task("testkit_fail", party=HOST), "after": task("testkit_sleep", ["bad"])},
                conf={"auto_retries": 1},
            ),
        )
        scheduler = fed.nodes[GUEST].store

        async def retry_is_due_later() -> bool:
            return any(a.key.attempt == 1 for a in await scheduler.list_attempts(job_id))

        await assert_eventually(retry_is_due_later, what="a second attempt of bad is planned")

        await fed.client(GUEST).StopJob(client_pb2.StopJobRequest(job_id=job_id), timeout=30)

        assert await job_everywhere(fed, job_id) == {JobStatus.CANCELED}
        expected = {(t, p): "canceled" for t in ("bad", "after") for p in (GUEST, HOST)}
        seen = await everything_seen(fed, job_id)
        assert_all_agree(seen, expected)
        for pid, node in fed.nodes.items():
            retry_rows = await node.store.list_tasks(job_id, task_name="bad", attempt=1)
            assert [(r.status, r.party_status) for r in retry_rows] == [(TaskStatus.CANCELED,) * 2], pid


async def test_a_task_that_succeeded_just_before_its_stop_stays_success_in_every_view(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with federation(tmp_path, [GUEST, HOST], scheduler=FAST) as fed:
        await fed.register_testkit()
        guest, host = fed.nodes[GUEST], fed.nodes[HOST]
        guest_may_report, host_may_report = asyncio.Event(), asyncio.Event()
        send_at_guest, send_at_host = guest.participant._send_report, host.participant._send_report

        async def late_at_guest(key):  # type: ignore[no-untyped-def]
            await guest_may_report.wait()
            await send_at_guest(key)

        async def late_at_host(key):  # type: ignore[no-untyped-def]
            await host_may_report.wait()
            await send_at_host(key)

        # The guest's task succeeds but the scheduler has not heard yet when the host's failure
        # makes it stop the task at the guest.
        monkeypatch.setattr(guest.participant, "_send_report", late_at_guest)
        monkeypatch.setattr(host.participant, "_send_report", late_at_host)
        job_id = await fed.submit(
            GUEST,
            dag({"t": task("testkit_fail", party=HOST), "after": task("testkit_sleep", ["t"], seconds=0.1)}),
        )

        async def ended_at_both() -> bool:
            rows = [*await guest.store.list_tasks(job_id, task_name="t")]
            rows += await host.store.list_tasks(job_id, task_name="t")
            return [r.party_status for r in rows] == [TaskStatus.SUCCESS, TaskStatus.FAILED]

        await assert_eventually(ended_at_both, timeout_s=60, what="t ended at both parties")
        host_may_report.set()
        await fed.wait_job(GUEST, job_id)
        guest_may_report.set()

        expected = {("t", GUEST): "success", ("t", HOST): "failed"}
        expected |= {("after", p): "canceled" for p in (GUEST, HOST)}
        assert_all_agree(await everything_seen(fed, job_id), expected)
        await assert_eventually(
            lambda: _no_report_in_flight(fed), what="the guest's late reports were answered"
        )
        assert_all_agree(await everything_seen(fed, job_id), expected)


async def _no_report_in_flight(fed: Federation) -> bool:
    return all(not node.participant._reporting for node in fed.nodes.values())
