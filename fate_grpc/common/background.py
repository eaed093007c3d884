"""The node's task group as its parts see it: background work and long-lived loops, all ended at shutdown.

A part of the node (the supervisor, the scheduler, the participant) never creates a free-floating
asyncio task: whatever it starts runs in the node's one task group, so shutdown cancels it and nothing
outlives the node. Short-lived work that fails is logged with its name and the node goes on (one job's
trouble must not stop the others); a long-lived loop that fails stops the node, loudly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import anyio
from anyio.abc import TaskGroup

log = logging.getLogger("fate_grpc.node")


class LoopCrashed(RuntimeError):
    """A long-lived loop of the node raised: the node cannot go on without it."""

    def __init__(self, loop_name: str) -> None:
        super().__init__(f"the node's loop {loop_name!r} crashed")
        self.loop_name = loop_name


@dataclass(eq=False)  # each piece of work is itself: kept in sets by identity
class Work:
    """One piece of work started in the task group: it can be cancelled and waited for."""

    name: str
    scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)
    finished: anyio.Event = field(default_factory=anyio.Event)

    @property
    def done(self) -> bool:
        return self.finished.is_set()

    def cancel(self) -> None:
        self.scope.cancel()

    async def wait(self) -> None:
        await self.finished.wait()


class Background:
    """Starts work in a task group given later (`attach`), when the node starts."""

    def __init__(self) -> None:
        self._group: TaskGroup | None = None

    def attach(self, group: TaskGroup) -> None:
        self._group = group

    def spawn(self, work: Coroutine[Any, Any, object], *, name: str = "background work") -> Work:
        """Run short-lived work; if it raises, the error is logged with `name` and the node goes on."""
        handle = Work(name)
        self._start(_logged, handle, work)
        return handle

    def run_loop(self, name: str, loop: Callable[[], Coroutine[Any, Any, object]]) -> Work:
        """Run a loop meant to last as long as the node; if it raises, the node fails with LoopCrashed."""
        handle = Work(name)
        self._start(_fatal, handle, loop())
        return handle

    def _start(
        self,
        runner: Callable[[Work, Coroutine[Any, Any, object]], Coroutine[Any, Any, None]],
        handle: Work,
        work: Coroutine[Any, Any, object],
    ) -> None:
        if self._group is None:
            work.close()
            raise RuntimeError("the node is not started")
        self._group.start_soon(runner, handle, work, name=handle.name)


async def _logged(handle: Work, work: Coroutine[Any, Any, object]) -> None:
    try:
        with handle.scope:
            await work
    except Exception:
        log.exception("%s failed", handle.name)
    finally:
        handle.finished.set()


async def _fatal(handle: Work, work: Coroutine[Any, Any, object]) -> None:
    try:
        with handle.scope:
            await work
    except Exception as exc:
        log.critical("loop %s crashed: stopping the node", handle.name, exc_info=True)
        raise LoopCrashed(handle.name) from exc
    finally:
        handle.finished.set()


def crashed_loop(error: BaseException) -> LoopCrashed | None:
    """The LoopCrashed inside `error` (task groups wrap what their tasks raise), if there is one."""
    if isinstance(error, LoopCrashed):
        return error
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            found = crashed_loop(inner)
            if found is not None:
                return found
    return None
