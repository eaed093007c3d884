"""A process pool for a party's Paillier work (encryption, histogram sums, decryption) on large data, so that
both cores work; none for small data, where round trips to workers cost more than they save."""

from __future__ import annotations

import os
from concurrent.futures import Executor
from types import TracebackType

from fate_grpc.crypto import paillier

PARALLEL_MIN_ROWS = 5000


class CryptoWorkers:
    """``with CryptoWorkers(rows) as executor``: a process pool (or None) shut down on exit."""

    def __init__(self, rows: int) -> None:
        workers = min(4, os.cpu_count() or 1)
        self._executor = (
            paillier.make_executor(workers) if rows >= PARALLEL_MIN_ROWS and workers > 1 else None
        )

    def __enter__(self) -> Executor | None:
        return self._executor

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
