"""The board served from an in-process node on aiohttp's test server, mounted at /board as the node's
HTTP port mounts it."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TypeVar

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from fate_grpc.board import board_app
from fate_grpc.node.app import Node

T = TypeVar("T")
# Debian's package installs /usr/bin/chromium; other systems may name it differently.
CHROMIUM_NAMES = ("chromium", "chromium-browser")
# Playwright's own wait_for_function compiles its predicate inside the page, which the board's
# Content-Security-Policy (no eval) forbids; this expression is compiled by the debugger protocol.
WAIT_SCRIPT = (
    "() => new Promise((resolve, reject) => {{"
    " const failure = new Error('not true in time: ' + {label});"
    " const timer = setTimeout(() => reject(failure), {timeout_ms});"
    " const check = () => {{ if ({condition}) {{ clearTimeout(timer); resolve(true); }}"
    " else requestAnimationFrame(check); }};"
    " check(); }})"
)


def chromium_binary() -> str:
    """Debian's Chromium, or the test is skipped saying how to get it (nothing is downloaded)."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip(
        "no Chromium binary on PATH: install Debian's package (apt-get install -y chromium, which"
        " scripts/bootstrap.sh does where it can); browsers are never downloaded at test time"
    )


def wait_script(condition: str, timeout_ms: int) -> str:
    """A script that resolves once the JavaScript `condition` holds (checked every animation frame)."""
    return WAIT_SCRIPT.format(label=repr(condition), timeout_ms=timeout_ms, condition=condition)


@asynccontextmanager
async def board_client(node: Node) -> AsyncIterator[TestClient]:
    """A client of `node`'s board at http://127.0.0.1:<port>/board/."""
    root = web.Application()
    # The started node's own servicer where it keeps one (as its HTTP port mounts the board with).
    servicer = getattr(node, "client_servicer", None) or node._client_servicer()
    root.add_subapp("/board", board_app(servicer, node.catalog))
    client = TestClient(TestServer(root, host="127.0.0.1"))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


@asynccontextmanager
async def held(context: AbstractAsyncContextManager[T]) -> AsyncIterator[T]:
    """Enter and leave `context` in one task of its own.

    Module-scoped async fixtures are set up and torn down in different tasks, which anyio's task
    groups (inside the in-process federation) refuse; a holder task keeps both ends in one task."""
    entered: asyncio.Future[T] = asyncio.get_running_loop().create_future()
    leave = asyncio.Event()

    async def hold() -> None:
        async with context as value:
            entered.set_result(value)
            await leave.wait()

    holder = asyncio.create_task(hold())
    await asyncio.wait({holder, entered}, return_when=asyncio.FIRST_COMPLETED)
    if not entered.done():
        await holder  # raises what failed on the way in
    try:
        yield entered.result()
    finally:
        leave.set()
        await holder
