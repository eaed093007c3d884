"""The node's HTTP server: sub-applications mounted by prefix, the user API's TLS and authentication.

Other parts of the node add their pages with one line in `Node._mount_http`,
`http.mount("/board", board_app)`. Every request is authenticated as a user-API call is (bearer
token or client certificate of this party) before a mounted handler runs, unless its sub-application
was mounted with `authenticated=False` and checks callers itself (as FATE-Flow's signed HTTP API
must).
"""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import anyio
from aiohttp import web
from anyio.abc import TaskStatus
from cryptography import x509

from fate_grpc.errors import ErrorCode, FateGrpcError
from fate_grpc.security.identity import User

# aiohttp's default would be 60 s: a node stopping should not wait long for idle browsers.
SHUTDOWN_GRACE_S = 3.0
# aiohttp's own default for what a handler may read into memory at once (request.read(), post()).
DEFAULT_MAX_BODY_BYTES = 1024**2
USER_KEY = web.RequestKey("fate_grpc.user", User)
"""Where a handler finds the authenticated user: `request[USER_KEY]`."""
HTTP_STATUS = {
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.PERMISSION_DENIED: 403,
}

Authenticate = Callable[[str, x509.Certificate | None, str], Awaitable[User]]
"""(authorization header, verified client certificate or None, peer address) -> the user, or raises."""


@dataclass(frozen=True)
class HttpTls:
    """The node's certificate for HTTPS, and the CA whose client certificates identify users."""

    cert: Path
    key: Path
    client_ca: Path
    require_certificate: bool = True
    """As the user port: True demands a user certificate in the handshake; False checks one when it
    is presented and lets token users (a browser, Prometheus) connect without."""

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        context.load_verify_locations(cafile=self.client_ca)
        context.verify_mode = ssl.CERT_REQUIRED if self.require_certificate else ssl.CERT_OPTIONAL
        return context


class HttpServer:
    """One HTTP(S) listener; `mount` sub-applications before `run`."""

    def __init__(self, listen: str, *, authenticate: Authenticate, tls: HttpTls | None = None) -> None:
        self._listen = listen
        self._authenticate = authenticate
        self._tls = tls
        self._mounts: dict[str, web.Application] = {}
        self._self_authenticated: list[web.Application] = []
        # aiohttp takes a request's body limit from the root application, not from the one it reaches.
        self._body_limits: dict[web.Application, int] = {}
        self._runner: web.AppRunner | None = None
        self._stopped = anyio.Event()
        self._closed = anyio.Event()

    @property
    def mounts(self) -> list[str]:
        return sorted(self._mounts)

    def mount(
        self,
        prefix: str,
        app: web.Application,
        *,
        authenticated: bool = True,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        """Serve `app` under `prefix` (e.g. "/metrics", "/board", "/v2"); before the server runs.

        Args:
            authenticated: False leaves authentication to `app` (no user in `request[USER_KEY]`).
            max_body_bytes: the most a handler of `app` may read at once with request.read(),
                post() or multipart parts (streaming `request.content` is not bounded by it).
        """
        if self._runner is not None:
            raise RuntimeError("mount sub-applications before the HTTP server starts")
        if not prefix.startswith("/") or prefix.endswith("/") or prefix in self._mounts:
            raise ValueError(f"mount prefix {prefix!r} must start with / and be new, without a trailing /")
        self._mounts[prefix] = app
        self._body_limits[app] = max_body_bytes
        if not authenticated:
            self._self_authenticated.append(app)

    def _root(self) -> web.Application:
        largest = max(self._body_limits.values(), default=DEFAULT_MAX_BODY_BYTES)
        root = web.Application(middlewares=[self._gate], client_max_size=largest)
        for prefix, app in self._mounts.items():
            root.add_subapp(prefix, app)
        return root

    async def run(self, *, task_status: TaskStatus[str] = anyio.TASK_STATUS_IGNORED) -> None:
        """Listen; report the bound host:port through `task_status`; serve until `stop`."""
        runner = web.AppRunner(self._root(), access_log=None, shutdown_timeout=SHUTDOWN_GRACE_S)
        await runner.setup()
        self._runner = runner
        try:
            host, _, port = self._listen.rpartition(":")
            host = host.strip("[]")
            context = self._tls.server_context() if self._tls else None
            site = web.TCPSite(runner, host, int(port), ssl_context=context)
            await site.start()
            task_status.started(_bound_address(runner, host))
            await self._stopped.wait()
        finally:
            with anyio.CancelScope(shield=True):
                await runner.cleanup()
            self._closed.set()

    async def stop(self) -> None:
        """Stop accepting, let in-flight requests finish (within the grace), close; idempotent."""
        self._stopped.set()
        if self._runner is not None:
            await self._closed.wait()

    @web.middleware
    async def _gate(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        # Decided by the application the router matched, so no spelling of a path can cross over.
        reached = [app for app in request.match_info.apps if app in self._body_limits]
        if reached and request.client_max_size != self._body_limits[reached[0]]:
            request = request.clone(client_max_size=self._body_limits[reached[0]])
        if reached and reached[0] in self._self_authenticated:
            return await handler(request)
        try:
            user = await self._authenticate(
                request.headers.get("Authorization", ""), _client_certificate(request), request.remote or ""
            )
        except FateGrpcError as exc:
            return web.json_response(
                {"code": int(exc.code), "message": exc.message, **({"hint": exc.hint} if exc.hint else {})},
                status=HTTP_STATUS.get(exc.code, 400),
                headers={"WWW-Authenticate": "Bearer"} if exc.code is ErrorCode.UNAUTHENTICATED else None,
            )
        request[USER_KEY] = user
        return await handler(request)


def _client_certificate(request: web.Request) -> x509.Certificate | None:
    """The certificate the client presented, already verified against the client CA by the handshake."""
    transport = request.transport
    ssl_object = transport.get_extra_info("ssl_object") if transport else None
    der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
    return x509.load_der_x509_certificate(der) if der else None


def _bound_address(runner: web.AppRunner, host: str) -> str:
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return f"{host}:{address[1]}"
    raise OSError(f"the HTTP server did not report its address for {host}")
