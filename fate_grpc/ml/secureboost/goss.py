"""Gradient-based one-side sampling as FATE 2.2 does it: keep the ``top_rate`` share of rows with the
largest gradient (signed, FATE's ``nlargest`` on g) and a random ``other_rate`` share of the rest, without
re-weighting the sampled rest."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

BoolArray = npt.NDArray[np.bool_]
DEFAULT_SEED = 42  # FATE's random_seed of the booster


def goss_mask(
    g: npt.NDArray[np.float64], top_rate: float, other_rate: float, *, seed: int = DEFAULT_SEED
) -> BoolArray:
    """Which rows take part in the next tree.

    Raises:
        ValueError: The rates are not in (0, 1) or add up to more than 1.
    """
    if not (0 < top_rate < 1 and 0 < other_rate < 1) or top_rate + other_rate > 1:
        raise ValueError(
            f"top_rate {top_rate} and other_rate {other_rate} must lie in (0, 1) and sum to <= 1"
        )
    rows = len(g)
    top_count, other_count = int(rows * top_rate), int(rows * other_rate)
    order = np.argsort(-g, kind="stable")
    mask = np.zeros(rows, dtype=bool)
    mask[order[:top_count]] = True
    rest = order[top_count:]
    rng = np.random.default_rng(seed)
    mask[rng.choice(rest, size=min(other_count, len(rest)), replace=False)] = True
    return mask
