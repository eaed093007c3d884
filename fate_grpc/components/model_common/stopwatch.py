"""Where a party's training time goes: totals of seconds per category and of counts, per thread.

One stopwatch per thread: a task process runs one party; in-process tests run each party in its own thread.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager


class Stopwatch:
    """Seconds per category (``measure``) and counts (``count``) since the thread's last ``reset``."""

    def __init__(self) -> None:
        self._local = threading.local()

    def totals(self) -> defaultdict[str, float]:
        totals = getattr(self._local, "totals", None)
        if totals is None:
            totals = self._local.totals = defaultdict(float)
        return totals

    @contextmanager
    def measure(self, category: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.totals()[category] += time.perf_counter() - started

    def count(self, name: str, amount: int) -> None:
        self.totals()[name] += amount

    def reset(self) -> None:
        self._local.totals = defaultdict(float)
        self._local.started = time.perf_counter()

    def elapsed(self) -> float:
        """Seconds since this thread's last ``reset`` (0 before any)."""
        return time.perf_counter() - getattr(self._local, "started", time.perf_counter())

    def parts(self, categories: Sequence[str]) -> str:
        """``name=..s`` for each category, in order (a category never measured shows 0)."""
        totals = self.totals()
        return " ".join(f"{name}={totals[name]:.3f}s" for name in categories)
