"""A party the scheduler cannot reach is waited for up to timeouts.party_unreachable_s, and shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from fate_grpc.client.v1 import client_pb2
from fate_grpc.common.v1 import common_pb2
from fate_grpc.node.config import SchedulerSettings, Timeouts
from tests.lifecycle.dags import dag, task
from tests.rpc.helpers import closed_port
from tests.support.nodes import Federation, assert_eventually, federation

GUEST, HOST = "9999", "10000"
# Silent tasks are checked every half second, so the old rule (3 failed checks) would fail a job in
# about 1.5 s; the tolerance here is far longer.
QUICK_CHECKS = SchedulerSettings(collect_after_s=0.5, sweep_interval_s=0.2)
pytestmark = pytest.mark.timeout(120)


def timeouts(party_unreachable_s: float) -> Timeouts:
    return Timeouts(
        rpc_s=5, job_create_s=5, report_retry_s=5, task_receive_s=60, party_unreachable_s=party_unreachable_s
    )


async def query(fed: Federation, job_id: str) -> common_pb2.JobView:
    answer = await fed.client(GUEST).QueryJob(client_pb2.QueryJobRequest(job_id=job_id), timeout=10)
    return answer.job


def party(view: common_pb2.JobView, party_id: str) -> common_pb2.PartyJobView:
    return next(p for p in view.parties if p.party_id == party_id)


def cut(fed: Federation) -> str:
    """A partition between the scheduler and the host, both ways (as when the host's node is stopped:
    its progress reports do not arrive either); returns the address the scheduler now tries."""
    address = f"127.0.0.1:{closed_port()}"
    fed.nodes[GUEST].gateway.set_route(HOST, address)
    fed.nodes[HOST].gateway.set_route(GUEST, f"127.0.0.1:{closed_port()}")
    return address


def heal(fed: Federation) -> None:
    fed.nodes[GUEST].gateway.set_route(HOST, fed.address(HOST))
    fed.nodes[HOST].gateway.set_route(GUEST, fed.address(GUEST))


async def start_sleeping(fed: Federation, seconds: float) -> str:
    """A job whose one task sleeps at both parties; returns once the host's row runs at the scheduler."""
    await fed.register_testkit()
    job_id = await fed.submit(GUEST, dag({"nap": task("testkit_sleep", seconds=seconds)}))

    async def host_runs() -> bool:
        view = await query(fed, job_id)
        return any(t.party_id == HOST and t.status == common_pb2.TASK_STATUS_RUNNING for t in view.tasks)

    await assert_eventually(host_runs, timeout_s=60, what="the task runs at the host")
    return job_id


async def test_a_party_away_for_many_checks_but_less_than_the_tolerance_does_not_fail_the_job(
    tmp_path: Path,
) -> None:
    async with federation(
        tmp_path, [GUEST, HOST], scheduler=QUICK_CHECKS, timeouts=timeouts(party_unreachable_s=120)
    ) as fed:
        guest = fed.nodes[GUEST]
        job_id = await start_sleeping(fed, seconds=10)
        address = cut(fed)
        seen: list[common_pb2.JobView] = []

        async def host_missed_more_than_three_checks() -> bool:
            away = guest.scheduler.reachability.away(job_id).get(HOST)
            seen.append(await query(fed, job_id))
            return away is not None and away.failed_checks > 3

        await assert_eventually(host_missed_more_than_three_checks, timeout_s=30, what="4 unanswered checks")
        shown = seen[-1]
        heal(fed)

        async def host_shown_reachable_again() -> bool:
            return party(await query(fed, job_id), HOST).unreachable_since_ms == 0

        await assert_eventually(host_shown_reachable_again, timeout_s=30, what="the host answers again")
        view = await fed.wait_job(GUEST, job_id, timeout_s=60)

        assert view.status == common_pb2.JOB_STATUS_SUCCESS, view.status_reason
        assert shown.status == common_pb2.JOB_STATUS_RUNNING
        assert party(shown, HOST).unreachable_since_ms > 0
        assert party(shown, HOST).unreachable_reason.startswith(f"{address}: ")
        assert party(shown, GUEST).unreachable_since_ms == 0
        assert f"party {HOST} at {address} unreachable since {party(shown, HOST).unreachable_since_ms}" in (
            shown.status_reason
        )
        assert "the job fails after 120s" in shown.status_reason
        assert view.status_reason == ""


async def test_a_party_away_longer_than_the_tolerance_fails_the_job_naming_it(tmp_path: Path) -> None:
    async with federation(
        tmp_path, [GUEST, HOST], scheduler=QUICK_CHECKS, timeouts=timeouts(party_unreachable_s=1.5)
    ) as fed:
        job_id = await start_sleeping(fed, seconds=60)
        address = cut(fed)

        view = await fed.wait_job(GUEST, job_id, timeout_s=60)
        heal(fed)  # so that the host hears of the end

        assert view.status == common_pb2.JOB_STATUS_FAILED
        assert f"host {HOST} at {address} has not answered the scheduler for" in view.status_reason
        assert "(more than timeouts.party_unreachable_s)" in view.status_reason
        assert all(p.unreachable_since_ms == 0 for p in view.parties)
