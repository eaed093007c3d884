"""Worker processes for the Paillier work of one task, sized to the machine; none for small data."""

from __future__ import annotations

import os
from concurrent.futures import Executor
from types import TracebackType

from fate_grpc.crypto import paillier

# Below this many rows the work stays in the task's thread: starting two workers takes about 0.3 s, which
# a few trees or batches of fewer rows do not win back.
PARALLEL_MIN_ROWS = 2000


class CryptoWorkers:
    """``with CryptoWorkers(rows) as executor``: a process pool (or None) shut down on exit."""

    def __init__(self, rows: int, *, min_rows: int = PARALLEL_MIN_ROWS) -> None:
        workers = min(4, os.cpu_count() or 1)
        self._executor = paillier.make_executor(workers) if rows >= min_rows and workers > 1 else None

    def __enter__(self) -> Executor | None:
        return self._executor

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
