"""Where a party's training time goes: encryption, homomorphic arithmetic, decryption, transfer (sending and
waiting for peers), logged at the end of the task (``bench/coordinated_lr.py`` reads the line)."""

from __future__ import annotations

from fate_grpc.components.model_common.stopwatch import Stopwatch

CATEGORIES = ("encrypt", "homomorphic", "decrypt", "transfer")
LOG_PREFIX = "coordinated timings:"

_stopwatch = Stopwatch()
measure = _stopwatch.measure
reset = _stopwatch.reset


def summary() -> str:
    """``coordinated timings: total=..s encrypt=..s homomorphic=..s decrypt=..s transfer=..s``."""
    return f"{LOG_PREFIX} total={_stopwatch.elapsed():.3f}s {_stopwatch.parts(CATEGORIES)}"
