"""Every party converges: what ends a job or a task at another party is kept in the sender's outbox and
sent until that party acknowledges it, however long the party is away."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import anyio
import grpc
import pytest

from fate_grpc.client.v1 import client_pb2
from fate_grpc.common.v1 import common_pb2
from fate_grpc.control.v1 import control_pb2, control_pb2_grpc
from fate_grpc.domain.status import TASK_END_STATUSES, JobStatus, TaskStatus
from fate_grpc.errors import ErrorCode, FateGrpcError
from fate_grpc.node.app import Node
from fate_grpc.scheduler.outbox import (
    Delivery,
    delivery_of_answer,
    delivery_of_error,
    new_message,
    retry_delay_s,
)
from fate_grpc.security.identity import hash_token, new_token
from fate_grpc.store.records import TokenRecord
from fate_grpc.transfer.mailbox import MailKey
from tests.rpc.helpers import PSI_YAML, as_party, closed_port, create_job_at, rpc_error
from tests.support.nodes import Federation, assert_eventually, federation, node_config

GUEST_FIRST_SIGN = "psi.guest_first_sign"


# -- the outbox's rules ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("outcome", "delivery"),
    [
        (common_pb2.SYNC_OUTCOME_APPLIED, Delivery.ACKNOWLEDGED),
        (common_pb2.SYNC_OUTCOME_DUPLICATE, Delivery.ACKNOWLEDGED),
        (common_pb2.SYNC_OUTCOME_STALE, Delivery.ACKNOWLEDGED),
        (common_pb2.SYNC_OUTCOME_REJECTED, Delivery.REFUSED),
    ],
)
def test_idempotent_answers_acknowledge_and_a_rejection_refuses(outcome: int, delivery: Delivery) -> None:
    assert delivery_of_answer(control_pb2.SyncJobStatusResponse(outcome=outcome)) is delivery


def test_answers_without_an_outcome_acknowledge() -> None:
    assert delivery_of_answer(control_pb2.ReturnResourcesResponse(returned=False)) is Delivery.ACKNOWLEDGED


@pytest.mark.parametrize(
    ("code", "delivery"),
    [
        (ErrorCode.PARTY_UNAVAILABLE, Delivery.RETRY),
        (ErrorCode.DEADLINE_EXCEEDED, Delivery.RETRY),
        (ErrorCode.RESOURCE_EXHAUSTED, Delivery.RETRY),
        (ErrorCode.NOT_FOUND, Delivery.REFUSED),
        (ErrorCode.PERMISSION_DENIED, Delivery.REFUSED),
        (ErrorCode.INVALID_ARGUMENT, Delivery.REFUSED),
    ],
)
def test_only_failures_that_say_nothing_of_the_message_are_retried(
    code: ErrorCode, delivery: Delivery
) -> None:
    assert delivery_of_error(FateGrpcError(code, "x")) is delivery


def test_backoff_doubles_up_to_its_ceiling_and_jitter_spreads_it_over_the_upper_half() -> None:
    delays = [retry_delay_s(n, base_s=0.2, max_s=3.0, jitter=1.0) for n in range(1, 7)]
    assert delays == pytest.approx([0.2, 0.4, 0.8, 1.6, 3.0, 3.0])
    assert retry_delay_s(3, base_s=0.2, max_s=3.0, jitter=0.0) == pytest.approx(0.4)
    assert retry_delay_s(10_000, base_s=0.2, max_s=3.0, jitter=0.5) == pytest.approx(2.25)


def test_a_message_carries_only_requests_of_its_rpc() -> None:
    with pytest.raises(ValueError, match="no outbox message"):
        new_message("a", "j", "SyncJobStatus", control_pb2.ReturnResourcesRequest(job_id="j"))


# -- across nodes ----------------------------------------------------------------------------------
async def job_status(node: Node, job_id: str) -> JobStatus:
    return (await node.store.get_job(job_id)).status


async def start_psi_mid_protocol(fed: Federation) -> str:
    """Submit the psi job; return once the guest's psi_0 has sent its first message to the host."""
    guest, host = fed.nodes["9999"], fed.nodes["10000"]
    answer = await fed.client("9999").SubmitJob(client_pb2.SubmitJobRequest(dag_yaml=PSI_YAML), timeout=30)
    job_id = answer.job_id
    first_sign = MailKey(job_id, "psi_0", 0, GUEST_FIRST_SIGN, "guest", "9999", "host", "10000")

    async def psi_is_mid_protocol() -> bool:
        running = {k.task_name for k in guest.supervisor.running_keys()}
        return "psi_0" in running and host.mailbox.is_known(first_sign)

    await assert_eventually(psi_is_mid_protocol, timeout_s=60, what="psi_0 sent its first message")
    return job_id


async def test_a_participant_unreachable_when_the_job_ends_converges_when_it_is_back(tmp_path: Path) -> None:
    async with federation(tmp_path, ["9999", "10000"]) as fed:
        await fed.upload_breast()
        guest, host = fed.nodes["9999"], fed.nodes["10000"]
        job_id = await start_psi_mid_protocol(fed)
        assert await host.store.cores_in_use() > 0
        # The scheduler can no longer reach the host (the host can still reach the scheduler).
        guest.gateway.set_route("10000", f"127.0.0.1:{closed_port()}")

        stopped = await fed.client("9999").StopJob(client_pb2.StopJobRequest(job_id=job_id), timeout=30)

        assert stopped.status == common_pb2.JOB_STATUS_CANCELED
        assert await job_status(host, job_id) is JobStatus.RUNNING
        pending = await guest.store.list_outbox(party_id="10000")
        assert {"SyncJobStatus", "ReturnResources"} <= {m.rpc for m in pending}

        guest.gateway.set_route("10000", host.addresses.peer)

        async def host_agrees_and_is_free() -> bool:
            return (
                await job_status(host, job_id) is JobStatus.CANCELED
                and await host.store.cores_in_use() == 0
                and not await guest.store.list_outbox()
            )

        await assert_eventually(host_agrees_and_is_free, timeout_s=30, what="the host learnt the job's end")
        psi_rows = await host.store.list_tasks(job_id, task_name="psi_0")
        # The guest may have sent its last message before the stop reached it, and the host's psi may
        # then finish: success is as legitimate an end there as canceled; it must not stay open.
        assert all(r.party_status in TASK_END_STATUSES for r in psi_rows)
        assert all(r.status in TASK_END_STATUSES for r in psi_rows)

        async def no_task_process_left() -> bool:
            return not host.supervisor.running_keys()

        await assert_eventually(no_task_process_left, what="the host's psi process ended")


async def test_a_message_the_party_refuses_is_dropped_and_the_rest_delivered(tmp_path: Path) -> None:
    async with federation(tmp_path, ["9999", "10000"]) as fed:
        guest = fed.nodes["9999"]
        unknown = control_pb2.SyncJobStatusRequest(job_id="no_such_job", status=common_pb2.JOB_STATUS_FAILED)
        await guest.store.add_outbox_messages([new_message("10000", "no_such_job", "SyncJobStatus", unknown)])

        guest.outbox.wake()

        async def outbox_empty() -> bool:
            return not await guest.store.list_outbox()

        await assert_eventually(outbox_empty, what="the refused message was dropped")


async def test_an_operator_force_ends_a_job_at_one_party_when_its_scheduler_never_answers(
    tmp_path: Path,
) -> None:
    async with federation(tmp_path, ["9999", "10000"]) as fed:
        await fed.upload_breast()
        guest, host = fed.nodes["9999"], fed.nodes["10000"]
        job_id = await start_psi_mid_protocol(fed)
        guest.gateway.set_route("10000", f"127.0.0.1:{closed_port()}")
        await fed.client("9999").StopJob(client_pb2.StopJobRequest(job_id=job_id), timeout=30)
        assert await job_status(host, job_id) is JobStatus.RUNNING

        answer = await fed.client("10000").StopJob(
            client_pb2.StopJobRequest(job_id=job_id, force=True), timeout=30
        )

        assert answer.status == common_pb2.JOB_STATUS_CANCELED
        assert answer.forced.party_id == "10000"
        assert answer.forced.previous_status == common_pb2.JOB_STATUS_RUNNING
        assert answer.forced.cores_returned is True
        assert await job_status(host, job_id) is JobStatus.CANCELED
        assert await host.store.cores_in_use() == 0
        rows = await host.store.list_tasks(job_id)
        assert all(r.status not in (TaskStatus.WAITING, TaskStatus.RUNNING) for r in rows)
        assert all(r.party_status not in (TaskStatus.WAITING, TaskStatus.RUNNING) for r in rows)

        async def no_task_process_left() -> bool:
            # The supervisor forgets a process once its exit has been handled, just after the stop.
            return not host.supervisor.running_keys()

        await assert_eventually(no_task_process_left, timeout_s=30, what="the host's task process ended")
        # The scheduler's view is not touched: the job ended canceled there already.
        assert await job_status(guest, job_id) is JobStatus.CANCELED


class RecordingParty(control_pb2_grpc.ControlServiceServicer):
    """A party's control API that records the job statuses it is told and accepts them."""

    def __init__(self) -> None:
        self.synced: list[control_pb2.SyncJobStatusRequest] = []
        self.arrived = asyncio.Event()

    async def SyncJobStatus(self, request, context):  # type: ignore[no-untyped-def,override]
        self.synced.append(request)
        self.arrived.set()
        return control_pb2.SyncJobStatusResponse(outcome=common_pb2.SYNC_OUTCOME_APPLIED)


async def test_a_restarted_node_sends_what_its_outbox_still_holds(tmp_path: Path) -> None:
    party = RecordingParty()
    server = grpc.aio.server()
    control_pb2_grpc.add_ControlServiceServicer_to_server(party, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    final = control_pb2.SyncJobStatusRequest(job_id="job1", status=common_pb2.JOB_STATUS_FAILED, reason="r")
    away = node_config("9999", tmp_path / "node", routes={"10000": f"127.0.0.1:{closed_port()}"})
    try:
        async with anyio.create_task_group() as group:
            node = Node(away)
            await node.start(group)
            message = new_message("10000", "job1", "SyncJobStatus", final)
            await node.store.add_outbox_messages([message])
            await node.outbox.deliver([message])
            [undelivered] = await node.store.list_outbox()
            assert undelivered.attempts >= 1
            assert "unreachable" in undelivered.last_error
            await node.shutdown()

            restarted = Node(dataclasses.replace(away, routes={"10000": f"127.0.0.1:{port}"}))
            await restarted.start(group)
            try:
                with anyio.fail_after(30):
                    await party.arrived.wait()

                async def outbox_empty() -> bool:
                    return not await restarted.store.list_outbox()

                await assert_eventually(outbox_empty, what="the delivered message was forgotten")
            finally:
                await restarted.shutdown()
                group.cancel_scope.cancel()
    finally:
        await server.stop(None)
    assert party.synced == [final]


async def test_a_clean_that_misses_an_absent_party_is_done_there_when_it_is_back(tmp_path: Path) -> None:
    async with federation(tmp_path, ["9999", "10000"]) as fed:
        await fed.upload_breast()
        guest, host = fed.nodes["9999"], fed.nodes["10000"]
        job_id = await start_psi_mid_protocol(fed)
        await fed.client("9999").StopJob(client_pb2.StopJobRequest(job_id=job_id), timeout=30)
        guest.gateway.set_route("10000", f"127.0.0.1:{closed_port()}")

        error = await rpc_error(
            fed.client("9999").CleanJob(client_pb2.CleanJobRequest(job_id=job_id), timeout=30)
        )

        assert error.code is ErrorCode.PARTY_UNAVAILABLE
        assert "cleaned at parties 9999 but not everywhere" in error.message
        assert "could not be reached clean it when they are back" in error.hint
        assert await host.store.find_job(job_id) is not None
        guest.gateway.set_route("10000", host.addresses.peer)

        async def cleaned_at_host() -> bool:
            return await host.store.find_job(job_id) is None

        await assert_eventually(cleaned_at_host, timeout_s=30, what="the host cleaned the job")


async def test_only_an_admin_may_force_end_a_job_and_a_waiting_job_ends_canceled(tmp_path: Path) -> None:
    async with federation(tmp_path, ["9999", "10000"]) as fed:
        await fed.upload_breast()
        host = fed.nodes["10000"]
        await create_job_at(fed, "10000", "job1")
        bob = new_token()
        await host.store.put_token(TokenRecord(token_hash=hash_token(bob), name="bob", is_admin=False))
        force = client_pb2.StopJobRequest(job_id="job1", force=True)

        refused = await rpc_error(
            fed.client("10000").StopJob(force, metadata=(("authorization", f"Bearer {bob}"),), timeout=10)
        )

        assert refused.code is ErrorCode.PERMISSION_DENIED
        assert await job_status(host, "job1") is JobStatus.WAITING
        answer = await fed.client("10000").StopJob(force, timeout=10)
        assert answer.status == common_pb2.JOB_STATUS_CANCELED
        assert answer.forced.previous_status == common_pb2.JOB_STATUS_WAITING
        assert (answer.forced.killed_processes, answer.forced.cores_returned) == (0, False)
        assert answer.forced.ended_tasks == len(await host.store.list_tasks("job1"))
        assert all(r.party_status is TaskStatus.CANCELED for r in await host.store.list_tasks("job1"))
        assert "ended by force at party 10000" in (await host.store.get_job("job1")).status_reason


async def test_a_party_that_missed_running_takes_the_jobs_success_all_the_same(tmp_path: Path) -> None:
    async with federation(tmp_path, ["9999", "10000"]) as fed:
        await fed.upload_breast()
        host = fed.nodes["10000"]
        await create_job_at(fed, "10000", "job1")
        await host.store.apply_job_resources("job1", 4, 32)
        success = control_pb2.SyncJobStatusRequest(
            job_id="job1", status=common_pb2.JOB_STATUS_SUCCESS, progress=100
        )

        answer = await fed.control("10000").SyncJobStatus(success, metadata=as_party("9999"), timeout=10)

        assert answer.outcome == common_pb2.SYNC_OUTCOME_APPLIED
        job = await host.store.get_job("job1")
        assert (job.status, job.resources_held) == (JobStatus.SUCCESS, False)
        assert job.start_time_ms > 0


async def test_a_participant_asks_the_scheduler_how_its_unfinished_jobs_stand(tmp_path: Path) -> None:
    async with federation(tmp_path, ["9999", "10000"]) as fed:
        await fed.upload_breast()
        guest, host = fed.nodes["9999"], fed.nodes["10000"]
        job_id = await start_psi_mid_protocol(fed)
        guest.gateway.set_route("10000", f"127.0.0.1:{closed_port()}")
        await fed.client("9999").StopJob(client_pb2.StopJobRequest(job_id=job_id), timeout=30)
        # As if the scheduler had lost what it had to tell the host (e.g. a node from before the outbox).
        for pending in await guest.store.list_outbox():
            await guest.store.ack_outbox_message(pending.message_id)
        assert await job_status(host, job_id) is JobStatus.RUNNING

        ended = await host.participant.catch_up_with_schedulers()

        assert ended == [job_id]
        assert await job_status(host, job_id) is JobStatus.CANCELED
        assert await host.store.cores_in_use() == 0
        assert await host.participant.catch_up_with_schedulers() == []


async def test_a_rerun_drops_the_end_it_had_not_delivered_and_the_rerun_succeeds(tmp_path: Path) -> None:
    async with federation(tmp_path, ["9999", "10000"]) as fed:
        await fed.upload_breast()
        guest, host = fed.nodes["9999"], fed.nodes["10000"]
        job_id = await start_psi_mid_protocol(fed)
        guest.gateway.set_route("10000", f"127.0.0.1:{closed_port()}")
        await fed.client("9999").StopJob(client_pb2.StopJobRequest(job_id=job_id), timeout=30)

        await fed.client("9999").RerunJob(client_pb2.RerunJobRequest(job_id=job_id), timeout=30)

        left = {m.rpc for m in await guest.store.list_outbox(party_id="10000")}
        assert not left & {"SyncJobStatus", "ReturnResources"}
        guest.gateway.set_route("10000", host.addresses.peer)
        view = await fed.wait_job("9999", job_id, timeout_s=120)
        assert view.status == common_pb2.JOB_STATUS_SUCCESS

        async def host_agrees() -> bool:
            return await job_status(host, job_id) is JobStatus.SUCCESS and not await guest.store.list_outbox()

        await assert_eventually(host_agrees, timeout_s=30, what="the host saw the rerun succeed")
        assert await host.store.cores_in_use() == 0
