"""Paillier obfuscators computed while the party waits for its peers, so that encrypting a batch costs one
multiplication per value instead of a fresh obfuscator (about 65 multiplications with 1024-bit keys).

A daemon thread tops up an ObfuscatorPool in small chunks, only while ``timing.peer_wait`` is set (the
party is blocked in a receive), yielding the GIL between chunks so the party resumes at once. Each
obfuscator is handed out once (``ObfuscatorPool.take``); a shortfall is computed on the spot.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Executor
from types import TracebackType

import numpy as np

from fate_grpc.components.coordinated_lr import timing
from fate_grpc.crypto import paillier

CHUNK = 4  # obfuscators per step (about 0.3 ms with 1024-bit keys) before the GIL is offered back


class ObfuscatorFiller:
    """``with ObfuscatorFiller(public_key, target) as pool``: a pool kept near ``target`` obfuscators."""

    def __init__(self, public_key: paillier.PublicKey, target: int) -> None:
        self.pool = paillier.ObfuscatorPool(int(public_key.n))
        self._target = target
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._fill, name="obfuscator-filler", daemon=True)

    def __enter__(self) -> paillier.ObfuscatorPool:
        self._thread.start()
        return self.pool

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stop.set()
        timing.peer_wait.set()  # wake the thread so it sees the stop
        self._thread.join()
        timing.peer_wait.clear()

    def _fill(self) -> None:
        while not self._stop.is_set():
            timing.peer_wait.wait()
            if self._stop.is_set():
                return
            if len(self.pool) >= self._target:
                self._stop.wait(0.005)
                continue
            self.pool.fill(CHUNK)
            time.sleep(0)  # offer the GIL back between chunks


class Encryptor:
    """Encryption and re-randomisation for one party: precomputed obfuscators for batches of ordinary size,
    the worker processes for big ones."""

    def __init__(
        self, public_key: paillier.PublicKey, pool: paillier.ObfuscatorPool, executor: Executor | None
    ) -> None:
        self.public_key, self.pool, self.executor = public_key, pool, executor

    def encrypt(self, values: object, precision_bits: int) -> paillier.EncryptedVector:
        array = np.asarray(values, dtype=np.float64).reshape(-1)
        with timing.measure("encrypt"):
            if self.executor is not None and len(array) >= paillier.PARALLEL_MIN_ITEMS:
                return paillier.encrypt(
                    self.public_key, array, precision_bits=precision_bits, executor=self.executor
                )
            return paillier.encrypt(self.public_key, array, precision_bits=precision_bits, pool=self.pool)

    def rerandomize(self, vector: paillier.EncryptedVector) -> paillier.EncryptedVector:
        """The same plaintexts under fresh obfuscators from the pool."""
        with timing.measure("homomorphic"):
            n2 = self.public_key.n2
            noise = self.pool.take(len(vector))
            fresh = [c * r % n2 for c, r in zip(vector.ciphertexts, noise, strict=True)]
            return paillier.EncryptedVector(self.public_key, fresh, vector.scale)
