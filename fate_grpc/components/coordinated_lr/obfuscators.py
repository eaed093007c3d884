"""Paillier obfuscators made ahead of time in a worker process, so that encrypting a batch costs one
multiplication per value instead of a fresh obfuscator (about 65 multiplications with 1024-bit keys) on
the party's critical path.

A one-process pool computes chunks of a batch's worth of obfuscators (``paillier_pool.obfuscator_chunk``:
its own fixed-base table with a secret base drawn in that process, fresh exponents from ``os.urandom``);
two chunks are kept in flight. ``take`` uses finished chunks only and computes any shortfall on the spot,
so it never waits for the worker. Each obfuscator is used once.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Executor, Future
from concurrent.futures.process import BrokenProcessPool
from types import TracebackType

import numpy as np
from gmpy2 import mpz

from fate_grpc.components.coordinated_lr import timing
from fate_grpc.crypto import fixedpoint, paillier
from fate_grpc.crypto.paillier_pool import ciphertext_width, fixed_base, from_fixed_bytes, obfuscator_chunk

IN_FLIGHT = 2  # chunks computed ahead
# Smaller batches encrypt fast enough in the party's own thread (the worker's start-up would cost more).
PREFETCH_MIN_ROWS = 128


class ObfuscatorWorker:
    """``with ObfuscatorWorker(batch_rows, enabled=...) as worker``: the worker process, started at once
    (before the key arrives, so its start-up overlaps the key exchange) and shut down on exit."""

    def __init__(self, batch_rows: int, *, enabled: bool) -> None:
        wanted = enabled and batch_rows >= PREFETCH_MIN_ROWS
        self.executor: Executor | None = paillier.make_executor(1) if wanted else None
        if self.executor is not None:
            self.executor.submit(ciphertext_width, 3)  # start the process and import the chunk code now

    def __enter__(self) -> ObfuscatorWorker:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)

    def prefetch(self, public_key: paillier.PublicKey, per_batch: int) -> PrefetchedObfuscators:
        return PrefetchedObfuscators(public_key, per_batch, self.executor)


class PrefetchedObfuscators:
    """Obfuscators for ``public_key`` from the worker (``take(count)``), computed locally without one."""

    def __init__(self, public_key: paillier.PublicKey, per_batch: int, executor: Executor | None) -> None:
        self._n = int(public_key.n)
        self._width = ciphertext_width(self._n)
        self._chunk = max(1, per_batch)
        self._ready: deque[mpz] = deque()
        self._pending: deque[Future[bytes]] = deque()
        self._executor = executor
        self._refill()

    def take(self, count: int) -> list[mpz]:
        while self._pending and self._pending[0].done() and len(self._ready) < count:
            self._collect(self._pending.popleft())
        taken = [self._ready.popleft() for _ in range(min(count, len(self._ready)))]
        if len(taken) < count:
            taken.extend(fixed_base(self._n).draw(count - len(taken)))
        self._refill()
        return taken

    def _collect(self, future: Future[bytes]) -> None:
        try:
            self._ready.extend(from_fixed_bytes(future.result(), self._width))
        except BrokenProcessPool:
            self._executor = None  # the worker died: compute locally from now on

    def _refill(self) -> None:
        while self._executor is not None and len(self._pending) < IN_FLIGHT:
            try:
                self._pending.append(self._executor.submit(obfuscator_chunk, self._n, self._chunk))
            except BrokenProcessPool:
                self._executor = None


class Encryptor:
    """Encryption and re-randomisation for one party: prefetched obfuscators for batches of ordinary size,
    the worker processes for big ones."""

    def __init__(
        self, public_key: paillier.PublicKey, source: PrefetchedObfuscators, executor: Executor | None
    ) -> None:
        self.public_key, self.source, self.executor = public_key, source, executor

    def encrypt(self, values: object, precision_bits: int) -> paillier.EncryptedVector:
        array = np.asarray(values, dtype=np.float64).reshape(-1)
        with timing.measure("encrypt"):
            if self.executor is not None and len(array) >= paillier.PARALLEL_MIN_ITEMS:
                return paillier.encrypt(
                    self.public_key, array, precision_bits=precision_bits, executor=self.executor
                )
            residues = fixedpoint.encode(array, int(self.public_key.n), precision_bits)
            n, n2 = self.public_key.n, self.public_key.n2
            noise = self.source.take(len(residues))
            ciphertexts = [(n * m + 1) * r % n2 for m, r in zip(residues, noise, strict=True)]
            return paillier.EncryptedVector(self.public_key, ciphertexts, precision_bits)

    def rerandomize(self, vector: paillier.EncryptedVector) -> paillier.EncryptedVector:
        """The same plaintexts under fresh obfuscators."""
        with timing.measure("homomorphic"):
            n2 = self.public_key.n2
            noise = self.source.take(len(vector))
            fresh = [c * r % n2 for c, r in zip(vector.ciphertexts, noise, strict=True)]
            return paillier.EncryptedVector(self.public_key, fresh, vector.scale)
