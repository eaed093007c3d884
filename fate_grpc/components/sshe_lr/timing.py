"""Where a party's SSHE training time goes: encryption, homomorphic arithmetic, decryption, share arithmetic
and transfer (sending and waiting for the peer), logged at the end of the task (``bench/sshe_lr.py`` reads
the line)."""

from __future__ import annotations

from fate_grpc.components.model_common.stopwatch import Stopwatch

CATEGORIES = ("encrypt", "homomorphic", "decrypt", "shares", "transfer")
LOG_PREFIX = "sshe timings:"

_stopwatch = Stopwatch()
measure = _stopwatch.measure
reset = _stopwatch.reset


def summary() -> str:
    """``sshe timings: total=..s encrypt=..s homomorphic=..s decrypt=..s shares=..s transfer=..s``."""
    return f"{LOG_PREFIX} total={_stopwatch.elapsed():.3f}s {_stopwatch.parts(CATEGORIES)}"
