"""Weights of FATE's linear models: initialisation, penalties, updates, convergence, (de)serialisation.

Weights are a float64 column ``(k, 1)``; with ``fit_intercept`` the intercept is the last entry (the guest
appends a column of ones to its features). Facts follow FATE 2.2's ``_model_param.py``, ``_optimizer.py``
and ``_convergence.py``:

* init methods zeros, ones, consts (``fill_val``), random (standard normal), random_uniform (U[0, 1)); a
  ``random_state`` seeds numpy's generator (FATE seeds torch's, so seeded values differ from FATE's).
* L2: the gradient gains ``alpha * w`` (the intercept excluded); the loss gains ``0.5 * alpha * w^T w``
  (FATE includes the intercept there).
* L1: the weights (not the intercept) are soft-thresholded after the step by ``alpha * lr / sqrt(epoch)``;
  FATE divides by ``sqrt(0)`` in the first epoch (an infinite threshold that zeroes every coefficient),
  here the first epoch counts as 1. The loss gains ``alpha * sum(|w|)`` (FATE sums ``w`` unsigned).
* Convergence per epoch: ``diff`` |loss - previous loss| < tol (never on the first epoch), ``abs`` loss <=
  tol, ``weight_diff`` the 2-norm of the epoch's summed updates < tol.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

INIT_METHODS = ("zeros", "ones", "consts", "random", "random_uniform")
EARLY_STOP = ("diff", "weight_diff", "abs")
PENALTIES = ("l1", "l2", "none")
# FATE refuses weights this large as a sign of divergence.
OVERFLOW_THRESHOLD = 1e8


def initial_weights(count: int, init_param: Mapping[str, Any]) -> FloatArray:
    """``count`` coefficients (+1 intercept when fit_intercept) as a ``(k, 1)`` column."""
    size = count + (1 if init_param.get("fit_intercept") else 0)
    method = str(init_param.get("method", "zeros"))
    seed = init_param.get("random_state")
    generator = np.random.default_rng(None if seed is None else int(seed))
    if method == "zeros":
        return np.zeros((size, 1))
    if method == "ones":
        return np.ones((size, 1))
    if method == "consts":
        return np.full((size, 1), float(init_param.get("fill_val", 0.0)))
    if method == "random":
        return generator.standard_normal((size, 1))
    if method == "random_uniform":
        return generator.random((size, 1))
    raise ValueError(f"init_param.method {method!r} is not one of {', '.join(INIT_METHODS)}")


def penalised_gradient(
    gradient: FloatArray, weights: FloatArray, penalty: str, alpha: float, fit_intercept: bool
) -> FloatArray:
    """The gradient plus the L2 term ``alpha * w`` (intercept excluded); unchanged for l1/none."""
    if penalty != "l2":
        return gradient
    decay = weights.copy()
    if fit_intercept:
        decay[-1] = 0.0
    return gradient + alpha * decay


def penalty_loss(weights: FloatArray, penalty: str, alpha: float) -> float:
    """The regularisation term each party adds to a batch's loss."""
    if penalty == "l2":
        return float(0.5 * alpha * (weights.T @ weights).item())
    if penalty == "l1":
        return float(alpha * np.abs(weights).sum())
    return 0.0


def apply_update(
    weights: FloatArray,
    delta: FloatArray,
    *,
    penalty: str,
    alpha: float,
    lr: float,
    epoch: int,
    fit_intercept: bool,
) -> FloatArray:
    """New weights after the arbiter's ``delta`` (``w - delta``; soft-thresholded coefficients for L1)."""
    moved = weights - delta
    if penalty != "l1":
        return moved
    threshold = alpha * lr / math.sqrt(max(epoch, 1))
    coefficients = moved[:-1] if fit_intercept else moved
    shrunk = np.sign(coefficients) * np.maximum(0.0, np.abs(coefficients) - threshold)
    return np.vstack([shrunk, moved[-1:]]) if fit_intercept else shrunk


def check_overflow(weights: FloatArray) -> None:
    if bool((np.abs(weights) > OVERFLOW_THRESHOLD).any()):
        raise ValueError(
            f"a weight exceeds {OVERFLOW_THRESHOLD:g}: training diverged (lower optimizer_params.lr)"
        )


class Convergence:
    """FATE's early-stop rules, fed once per epoch."""

    def __init__(self, early_stop: str, tol: float) -> None:
        if early_stop not in EARLY_STOP:
            raise ValueError(f"early_stop {early_stop!r} is not one of {', '.join(EARLY_STOP)}")
        self.early_stop = early_stop
        self.tol = float(tol)
        self.previous_loss: float | None = None

    @property
    def needs_loss(self) -> bool:
        return self.early_stop != "weight_diff"

    def is_converged(self, *, loss: float | None, update: FloatArray) -> bool:
        if self.early_stop == "weight_diff":
            return bool(np.linalg.norm(update.reshape(-1), 2) < self.tol)
        if loss is None:
            raise ValueError("early_stop diff/abs needs the loss; use weight_diff")
        if self.early_stop == "abs":
            return loss <= self.tol
        converged = self.previous_loss is not None and abs(self.previous_loss - loss) < self.tol
        self.previous_loss = loss
        return converged


def serialize_weights(weights: FloatArray, fit_intercept: bool) -> dict[str, Any]:
    """FATE's ``param`` entry: coef_ as ``[[w0], [w1], ...]``, the intercept or None, the dtype."""
    rows = weights.tolist()
    intercept = None
    if fit_intercept:
        intercept = rows[-1][0]
        rows = rows[:-1]
    return {"coef_": rows, "intercept_": intercept, "dtype": str(weights.dtype)}


def deserialize_weights(param: Mapping[str, Any], fit_intercept: bool) -> FloatArray:
    """The ``(k, 1)`` weights of a ``param`` entry (the intercept appended when fit_intercept)."""
    try:
        rows = [[float(v) for v in row] if isinstance(row, list) else [float(row)] for row in param["coef_"]]
        if fit_intercept:
            rows.append([float(param["intercept_"])])
    except (KeyError, TypeError, ValueError):
        raise ValueError("model param lacks numeric coef_ / intercept_") from None
    return np.asarray(rows, dtype=np.float64).reshape(-1, 1)
