"""Lifecycle commands: watch (a stream, not polling), rerun, list, clean, logs."""

from __future__ import annotations

import io
from pathlib import Path

import grpc
import pytest

from fate_grpc.cli.watch_view import follow, plain_lines, render
from fate_grpc.client.v1 import client_pb2
from fate_grpc.common.v1 import common_pb2
from fate_grpc.errors import ErrorCode
from fate_grpc.node.config import SchedulerSettings
from fate_grpc.wire.rpc_errors import error_from_rpc
from tests.lifecycle.dags import dag, task
from tests.support.nodes import DAGS, federation

GUEST, HOST = "9999", "10000"
FAST = SchedulerSettings(collect_after_s=2, sweep_interval_s=0.3, retry_backoff_s=0.2)
pytestmark = pytest.mark.timeout(120)


async def test_watch_streams_every_change_until_the_end(tmp_path: Path) -> None:
    async with federation(tmp_path, [GUEST, HOST], scheduler=FAST) as fed:
        await fed.register_testkit()
        job_id = await fed.submit(
            GUEST,
            dag({"a": task("testkit_sleep", seconds=0.5), "b": task("testkit_sleep", ["a"], seconds=0.5)}),
        )
        # Watch at the host: its node relays the scheduler's stream.
        views = [
            answer.job
            async for answer in fed.client(HOST).WatchJob(
                client_pb2.WatchJobRequest(job_id=job_id), timeout=60
            )
        ]
        assert views[-1].status == common_pb2.JOB_STATUS_SUCCESS
        assert all(v.status != common_pb2.JOB_STATUS_SUCCESS for v in views[:-1])
        progresses = [
            t.progress for v in views for t in v.tasks if t.task_name == "a" and t.party_id == GUEST
        ]
        assert progresses == sorted(progresses) and 0 < max(progresses) <= 100
        assert any(0 < p < 100 for p in progresses), "progress is shown while the task runs"
        # Rendering: the terminal view has a row per task and party, plain lines name each change.
        text = io.StringIO()
        follow(iter(views), text, live=False)
        assert f"job {job_id} success 100%" in text.getvalue()
        assert "a attempt 0 at guest 9999: running" in text.getvalue()
        assert plain_lines(views[-1], views[-1]) == []
        assert render(views[-1]) is not None


async def test_rerun_gives_new_attempts_to_failed_tasks_and_what_depends_on_them(tmp_path: Path) -> None:
    flag = tmp_path / "fixed"
    async with federation(tmp_path, [GUEST, HOST], scheduler=FAST) as fed:
        await fed.register_testkit()
        job_id = await fed.submit(
            GUEST,
            dag(
                {
                    "ok": task("testkit_sleep", seconds=0.1),
                    "bad": task("testkit_fail", ["ok"], unless_exists=str(flag)),
                    "after": task("testkit_sleep", ["bad"], seconds=0.1),
                }
            ),
        )
        assert (await fed.wait_job(GUEST, job_id)).status == common_pb2.JOB_STATUS_FAILED
        with pytest.raises(grpc.RpcError):
            await fed.client(GUEST).CleanJob(client_pb2.CleanJobRequest(job_id="nosuch"))
        flag.write_text("yes")
        rerun = await fed.client(HOST).RerunJob(client_pb2.RerunJobRequest(job_id=job_id))
        assert list(rerun.tasks) == ["bad", "after"]
        view = await fed.wait_job(GUEST, job_id)
        assert view.status == common_pb2.JOB_STATUS_SUCCESS, view.status_reason
        attempts = {(t.task_name, t.attempt) for t in view.tasks}
        assert attempts == {("ok", 0), ("bad", 1), ("after", 1)}
        with pytest.raises(grpc.RpcError) as caught:
            await fed.client(GUEST).RerunJob(client_pb2.RerunJobRequest(job_id=job_id))
        assert error_from_rpc(caught.value).code is ErrorCode.INVALID_TRANSITION


async def test_list_clean_and_logs(tmp_path: Path) -> None:
    async with federation(tmp_path, [GUEST, HOST], scheduler=FAST) as fed:
        await fed.upload_breast()
        job_id = await fed.submit(GUEST, (DAGS / "psi.yaml").read_text())
        assert (await fed.wait_job(GUEST, job_id)).status == common_pb2.JOB_STATUS_SUCCESS

        listed = await fed.client(HOST).ListJobs(client_pb2.ListJobsRequest(status="success", party_id=GUEST))
        assert [j.job_id for j in listed.jobs] == [job_id]
        assert not (await fed.client(HOST).ListJobs(client_pb2.ListJobsRequest(status="failed"))).jobs
        tasks = await fed.client(HOST).ListTasks(client_pb2.ListTasksRequest(job_id=job_id, limit=10))
        assert {(t.task_name, t.party_id) for t in tasks.tasks} == {("reader_0", HOST), ("psi_0", HOST)}

        parts = [p async for p in fed.client(GUEST).GetJobLog(client_pb2.GetJobLogRequest(job_id=job_id))]
        sources = {p.source for p in parts}
        assert "scheduler" in sources and "psi_0 attempt 0 guest 9999" in sources
        scheduler_lines = [line for p in parts if p.source == "scheduler" for line in p.lines]
        assert any("job ended success" in line for line in scheduler_lines)
        psi = [
            p
            async for p in fed.client(HOST).GetJobLog(
                client_pb2.GetJobLogRequest(job_id=job_id, task_name="psi_0")
            )
        ]
        assert {p.source for p in psi} == {"psi_0 attempt 0 host 10000"}
        assert any("intersect" in line for p in psi for line in p.lines)

        output_files = [
            Path((await node.store.get_table(o.namespace, o.name)).path)
            for node in fed.nodes.values()
            for o in await node.store.list_outputs(job_id)
        ]
        assert output_files and all(f.exists() for f in output_files)
        cleaned = await fed.client(HOST).CleanJob(client_pb2.CleanJobRequest(job_id=job_id))
        assert sorted(cleaned.cleaned_party_ids) == [HOST, GUEST]
        for node in fed.nodes.values():
            assert await node.store.find_job(job_id) is None
            assert not (node.paths.jobs_dir / job_id).exists()
        assert not any(f.exists() for f in output_files)
        # The uploaded tables are untouched.
        assert await fed.nodes[GUEST].store.find_table("experiment", "breast_hetero_guest") is not None
