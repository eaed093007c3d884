"""The transfer plane: the Mailbox on its own, and TransferService.PushObject between real nodes."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from fate_grpc.common.v1 import common_pb2
from fate_grpc.control.v1 import control_pb2
from fate_grpc.errors import ErrorCode, FateGrpcError
from fate_grpc.node.app import Node
from fate_grpc.transfer.mailbox import Mailbox, MailKey
from fate_grpc.transfer.v1 import transfer_pb2
from tests.rpc.helpers import as_party, create_job_at, rpc_error
from tests.support.nodes import DATA, Federation, federation

MIB = 1024 * 1024
JOB = "job_transfer_0001"


def mail_key(job_id: str = "job_a", tag: str = "psi.guest_first_sign", attempt: int = 0) -> MailKey:
    return MailKey(job_id, "psi_0", attempt, tag, "guest", "9999", "host", "10000")


async def stream(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def received_chunks(mailbox: Mailbox, key: MailKey, timeout_s: float = 5) -> list[bytes]:
    return [chunk async for chunk in mailbox.receive(key, timeout_s)]


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


# -- Mailbox ---------------------------------------------------------------------------------------


async def test_small_object_stays_in_memory_until_received(tmp_path: Path) -> None:
    mailbox = Mailbox(tmp_path, memory_budget_bytes=1024, chunk_bytes=64)
    key = mail_key()

    stored = await mailbox.deliver(key, 50, stream(b"a" * 20, b"b" * 30))

    assert stored
    assert mailbox.is_known(key)
    assert (mailbox.bytes_in_memory, mailbox.object_size(key)) == (50, 50)
    assert files_under(tmp_path) == []
    assert b"".join(await received_chunks(mailbox, key)) == b"a" * 20 + b"b" * 30
    assert mailbox.bytes_in_memory == 0


async def test_object_beyond_the_memory_budget_is_spilled_and_removed_once_received(tmp_path: Path) -> None:
    mailbox = Mailbox(tmp_path, memory_budget_bytes=16, chunk_bytes=64)
    key = mail_key()
    payload = bytes(range(40))

    stored = await mailbox.deliver(key, len(payload), stream(payload[:25], payload[25:]))

    spilled = files_under(tmp_path / "job_a")
    assert stored
    assert mailbox.bytes_in_memory == 0
    assert len(spilled) == 1
    assert spilled[0].read_bytes() == payload
    assert b"".join(await received_chunks(mailbox, key)) == payload
    assert not spilled[0].exists()


async def test_object_larger_than_a_chunk_is_spilled_and_read_back_in_chunks(tmp_path: Path) -> None:
    mailbox = Mailbox(tmp_path, memory_budget_bytes=MIB, chunk_bytes=8)
    key = mail_key()

    await mailbox.deliver(key, 20, stream(b"x" * 20))
    chunks = await received_chunks(mailbox, key)

    assert [len(c) for c in chunks] == [8, 8, 4]
    assert mailbox.bytes_in_memory == 0
    assert files_under(tmp_path) == []


async def test_empty_object_is_delivered_and_received(tmp_path: Path) -> None:
    mailbox = Mailbox(tmp_path, memory_budget_bytes=MIB, chunk_bytes=64)
    key = mail_key()

    stored = await mailbox.deliver(key, 0, stream())

    assert stored
    assert b"".join(await received_chunks(mailbox, key)) == b""


async def test_resend_is_dropped_and_its_stream_drained(tmp_path: Path) -> None:
    mailbox = Mailbox(tmp_path, memory_budget_bytes=MIB, chunk_bytes=64)
    key = mail_key()
    resent_parts: list[bytes] = []

    async def resend() -> AsyncIterator[bytes]:
        for part in (b"other", b"bytes"):
            resent_parts.append(part)
            yield part

    first = await mailbox.deliver(key, 5, stream(b"hello"))
    second = await mailbox.deliver(key, 10, resend())
    data = b"".join(await received_chunks(mailbox, key))
    after_receipt = await mailbox.deliver(key, 5, stream(b"again"))

    assert (first, second, after_receipt) == (True, False, False)
    assert resent_parts == [b"other", b"bytes"]
    assert data == b"hello"
    assert mailbox.bytes_in_memory == 0


@pytest.mark.parametrize("size", [10, 100], ids=["in-memory", "spilled"])
async def test_concurrent_duplicate_deliveries_store_one_copy(tmp_path: Path, size: int) -> None:
    mailbox = Mailbox(tmp_path, memory_budget_bytes=1000, chunk_bytes=50)
    key = mail_key()

    results = await asyncio.gather(*(mailbox.deliver(key, size, stream(b"z" * size)) for _ in range(3)))

    assert sorted(results) == [False, False, True]
    assert len(files_under(tmp_path)) == (0 if size <= 50 else 1)
    assert b"".join(await received_chunks(mailbox, key)) == b"z" * size
    assert files_under(tmp_path) == []


async def test_receiver_waiting_before_delivery_is_woken(tmp_path: Path) -> None:
    mailbox = Mailbox(tmp_path, memory_budget_bytes=MIB, chunk_bytes=64)
    key = mail_key()
    started = asyncio.Event()

    async def receiver() -> bytes:
        started.set()
        return b"".join(await received_chunks(mailbox, key))

    task = asyncio.create_task(receiver())
    await started.wait()
    waiting = not task.done()
    await mailbox.deliver(key, 3, stream(b"abc"))

    assert waiting
    assert await asyncio.wait_for(task, timeout=5) == b"abc"


async def test_receive_of_an_object_that_never_comes_times_out(tmp_path: Path) -> None:
    mailbox = Mailbox(tmp_path, memory_budget_bytes=MIB, chunk_bytes=64)

    with pytest.raises(FateGrpcError) as info:
        await received_chunks(mailbox, mail_key(tag="psi.host_indexer"), timeout_s=0.05)

    assert info.value.code is ErrorCode.DEADLINE_EXCEEDED
    assert info.value.fields == {"party_id": "9999"}
    assert "psi.host_indexer" in info.value.message


async def test_second_receive_of_the_same_object_is_a_conflict(tmp_path: Path) -> None:
    mailbox = Mailbox(tmp_path, memory_budget_bytes=MIB, chunk_bytes=64)
    key = mail_key()
    await mailbox.deliver(key, 1, stream(b"x"))
    await received_chunks(mailbox, key)

    with pytest.raises(FateGrpcError) as info:
        await received_chunks(mailbox, key)

    assert info.value.code is ErrorCode.CONFLICT


@pytest.mark.parametrize(
    ("declared", "parts", "field"),
    [
        (10, [b"x" * 4], "total_size"),
        (4, [b"x" * 10], "chunk"),
        (100, [b"x" * 50, b"x" * 20], "total_size"),
        (60, [b"x" * 50, b"x" * 50], "chunk"),
    ],
    ids=["truncated-in-memory", "overlong-in-memory", "truncated-spilled", "overlong-spilled"],
)
async def test_delivery_of_the_wrong_size_is_refused_and_leaves_nothing(
    tmp_path: Path, declared: int, parts: list[bytes], field: str
) -> None:
    mailbox = Mailbox(tmp_path, memory_budget_bytes=1000, chunk_bytes=50)
    key = mail_key()

    with pytest.raises(FateGrpcError) as info:
        await mailbox.deliver(key, declared, stream(*parts))

    assert info.value.code is ErrorCode.INVALID_ARGUMENT
    assert [v.field for v in info.value.violations] == [field]
    assert not mailbox.is_known(key)
    assert mailbox.bytes_in_memory == 0
    assert files_under(tmp_path) == []
    assert await mailbox.deliver(key, 3, stream(b"abc"))


async def test_drop_job_forgets_only_that_jobs_objects(tmp_path: Path) -> None:
    mailbox = Mailbox(tmp_path, memory_budget_bytes=100, chunk_bytes=50)
    small_a, big_a = mail_key("job_a", "small"), mail_key("job_a", "big")
    big_b = mail_key("job_b", "big")
    await mailbox.deliver(small_a, 10, stream(b"s" * 10))
    await mailbox.deliver(big_a, 80, stream(b"a" * 80))
    await mailbox.deliver(big_b, 80, stream(b"b" * 80))

    mailbox.drop_job("job_a")

    assert not (tmp_path / "job_a").exists()
    assert len(files_under(tmp_path / "job_b")) == 1
    assert mailbox.bytes_in_memory == 0
    assert not mailbox.is_known(small_a)
    assert not mailbox.is_known(big_a)
    assert b"".join(await received_chunks(mailbox, big_b)) == b"b" * 80


async def test_concurrent_deliveries_respect_the_memory_budget(tmp_path: Path) -> None:
    mailbox = Mailbox(tmp_path, memory_budget_bytes=100, chunk_bytes=100)
    gate = asyncio.Event()
    reading = [asyncio.Event(), asyncio.Event()]

    async def gated(index: int) -> AsyncIterator[bytes]:
        reading[index].set()
        await gate.wait()
        yield bytes([index]) * 80

    tasks = [asyncio.create_task(mailbox.deliver(mail_key(tag=f"t{i}"), 80, gated(i))) for i in (0, 1)]
    for event in reading:
        await event.wait()
    gate.set()
    await asyncio.gather(*tasks)

    assert mailbox.bytes_in_memory <= 100
    for i in (0, 1):
        assert b"".join(await received_chunks(mailbox, mail_key(tag=f"t{i}"))) == bytes([i]) * 80


# -- TransferService.PushObject between nodes ------------------------------------------------------


def object_key(tag: str) -> common_pb2.ObjectKey:
    return common_pb2.ObjectKey(
        job_id=JOB,
        task_name="psi_0",
        attempt=0,
        tag=tag,
        source=common_pb2.PartyRef(role="guest", party_id="9999"),
        destination=common_pb2.PartyRef(role="host", party_id="10000"),
    )


def host_mail_key(tag: str) -> MailKey:
    return MailKey(JOB, "psi_0", 0, tag, "guest", "9999", "host", "10000")


async def push_from_guest(fed: Federation, tag: str, payload: bytes) -> transfer_pb2.PushObjectResponse:
    """Push an object from the guest's node to the host's, as a guest task's send would be forwarded."""
    gateway = fed.nodes["9999"].gateway

    async def requests() -> AsyncIterator[transfer_pb2.PushObjectRequest]:
        yield transfer_pb2.PushObjectRequest(
            header=transfer_pb2.PushObjectHeader(key=object_key(tag), total_size=len(payload))
        )
        for start in range(0, len(payload), MIB):
            yield transfer_pb2.PushObjectRequest(chunk=payload[start : start + MIB])

    return await gateway.transfer("10000").PushObject(requests(), timeout=30, metadata=gateway.metadata())


async def host_with_job(fed: Federation) -> Node:
    await fed.upload("10000", DATA / "breast_hetero_host.csv", "breast_hetero_host")
    await create_job_at(fed, "10000", JOB)
    return fed.nodes["10000"]


async def test_push_object_streams_5_mib_to_the_receiver_and_drops_a_resend(tmp_path: Path) -> None:
    async with federation(tmp_path, ["9999", "10000"]) as fed:
        host = await host_with_job(fed)
        payload = random.Random(7).randbytes(5 * MIB)

        first = await push_from_guest(fed, "psi.guest_first_sign", payload)
        resent = await push_from_guest(fed, "psi.guest_first_sign", payload)

        assert (first.stored, first.received_size) == (True, 5 * MIB)
        assert resent.stored is False
        spilled = files_under(host.paths.mailbox_dir / JOB)
        assert [p.stat().st_size for p in spilled] == [5 * MIB]
        assert host.mailbox.bytes_in_memory == 0
        key = host_mail_key("psi.guest_first_sign")
        assert b"".join(await received_chunks(host.mailbox, key)) == payload
        assert files_under(host.paths.mailbox_dir) == []


async def test_pushed_small_object_stays_in_the_receivers_memory(tmp_path: Path) -> None:
    async with federation(tmp_path, ["9999", "10000"]) as fed:
        host = await host_with_job(fed)

        answer = await push_from_guest(fed, "psi.host_indexer", b"i" * 1024)

        assert (answer.stored, answer.received_size) == (True, 1024)
        assert host.mailbox.bytes_in_memory == 1024
        assert files_under(host.paths.mailbox_dir) == []
        assert b"".join(await received_chunks(host.mailbox, host_mail_key("psi.host_indexer"))) == b"i" * 1024


async def end_job_at_host(fed: Federation) -> None:
    control = fed.control("10000")
    for status in (common_pb2.JOB_STATUS_RUNNING, common_pb2.JOB_STATUS_CANCELED):
        answer = await control.SyncJobStatus(
            control_pb2.SyncJobStatusRequest(job_id=JOB, status=status, reason="stopped"),
            timeout=10,
            metadata=as_party("9999"),
        )
        assert answer.outcome == common_pb2.SYNC_OUTCOME_APPLIED


async def test_job_end_drops_the_objects_waiting_for_it(tmp_path: Path) -> None:
    async with federation(tmp_path, ["9999", "10000"]) as fed:
        host = await host_with_job(fed)
        await push_from_guest(fed, "big", b"b" * (2 * MIB))
        await push_from_guest(fed, "small", b"s" * 100)
        assert len(files_under(host.paths.mailbox_dir / JOB)) == 1

        await end_job_at_host(fed)

        assert not (host.paths.mailbox_dir / JOB).exists()
        assert host.mailbox.bytes_in_memory == 0
        assert not host.mailbox.is_known(host_mail_key("big"))
        assert not host.mailbox.is_known(host_mail_key("small"))


async def test_object_pushed_after_the_job_ended_is_refused_and_not_kept(tmp_path: Path) -> None:
    async with federation(tmp_path, ["9999", "10000"]) as fed:
        host = await host_with_job(fed)
        await end_job_at_host(fed)

        big = await rpc_error(push_from_guest(fed, "late", b"l" * (2 * MIB)), grpc.StatusCode.ABORTED)
        small = await rpc_error(push_from_guest(fed, "late_small", b"l" * 100), grpc.StatusCode.ABORTED)

        for error in (big, small):
            assert error.code is ErrorCode.CONFLICT
            assert JOB in error.message and "ended" in error.message
        assert files_under(host.paths.mailbox_dir) == []
        assert host.mailbox.bytes_in_memory == 0
        assert not host.mailbox.is_known(host_mail_key("late"))
