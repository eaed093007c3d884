"""The state machines of coordinated linear training, without any transport: what the arbiter and each
party keep between batches and epochs, and how they save it in FATE 2.2's model entries.

* ``Coordinator`` (arbiter): the optimizer over the concatenated gradients of all parties (a dummy
  parameter that starts at zero), the learning-rate schedule, the epoch's loss and summed updates, early stop.
* ``PartyModel`` (guest, each host): the party's weights, the penalty applied to its gradient, the update
  rule, and its own (never stepped) optimizer and schedule, which FATE saves in every party's model.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fate_grpc.ml.linear import model
from fate_grpc.ml.linear.kernels import Task
from fate_grpc.ml.linear.model import FloatArray
from fate_grpc.ml.linear.optimizers import Optimizer
from fate_grpc.ml.linear.schedulers import LRScheduler


@dataclass(frozen=True)
class TrainSettings:
    """Validated training parameters (FATE's names)."""

    task: Task
    epochs: int
    batch_size: int | None
    optimizer_method: str
    penalty: str
    alpha: float
    optimizer_params: Mapping[str, Any]
    scheduler_method: str
    scheduler_params: Mapping[str, Any]
    init_param: Mapping[str, Any]
    early_stop: str
    tol: float
    floating_point_precision: int
    threshold: float = 0.5
    key_length: int = 1024

    @property
    def fit_intercept(self) -> bool:
        return bool(self.init_param.get("fit_intercept"))

    def optimizer_param(self) -> dict[str, Any]:
        return {
            "method": self.optimizer_method,
            "penalty": self.penalty,
            "alpha": self.alpha,
            "optimizer_params": dict(self.optimizer_params),
        }

    def learning_rate_param(self) -> dict[str, Any]:
        return {"method": self.scheduler_method, "scheduler_params": dict(self.scheduler_params)}


def _optimizer_entry(
    optimizer: Optimizer, penalty: str, alpha: float, parameter: FloatArray
) -> dict[str, Any]:
    """FATE's saved optimizer: penalty flags, alpha, torch's state_dict, the (dummy) parameter."""
    return {
        "l2_penalty": penalty == "l2",
        "l1_penalty": penalty == "l1",
        "alpha": alpha,
        "optimizer": optimizer.state_dict(),
        "method": optimizer.method,
        "optim_param": dict(optimizer.given_params),
        "model_parameter": parameter.tolist(),
        "model_parameter_dtype": str(parameter.dtype),
    }


def _new_optimizer(settings: TrainSettings, size: int) -> Optimizer:
    optimizer = Optimizer(settings.optimizer_method, settings.optimizer_params)
    optimizer.attach(size)
    return optimizer


def _restore_optimizer(saved: Mapping[str, Any]) -> tuple[Optimizer, str, float, FloatArray]:
    try:
        optimizer = Optimizer(str(saved["method"]), saved.get("optim_param") or {})
        optimizer.load_state_dict(saved["optimizer"])
        penalty = "l2" if saved.get("l2_penalty") else "l1" if saved.get("l1_penalty") else "none"
        parameter = np.asarray(saved["model_parameter"], dtype=np.float64).reshape(-1, 1)
        alpha = float(saved["alpha"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"the saved optimizer cannot be read: {exc}") from None
    optimizer.attach(len(parameter))
    return optimizer, penalty, alpha, parameter


@dataclass
class Coordinator:
    """The arbiter's side: one optimizer step per batch over every party's gradient."""

    settings: TrainSettings
    optimizer: Optimizer | None = None
    scheduler: LRScheduler | None = None
    parameter: FloatArray | None = None
    convergence: model.Convergence | None = None
    end_epoch: int = -1
    is_converged: bool = False
    epoch_loss: float | None = None
    epoch_update: FloatArray | None = None
    # Epochs trained before this run (a warm start continues the loss curve's steps).
    epochs_done: int = 0
    losses: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.convergence is None:
            self.convergence = model.Convergence(self.settings.early_stop, self.settings.tol)

    def begin_epoch(self) -> None:
        self.epoch_loss = None
        self.epoch_update = None

    def step(self, gradients: list[FloatArray]) -> list[FloatArray]:
        """Run the optimizer on the concatenated gradients; each party's slice of the parameter's change."""
        total = np.vstack([g.reshape(-1, 1) for g in gradients])
        if self.optimizer is None or self.parameter is None or self.scheduler is None:
            self.parameter = np.zeros_like(total)
            self.optimizer = _new_optimizer(self.settings, len(total))
            self.scheduler = self._new_scheduler(self.optimizer)
        if len(total) != len(self.parameter):
            raise ValueError(
                f"the parties sent {len(total)} gradient entries; the model has {len(self.parameter)}"
            )
        previous = self.parameter.copy()
        self.optimizer.step(self.parameter, total)
        delta = previous - self.parameter
        self.epoch_update = delta.copy() if self.epoch_update is None else self.epoch_update + delta
        bounds = np.cumsum([0, *(len(g.reshape(-1)) for g in gradients)])
        return [delta[a:b] for a, b in itertools.pairwise(bounds.tolist())]

    def add_loss(self, loss: float) -> None:
        self.epoch_loss = loss if self.epoch_loss is None else self.epoch_loss + loss

    def end_epoch_check(self, epoch: int) -> bool:
        """Record the epoch's loss; whether training has converged (then it stops)."""
        assert self.convergence is not None
        if self.epoch_loss is not None:
            self.losses.append(self.epoch_loss)
        update = self.epoch_update if self.epoch_update is not None else np.zeros((1, 1))
        self.is_converged = self.convergence.is_converged(loss=self.epoch_loss, update=update)
        if self.is_converged:
            self.end_epoch = epoch
        return self.is_converged

    def after_epoch(self, epoch: int) -> None:
        if not self.is_converged and epoch < self.settings.epochs - 1 and self.scheduler is not None:
            self.scheduler.step()

    def finish(self) -> None:
        if not self.is_converged:
            self.end_epoch = self.settings.epochs

    def _new_scheduler(self, optimizer: Optimizer) -> LRScheduler:
        return LRScheduler(self.settings.scheduler_method, self.settings.scheduler_params, optimizer)

    def estimator(self) -> dict[str, Any]:
        """FATE's arbiter estimator entry."""
        if self.optimizer is None or self.scheduler is None or self.parameter is None:
            raise ValueError("no batch was trained")
        return {
            "optimizer": _optimizer_entry(
                self.optimizer, self.settings.penalty, self.settings.alpha, self.parameter
            ),
            "lr_scheduler": self.scheduler.state_dict(),
            "end_epoch": self.end_epoch,
            "is_converged": self.is_converged,
            "tol": self.settings.tol,
            "early_stop": self.settings.early_stop,
        }

    @classmethod
    def restore(cls, settings: TrainSettings, saved: Mapping[str, Any]) -> Coordinator:
        """Continue from a saved arbiter estimator (warm start)."""
        optimizer, _, _, parameter = _restore_optimizer(saved["optimizer"])
        try:
            scheduler = LRScheduler.restore(saved["lr_scheduler"], optimizer)
            end_epoch = int(saved["end_epoch"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"the saved arbiter estimator cannot be read: {exc}") from None
        return cls(
            settings,
            optimizer=optimizer,
            scheduler=scheduler,
            parameter=parameter,
            end_epoch=end_epoch,
            epochs_done=_epochs_done(end_epoch, bool(saved.get("is_converged"))),
        )


def _epochs_done(end_epoch: int, converged: bool) -> int:
    """Epochs a saved model trained: end_epoch counts them, or is the last one's index if it converged."""
    return max(end_epoch + 1 if converged else end_epoch, 0)


@dataclass
class PartyModel:
    """A guest's or host's weights and its saved optimizer/schedule (FATE keeps one per party)."""

    settings: TrainSettings
    weights: FloatArray
    fit_intercept: bool
    optimizer: Optimizer
    scheduler: LRScheduler
    header: list[str]
    end_epoch: int = -1
    is_converged: bool = False
    epochs_done: int = 0

    @classmethod
    def new(cls, settings: TrainSettings, header: list[str], *, with_intercept: bool) -> PartyModel:
        init = dict(settings.init_param)
        init["fit_intercept"] = with_intercept
        weights = model.initial_weights(len(header), init)
        optimizer = _new_optimizer(settings, len(weights))
        scheduler = LRScheduler(settings.scheduler_method, settings.scheduler_params, optimizer)
        return cls(settings, weights, with_intercept, optimizer, scheduler, list(header))

    @property
    def lr(self) -> float:
        return self.scheduler.lr

    def penalised(self, gradient: FloatArray) -> FloatArray:
        s = self.settings
        return model.penalised_gradient(gradient, self.weights, s.penalty, s.alpha, self.fit_intercept)

    def penalty_loss(self) -> float:
        return model.penalty_loss(self.weights, self.settings.penalty, self.settings.alpha)

    def apply(self, delta: FloatArray, epoch: int) -> None:
        s = self.settings
        self.weights = model.apply_update(
            self.weights,
            delta.reshape(-1, 1),
            penalty=s.penalty,
            alpha=s.alpha,
            lr=self.lr,
            epoch=epoch,
            fit_intercept=self.fit_intercept,
        )
        model.check_overflow(self.weights)

    def after_epoch(self, epoch: int, converged: bool) -> None:
        self.is_converged = converged
        if converged:
            self.end_epoch = epoch
        elif epoch < self.settings.epochs - 1:
            self.scheduler.step()

    def finish(self) -> None:
        if not self.is_converged:
            self.end_epoch = self.settings.epochs

    def estimator(self, *, guest: bool) -> dict[str, Any]:
        """FATE's guest/host estimator entry."""
        s = self.settings
        zeros = np.zeros_like(self.weights)
        entry: dict[str, Any] = {
            "param": model.serialize_weights(self.weights, self.fit_intercept),
            "optimizer": _optimizer_entry(self.optimizer, s.penalty, s.alpha, zeros),
            "lr_scheduler": self.scheduler.state_dict(),
            "end_epoch": self.end_epoch,
            "is_converged": self.is_converged,
            "header": list(self.header),
        }
        if guest:
            entry["fit_intercept"] = self.fit_intercept
        return entry

    @classmethod
    def restore(cls, settings: TrainSettings, saved: Mapping[str, Any], *, fit_intercept: bool) -> PartyModel:
        """A party model continuing from its saved estimator (warm start) or for prediction."""
        try:
            weights = model.deserialize_weights(saved["param"], fit_intercept)
            optimizer, _, _, _ = _restore_optimizer(saved["optimizer"])
            scheduler = LRScheduler.restore(saved["lr_scheduler"], optimizer)
            header = [str(h) for h in saved.get("header") or []]
            end_epoch = int(saved["end_epoch"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"the saved estimator cannot be read: {exc}") from None
        return cls(
            settings,
            weights,
            fit_intercept,
            optimizer,
            scheduler,
            header,
            end_epoch=end_epoch,
            is_converged=bool(saved.get("is_converged")),
            epochs_done=_epochs_done(end_epoch, bool(saved.get("is_converged"))),
        )
