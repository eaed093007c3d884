"""Change notifications per job, for live views (`flow job watch`): no polling, just a version bump."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict


class JobEvents:
    def __init__(self) -> None:
        self._versions: defaultdict[str, int] = defaultdict(int)
        self._changed: defaultdict[str, asyncio.Event] = defaultdict(asyncio.Event)

    def notify(self, job_id: str) -> None:
        """Something about the job changed."""
        self._versions[job_id] += 1
        event = self._changed.pop(job_id, None)
        if event is not None:
            event.set()

    def version(self, job_id: str) -> int:
        return self._versions[job_id]

    async def wait(self, job_id: str, seen: int, timeout_s: float) -> int:
        """Wait until the job's version passes `seen` (or the timeout); returns the current version."""
        if self._versions[job_id] == seen:
            event = self._changed[job_id]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout=timeout_s)
        return self._versions[job_id]
