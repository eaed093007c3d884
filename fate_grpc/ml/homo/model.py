"""The homo_lr model as FATE 2.2 builds it: one linear head per class (one head for two classes), a sigmoid
on each, and at prediction time a softmax over the heads' sigmoids when there are several.

The parameters travel as one flat vector (every head's weights row by row, then the biases), the form the
optimizer steps on and secure aggregation sums; the saved form is FATE's torch ``state_dict``
(``models.<i>.weight`` as ``[[...]]``, ``models.<i>.bias`` as ``[b]``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
# FATE's init methods for homo_lr ("random_uniform" is declared by the parameter but refused by the client).
INIT_METHODS = ("zeros", "ones", "consts", "random")


def head_count(label_num: int) -> int:
    """Heads for ``label_num`` classes: one for two classes, else one per class (FATE's HomoLRModel)."""
    return 1 if label_num <= 2 else label_num


@dataclass
class HomoModel:
    """Weights ``(heads, features)`` and biases ``(heads,)`` (None without fit_intercept)."""

    weights: FloatArray
    bias: FloatArray | None

    @property
    def heads(self) -> int:
        return int(self.weights.shape[0])

    @property
    def features(self) -> int:
        return int(self.weights.shape[1])

    @property
    def size(self) -> int:
        return self.weights.size + (0 if self.bias is None else self.bias.size)

    @classmethod
    def initial(
        cls,
        features: int,
        heads: int,
        *,
        method: str,
        fill_val: float,
        fit_intercept: bool,
        random_state: int | None,
    ) -> HomoModel:
        """A new model; biases start at zero whatever the method (as FATE's init_model)."""
        shape = (heads, features)
        if method == "zeros":
            weights = np.zeros(shape)
        elif method == "ones":
            weights = np.ones(shape)
        elif method == "consts":
            weights = np.full(shape, float(fill_val))
        elif method == "random":
            weights = np.random.default_rng(random_state).standard_normal(shape)
        else:
            raise ValueError(f"init_param.method {method!r} is not one of {', '.join(INIT_METHODS)}")
        return cls(weights, np.zeros(heads) if fit_intercept else None)

    def vector(self) -> FloatArray:
        """Every parameter in one flat vector: the weights row by row, then the biases."""
        parts = [self.weights.reshape(-1)] + ([] if self.bias is None else [self.bias])
        return np.concatenate(parts).astype(np.float64)

    def set_vector(self, vector: npt.ArrayLike) -> None:
        """Overwrite every parameter from a vector made by ``vector()`` (e.g. the aggregated model)."""
        values = np.asarray(vector, dtype=np.float64).reshape(-1)
        if values.size != self.size:
            raise ValueError(f"a model vector of {values.size} values for a model of {self.size}")
        count = self.weights.size
        self.weights = values[:count].reshape(self.weights.shape).copy()
        if self.bias is not None:
            self.bias = values[count:].copy()

    def scores(self, features: FloatArray) -> FloatArray:
        """The linear output of every head, ``(rows, heads)``."""
        z = features @ self.weights.T
        return z if self.bias is None else z + self.bias

    def probabilities(self, features: FloatArray) -> FloatArray:
        """What FATE's model outputs in eval mode: sigmoids, softmaxed over the heads when several."""
        sigmoid = 1.0 / (1.0 + np.exp(-self.scores(features)))
        if self.heads == 1:
            return sigmoid
        shifted = np.exp(sigmoid - sigmoid.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)

    def state_dict(self) -> dict[str, Any]:
        """FATE's ``{"feature_num", "label_num", "state_dict"}`` (label_num = the number of heads)."""
        state: dict[str, Any] = {}
        for head in range(self.heads):
            state[f"models.{head}.weight"] = [self.weights[head].tolist()]
            if self.bias is not None:
                state[f"models.{head}.bias"] = [float(self.bias[head])]
        return {"feature_num": self.features, "label_num": self.heads, "state_dict": state}

    @classmethod
    def from_state_dict(cls, saved: Mapping[str, Any]) -> HomoModel:
        """The model of a saved ``{"feature_num", "label_num", "state_dict"}``.

        Raises:
            ValueError: Missing heads, or shapes that do not match feature_num (the message says which).
        """
        try:
            features, heads, state = int(saved["feature_num"]), int(saved["label_num"]), saved["state_dict"]
        except (KeyError, TypeError, ValueError):
            raise ValueError("model lacks feature_num, label_num or state_dict") from None
        if features < 1 or heads < 1 or not isinstance(state, Mapping):
            raise ValueError("model has no heads or features")
        weights = np.zeros((heads, features))
        with_bias = "models.0.bias" in state
        bias = np.zeros(heads) if with_bias else None
        for head in range(heads):
            weights[head] = _row(state, f"models.{head}.weight", features)
            if bias is not None:
                bias[head] = _row(state, f"models.{head}.bias", 1)[0]
        return cls(weights, bias)


def _row(state: Mapping[str, Any], key: str, width: int) -> FloatArray:
    try:
        values = np.asarray(state[key], dtype=np.float64).reshape(-1)
    except KeyError:
        raise ValueError(f"state_dict lacks {key}") from None
    except (TypeError, ValueError):
        raise ValueError(f"state_dict.{key} must hold numbers") from None
    if values.size != width or not np.all(np.isfinite(values)):
        raise ValueError(f"state_dict.{key} must hold {width} finite numbers, got {values.size}")
    return values
