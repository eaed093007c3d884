"""Store contract: the outbox of messages to other parties, written with the state change causing them
and kept until acknowledged (across a restart too); cores of ended jobs given back."""

from __future__ import annotations

import pytest

from fate_grpc.domain.status import JobStatus, TaskStatus
from fate_grpc.errors import ErrorCode, FateGrpcError
from fate_grpc.store.interface import Store
from fate_grpc.store.records import AttemptKey, OutboxMessage, TaskAttemptRecord

from .builders import job
from .conftest import StoreFactory


def message(message_id: str, party_id: str = "10000", rpc: str = "SyncJobStatus") -> OutboxMessage:
    return OutboxMessage(
        message_id=message_id, party_id=party_id, job_id="job-1", rpc=rpc, payload=message_id.encode()
    )


async def running_job(store: Store) -> None:
    await store.create_job(job("job-1"), [])
    await store.transition_job("job-1", expected=JobStatus.WAITING, to=JobStatus.RUNNING)


async def test_messages_written_with_a_job_transition_are_listed_in_order(store: Store) -> None:
    await running_job(store)
    sent = [message("a"), message("b", party_id="9999"), message("c")]

    await store.transition_job("job-1", expected=JobStatus.RUNNING, to=JobStatus.FAILED, outbox=sent)

    listed = await store.list_outbox()
    assert [(m.message_id, m.party_id, m.rpc, m.payload, m.attempts) for m in listed] == [
        ("a", "10000", "SyncJobStatus", b"a", 0),
        ("b", "9999", "SyncJobStatus", b"b", 0),
        ("c", "10000", "SyncJobStatus", b"c", 0),
    ]
    assert [m.message_id for m in await store.list_outbox(party_id="10000")] == ["a", "c"]
    assert listed[0].seq < listed[1].seq < listed[2].seq


async def test_the_heads_are_each_partys_oldest_message_however_many_another_party_has(store: Store) -> None:
    piled = [message(f"away-{n}", party_id="away") for n in range(5)]
    await store.add_outbox_messages([*piled[:2], message("first-b", party_id="b"), *piled[2:]])
    await store.add_outbox_messages([message("second-b", party_id="b"), message("only-c", party_id="c")])

    heads = await store.list_outbox_heads()

    assert [m.message_id for m in heads] == ["away-0", "first-b", "only-c"]
    await store.ack_outbox_message("first-b")
    assert [m.message_id for m in await store.list_outbox_heads()] == ["away-0", "second-b", "only-c"]


@pytest.mark.parametrize(
    ("expected", "to", "code"),
    [
        (JobStatus.WAITING, JobStatus.FAILED, ErrorCode.CONFLICT),
        (JobStatus.RUNNING, JobStatus.WAITING, ErrorCode.INVALID_TRANSITION),
    ],
)
async def test_a_refused_job_transition_writes_no_message(
    store: Store, expected: JobStatus, to: JobStatus, code: ErrorCode
) -> None:
    await running_job(store)

    with pytest.raises(FateGrpcError) as caught:
        await store.transition_job("job-1", expected=expected, to=to, outbox=[message("a")])

    assert caught.value.code is code
    assert await store.list_outbox() == []


async def test_an_attempt_transition_writes_its_messages_only_when_it_happens(store: Store) -> None:
    await running_job(store)
    key = AttemptKey("job-1", "psi_0", 0)
    await store.add_attempts([TaskAttemptRecord(key=key, component="psi")], [])

    with pytest.raises(FateGrpcError):
        await store.transition_attempt(
            key, expected=TaskStatus.RUNNING, to=TaskStatus.FAILED, outbox=[message("lost")]
        )
    await store.transition_attempt(key, expected=TaskStatus.WAITING, to=TaskStatus.RUNNING)
    await store.transition_attempt(
        key, expected=TaskStatus.RUNNING, to=TaskStatus.FAILED, outbox=[message("kept", rpc="StopTask")]
    )

    assert [m.message_id for m in await store.list_outbox()] == ["kept"]


async def test_a_message_id_is_stored_once(store: Store) -> None:
    await store.add_outbox_messages([message("a")])

    with pytest.raises(FateGrpcError) as caught:
        await store.add_outbox_messages([message("b"), message("a")])

    assert caught.value.code is ErrorCode.ALREADY_EXISTS
    assert [m.message_id for m in await store.list_outbox()] == ["a"]


async def test_defer_counts_the_attempt_and_ack_forgets_the_message(store: Store) -> None:
    await store.add_outbox_messages([message("a"), message("b")])

    await store.defer_outbox_message("a", next_attempt_ms=5_000, error="connection refused")
    await store.defer_outbox_message("a", next_attempt_ms=9_000, error="did not answer in time")
    first = (await store.list_outbox())[0]
    assert (first.attempts, first.next_attempt_ms, first.last_error) == (2, 9_000, "did not answer in time")

    assert await store.ack_outbox_message("a") is True
    assert await store.ack_outbox_message("a") is False
    await store.defer_outbox_message("a", next_attempt_ms=1, error="late")
    assert [m.message_id for m in await store.list_outbox()] == ["b"]


async def test_drop_forgets_only_the_jobs_messages_of_those_rpcs(store: Store) -> None:
    other_job = OutboxMessage(
        message_id="o", party_id="10000", job_id="job-2", rpc="SyncJobStatus", payload=b""
    )
    await store.add_outbox_messages(
        [message("s"), message("r", rpc="ReturnResources"), message("t", rpc="StopTask"), other_job]
    )

    dropped = await store.drop_outbox_messages("job-1", ["SyncJobStatus", "ReturnResources"])

    assert dropped == 2
    assert [m.message_id for m in await store.list_outbox()] == ["t", "o"]
    assert await store.drop_outbox_messages("job-1", []) == 0


async def test_unacknowledged_messages_survive_a_restart(store_factory: StoreFactory) -> None:
    first = await store_factory()
    await first.add_outbox_messages([message("a"), message("b")])
    await first.defer_outbox_message("a", next_attempt_ms=7, error="refused")
    await first.ack_outbox_message("b")
    await first.close()

    reopened = await store_factory()

    [kept] = await reopened.list_outbox()
    assert (kept.message_id, kept.attempts, kept.next_attempt_ms, kept.payload) == ("a", 1, 7, b"a")


async def test_cores_of_ended_jobs_are_returned_and_others_kept(store: Store) -> None:
    for job_id in ("ended", "running"):
        await store.create_job(job(job_id), [])
        await store.apply_job_resources(job_id, 2, 8)
        await store.transition_job(job_id, expected=JobStatus.WAITING, to=JobStatus.RUNNING)
    await store.transition_job("ended", expected=JobStatus.RUNNING, to=JobStatus.FAILED)

    assert await store.return_resources_of_ended_jobs() == ["ended"]

    assert await store.cores_in_use() == 2
    assert (await store.get_job("running")).resources_held is True
    assert await store.return_resources_of_ended_jobs() == []
