"""Where a party's training time goes: encryption, homomorphic arithmetic, decryption, transfer (sending and
waiting for peers), logged at the end of the task (``bench/coordinated_lr.py`` reads the line).

One stopwatch per thread: a task process runs one party; in-process tests run each party in its own thread.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

CATEGORIES = ("encrypt", "homomorphic", "decrypt", "transfer")
LOG_PREFIX = "coordinated timings:"

_local = threading.local()


def _totals() -> defaultdict[str, float]:
    totals = getattr(_local, "totals", None)
    if totals is None:
        totals = _local.totals = defaultdict(float)
    return totals


@contextmanager
def measure(category: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        _totals()[category] += time.perf_counter() - started


def reset() -> None:
    _local.totals = defaultdict(float)
    _local.started = time.perf_counter()


def summary() -> str:
    """``coordinated timings: total=..s encrypt=..s homomorphic=..s decrypt=..s transfer=..s``."""
    totals = _totals()
    total = time.perf_counter() - getattr(_local, "started", time.perf_counter())
    parts = " ".join(f"{name}={totals[name]:.3f}s" for name in CATEGORIES)
    return f"{LOG_PREFIX} total={total:.3f}s {parts}"
