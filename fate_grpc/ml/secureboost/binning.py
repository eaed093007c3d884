"""Per-feature quantile split points and bin indices, as FATE 2.2's SecureBoost bins its features.

FATE takes the quantiles ``q = i / max_bin`` for ``i = 0 .. max_bin - 1`` of every column (so the column
minimum is always a split point and the maximum never is), keeps the unique values in ascending order, and
assigns each value the first bin whose point is ``>= value``; the last point is treated as +inf, so values
above it (never seen, or above the largest quantile) fall in the last bin. Bin ``b`` therefore means "left
of a split at point ``b``" for every ``b`` but the last. Quantiles here are exact order statistics of rank
``floor(q * m)`` (the lowest value for rank 0): what FATE's Greenwald-Khanna summary (relative error 1e-4)
answers while it is still exact, i.e. below 5,000 rows; above that FATE's answers may be off by a few
ranks, within its error bound.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def split_points(x: npt.ArrayLike, max_bin: int) -> list[FloatArray]:
    """Per column, the ascending unique quantile values at ``i / max_bin``, ``i = 0 .. max_bin - 1``.

    Raises:
        ValueError: ``max_bin`` < 1, or ``x`` is not a finite 2-D matrix.
    """
    if max_bin < 1:
        raise ValueError(f"max_bin must be >= 1, got {max_bin}")
    matrix = _finite_matrix(x)
    rows = matrix.shape[0]
    if rows == 0:
        return [np.empty(0) for _ in range(matrix.shape[1])]
    ordered = np.sort(matrix, axis=0)
    # FATE's summary answers q with the value of rank floor(q * rows) (1-based; the minimum for rank 0),
    # q computed in floating point as i / max_bin.
    ranks = np.floor((np.arange(max_bin) / max_bin) * rows).astype(np.int64)
    picked = ordered[np.maximum(ranks - 1, 0), :]
    return [np.unique(picked[:, j]) for j in range(matrix.shape[1])]


def bin_indices(x: npt.ArrayLike, points: list[FloatArray]) -> IntArray:
    """The bin of every value: the first point ``>= value``, the last point counting as +inf.

    Raises:
        ValueError: The number of columns differs from ``len(points)`` or a value is missing/infinite.
    """
    matrix = _finite_matrix(x)
    if matrix.shape[1] != len(points):
        raise ValueError(f"{len(points)} columns of split points for a matrix of {matrix.shape[1]} columns")
    out = np.empty(matrix.shape, dtype=np.int64)
    for j, column_points in enumerate(points):
        if len(column_points) == 0:
            out[:, j] = 0
            continue
        # searchsorted on all but the last point: values above them all land in the last bin.
        out[:, j] = np.searchsorted(column_points[:-1], matrix[:, j], side="left")
    return out


def bin_counts(points: list[FloatArray]) -> IntArray:
    """How many bins each column has (at least one)."""
    return np.asarray([max(1, len(p)) for p in points], dtype=np.int64)


def _finite_matrix(x: npt.ArrayLike) -> FloatArray:
    matrix = np.asarray(x, dtype=np.float64)
    if matrix.ndim != 2:
        raise ValueError(f"expected a 2-D matrix, got shape {matrix.shape}")
    if not bool(np.all(np.isfinite(matrix))):
        raise ValueError("features hold missing or infinite values")
    return matrix
