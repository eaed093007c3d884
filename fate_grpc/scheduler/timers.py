"""The scheduler's timers: attempt deadlines and wake-ups of jobs whose next attempt is backed off.

In memory only: a scheduler that restarts re-arms the deadlines of its running attempts from their
stored start times (`decisions.on_resume`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from fate_grpc.store.records import AttemptKey


class Timers:
    def __init__(self, on_deadline: Callable[[AttemptKey], None], on_wake: Callable[[str], None]) -> None:
        self._on_deadline = on_deadline
        self._on_wake = on_wake
        self._deadlines: dict[AttemptKey, asyncio.TimerHandle] = {}
        self._wakes: set[asyncio.TimerHandle] = set()

    def arm_deadline(self, key: AttemptKey, at_ms: int) -> None:
        """Call `on_deadline(key)` at `at_ms` (unix ms), replacing an earlier deadline of the attempt."""
        self.disarm_deadline(key)

        def fire() -> None:
            self._deadlines.pop(key, None)
            self._on_deadline(key)

        self._deadlines[key] = asyncio.get_running_loop().call_later(_delay_s(at_ms), fire)

    def disarm_deadline(self, key: AttemptKey) -> None:
        handle = self._deadlines.pop(key, None)
        if handle is not None:
            handle.cancel()

    def wake_at(self, job_id: str, at_ms: int) -> None:
        """Call `on_wake(job_id)` at `at_ms` (a backed-off attempt becomes due)."""

        def fire() -> None:
            self._wakes.discard(handle)
            self._on_wake(job_id)

        handle = asyncio.get_running_loop().call_later(_delay_s(at_ms), fire)
        self._wakes.add(handle)

    def cancel_all(self) -> None:
        for handle in (*self._deadlines.values(), *self._wakes):
            handle.cancel()
        self._deadlines.clear()
        self._wakes.clear()


def _delay_s(at_ms: int) -> float:
    return max(0.0, (at_ms - time.time() * 1000) / 1000)
