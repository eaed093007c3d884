"""Where a party's hetero_secureboost training time goes, logged at the end of its training as one line
(``bench/secureboost.py`` reads it): encryption, histogram building (with packing at a host), decryption,
split finding, transfer (sending and waiting for peers), and the number of ciphertexts it sent."""

from __future__ import annotations

from fate_grpc.components.model_common.stopwatch import Stopwatch

CATEGORIES = ("encrypt", "histogram", "decrypt", "split", "transfer")
LOG_PREFIX = "secureboost timings:"

_stopwatch = Stopwatch()
measure = _stopwatch.measure
reset = _stopwatch.reset


def count_ciphertexts(count: int) -> None:
    _stopwatch.count("ciphertexts", count)


def summary(trees: int) -> str:
    """``secureboost timings: total=..s trees=N encrypt=..s ... transfer=..s ciphertexts=N``."""
    ciphertexts = int(_stopwatch.totals()["ciphertexts"])
    parts = _stopwatch.parts(CATEGORIES)
    return f"{LOG_PREFIX} total={_stopwatch.elapsed():.3f}s trees={trees} {parts} ciphertexts={ciphertexts}"
