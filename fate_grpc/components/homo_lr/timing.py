"""Where a party's homo_lr training time goes: local training, masking (key agreement, fixed-point encoding
and masks at a client; summing and decoding at the arbiter), transfer (sending and waiting for peers, so
it includes waiting for the slowest client), logged at the end of the task (``bench/homo_lr.py`` reads it)."""

from __future__ import annotations

from fate_grpc.components.model_common.stopwatch import Stopwatch

CATEGORIES = ("train", "mask", "transfer")
LOG_PREFIX = "homo_lr timings:"

_stopwatch = Stopwatch()
measure = _stopwatch.measure
reset = _stopwatch.reset


def summary(epochs: int) -> str:
    """``homo_lr timings: total=..s epochs=N train=..s mask=..s transfer=..s``."""
    return f"{LOG_PREFIX} total={_stopwatch.elapsed():.3f}s epochs={epochs} {_stopwatch.parts(CATEGORIES)}"
