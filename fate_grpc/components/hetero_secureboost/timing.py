"""Where a party's hetero_secureboost training time goes, logged at the end of its training as one line
(``bench/secureboost.py`` reads it): encryption, histogram building (with packing at a host), decryption,
split finding, transfer (sending and waiting for peers), and the number of ciphertexts it sent.

One stopwatch per thread: a task process runs one party; in-process tests run each party in its own thread.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

CATEGORIES = ("encrypt", "histogram", "decrypt", "split", "transfer")
LOG_PREFIX = "secureboost timings:"

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


def count_ciphertexts(count: int) -> None:
    _totals()["ciphertexts"] += count


def reset() -> None:
    _local.totals = defaultdict(float)
    _local.started = time.perf_counter()


def summary(trees: int) -> str:
    """``secureboost timings: total=..s trees=N encrypt=..s ... transfer=..s ciphertexts=N``."""
    totals = _totals()
    total = time.perf_counter() - getattr(_local, "started", time.perf_counter())
    parts = " ".join(f"{name}={totals[name]:.3f}s" for name in CATEGORIES)
    return f"{LOG_PREFIX} total={total:.3f}s trees={trees} {parts} ciphertexts={int(totals['ciphertexts'])}"
