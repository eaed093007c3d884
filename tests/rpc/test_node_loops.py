"""The node's long-lived loops run in its task group: a crash stops the node loudly, shutdown ends them."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import anyio
import pytest

from fate_grpc.common.background import LoopCrashed
from fate_grpc.node.app import serve
from tests.support.nodes import node_config


def fork_server_that_speaks_garbage(tmp_path: Path) -> Path:
    """A stand-in for the task interpreter: says it is ready, then writes a line that is not JSON."""
    script = tmp_path / "garbage-python"
    script.write_text('#!/bin/sh\necho \'{"op": "ready"}\'\necho "this is not json"\nexec sleep 60\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def other_tasks() -> set[asyncio.Task[object]]:
    return asyncio.all_tasks() - {asyncio.current_task()}  # type: ignore[operator]


async def test_a_crashed_loop_ends_the_node_with_an_error_naming_it(tmp_path: Path) -> None:
    python = fork_server_that_speaks_garbage(tmp_path)
    config = node_config("9999", tmp_path / "node", fork_server=True, task_python=str(python))

    with pytest.raises(LoopCrashed) as crashed:
        with anyio.fail_after(60):
            await serve(config)

    assert crashed.value.loop_name == "fork server reader"
    assert "fork server reader" in str(crashed.value)
    assert other_tasks() == set()


async def test_shutdown_leaves_no_task_running(tmp_path: Path) -> None:
    config = node_config("9999", tmp_path / "node")
    ready, stop = anyio.Event(), anyio.Event()

    async with anyio.create_task_group() as group:
        group.start_soon(lambda: serve(config, ready=ready, stop=stop))
        await ready.wait()
        stop.set()

    assert other_tasks() == set()
    assert os.listdir(tmp_path / "node")  # the node did run
