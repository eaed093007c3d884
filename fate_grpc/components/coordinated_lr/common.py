"""What the guest, host and arbiter modules share: metric groups, fixed-point choices, model documents."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fate_grpc.components.context import ComponentError, InputModel, Party
from fate_grpc.components.coordinated_lr.channel import Channel
from fate_grpc.ml.linear.kernels import Task
from fate_grpc.ml.linear.training import PartyModel, TrainSettings

LOSS_NAME: dict[str, str] = {"lr": "lr_loss", "linr": "linr_loss"}
# Fractional bits of a value encrypted under Paillier (residuals, forward results).
VALUE_PRECISION_BITS = 32
# Without floating_point_precision (0), FATE multiplies by unencoded floats; 40 bits keep that accuracy.
UNENCODED_PRECISION_BITS = 40

Groups = tuple[tuple[str, int | None], ...]
TRAIN_GROUPS: Groups = (("default", None), ("train", None))


def matrix_precision(settings: TrainSettings, rows: int) -> int:
    """Fractional bits of X/rows when it multiplies ciphertexts: FATE's floating_point_precision (23) plus
    the bits of the batch size, so that dividing by the batch keeps the relative accuracy of 2^-23."""
    base = settings.floating_point_precision or UNENCODED_PRECISION_BITS
    return base + max(rows, 1).bit_length()


@dataclass
class PartyModule:
    """A guest's or host's trained estimators: one, or one per class (one-vs-rest)."""

    task: Task
    settings: TrainSettings
    estimators: dict[int, PartyModel] = field(default_factory=dict)
    ovr: bool = False
    labels: list[int] = field(default_factory=list)
    label_count: int | None = None


def check_loss_available(settings: TrainSettings, hosts: int) -> None:
    """With several hosts no loss is computed (as FATE), so only weight_diff can stop early."""
    if hosts > 1 and settings.early_stop != "weight_diff":
        raise ComponentError(
            f"early_stop {settings.early_stop!r} needs the loss, which is not computed with {hosts} hosts;"
            " use early_stop: weight_diff"
        )


def model_meta(settings: TrainSettings) -> dict[str, Any]:
    return {
        "epochs": settings.epochs,
        "batch_size": settings.batch_size,
        "learning_rate_param": settings.learning_rate_param(),
        "init_param": dict(settings.init_param),
        "optimizer_param": settings.optimizer_param(),
    }


def estimators_document(module: PartyModule, *, guest: bool) -> Any:
    if module.ovr:
        return {str(i): e.estimator(guest=guest) for i, e in sorted(module.estimators.items())}
    return module.estimators[0].estimator(guest=guest)


def saved_estimators(
    model: InputModel, *, what: str
) -> tuple[dict[int, Mapping[str, Any]], Mapping[str, Any]]:
    """The estimators of a saved model by class index (0 alone when not one-vs-rest), and its meta."""
    data, meta = model.data, model.meta
    if not isinstance(data, Mapping) or not isinstance(meta, Mapping) or "estimator" not in data:
        raise ComponentError(f"{what} is not a coordinated linear model (no data.estimator / meta)")
    estimator = data["estimator"]
    if not isinstance(estimator, Mapping):
        raise ComponentError(f"{what}: data.estimator must be a mapping")
    if meta.get("ovr"):
        try:
            return {int(k): v for k, v in estimator.items()}, meta
        except ValueError:
            raise ComponentError(f"{what}: one-vs-rest estimators must be keyed by class index") from None
    return {0: estimator}, meta


def restore_party(
    settings: TrainSettings, saved: Mapping[str, Any], *, fit_intercept: bool, what: str
) -> PartyModel:
    try:
        return PartyModel.restore(settings, saved, fit_intercept=fit_intercept)
    except ValueError as exc:
        raise ComponentError(f"{what}: {exc}") from None


def settings_from_meta(
    task: Task, meta: Mapping[str, Any], current: Mapping[str, Any] | None = None, *, what: str
) -> TrainSettings:
    """Training settings of a saved model (its meta); a warm start takes epochs and batch_size from the
    current task's parameters, as FATE does."""
    from fate_grpc.components.coordinated_lr.settings import train_settings

    params: dict[str, Any] = {
        "epochs": meta.get("epochs", 20),
        "batch_size": meta.get("batch_size"),
        "optimizer": meta.get("optimizer_param"),
        "learning_rate_scheduler": meta.get("learning_rate_param"),
        "init_param": meta.get("init_param"),
        "floating_point_precision": meta.get("floating_point_precision", 23),
        "early_stop": meta.get("early_stop", "diff"),
        "tol": meta.get("tol", 1e-4),
    }
    if task == "lr" and "threshold" in meta:
        params["threshold"] = meta["threshold"]
    if current is not None:
        params["epochs"] = current.get("epochs", 20)
        params["batch_size"] = current.get("batch_size")
        if current.get("he_param") is not None:
            params["he_param"] = current["he_param"]
    try:
        return train_settings(task, {k: v for k, v in params.items() if v is not None or k == "batch_size"})
    except ComponentError as exc:
        raise ComponentError(f"{what}: {exc}") from None


def apply_update(channel: Channel, model: PartyModel, arbiter: Party, epoch: int) -> bool:
    """Apply the arbiter's update for this batch; whether training has converged (set with the epoch's
    last update, false otherwise)."""
    message = channel.receive_arrays("delta", arbiter)
    try:
        delta, converged = message["value"], message["converged"]
    except KeyError:
        raise ComponentError(f"the update from {arbiter} lacks its values or convergence flag") from None
    model.apply(np.asarray(delta, dtype=np.float64).reshape(-1, 1), epoch)
    return bool(converged.reshape(-1)[0])
