"""Messages that change another party's state, delivered until that party acknowledges them.

The messages are written to the store in the transaction of the state change that causes them (see
`Store.transition_job`), so a crash or an unreachable party never loses one. The rules - what counts as
acknowledged, when to try again - are pure functions; `OutboxSender` is the thin driver that sends,
records the outcome and waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import random
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from google.protobuf.message import Message

from fate_grpc.common.v1 import common_pb2
from fate_grpc.control.v1 import control_pb2
from fate_grpc.errors import ErrorCode, FateGrpcError
from fate_grpc.parties.gateway import PartyGateway
from fate_grpc.store.interface import Store
from fate_grpc.store.records import OutboxMessage

log = logging.getLogger("fate_grpc.outbox")

# The ControlService RPCs a message may carry, with their request types.
REQUEST_TYPES: dict[str, type[Message]] = {
    "SyncJobStatus": control_pb2.SyncJobStatusRequest,
    "SyncTaskStatus": control_pb2.SyncTaskStatusRequest,
    "StopTask": control_pb2.StopTaskRequest,
    "ReturnResources": control_pb2.ReturnResourcesRequest,
    "CleanJob": control_pb2.CleanJobRequest,
}

# Failures that say nothing about the message itself: the party is away, slow or overloaded.
RETRYABLE_CODES = frozenset(
    {
        ErrorCode.PARTY_UNAVAILABLE,
        ErrorCode.DEADLINE_EXCEEDED,
        ErrorCode.RESOURCE_EXHAUSTED,
        ErrorCode.UNAUTHENTICATED,
        ErrorCode.INTERNAL,
        ErrorCode.NODE_UNREACHABLE,
    }
)


class Delivery(enum.StrEnum):
    """What became of one try to deliver a message."""

    ACKNOWLEDGED = "acknowledged"
    """The party took it (applied, duplicate or stale): forget the message."""
    REFUSED = "refused"
    """The party refused it for good (rejected, unknown job, not allowed): log and forget it."""
    RETRY = "retry"
    """It may not have arrived: try again later."""


def delivery_of_answer(answer: Any) -> Delivery:
    """An answer is an acknowledgement unless it is an explicit rejection of a status."""
    outcome = getattr(answer, "outcome", None)
    if outcome == common_pb2.SYNC_OUTCOME_REJECTED:
        return Delivery.REFUSED
    return Delivery.ACKNOWLEDGED


def delivery_of_error(error: FateGrpcError) -> Delivery:
    return Delivery.RETRY if error.code in RETRYABLE_CODES else Delivery.REFUSED


def retry_delay_s(attempts: int, *, base_s: float, max_s: float, jitter: float) -> float:
    """Exponential backoff with jitter: about base * 2**attempts, capped, spread over [1/2, 1] of it.

    Args:
        attempts: Failed tries so far (1 after the first failure).
        base_s: Delay after the first failure (before jitter).
        max_s: Largest delay (before jitter).
        jitter: A number in [0, 1) (random in the driver, fixed in tests).
    """
    ceiling = min(max_s, base_s * 2 ** max(0, min(attempts - 1, 30)))
    return ceiling * (0.5 + jitter / 2)


def new_message(party_id: str, job_id: str, rpc: str, request: Message) -> OutboxMessage:
    """A message to store, with a fresh id."""
    if rpc not in REQUEST_TYPES or not isinstance(request, REQUEST_TYPES[rpc]):
        raise ValueError(f"no outbox message for rpc {rpc} with {type(request).__name__}")
    return OutboxMessage(
        message_id=uuid.uuid4().hex,
        party_id=party_id,
        job_id=job_id,
        rpc=rpc,
        payload=request.SerializeToString(),
    )


def to_each(party_ids: Iterable[str], job_id: str, rpc: str, request: Message) -> list[OutboxMessage]:
    return [new_message(p, job_id, rpc, request) for p in dict.fromkeys(party_ids)]


def now_ms() -> int:
    return int(time.time() * 1000)


class OutboxSender:
    """Sends stored messages, one party's in order, until each is acknowledged or refused."""

    def __init__(
        self,
        *,
        store: Store,
        gateway: PartyGateway,
        rpc_timeout_s: float,
        base_delay_s: float = 0.2,
        max_delay_s: float = 30.0,
        clock: Callable[[], int] = now_ms,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._store = store
        self._gateway = gateway
        self._timeout = rpc_timeout_s
        self._base_s = base_delay_s
        self._max_s = max_delay_s
        self._clock = clock
        self._jitter = jitter
        self._wake = asyncio.Event()
        self._ignore_backoff = False

    async def deliver(self, messages: Sequence[OutboxMessage]) -> dict[str, Delivery]:
        """Try stored messages once now (each party's in order, parties concurrently).

        Returns each party's outcome: acknowledged only if all its messages were; what was not
        delivered stays stored and is sent again in the background."""
        by_party: dict[str, list[OutboxMessage]] = {}
        for message in messages:
            by_party.setdefault(message.party_id, []).append(message)
        outcomes = await asyncio.gather(*(self._send_in_order(ms) for ms in by_party.values()))
        if any(o is Delivery.RETRY for o in outcomes):
            self.wake()
        return dict(zip(by_party, outcomes, strict=True))

    def wake(self, *, ignore_backoff: bool = False) -> None:
        """Look at the outbox now; with ignore_backoff, send each party's next message even if it is
        not yet due (the sweep does that, so a party back after a long absence hears soon)."""
        self._ignore_backoff = self._ignore_backoff or ignore_backoff
        self._wake.set()

    async def run(self, stopped: asyncio.Event) -> None:
        """Deliver until `stopped` is set; resumes whatever the store holds (after a restart too)."""
        while not stopped.is_set():
            self._wake.clear()
            ignore_backoff, self._ignore_backoff = self._ignore_backoff, False
            try:
                wait_s = await self._pass(ignore_backoff=ignore_backoff)
            except Exception:
                if stopped.is_set():
                    return  # the node is shutting down (its store may be closed already)
                # A store problem of this pass: logged loudly; the messages stay for the next pass.
                log.exception("outbox pass failed")
                wait_s = self._max_s
            waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stopped.wait())]
            try:
                await asyncio.wait(waiters, timeout=wait_s, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()

    async def _pass(self, *, ignore_backoff: bool) -> float | None:
        """Send each party's due messages; returns seconds until the next one is due (None: none)."""
        now = self._clock()
        heads = await self._store.list_outbox_heads()
        due = [m for m in heads if ignore_backoff or m.next_attempt_ms <= now]
        if due:
            await asyncio.gather(*(self._drain_party(m.party_id) for m in due))
            heads = await self._store.list_outbox_heads()
        later = [m.next_attempt_ms for m in heads]
        if not later:
            return None
        return max(0.0, (min(later) - self._clock()) / 1000)

    async def _drain_party(self, party_id: str) -> None:
        """Send a party's messages in order until one is not delivered."""
        while True:
            queue = await self._store.list_outbox(party_id=party_id, limit=50)
            if not queue:
                return
            if await self._send_in_order(queue) is Delivery.RETRY:
                return

    async def _send_in_order(self, messages: Sequence[OutboxMessage]) -> Delivery:
        for message in messages:
            if await self._send(message) is Delivery.RETRY:
                return Delivery.RETRY
        return Delivery.ACKNOWLEDGED

    async def _send(self, message: OutboxMessage) -> Delivery:
        """One try; records the outcome in the store."""
        try:
            answer = await deliver(self._gateway, message, deadline_s=self._timeout)
        except FateGrpcError as exc:
            outcome, reason = delivery_of_error(exc), exc.message
        else:
            outcome, reason = delivery_of_answer(answer), getattr(answer, "reason", "") or "rejected"
        if outcome is Delivery.RETRY:
            delay = retry_delay_s(
                message.attempts + 1, base_s=self._base_s, max_s=self._max_s, jitter=self._jitter()
            )
            await self._store.defer_outbox_message(
                message.message_id, next_attempt_ms=self._clock() + int(delay * 1000), error=reason
            )
            if message.attempts == 0:
                log.warning(
                    "job %s: %s to party %s not delivered, retrying: %s",
                    message.job_id,
                    message.rpc,
                    message.party_id,
                    reason,
                )
            return outcome
        if outcome is Delivery.REFUSED:
            log.warning(
                "job %s: party %s refused %s, dropped: %s",
                message.job_id,
                message.party_id,
                message.rpc,
                reason,
            )
        elif message.attempts:
            log.info(
                "job %s: %s delivered to party %s after %d failed tries",
                message.job_id,
                message.rpc,
                message.party_id,
                message.attempts,
            )
        await self._store.ack_outbox_message(message.message_id)
        return outcome


async def deliver(gateway: PartyGateway, message: OutboxMessage, *, deadline_s: float) -> Message:
    """Send a stored message by the typed gateway call of its RPC; its answer, or FateGrpcError."""
    party_id, payload = message.party_id, message.payload
    match message.rpc:
        case "SyncJobStatus":
            sync_job = control_pb2.SyncJobStatusRequest.FromString(payload)
            return await gateway.sync_job_status(party_id, sync_job, deadline_s=deadline_s)
        case "SyncTaskStatus":
            sync_task = control_pb2.SyncTaskStatusRequest.FromString(payload)
            return await gateway.sync_task_status(party_id, sync_task, deadline_s=deadline_s)
        case "StopTask":
            stop = control_pb2.StopTaskRequest.FromString(payload)
            return await gateway.stop_task(party_id, stop, deadline_s=deadline_s)
        case "ReturnResources":
            give_back = control_pb2.ReturnResourcesRequest.FromString(payload)
            return await gateway.return_resources(party_id, give_back, deadline_s=deadline_s)
        case "CleanJob":
            clean = control_pb2.CleanJobRequest.FromString(payload)
            return await gateway.clean_job(party_id, clean, deadline_s=deadline_s)
    # new_message refuses any other RPC, so only a store written by another version gets here
    raise FateGrpcError(ErrorCode.INTERNAL, f"outbox message {message.message_id}: unknown rpc {message.rpc}")


async def ack_all(store: Store, messages: Iterable[OutboxMessage]) -> None:
    """Forget messages that were delivered by a direct call."""
    for message in messages:
        with contextlib.suppress(FateGrpcError):
            await store.ack_outbox_message(message.message_id)
