"""What a node offers its operator, in one place: health and reflection, metrics, the HTTP port."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import TypeVar

import grpc
from anyio.abc import TaskGroup
from cryptography import x509
from google.protobuf import descriptor as pb_descriptor

from fate_grpc.http.server import HttpServer, HttpTls
from fate_grpc.node.config import NodeConfig, TlsSettings
from fate_grpc.observability.health import NodeHealth
from fate_grpc.observability.metrics import NodeMetrics
from fate_grpc.observability.rpc_observer import ServerObserver, client_observers
from fate_grpc.observability.store_timing import timed_store
from fate_grpc.security.identity import ClientAuthenticator, User

S = TypeVar("S")


@dataclass
class NodeFacts:
    """What `flow server info` shows of the node beyond its identity and routes."""

    cores_total: int
    """The core budget (conf resources.cores)."""
    tls_cert_expire_time_ms: int = 0
    """When the node's certificate expires (unix ms); 0 without TLS."""
    http_address: str = ""
    """Where the HTTP port listens once started; empty without one."""


def certificate_expiry_ms(tls: TlsSettings | None) -> int:
    if tls is None:
        return 0
    cert = x509.load_pem_x509_certificate(tls.cert.read_bytes())
    return int(cert.not_valid_after_utc.timestamp() * 1000)


class NodeOperations:
    """Health, metrics and the HTTP port of one node (the node wires them into its servers)."""

    def __init__(self, config: NodeConfig, services: Sequence[pb_descriptor.ServiceDescriptor]) -> None:
        self._config = config
        self.metrics = NodeMetrics(cores_budget=config.resources.cores)
        self.health = NodeHealth(services)
        self.http: HttpServer | None = None
        self.facts = NodeFacts(
            cores_total=config.resources.cores, tls_cert_expire_time_ms=certificate_expiry_ms(config.tls)
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
        cfg = self._config
        if cfg.http is None:
            return None
        tls = None
        if cfg.tls is not None:
            client_ca = cfg.tls.client_ca or cfg.tls.trust
            tls = HttpTls(cert=str(cfg.tls.cert), key=str(cfg.tls.key), client_ca=str(client_ca))

        async def authenticate(authorization: str, cert: x509.Certificate | None, peer: str) -> User:
            return await auth.authenticate(authorization=authorization, cert=cert, peer=peer)

        self.http = HttpServer(cfg.http.listen, authenticate=authenticate, tls=tls)
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
