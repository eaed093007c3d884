"""What a node offers its operator, in one place: health and reflection, metrics, the HTTP port."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import TypeVar

import grpc
from anyio.abc import TaskGroup
from cryptography import x509
from google.protobuf import descriptor as pb_descriptor

from fate_grpc.http.server import HttpServer, HttpTls
from fate_grpc.observability.health import NodeHealth
from fate_grpc.observability.metrics import NodeMetrics
from fate_grpc.observability.node_facts import NodeFacts, certificate_expiry_ms
from fate_grpc.observability.rpc_observer import ServerObserver, client_observers
from fate_grpc.observability.store_timing import timed_store
from fate_grpc.security.identity import ClientAuthenticator, User

S = TypeVar("S")


class NodeOperations:
    """Health, metrics and the HTTP port of one node (the node wires them into its servers).

    Args:
        services: every gRPC service the node serves (each gets a health status).
        cores_budget: the node's core budget (conf resources.cores).
        tls: the node's certificate, key and user CA; None in a plaintext simulation.
        http_listen: host:port of the HTTP port; None for none.
    """

    def __init__(
        self,
        services: Sequence[pb_descriptor.ServiceDescriptor],
        *,
        cores_budget: int,
        tls: HttpTls | None = None,
        http_listen: str | None = None,
    ) -> None:
        self._tls = tls
        self._http_listen = http_listen
        self.metrics = NodeMetrics(cores_budget=cores_budget)
        self.health = NodeHealth(services)
        self.http: HttpServer | None = None
        self.facts = NodeFacts(
            cores_total=cores_budget, tls_cert_expire_time_ms=certificate_expiry_ms(tls.cert if tls else None)
        )

    def timed(self, store: S) -> S:
        return timed_store(store, self.metrics)

    def channel_interceptors(self, party_id: str) -> list[grpc.aio.ClientInterceptor]:
        return client_observers(self.metrics, party_id)

    def server_interceptors(
        self, default_peer: str, known_parties: Callable[[], Collection[str]]
    ) -> list[grpc.aio.ServerInterceptor]:
        return [ServerObserver(self.metrics, default_peer=default_peer, known_parties=known_parties)]

    def add_to(self, server: grpc.aio.Server, services: Sequence[pb_descriptor.ServiceDescriptor]) -> None:
        self.health.add_to(server, services)

    def http_server(self, auth: ClientAuthenticator) -> HttpServer | None:
        """The HTTP server the conf asks for (None without `http`), with the user API's TLS and auth."""
        if self._http_listen is None:
            return None

        async def authenticate(authorization: str, cert: x509.Certificate | None, peer: str) -> User:
            return await auth.authenticate(authorization=authorization, cert=cert, peer=peer)

        self.http = HttpServer(self._http_listen, authenticate=authenticate, tls=self._tls)
        return self.http

    async def start_http(self, task_group: TaskGroup) -> None:
        if self.http is not None:
            self.facts.http_address = await task_group.start(self.http.run)

    async def stopping(self) -> None:
        """First step of shutdown: NOT_SERVING everywhere, then the HTTP port closes (its handlers read
        the store, which closes later)."""
        await self.health.shutting_down()
        if self.http is not None:
            await self.http.stop()
