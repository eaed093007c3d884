"""One client's local training of homo_lr (pure numpy): the epoch FATE 2.2 runs between two aggregations.

FATE trains the torch model inside a HuggingFace Trainer; the steps it takes are reproduced here:

* mini-batches of ``batch_size`` rows from a fresh shuffle each epoch (the Trainer's sampler, seed 42; the
  permutations are numpy's, not torch's, so the batches hold other rows than FATE's);
* loss = mean binary cross-entropy of each head's sigmoid against "label == class" (one head: the 0/1
  label), averaged over the heads (FATE's multi-class loss keeps only the last head's term, divided by
  the head count, which looks like a slip; every head is trained here), plus ``alpha * sum |theta|`` for
  penalty l1 (biases included, as torch's parameters are);
* the gradient's global 2-norm clipped to 1.0 (the Trainer's default ``max_grad_norm``);
* one step of the configured torch optimizer (``fate_grpc.ml.linear.optimizers``; penalty l2 is torch's
  ``weight_decay = alpha``, on biases too), then one step of the learning-rate scheduler (the Trainer steps
  it after every optimizer step).

Optimizer and scheduler state stay with the client across aggregations; only the parameters are replaced.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from fate_grpc.ml.homo.model import FloatArray, HomoModel
from fate_grpc.ml.linear.optimizers import Optimizer
from fate_grpc.ml.linear.schedulers import LRScheduler

# The HuggingFace Trainer's defaults, which FATE does not override.
SHUFFLE_SEED = 42
MAX_GRAD_NORM = 1.0


@dataclass(frozen=True)
class HomoSettings:
    """homo_lr's training parameters (FATE's names, checked)."""

    epochs: int = 20
    batch_size: int = 100
    optimizer_method: str = "sgd"
    penalty: str = "l2"
    alpha: float = 1.0
    optimizer_params: Mapping[str, Any] = field(default_factory=lambda: {"lr": 0.01, "weight_decay": 0})
    scheduler_method: str = "constant"
    scheduler_params: Mapping[str, Any] | None = field(default_factory=lambda: {"factor": 1.0})
    init_method: str = "random"
    fill_val: float = 0.0
    fit_intercept: bool = True
    random_state: int | None = None
    threshold: float = 0.5
    ovr: bool = False
    label_num: int | None = None

    def torch_optimizer_params(self) -> dict[str, Any]:
        """The optimizer's arguments as FATE passes them: penalty l2 sets ``weight_decay = alpha``."""
        params = dict(self.optimizer_params)
        if self.penalty == "l2":
            params["weight_decay"] = self.alpha
        return params

    @property
    def l1(self) -> float:
        return self.alpha if self.penalty == "l1" else 0.0


def class_targets(labels: npt.ArrayLike, heads: int) -> FloatArray:
    """``(rows, heads)`` 0/1 targets: the label itself for one head, else "label == head index"."""
    values = np.asarray(labels, dtype=np.float64).reshape(-1)
    if heads == 1:
        return values.reshape(-1, 1)
    return (values.reshape(-1, 1) == np.arange(heads).reshape(1, -1)).astype(np.float64)


def loss_and_gradient(
    model: HomoModel, features: FloatArray, targets: FloatArray, l1: float
) -> tuple[float, FloatArray]:
    """The batch loss and its gradient with respect to ``model.vector()``."""
    rows, heads = targets.shape
    z = model.scores(features)
    # BCE(sigmoid(z), t) = softplus(z) - t z, computed stably.
    loss = float(np.mean(np.logaddexp(0.0, z) - targets * z))
    residual = (1.0 / (1.0 + np.exp(-z)) - targets) / (rows * heads)
    parts = [(residual.T @ features).reshape(-1)]
    if model.bias is not None:
        parts.append(residual.sum(axis=0))
    gradient = np.concatenate(parts)
    if l1:
        vector = model.vector()
        loss += l1 * float(np.abs(vector).sum())
        gradient = gradient + l1 * np.sign(vector)
    return loss, gradient


def clipped(gradient: FloatArray, max_norm: float = MAX_GRAD_NORM) -> FloatArray:
    """torch's ``clip_grad_norm_``: scale down to ``max_norm`` when the 2-norm exceeds it."""
    coefficient = max_norm / (float(np.linalg.norm(gradient)) + 1e-6)
    return gradient * coefficient if coefficient < 1.0 else gradient


class LocalTrainer:
    """A client's model, optimizer, scheduler and shuffling, epoch after epoch."""

    def __init__(self, settings: HomoSettings, model: HomoModel) -> None:
        self.settings = settings
        self.model = model
        self.optimizer = Optimizer(settings.optimizer_method, settings.torch_optimizer_params())
        self.optimizer.attach(model.size)
        self.scheduler = LRScheduler(settings.scheduler_method, settings.scheduler_params, self.optimizer)
        self._shuffle = np.random.default_rng(SHUFFLE_SEED)

    def epoch(self, features: FloatArray, targets: FloatArray) -> float:
        """One local epoch over every row; the mean of the batch losses."""
        rows = len(targets)
        order = self._shuffle.permutation(rows)
        losses = []
        for start in range(0, rows, self.settings.batch_size):
            batch = order[start : start + self.settings.batch_size]
            loss, gradient = loss_and_gradient(self.model, features[batch], targets[batch], self.settings.l1)
            parameter = self.model.vector().reshape(-1, 1)
            self.optimizer.step(parameter, clipped(gradient).reshape(-1, 1))
            self.model.set_vector(parameter)
            self.scheduler.step()
            losses.append(loss)
        return float(np.mean(losses))

    def optimizer_state(self) -> dict[str, Any]:
        """torch's layout of the optimizer's state (FATE saves the pickled torch object instead)."""
        return self.optimizer.state_dict()
