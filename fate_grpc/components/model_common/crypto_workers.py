"""Worker processes for the Paillier work of one task, sized to the machine; none for small data."""

from __future__ import annotations

import os
import threading
from concurrent.futures import Executor, wait
from types import TracebackType

from fate_grpc.crypto import paillier

# Below this many rows the work stays in the task's thread: starting two workers takes 0.3 s on an idle
# machine and up to 2.7 s under load, which a few trees or batches of fewer rows do not win back.
PARALLEL_MIN_ROWS = 2000


class CryptoWorkers:
    """``with CryptoWorkers(rows) as executor``: a process pool (or None) shut down on exit.

    The workers start in the background at once (a pool otherwise starts them at its first tasks), so that
    their start overlaps reading the data and waiting for peers instead of delaying the first encryption or
    histogram.
    """

    def __init__(self, rows: int, *, min_rows: int = PARALLEL_MIN_ROWS) -> None:
        workers = min(4, os.cpu_count() or 1)
        self._executor = paillier.make_executor(workers) if rows >= min_rows and workers > 1 else None
        self._starter: threading.Thread | None = None
        if self._executor is not None:
            self._starter = threading.Thread(
                target=_start_workers, args=(self._executor, workers), name="crypto-workers", daemon=True
            )
            self._starter.start()

    def __enter__(self) -> Executor | None:
        return self._executor

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._starter is not None:
            self._starter.join()
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)


def _start_workers(executor: Executor, workers: int) -> None:
    """Submitted together, no-op tasks start every worker (one is started per task while none is idle)."""
    wait([executor.submit(int) for _ in range(workers)])  # a broken pool is reported at its first real use
