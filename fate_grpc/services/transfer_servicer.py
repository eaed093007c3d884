"""TransferService: objects pushed by other nodes for this node's tasks, streamed into the mailbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc

from fate_grpc.common.v1 import common_pb2
from fate_grpc.domain.dag import task_parties
from fate_grpc.domain.ids import check_name, check_party_id
from fate_grpc.domain.status import JOB_END_STATUSES
from fate_grpc.errors import ErrorCode, FateGrpcError, invalid_argument
from fate_grpc.parties.dag_cache import DagCache
from fate_grpc.security.identity import PeerAuthenticator
from fate_grpc.services.edge import unary_edge
from fate_grpc.store.interface import Store
from fate_grpc.transfer.mailbox import Mailbox, MailKey
from fate_grpc.transfer.v1 import transfer_pb2, transfer_pb2_grpc

MAX_OBJECT_BYTES = 64 * 1024**3
MAX_TAG_CHARS = 256


def check_attempt(attempt: int) -> int:
    if not 0 <= attempt < 10_000:
        raise invalid_argument("attempt must be between 0 and 9999", field_path="key.attempt")
    return attempt


def check_tag(tag: str) -> str:
    if not tag or len(tag) > MAX_TAG_CHARS or not tag.isprintable():
        raise invalid_argument("tag must be 1-256 printable characters", field_path="tag")
    return tag


def check_size(total_size: int) -> int:
    if not 0 <= total_size <= MAX_OBJECT_BYTES:
        raise invalid_argument("total_size must be between 0 and 64 GiB", field_path="total_size")
    return total_size


async def chunk_stream(
    messages: AsyncIterator[Any], max_chunk_bytes: int, field_name: str = "chunk"
) -> AsyncIterator[bytes]:
    """The `chunk` fields of a request stream after its header; anything else is an error."""
    async for message in messages:
        if message.WhichOneof("part") != "chunk":
            raise invalid_argument("only chunks may follow the header", field_path=field_name)
        chunk = message.chunk
        if len(chunk) > max_chunk_bytes:
            raise invalid_argument(f"a chunk may hold at most {max_chunk_bytes} bytes", field_path=field_name)
        yield chunk


async def first_header(messages: AsyncIterator[Any]) -> Any:
    try:
        first = await anext(messages)
    except StopAsyncIteration:
        raise invalid_argument(
            "empty stream: the first message must be a header", field_path="header"
        ) from None
    if first.WhichOneof("part") != "header":
        raise invalid_argument("the first message must be a header", field_path="header")
    return first.header


class TransferServicer(transfer_pb2_grpc.TransferServiceServicer):
    def __init__(
        self,
        *,
        party_id: str,
        store: Store,
        dags: DagCache,
        mailbox: Mailbox,
        max_chunk_bytes: int,
        peers: PeerAuthenticator,
    ) -> None:
        self._peers = peers
        self._party_id = party_id
        self._store = store
        self._dags = dags
        self._mailbox = mailbox
        self._max_chunk = max_chunk_bytes

    @unary_edge
    async def PushObject(
        self,
        request_iterator: AsyncIterator[transfer_pb2.PushObjectRequest],
        context: grpc.aio.ServicerContext,
    ) -> transfer_pb2.PushObjectResponse:
        header = await first_header(request_iterator)
        self._peers.require(context, header.key.source.party_id, "send objects as another party")
        key = await self._accept(header.key)
        total = check_size(header.total_size)
        stored = await self._mailbox.deliver(key, total, chunk_stream(request_iterator, self._max_chunk))
        return transfer_pb2.PushObjectResponse(stored=stored, received_size=total)

    async def _accept(self, key: common_pb2.ObjectKey) -> MailKey:
        """Only objects for a job this party takes part in, between two of the task's parties."""
        mail = MailKey(
            job_id=check_name(key.job_id, "key.job_id"),
            task_name=check_name(key.task_name, "key.task_name"),
            attempt=check_attempt(key.attempt),
            tag=check_tag(key.tag),
            source_role=key.source.role,
            source_party_id=check_party_id(key.source.party_id),
            destination_role=key.destination.role,
            destination_party_id=check_party_id(key.destination.party_id),
        )
        if mail.destination_party_id != self._party_id:
            raise FateGrpcError(
                ErrorCode.PERMISSION_DENIED,
                f"object addressed to party {mail.destination_party_id} was sent to party {self._party_id}",
            )
        job = await self._store.find_job(mail.job_id)
        if job is None:
            raise FateGrpcError(
                ErrorCode.NOT_FOUND, f"job {mail.job_id} is unknown at party {self._party_id}"
            )
        if job.status in JOB_END_STATUSES:
            # Nothing would ever consume it: refuse rather than keep it on disk.
            raise FateGrpcError(
                ErrorCode.CONFLICT,
                f"job {mail.job_id} already ended ({job.status.value}) at party {self._party_id}",
            )
        dag = await self._dags.get(mail.job_id)
        if mail.task_name not in dag.tasks:
            raise FateGrpcError(ErrorCode.NOT_FOUND, f"job {mail.job_id} has no task {mail.task_name}")
        parties = {(p.role, p.party_id) for p in task_parties(dag, mail.task_name)}
        for role, party in (
            (mail.source_role, mail.source_party_id),
            (mail.destination_role, mail.destination_party_id),
        ):
            if (role, party) not in parties:
                raise FateGrpcError(
                    ErrorCode.PERMISSION_DENIED,
                    f"{role} {party} is not a party of task {mail.task_name} of job {mail.job_id}",
                )
        return mail
