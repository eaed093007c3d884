"""The board served from an in-process node on aiohttp's test server, mounted at /board as the node's
HTTP port mounts it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TypeVar

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from fate_grpc.board import board_app
from fate_grpc.node.app import Node

T = TypeVar("T")


@asynccontextmanager
async def board_client(node: Node) -> AsyncIterator[TestClient]:
    """A client of `node`'s board at http://127.0.0.1:<port>/board/."""
    root = web.Application()
    root.add_subapp("/board", board_app(node._client_servicer(), node.catalog))
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
