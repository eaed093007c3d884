"""A process pool for a party's Paillier work (encryption, histogram sums, decryption) on large data, so that
both cores work; none for small data, where round trips to workers cost more than they save."""

from __future__ import annotations

import os
import threading
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


class ObfuscatorPrefill:
    """Obfuscators for the next tree's encryption, computed in the background while the guest waits for the
    hosts' histograms (on the workers when there are any), so that encrypting costs one multiplication per
    value when the tree starts."""

    def __init__(self, public_key: paillier.PublicKey, executor: Executor | None) -> None:
        self.pool = paillier.ObfuscatorPool(int(public_key.n))
        self._executor = executor
        self._thread: threading.Thread | None = None

    def start(self, count: int) -> None:
        self.wait()
        self._thread = threading.Thread(
            target=self.pool.fill, args=(count, self._executor), name="obfuscator-prefill", daemon=True
        )
        self._thread.start()

    def wait(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
