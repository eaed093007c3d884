"""Outbound calls to other parties' nodes: one channel per address, every call with a deadline."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc

from fate_grpc.control.v1 import control_pb2_grpc
from fate_grpc.errors import ErrorCode, FateGrpcError
from fate_grpc.security.identity import CALLER_METADATA_KEY
from fate_grpc.security.tls import TlsMaterial, peer_channel_credentials, peer_channel_options
from fate_grpc.transfer.v1 import transfer_pb2_grpc
from fate_grpc.wire.rpc_errors import error_from_rpc

R = TypeVar("R")


def channel_options(max_message_bytes: int) -> list[tuple[str, Any]]:
    return [
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.max_pings_without_data", 0),
    ]


@dataclass(frozen=True)
class PartyFailure:
    """One party that failed a fan-out call, with the error it gave."""

    party_id: str
    error: FateGrpcError


class PartyGateway:
    """Routes calls to parties by id, using the node's route table."""

    def __init__(
        self,
        own_party_id: str,
        routes: Mapping[str, str],
        *,
        max_message_bytes: int,
        tls: TlsMaterial | None = None,
    ) -> None:
        self._own = own_party_id
        self._routes = dict(routes)
        self._options = channel_options(max_message_bytes)
        self._credentials = peer_channel_credentials(tls) if tls else None
        self._channels: dict[tuple[str, str], grpc.aio.Channel] = {}

    @property
    def own_party_id(self) -> str:
        return self._own

    def set_route(self, party_id: str, address: str) -> None:
        self._routes[party_id] = address

    def routes(self) -> dict[str, str]:
        return dict(self._routes)

    def address_of(self, party_id: str) -> str:
        address = self._routes.get(party_id)
        if address is None:
            raise FateGrpcError(
                ErrorCode.PARTY_UNAVAILABLE,
                f"no route to party {party_id}: the node's route table has no entry for it",
                hint=f"add '{party_id}: host:port' under routes in this node's conf",
                fields={"party_id": party_id},
            )
        return address

    def _channel(self, party_id: str) -> grpc.aio.Channel:
        address = self.address_of(party_id)
        channel = self._channels.get((party_id, address))
        if channel is None:
            if self._credentials is None:
                channel = grpc.aio.insecure_channel(address, options=self._options)
            else:
                # The server must prove it is `party_id`, whatever host the route names.
                options = self._options + peer_channel_options(party_id)
                channel = grpc.aio.secure_channel(address, self._credentials, options=options)
            self._channels[(party_id, address)] = channel
        return channel

    def control(self, party_id: str) -> control_pb2_grpc.ControlServiceStub:
        return control_pb2_grpc.ControlServiceStub(self._channel(party_id))

    def transfer(self, party_id: str) -> transfer_pb2_grpc.TransferServiceStub:
        return transfer_pb2_grpc.TransferServiceStub(self._channel(party_id))

    def metadata(self) -> tuple[tuple[str, str], ...]:
        return ((CALLER_METADATA_KEY, self._own),)

    async def call_control(self, party_id: str, rpc: str, request: Any, *, timeout: float) -> Any:  # noqa: ASYNC109 - a per-RPC gRPC deadline
        """Call one ControlService RPC at a party; failures become FateGrpcError naming the party."""
        address = self.address_of(party_id)
        method = getattr(self.control(party_id), rpc)
        try:
            return await method(request, timeout=timeout, metadata=self.metadata())
        except grpc.RpcError as exc:
            raise error_from_rpc(exc, party_id=party_id, address=address) from None

    async def fan_out(
        self, party_ids: Iterable[str], call: Callable[[str], Awaitable[R]]
    ) -> tuple[dict[str, R], list[PartyFailure]]:
        """Run `call(party_id)` for every party concurrently; collect answers and failures."""
        ids = list(dict.fromkeys(party_ids))
        results = await asyncio.gather(*(call(p) for p in ids), return_exceptions=True)
        answers: dict[str, R] = {}
        failures: list[PartyFailure] = []
        for party_id, result in zip(ids, results, strict=True):
            if isinstance(result, FateGrpcError):
                failures.append(PartyFailure(party_id, result))
            elif isinstance(result, BaseException):
                if isinstance(result, asyncio.CancelledError):
                    raise result
                failures.append(
                    PartyFailure(
                        party_id, FateGrpcError(ErrorCode.INTERNAL, f"party {party_id}: call failed")
                    )
                )
            else:
                answers[party_id] = result
        return answers, failures

    async def close(self) -> None:
        channels, self._channels = self._channels, {}
        await asyncio.gather(*(c.close() for c in channels.values()), return_exceptions=True)
