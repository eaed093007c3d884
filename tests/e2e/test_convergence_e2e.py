"""Every party converges across node processes: a participant frozen (SIGSTOP) while its job ends learns
the end once it runs again, gives its cores back, and the next job runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fate_grpc.cli.client import FlowClient
from fate_grpc.cli.local_cluster import LocalCluster
from fate_grpc.client.v1 import client_pb2
from fate_grpc.common.v1 import common_pb2
from tests.lifecycle.dags import dag, task
from tests.support.nodes import ROOT

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="needs SIGSTOP/SIGCONT"),
]
GUEST, HOST = "9999", "10000"
# One job at a time: a job whose cores stay held at a party blocks every later one there.
CONF = {
    "resources": {"cores": 4},
    "timeouts": {"rpc_s": 2},
    "scheduler": {"sweep_interval_s": 0.5, "collect_after_s": 1},
}
DEADLINE_S = 60.0
END = {
    common_pb2.JOB_STATUS_SUCCESS,
    common_pb2.JOB_STATUS_FAILED,
    common_pb2.JOB_STATUS_CANCELED,
    common_pb2.JOB_STATUS_TIMEOUT,
}


def wait_until(check: Callable[[], bool], what: str) -> None:
    """Poll the nodes' answers until `check` holds (the nodes' own progress is what is waited on)."""
    deadline = time.monotonic() + DEADLINE_S
    while not check():
        assert time.monotonic() < deadline, f"not true after {DEADLINE_S}s: {what}"
        time.sleep(0.1)


def local_status(client: FlowClient, job_id: str) -> int:
    """The job's status as the party's own node holds it (not the scheduler's view)."""
    [view] = client.list_jobs(job_id=job_id).jobs
    return view.status


def register_testkit(client: FlowClient) -> None:
    client.register_provider(
        client_pb2.ProviderInfo(
            name="testkit",
            version="1.0",
            device="local",
            module="tests.support.test_components",
            path=str(ROOT),
        )
    )


def test_a_participant_frozen_while_its_job_ends_agrees_after_it_resumes(tmp_path: Path) -> None:
    with (
        LocalCluster(tmp_path, [GUEST, HOST], extra_conf=CONF) as cluster,
        cluster.client(GUEST) as guest,
        cluster.client(HOST) as host,
    ):
        register_testkit(guest)
        register_testkit(host)
        job_id = guest.submit_job(dag({"slow": task("testkit_sleep", seconds=120)})).job_id
        wait_until(
            lambda: local_status(host, job_id) == common_pb2.JOB_STATUS_RUNNING, "the host runs the job"
        )
        host_node = cluster.parties[HOST].process
        assert host_node is not None

        os.kill(host_node.pid, signal.SIGSTOP)
        try:
            stopped = guest.stop_job(job_id)
        finally:
            os.kill(host_node.pid, signal.SIGCONT)

        assert stopped.status == common_pb2.JOB_STATUS_CANCELED
        wait_until(
            lambda: local_status(host, job_id) == common_pb2.JOB_STATUS_CANCELED, "the host learnt the end"
        )
        assert local_status(guest, job_id) == common_pb2.JOB_STATUS_CANCELED
        assert guest.query_job(job_id).job.status == common_pb2.JOB_STATUS_CANCELED

        # The host's cores are free again: a new job (which needs all of them) runs to success.
        next_id = guest.submit_job(dag({"quick": task("testkit_sleep", seconds=0.1)})).job_id
        wait_until(lambda: guest.query_job(next_id).job.status in END, "the next job ended")
        assert guest.query_job(next_id).job.status == common_pb2.JOB_STATUS_SUCCESS
        assert local_status(host, next_id) == common_pb2.JOB_STATUS_SUCCESS


def test_a_participant_killed_and_restarted_mid_job_resumes_it_agrees_and_frees_its_cores(
    tmp_path: Path,
) -> None:
    release = tmp_path / "release"
    with (
        LocalCluster(tmp_path, [GUEST, HOST], extra_conf=CONF) as cluster,
        cluster.client(GUEST) as guest,
        cluster.client(HOST) as host,
    ):
        register_testkit(guest)
        register_testkit(host)
        # The task runs at both parties until the release file exists.
        job_id = guest.submit_job(
            dag({"wait": task("testkit_metrics", steps=1, release=str(release))})
        ).job_id

        def runs_at_host(attempt: int) -> Callable[[], bool]:
            def check() -> bool:
                tasks = guest.query_tasks(job_id, all_attempts=True).tasks
                return any(
                    (t.party_id, t.attempt, t.status) == (HOST, attempt, common_pb2.TASK_STATUS_RUNNING)
                    for t in tasks
                )

            return check

        wait_until(runs_at_host(0), "the task runs at the host")
        host_node = cluster.parties[HOST].process
        assert host_node is not None

        host_node.kill()
        host_node.wait(timeout=10)
        cluster.start_party(HOST)
        cluster.wait_ready(HOST)

        # The attempt lost with the host is replaced at both parties; the job then completes.
        wait_until(
            lambda: any(runs_at_host(n)() for n in range(1, 5)), "a new attempt runs at the restarted host"
        )
        release.write_text("go")
        wait_until(lambda: guest.query_job(job_id).job.status in END, "the job ended at its scheduler")
        final = guest.query_job(job_id).job.status
        with cluster.client(HOST) as restarted:
            wait_until(lambda: local_status(restarted, job_id) == final, "the restarted host agrees")
            next_id = guest.submit_job(dag({"quick": task("testkit_sleep", seconds=0.1)})).job_id
            wait_until(lambda: guest.query_job(next_id).job.status in END, "the next job ended")
            assert guest.query_job(next_id).job.status == common_pb2.JOB_STATUS_SUCCESS
            assert local_status(restarted, next_id) == common_pb2.JOB_STATUS_SUCCESS
        assert final == common_pb2.JOB_STATUS_SUCCESS
        assert local_status(guest, job_id) == final


def flow(cluster: LocalCluster, party_id: str, *args: str) -> tuple[int, dict[str, Any]]:
    """Run the flow CLI against a party's node; returns its exit code and JSON answer."""
    command = [sys.executable, "-m", "fate_grpc.cli.flow_cli", *cluster.flow_options(party_id), *args]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    return done.returncode, json.loads(done.stdout)


def test_flow_job_stop_force_ends_a_job_at_one_party_while_its_scheduler_is_frozen(tmp_path: Path) -> None:
    with (
        LocalCluster(tmp_path, [GUEST, HOST], extra_conf=CONF) as cluster,
        cluster.client(GUEST) as guest,
        cluster.client(HOST) as host,
    ):
        register_testkit(guest)
        register_testkit(host)
        job_id = guest.submit_job(dag({"slow": task("testkit_sleep", seconds=120)})).job_id
        wait_until(
            lambda: local_status(host, job_id) == common_pb2.JOB_STATUS_RUNNING, "the host runs the job"
        )
        scheduler = cluster.parties[GUEST].process
        assert scheduler is not None

        os.kill(scheduler.pid, signal.SIGSTOP)
        try:
            code, answer = flow(cluster, HOST, "job", "stop", "-j", job_id, "--force")
            status_here = local_status(host, job_id)
        finally:
            os.kill(scheduler.pid, signal.SIGCONT)

        assert code == 0, answer
        assert answer["data"]["status"] == "canceled"
        forced = answer["data"]["forced"]
        assert (forced["party_id"], forced["previous_status"], forced["cores_returned"]) == (
            HOST,
            "running",
            True,
        )
        # Its one task there was stopped: by killing its process, or before the process had started.
        assert forced["killed_processes"] + forced["ended_tasks"] == 1
        assert status_here == common_pb2.JOB_STATUS_CANCELED
