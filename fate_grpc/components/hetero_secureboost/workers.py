"""When a party starts worker processes, and the obfuscators for the guest's next tree, computed in the
background (the worker pool itself is ``fate_grpc.components.model_common.crypto_workers``)."""

from __future__ import annotations

import threading
from concurrent.futures import Executor

from fate_grpc.crypto import paillier

# Rows from which a party starts worker processes. Starting two takes 0.3 s idle and up to 2.7 s on 2 cores
# under a load of 4; one tree's histograms over 2,000 rows x 20 features take about 0.12 s in one thread,
# so below about 5,000 rows five trees do not win the start back.
PARALLEL_MIN_ROWS = 5000


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
