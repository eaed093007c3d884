"""FATE 2.2's SecureBoost objectives: initial scores, gradients and hessians, loss and prediction.

* ``binary:bce``: raw score starts at 0 (not the log-odds), ``p = sigmoid(score)``, ``g = p - y``,
  ``h = p (1 - p)``, loss the mean binary cross-entropy.
* ``multi:ce``: one raw score per class, all starting at 0, ``p = softmax(score)``, ``g = p - onehot(y)``,
  ``h = 2 p (1 - p)``, loss the mean of ``-log p[y]``; one tree per class per round.
* ``regression:l2``: raw score starts at ``mean(y)`` (kept in the model as ``init_score``), ``g = 2 (score
  - y)``, ``h = 2``, loss the mean squared error.

Every function works on any block of rows (the loss is a mean, so blocks combine by weighted means).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

BINARY_BCE = "binary:bce"
MULTI_CE = "multi:ce"
REGRESSION_L2 = "regression:l2"
OBJECTIVES = (BINARY_BCE, MULTI_CE, REGRESSION_L2)
_EPSILON = 1e-15  # keeps log() finite for probabilities that round to 0 or 1


@dataclass(frozen=True)
class Objective:
    """One objective; ``num_class`` matters for ``multi:ce`` only."""

    name: str
    num_class: int = 2

    def __post_init__(self) -> None:
        if self.name not in OBJECTIVES:
            raise ValueError(f"unknown objective {self.name!r}; known: {', '.join(OBJECTIVES)}")
        if self.name == MULTI_CE and self.num_class < 3:
            raise ValueError(f"multi:ce needs num_class >= 3, got {self.num_class}")

    @property
    def tree_dim(self) -> int:
        """Trees per boosting round."""
        return self.num_class if self.name == MULTI_CE else 1

    @property
    def task_type(self) -> str:
        return self.name.split(":")[0]

    def init_score(self, labels: FloatArray) -> float | None:
        """The model's ``init_score``: the label mean for regression, else None (scores start at 0)."""
        return float(np.mean(labels)) if self.name == REGRESSION_L2 else None

    def initial_scores(self, rows: int, init_score: float | None) -> FloatArray:
        if self.name == MULTI_CE:
            return np.zeros((rows, self.num_class))
        return np.full(rows, 0.0 if init_score is None else init_score)

    def predict(self, scores: FloatArray) -> FloatArray:
        """Probabilities (sigmoid / softmax) or the regression value."""
        if self.name == BINARY_BCE:
            return sigmoid(scores)
        if self.name == MULTI_CE:
            return softmax(scores)
        return np.asarray(scores, dtype=np.float64)

    def gradients(self, labels: FloatArray, scores: FloatArray) -> tuple[FloatArray, FloatArray]:
        """``(g, h)``, each of shape ``(rows,)``, or ``(rows, num_class)`` for multi:ce."""
        predicted = self.predict(scores)
        if self.name == BINARY_BCE:
            return predicted - labels, predicted * (1.0 - predicted)
        if self.name == MULTI_CE:
            onehot = np.zeros_like(predicted)
            onehot[np.arange(len(labels)), labels.astype(np.int64)] = 1.0
            return predicted - onehot, 2.0 * predicted * (1.0 - predicted)
        return 2.0 * (scores - labels), np.full(len(labels), 2.0)

    def loss(self, labels: FloatArray, scores: FloatArray) -> float:
        """The mean loss over the rows (FATE's ``sbt_loss``)."""
        predicted = self.predict(scores)
        if self.name == BINARY_BCE:
            p = np.clip(predicted, _EPSILON, 1.0 - _EPSILON)
            return float(np.mean(-(labels * np.log(p) + (1.0 - labels) * np.log(1.0 - p))))
        if self.name == MULTI_CE:
            chosen = predicted[np.arange(len(labels)), labels.astype(np.int64)]
            return float(np.mean(-np.log(np.clip(chosen, _EPSILON, None))))
        return float(np.mean((labels - predicted) ** 2))


def sigmoid(x: FloatArray) -> FloatArray:
    out: FloatArray = 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=np.float64)))  # overflow-free
    return out


def softmax(x: FloatArray) -> FloatArray:
    shifted = np.asarray(x, dtype=np.float64) - np.max(x, axis=1, keepdims=True)
    exp = np.exp(shifted)
    out: FloatArray = exp / exp.sum(axis=1, keepdims=True)
    return out
