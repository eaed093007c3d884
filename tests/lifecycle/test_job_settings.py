"""Every job setting of dag.conf changes what the system does: one test per setting."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import grpc
import pytest

from fate_grpc.client.v1 import client_pb2
from fate_grpc.common.v1 import common_pb2
from fate_grpc.errors import ErrorCode
from fate_grpc.node.config import Resources, SchedulerSettings
from fate_grpc.wire.rpc_errors import error_from_rpc
from tests.lifecycle.dags import dag, task
from tests.support.nodes import DAGS, Federation, assert_eventually, federation

GUEST, HOST, ARBITER = "9999", "10000", "9998"
FAST = SchedulerSettings(collect_after_s=2, sweep_interval_s=0.3, retry_backoff_s=0.2)
pytestmark = pytest.mark.timeout(120)


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def pids_in(folder: Path) -> list[int]:
    return [int(p.read_text()) for p in folder.glob("*_*_*")] if folder.exists() else []


async def tasks_of(fed: Federation, job_id: str, *, all_attempts: bool = True) -> list[common_pb2.TaskView]:
    answer = await fed.client(GUEST).QueryTasks(
        client_pb2.QueryTasksRequest(job_id=job_id, all_attempts=all_attempts)
    )
    return list(answer.tasks)


async def submit_error(fed: Federation, document: str) -> tuple[ErrorCode, str, list]:
    with pytest.raises(grpc.RpcError) as caught:
        await fed.submit(GUEST, document)
    error = error_from_rpc(caught.value)
    return error.code, error.message, error.violations


async def test_scheduler_party_id_decides_who_schedules(tmp_path: Path) -> None:
    async with federation(tmp_path, [GUEST, HOST], scheduler=FAST) as fed:
        await fed.register_testkit()
        job_id = await fed.submit(
            GUEST, dag({"t": task("testkit_sleep", seconds=0.1)}, conf={"scheduler_party_id": HOST})
        )
        view = await fed.wait_job(GUEST, job_id)
        assert view.status == common_pb2.JOB_STATUS_SUCCESS
        assert view.scheduler_party_id == HOST and view.initiator_party_id == GUEST
        assert (await fed.nodes[HOST].store.get_job(job_id)).is_scheduler
        assert not (await fed.nodes[GUEST].store.get_job(job_id)).is_scheduler
        code, _, violations = await submit_error(
            fed, dag({"t": task("testkit_sleep")}, conf={"scheduler_party_id": "4242"})
        )
        assert code is ErrorCode.INVALID_DAG
        assert any(v.field == "dag.conf.scheduler_party_id" for v in violations), violations


async def test_priority_orders_waiting_jobs_on_a_one_job_budget(tmp_path: Path) -> None:
    async with federation(tmp_path, [GUEST, HOST], scheduler=FAST, resources=Resources(cores=4)) as fed:
        await fed.register_testkit()
        # The first job holds the budget until the test releases it, however long submitting takes.
        release = tmp_path / "release-first"
        first = await fed.submit(GUEST, dag({"t": task("testkit_metrics", steps=1, release=str(release))}))
        await assert_eventually(lambda: _running(fed, first), what="first job running")
        low = await fed.submit(GUEST, dag({"t": task("testkit_sleep", seconds=0.2)}, conf={"priority": 1}))
        high = await fed.submit(GUEST, dag({"t": task("testkit_sleep", seconds=0.2)}, conf={"priority": 9}))
        for waiting in (low, high):
            view = (await fed.client(GUEST).QueryJob(client_pb2.QueryJobRequest(job_id=waiting))).job
            assert view.status == common_pb2.JOB_STATUS_WAITING
        release.write_text("go")
        views = {job: await fed.wait_job(GUEST, job) for job in (first, low, high)}
        assert all(v.status == common_pb2.JOB_STATUS_SUCCESS for v in views.values())
        assert views[first].start_time_ms < views[high].start_time_ms < views[low].start_time_ms
        # One job at a time: each starts only after the one before it ended.
        assert views[high].start_time_ms >= views[first].end_time_ms
        assert views[low].start_time_ms >= views[high].end_time_ms
        assert await fed.nodes[GUEST].store.cores_in_use() == 0
        assert await fed.nodes[HOST].store.cores_in_use() == 0


async def test_a_job_that_cannot_start_does_not_block_the_jobs_behind_it(tmp_path: Path) -> None:
    async with federation(
        tmp_path, [GUEST, HOST, ARBITER], scheduler=FAST, resources=Resources(cores=8)
    ) as fed:
        await fed.register_testkit()
        checks = fed.nodes[HOST].job_checks
        checks.limits = replace(checks.limits, total_cores=4)
        # The busy job holds the host's cores until the test releases it (not for a fixed time).
        release = tmp_path / "release-busy"
        busy = await fed.submit(
            GUEST, dag({"t": task("testkit_metrics", steps=1, release=str(release))}, parties=(GUEST, HOST))
        )
        await assert_eventually(lambda: _running(fed, busy), what="first job running")
        blocked = await fed.submit(
            GUEST, dag({"t": task("testkit_sleep", seconds=0.1)}, parties=(GUEST, HOST), conf={"priority": 9})
        )
        behind = await fed.submit(
            GUEST,
            dag({"t": task("testkit_sleep", seconds=0.1)}, parties=(GUEST, ARBITER), conf={"priority": 1}),
        )
        behind_view = await fed.wait_job(GUEST, behind)
        blocked_now = (await fed.client(GUEST).QueryJob(client_pb2.QueryJobRequest(job_id=blocked))).job
        assert behind_view.status == common_pb2.JOB_STATUS_SUCCESS
        assert blocked_now.status == common_pb2.JOB_STATUS_WAITING
        assert "waiting for cores at party" in blocked_now.status_reason
        release.write_text("go")
        assert (await fed.wait_job(GUEST, blocked)).status == common_pb2.JOB_STATUS_SUCCESS


async def _running(fed: Federation, job_id: str) -> bool:
    view = (await fed.client(GUEST).QueryJob(client_pb2.QueryJobRequest(job_id=job_id))).job
    return view.status == common_pb2.JOB_STATUS_RUNNING


async def test_a_job_over_a_partys_core_budget_is_rejected_with_the_figures(tmp_path: Path) -> None:
    async with federation(tmp_path, [GUEST, HOST], scheduler=FAST) as fed:
        await fed.register_testkit()
        code, message, violations = await submit_error(
            fed, dag({"t": task("testkit_sleep")}, conf={"cores": 64})
        )
        assert code is ErrorCode.JOB_REJECTED
        assert "needs 64 cores at party 9999, which has 32 cores in all" in message
        assert {v.party_id for v in violations} == {GUEST, HOST}
        conf = {"task": {"engine_run": {"cores": 48}}}
        code, message, _ = await submit_error(fed, dag({"t": task("testkit_sleep")}, conf=conf))
        assert code is ErrorCode.JOB_REJECTED and "needs 48 cores" in message


async def test_job_cores_bound_how_many_of_its_tasks_run_at_once(tmp_path: Path) -> None:
    async with federation(tmp_path, [GUEST, HOST], scheduler=FAST) as fed:
        await fed.register_testkit()
        tasks = {f"t{i}": task("testkit_sleep", seconds=0.6) for i in range(4)}
        conf = {"cores": 4, "task": {"engine_run": {"cores": 2}}}
        job_id = await fed.submit(GUEST, dag(tasks, conf=conf))
        view = await fed.wait_job(GUEST, job_id)
        assert view.status == common_pb2.JOB_STATUS_SUCCESS
        spans = sorted((t.start_time_ms, t.end_time_ms) for t in view.tasks if t.party_id == GUEST)
        most = max(sum(1 for s, e in spans if s <= start < e) for start, _ in spans)
        assert most == 2


async def test_auto_retries_attempts_a_failing_task_retries_plus_one_times(tmp_path: Path) -> None:
    async with federation(tmp_path, [GUEST, HOST], scheduler=FAST) as fed:
        await fed.register_testkit()
        job_id = await fed.submit(
            GUEST, dag({"bad": task("testkit_fail", party=HOST, message="no luck")}, conf={"auto_retries": 2})
        )
        view = await fed.wait_job(GUEST, job_id)
        assert view.status == common_pb2.JOB_STATUS_FAILED
        assert "attempt 3" in view.status_reason and "no luck" in view.status_reason
        attempts = sorted({t.attempt for t in await tasks_of(fed, job_id)})
        assert attempts == [0, 1, 2]
        host_rows = sorted(
            (t for t in await tasks_of(fed, job_id) if t.party_id == HOST), key=lambda t: t.attempt
        )
        assert all(t.status == common_pb2.TASK_STATUS_FAILED and "no luck" in t.error for t in host_rows)
        # Backoff: each attempt starts at least the backoff delay after the previous one ended.
        for before, after in itertools.pairwise(host_rows):
            assert after.start_time_ms - before.end_time_ms >= 150


async def test_a_retry_that_succeeds_makes_the_job_succeed(tmp_path: Path) -> None:
    flag = tmp_path / "second-time-lucky"
    async with federation(tmp_path, [GUEST, HOST], scheduler=FAST) as fed:
        await fed.register_testkit()
        job_id = await fed.submit(
            GUEST,
            dag(
                {
                    "flaky": task("testkit_fail", unless_exists=str(flag)),
                    "after": task("testkit_sleep", ["flaky"], seconds=0.1),
                },
                conf={"auto_retries": 3},
            ),
        )

        async def failed_once() -> bool:
            return any(t.status == common_pb2.TASK_STATUS_FAILED for t in await tasks_of(fed, job_id))

        await assert_eventually(failed_once, what="first attempt failed")
        flag.write_text("now")
        view = await fed.wait_job(GUEST, job_id)
        assert view.status == common_pb2.JOB_STATUS_SUCCESS, view.status_reason


async def test_a_task_past_its_timeout_ends_timeout_everywhere_and_its_processes_are_gone(
    tmp_path: Path,
) -> None:
    pid_dir = tmp_path / "pids"
    async with federation(tmp_path, [GUEST, HOST], scheduler=FAST) as fed:
        await fed.register_testkit()
        job_id = await fed.submit(
            GUEST,
            dag(
                {"slow": task("testkit_sleep", seconds=60, pid_dir=str(pid_dir))},
                # Long enough for both task processes to start and write their pid files on a busy
                # machine (at a load of 12-16 on 2 cores, 2 s was sometimes not).
                conf={"task": {"timeout": 8}},
            ),
        )
        view = await fed.wait_job(GUEST, job_id)
        assert view.status == common_pb2.JOB_STATUS_TIMEOUT
        assert "timeout of 8s" in view.status_reason
        assert {(t.party_id, t.status) for t in view.tasks} == {
            (GUEST, common_pb2.TASK_STATUS_TIMEOUT),
            (HOST, common_pb2.TASK_STATUS_TIMEOUT),
        }
        pids = pids_in(pid_dir)
        assert len(pids) == 2
        await assert_eventually(_no_alive(pids), what="task processes gone")
        for node in fed.nodes.values():
            rows = await node.store.list_tasks(job_id)
            assert [r.party_status.value for r in rows] == ["timeout"]


def _no_alive(pids: list[int]):  # type: ignore[no-untyped-def]
    async def check() -> bool:
        return not any(alive(pid) for pid in pids)

    return check


async def test_stop_kills_the_task_processes_at_every_party(tmp_path: Path) -> None:
    pid_dir = tmp_path / "pids"
    async with federation(tmp_path, [GUEST, HOST], scheduler=FAST) as fed:
        await fed.register_testkit()
        job_id = await fed.submit(
            GUEST, dag({"slow": task("testkit_sleep", seconds=60, pid_dir=str(pid_dir))})
        )

        async def both_started() -> bool:
            return len(pids_in(pid_dir)) == 2

        await assert_eventually(both_started, what="task processes started")
        stopped = await fed.client(HOST).StopJob(client_pb2.StopJobRequest(job_id=job_id))
        assert stopped.status == common_pb2.JOB_STATUS_CANCELED
        await assert_eventually(_no_alive(pids_in(pid_dir)), what="task processes killed")
        for node in fed.nodes.values():
            assert (await node.store.get_job(job_id)).status.value == "canceled"
            assert await node.store.cores_in_use() == 0
            assert node.supervisor.running_keys() == []


async def test_an_unknown_provider_or_version_is_rejected_and_providers_are_listed(tmp_path: Path) -> None:
    async with federation(tmp_path, [GUEST, HOST], scheduler=FAST) as fed:
        await fed.register_testkit()
        for provider in ("fate:9.9.9@local", "nosuch:1.0@local"):
            code, message, violations = await submit_error(
                fed, dag({"t": task("testkit_sleep")}, conf={"task": {"provider": provider}})
            )
            assert code is ErrorCode.JOB_REJECTED and provider in message
            assert any(v.field == "dag.tasks.t.conf.provider" for v in violations)
        code, message, _ = await submit_error(
            fed, dag({"t": task("testkit_sleep")}, conf={"task": {"provider": "fate:2.2.0@local"}})
        )
        assert "has no component testkit_sleep" in message
        ok = dag({"t": task("testkit_sleep", seconds=0.1)}, conf={"task": {"provider": "testkit:1.0@local"}})
        assert (
            await fed.wait_job(GUEST, await fed.submit(GUEST, ok))
        ).status == common_pb2.JOB_STATUS_SUCCESS
        providers = (await fed.client(GUEST).QueryProvider(client_pb2.QueryProviderRequest())).providers
        names = {(p.name, p.version) for p in providers}
        assert ("fate", "2.2.0") in names and ("testkit", "1.0") in names
        fate = next(p for p in providers if p.name == "fate")
        assert {"reader", "psi"} <= set(fate.components) and fate.builtin


def with_inheritance(dag_yaml: str, job_id: str) -> str:
    block = f"    inheritance:\n      job_id: '{job_id}'\n      task_list: [reader_0]\n"
    return dag_yaml.replace("    scheduler_party_id: '9999'\n", "    scheduler_party_id: '9999'\n" + block)


async def test_inheritance_reuses_earlier_tasks_and_their_outputs(tmp_path: Path) -> None:
    async with federation(tmp_path, [GUEST, HOST], scheduler=FAST) as fed:
        await fed.upload_breast()
        psi = (DAGS / "psi.yaml").read_text()
        first = await fed.submit(GUEST, psi)
        assert (await fed.wait_job(GUEST, first)).status == common_pb2.JOB_STATUS_SUCCESS
        inherit = with_inheritance(psi, first)
        second = await fed.submit(GUEST, inherit)
        view = await fed.wait_job(GUEST, second)
        assert view.status == common_pb2.JOB_STATUS_SUCCESS, view.status_reason
        for pid, role in ((GUEST, "guest"), (HOST, "host")):
            job_dir = fed.nodes[pid].paths.jobs_dir / second / f"{role}_{pid}"
            assert not (job_dir / "reader_0").exists(), "the inherited task must not run again"
            assert (job_dir / "psi_0" / "0" / "outputs" / "output_data.csv").exists()
            outputs = await fed.nodes[pid].store.list_outputs(second, task_name="reader_0")
            assert [o.namespace for o in outputs] == [f"{first}_reader_0"]
        bad = with_inheritance(psi, "nosuchjob")
        code, message, violations = await submit_error(fed, bad)
        assert code is ErrorCode.JOB_REJECTED and "job nosuchjob is unknown" in message
        assert {v.party_id for v in violations} == {GUEST, HOST}


async def test_component_errors_carry_no_traceback_unless_asked(tmp_path: Path) -> None:
    async with federation(tmp_path, [GUEST, HOST], scheduler=FAST) as fed:
        await fed.register_testkit()
        # Only the guest crashes, so its traceback is always there (the host's task just succeeds).
        job_id = await fed.submit(GUEST, dag({"boom": task("testkit_crash", party=GUEST)}))
        view = await fed.wait_job(GUEST, job_id)
        assert view.status == common_pb2.JOB_STATUS_FAILED
        assert "testkit_crash: division by zero in crash component" in view.status_reason
        assert "Traceback" not in view.status_reason
        plain = await fed.client(GUEST).QueryTasks(client_pb2.QueryTasksRequest(job_id=job_id))
        assert all(not t.traceback for t in plain.tasks)
        detailed = await fed.client(GUEST).QueryTasks(
            client_pb2.QueryTasksRequest(job_id=job_id, traceback=True)
        )
        mine = [t for t in detailed.tasks if t.party_id == GUEST]
        assert mine and "ZeroDivisionError" in mine[0].traceback
        assert all(not t.traceback for t in detailed.tasks if t.party_id == HOST)
