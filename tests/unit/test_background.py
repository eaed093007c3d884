"""Background work in a task group: failures of short work are logged, a crashed loop fails the group."""

from __future__ import annotations

import logging

import anyio
import pytest

from fate_grpc.common.background import Background, LoopCrashed, crashed_loop


async def test_a_crashed_loop_fails_the_task_group_naming_the_loop(caplog: pytest.LogCaptureFixture) -> None:
    background = Background()

    async def sweep() -> None:
        raise ValueError("bad row")

    with pytest.raises(BaseExceptionGroup) as raised:
        async with anyio.create_task_group() as group:
            background.attach(group)
            background.run_loop("scheduler sweep", sweep)
            await anyio.sleep_forever()

    crashed = crashed_loop(raised.value)
    assert isinstance(crashed, LoopCrashed)
    assert crashed.loop_name == "scheduler sweep"
    assert isinstance(crashed.__cause__, ValueError)
    assert any(r.levelno == logging.CRITICAL and "scheduler sweep" in r.getMessage() for r in caplog.records)


async def test_failed_short_work_is_logged_and_the_rest_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    background = Background()
    other_finished = anyio.Event()

    async def failing() -> None:
        raise ValueError("one job's trouble")

    async def other() -> None:
        other_finished.set()

    async with anyio.create_task_group() as group:
        background.attach(group)
        failed = background.spawn(failing(), name="advance of job j1")
        background.spawn(other())
        await failed.wait()
        await other_finished.wait()

    assert any("advance of job j1 failed" in r.getMessage() for r in caplog.records)


async def test_cancelled_work_ends_and_can_be_waited_for() -> None:
    background = Background()
    started = anyio.Event()

    async def forever() -> None:
        started.set()
        await anyio.sleep_forever()

    async with anyio.create_task_group() as group:
        background.attach(group)
        work = background.run_loop("reader", forever)
        await started.wait()
        work.cancel()
        await work.wait()

    assert work.done


async def test_nothing_starts_before_the_task_group_is_attached() -> None:
    async def never() -> None:
        raise AssertionError("must not run")

    with pytest.raises(RuntimeError, match="not started"):
        Background().spawn(never())


def test_a_loop_crash_is_found_inside_nested_groups() -> None:
    crash = LoopCrashed("outbox")
    nested = ExceptionGroup("outer", [ValueError("x"), ExceptionGroup("inner", [crash])])

    assert crashed_loop(nested) is crash
    assert crashed_loop(ExceptionGroup("only", [ValueError("x")])) is None
