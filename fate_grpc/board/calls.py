"""The board's way into the node: the user API's own servicer methods, called in process.

The board answers nothing by itself. Each of its JSON endpoints calls the ClientService method the
`flow` CLI would call, with the browser's credentials (its `Authorization` header, or the client
certificate its TLS handshake presented), so authentication, permissions, party checks, relaying to
the scheduler party and error wording are the user API's, from one place.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from fate_grpc.errors import CATALOG, ErrorCode, FateGrpcError
from fate_grpc.wire.rpc_errors import error_from_trailer

# How a gRPC status reads over HTTP (what a browser's script can tell apart).
HTTP_STATUS: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}


@dataclass(frozen=True)
class Credentials:
    """What a browser's request carried: its Authorization header and its verified client certificate."""

    authorization: str = ""
    certificate: x509.Certificate | None = None
    peer: str = ""


class CallFailed(Exception):
    """A servicer call that ended in an error, as the user API described it."""

    def __init__(self, error: FateGrpcError) -> None:
        super().__init__(error.message)
        self.error = error

    @property
    def http_status(self) -> int:
        return HTTP_STATUS.get(self.error.grpc_status, 500)

    def as_json(self) -> dict[str, Any]:
        """FATE's answer shape, {code, message} (and hint), as `flow` prints it."""
        answer: dict[str, Any] = {"code": int(self.error.code), "message": self.error.message}
        if self.error.hint:
            answer["hint"] = self.error.hint
        return answer


@dataclass
class InProcessContext:
    """The part of grpc.aio.ServicerContext the client servicers use, filled from an HTTP request."""

    credentials: Credentials
    trailing: Sequence[tuple[str, Any]] = field(default_factory=tuple)

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        authorization = self.credentials.authorization
        return (("authorization", authorization),) if authorization else ()

    def auth_context(self) -> dict[str, list[bytes]]:
        certificate = self.credentials.certificate
        if certificate is None:
            return {}
        # The shape gRPC gives for a TLS peer: the servicer reads the certificate from here.
        return {
            "transport_security_type": [b"ssl"],
            "x509_pem_cert": [certificate.public_bytes(Encoding.PEM)],
        }

    def peer(self) -> str:
        return self.credentials.peer or "http"

    def set_trailing_metadata(self, metadata: Sequence[tuple[str, Any]]) -> None:
        self.trailing = tuple(metadata)

    async def abort(
        self, code: grpc.StatusCode, details: str = "", trailing_metadata: Sequence[tuple[str, Any]] = ()
    ) -> None:
        if trailing_metadata:
            self.trailing = tuple(trailing_metadata)
        raise CallFailed(_error_from(code, details, self.trailing))


def _error_from(status: grpc.StatusCode, details: str, trailing: Sequence[tuple[str, Any]]) -> FateGrpcError:
    """The servicer's error back from what it put on the wire: our rich status if there, else the status."""
    error = error_from_trailer(trailing)
    if error is not None:
        return error
    by_status = [code for code, entry in CATALOG.items() if entry.status == status]
    return FateGrpcError(by_status[0] if by_status else ErrorCode.INTERNAL, details or "internal error")


class ServicerCalls:
    """Calls ClientService methods of one servicer with a browser's credentials."""

    def __init__(self, servicer: Any) -> None:
        self._servicer = servicer

    async def unary(self, method: str, request: Any, credentials: Credentials) -> Any:
        """The method's answer; raises CallFailed with the user API's error."""
        return await getattr(self._servicer, method)(request, InProcessContext(credentials))

    async def stream(self, method: str, request: Any, credentials: Credentials) -> AsyncGenerator[Any, None]:
        """The messages of a server-streaming method; raises CallFailed with the user API's error."""
        async for message in getattr(self._servicer, method)(request, InProcessContext(credentials)):
            yield message
