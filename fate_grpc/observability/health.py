"""Standard gRPC health checking and server reflection for the node's services."""

from __future__ import annotations

from collections.abc import Iterable

import grpc
from google.protobuf import descriptor as pb_descriptor
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

HEALTH_SERVICE = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name


class NodeHealth:
    """One health status table shared by all of the node's servers.

    "" (the node as a whole) and every service are NOT_SERVING until `serving()`, and again from
    `shutting_down()` on: load balancers and probes stop sending work before the servers stop."""

    def __init__(self, services: Iterable[pb_descriptor.ServiceDescriptor]) -> None:
        self._names = ["", *sorted({s.full_name for s in services})]
        self._servicer = health.aio.HealthServicer()

    def add_to(self, server: grpc.aio.Server, services: Iterable[pb_descriptor.ServiceDescriptor]) -> None:
        """Serve health checks and reflection (of `services`, health and reflection) on `server`."""
        health_pb2_grpc.add_HealthServicer_to_server(self._servicer, server)
        names = [s.full_name for s in services] + [HEALTH_SERVICE, reflection.SERVICE_NAME]
        reflection.enable_server_reflection(names, server)

    async def starting(self) -> None:
        """NOT_SERVING everywhere until `serving()` (the servicer starts out SERVING for "")."""
        for name in self._names:
            await self._servicer.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)

    async def serving(self) -> None:
        for name in self._names:
            await self._servicer.set(name, health_pb2.HealthCheckResponse.SERVING)

    async def shutting_down(self) -> None:
        """Every status NOT_SERVING, for good (later `set` calls are ignored)."""
        await self._servicer.enter_graceful_shutdown()
