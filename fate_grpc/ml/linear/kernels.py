"""Loss and gradient kernels of the coordinated linear models, as functions over row blocks.

Logistic regression uses FATE's second-order Taylor expansion of the logistic loss around 0, with labels
y in {-1, +1} and the linear predictor z = X w (summed over the parties' feature blocks):

    loss_i ~ log 2 - y_i z_i / 2 + z_i^2 / 8,    d loss_i / d z_i = d_i = z_i / 4 - y_i / 2

Linear regression uses loss_i = (z_i - y_i)^2 / 2 with d_i = z_i - y_i. A party's gradient is X^T d / rows.

Every ``*_sum`` function returns the sum over the rows it is given, so the results of row blocks add up
(``block_sums``), whatever the partitioning; dividing by the row count gives the batch mean.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Literal

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
Task = Literal["lr", "linr"]
LOG_2 = math.log(2.0)
# The factor on a party's X w in the residual: 1/4 for the Taylor logistic loss, 1 for least squares.
FORWARD_FACTOR: dict[str, float] = {"lr": 0.25, "linr": 1.0}


def signed_labels(labels: npt.ArrayLike) -> FloatArray:
    """0/1 labels as FATE's -1/+1 (1 stays 1, anything else becomes -1)."""
    values = np.asarray(labels, dtype=np.float64).reshape(-1, 1)
    return np.where(np.abs(values - 1.0) < 1e-8, 1.0, -1.0)


def forward(features: FloatArray, weights: FloatArray) -> FloatArray:
    """A party's share of the linear predictor, X w, as a column."""
    return np.asarray(features @ weights, dtype=np.float64).reshape(-1, 1)


def label_residual(task: Task, own_forward: FloatArray, y: FloatArray) -> FloatArray:
    """The guest's part of d: ``xw/4 - y/2`` (lr) or ``xw - y`` (linr); the hosts' scaled X w add to it."""
    if task == "lr":
        return 0.25 * own_forward - 0.5 * y
    return own_forward - y


def residual(task: Task, z: FloatArray, y: FloatArray) -> FloatArray:
    """d for the full linear predictor z."""
    return label_residual(task, z, y)


def gradient_sum(features: FloatArray, d: FloatArray) -> FloatArray:
    """``X^T d`` over these rows (a ``(k, 1)`` column)."""
    return np.asarray(features.T @ d, dtype=np.float64).reshape(-1, 1)


def loss_sum(task: Task, z: FloatArray, y: FloatArray) -> float:
    """The sum over these rows of the Taylor logistic loss (lr) or half the squared error (linr)."""
    if task == "lr":
        return float(np.sum(LOG_2 - 0.5 * y * z + 0.125 * z * z))
    return float(0.5 * np.sum((z - y) ** 2))


def block_sums(
    kernel: Callable[[slice], float | FloatArray], rows: int, block_rows: int
) -> float | FloatArray:
    """Add up ``kernel(rows_slice)`` over consecutive row blocks (partial results combine by addition)."""
    total: float | FloatArray = 0.0
    for start in range(0, rows, block_rows):
        total = total + kernel(slice(start, min(rows, start + block_rows)))
    return total


def batch_bounds(rows: int, batch_size: int | None) -> list[tuple[int, int]]:
    """FATE's unshuffled batches: consecutive slices of ``batch_size`` rows (the last one shorter);
    one batch of every row when batch_size is None or not smaller than the row count."""
    if rows <= 0:
        raise ValueError("no rows to train on")
    if batch_size is None or batch_size >= rows:
        return [(0, rows)]
    return [(start, min(rows, start + batch_size)) for start in range(0, rows, batch_size)]


def kfold_indices(
    rows: int, n_splits: int, *, shuffle: bool, random_state: int | None
) -> Iterator[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]]:
    """(train, test) row positions per fold, as scikit-learn's KFold makes them (FATE uses it):
    the first ``rows % n_splits`` folds get one row more; both position lists ascend."""
    if not 2 <= n_splits <= rows:
        raise ValueError(f"cv_param.n_splits must lie in [2, {rows}] (the row count)")
    order = np.arange(rows)
    if shuffle:
        np.random.RandomState(random_state).shuffle(order)
    sizes = np.full(n_splits, rows // n_splits, dtype=np.int64)
    sizes[: rows % n_splits] += 1
    start = 0
    for size in sizes.tolist():
        test = order[start : start + size]
        mask = np.zeros(rows, dtype=bool)
        mask[test] = True
        yield np.flatnonzero(~mask).astype(np.int64), np.flatnonzero(mask).astype(np.int64)
        start += size
