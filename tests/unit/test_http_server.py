"""The HTTP server's mount registry, authentication middleware and graceful stop (loopback, no TLS)."""

from __future__ import annotations

import aiohttp
import anyio
import pytest
from aiohttp import web
from cryptography import x509

from fate_grpc.errors import ErrorCode, FateGrpcError
from fate_grpc.http.server import USER_KEY, HttpServer
from fate_grpc.security.identity import User


async def only_bearer_secret(authorization: str, cert: x509.Certificate | None, peer: str) -> User:
    if authorization != "Bearer secret":
        raise FateGrpcError(ErrorCode.UNAUTHENTICATED, "unknown or expired token")
    return User("alice", False, "token")


def whoami_app() -> web.Application:
    async def whoami(request: web.Request) -> web.Response:
        return web.json_response({"user": request[USER_KEY].name, "path": request.path})

    app = web.Application()
    app.router.add_get("/whoami", whoami)
    return app


async def test_mounted_apps_answer_under_their_prefix_for_authenticated_users_only() -> None:
    server = HttpServer("127.0.0.1:0", authenticate=only_bearer_secret)
    server.mount("/board", whoami_app())
    async with anyio.create_task_group() as group:
        address = await group.start(server.run)
        async with aiohttp.ClientSession(f"http://{address}") as session:
            async with session.get("/board/whoami", headers={"Authorization": "Bearer secret"}) as ok:
                answer = (ok.status, await ok.json())
            async with session.get("/board/whoami") as refused:
                refusal = (refused.status, refused.headers.get("WWW-Authenticate"), await refused.json())
            async with session.get("/elsewhere", headers={"Authorization": "Bearer secret"}) as missing:
                missing_status = missing.status
        await server.stop()

    assert answer == (200, {"user": "alice", "path": "/board/whoami"})
    assert refusal == (
        401,
        "Bearer",
        {"code": int(ErrorCode.UNAUTHENTICATED), "message": "unknown or expired token"},
    )
    assert missing_status == 404
    assert server.mounts == ["/board"]


@pytest.mark.parametrize("prefix", ["board", "/board/", "/metrics"])
def test_a_mount_prefix_must_be_a_new_absolute_path(prefix: str) -> None:
    server = HttpServer("127.0.0.1:0", authenticate=only_bearer_secret)
    server.mount("/metrics", web.Application())

    with pytest.raises(ValueError, match="mount prefix"):
        server.mount(prefix, web.Application())


async def test_mounting_after_start_is_refused_and_stop_ends_run() -> None:
    server = HttpServer("127.0.0.1:0", authenticate=only_bearer_secret)
    async with anyio.create_task_group() as group:
        await group.start(server.run)
        with pytest.raises(RuntimeError, match="before the HTTP server starts"):
            server.mount("/late", web.Application())
        await server.stop()
    # Leaving the task group means run() returned: the listener is closed.


async def test_stop_lets_a_request_in_flight_finish() -> None:
    entered, release = anyio.Event(), anyio.Event()

    async def slow(request: web.Request) -> web.Response:
        entered.set()
        await release.wait()
        return web.Response(text="done")

    app = web.Application()
    app.router.add_get("/slow", slow)
    server = HttpServer("127.0.0.1:0", authenticate=only_bearer_secret)
    server.mount("/test", app)
    answers: list[tuple[int, str]] = []

    async def ask(address: str) -> None:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://{address}/test/slow", headers={"Authorization": "Bearer secret"}) as answer,
        ):
            answers.append((answer.status, await answer.text()))

    async with anyio.create_task_group() as group:
        address = await group.start(server.run)
        group.start_soon(ask, address)
        await entered.wait()
        group.start_soon(server.stop)
        # The stop is under way (waiting for the request) before the request may finish.
        await anyio.wait_all_tasks_blocked()
        assert not answers
        release.set()

    assert answers == [(200, "done")]


async def test_an_app_mounted_unauthenticated_checks_callers_itself() -> None:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text=f"signed by {request.headers.get('app-id', 'nobody')}")

    open_app = web.Application()
    open_app.router.add_get("/hello", hello)
    server = HttpServer("127.0.0.1:0", authenticate=only_bearer_secret)
    server.mount("/v2", open_app, authenticated=False)
    server.mount("/board", whoami_app())
    async with anyio.create_task_group() as group:
        address = await group.start(server.run)
        async with aiohttp.ClientSession(f"http://{address}") as session:
            async with session.get("/v2/hello", headers={"app-id": "alice"}) as signed:
                own = (signed.status, await signed.text())
            async with session.get("/board/whoami") as board:
                guarded = board.status
        await server.stop()

    assert own == (200, "signed by alice")
    assert guarded == 401


async def test_each_mount_reads_bodies_up_to_its_own_limit() -> None:
    async def size(request: web.Request) -> web.Response:
        return web.Response(text=str(len(await request.read())))

    def sizing_app() -> web.Application:
        app = web.Application()
        app.router.add_post("/size", size)
        return app

    server = HttpServer("127.0.0.1:0", authenticate=only_bearer_secret)
    server.mount("/uploads", sizing_app(), max_body_bytes=4 * 1024**2)
    server.mount("/small", sizing_app())
    body = b"x" * (2 * 1024**2)
    headers = {"Authorization": "Bearer secret"}
    async with anyio.create_task_group() as group:
        address = await group.start(server.run)
        async with aiohttp.ClientSession(f"http://{address}") as session:
            async with session.post("/uploads/size", data=body, headers=headers) as big:
                allowed = (big.status, await big.text())
            async with session.post("/small/size", data=body, headers=headers) as small:
                refused = small.status
        await server.stop()

    assert allowed == (200, str(len(body)))
    assert refused == 413
