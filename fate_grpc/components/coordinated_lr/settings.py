"""The parameters of coordinated_lr / coordinated_linr, checked and filled with FATE 2.2's defaults.

Every problem is reported with the parameter's path (``optimizer.optimizer_params.lr``) and the reason.
Whole floats are accepted where FATE wants an int (``epochs: 10.0``): values can arrive as floats through
the node's JSON today.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fate_grpc.components.context import ComponentError
from fate_grpc.ml.linear.kernels import Task
from fate_grpc.ml.linear.model import EARLY_STOP, INIT_METHODS, PENALTIES
from fate_grpc.ml.linear.optimizers import METHODS as OPTIMIZERS
from fate_grpc.ml.linear.schedulers import SCHEDULERS
from fate_grpc.ml.linear.training import TrainSettings

DEFAULT_OPTIMIZER = {
    "method": "sgd",
    "penalty": "l2",
    "alpha": 1.0,
    "optimizer_params": {"lr": 0.01, "weight_decay": 0},
}
DEFAULT_SCHEDULER = {"method": "linear", "scheduler_params": {"start_factor": 1.0}}
DEFAULT_INIT = {"method": "random_uniform", "fill_val": 0.0, "fit_intercept": True, "random_state": None}
DEFAULT_HE = {"kind": "paillier", "key_length": 1024}
DEFAULT_CV = {"n_splits": 5, "shuffle": False, "random_state": None}
# The field defaults of FATE's parameter models, which fill a mapping the user gives only in part.
MODEL_DEFAULTS: dict[str, dict[str, Any]] = {
    "optimizer": {"method": "sgd", "penalty": "l2", "alpha": 1.0},
    "learning_rate_scheduler": {"method": "constant", "scheduler_params": None},
    "init_param": {"method": "zeros", "fill_val": 0.0, "fit_intercept": True, "random_state": None},
    "he_param": {"key_length": 1024},
    "cv_param": {"shuffle": False, "random_state": None},
}


@dataclass(frozen=True)
class CrossValidation:
    n_splits: int
    shuffle: bool
    random_state: int | None
    metrics: list[str]
    output_cv_data: bool


def train_settings(task: Task, params: Mapping[str, Any]) -> TrainSettings:
    """The training settings from a task's parameters (defaults as FATE 2.2's)."""
    optimizer = _mapping(params, "optimizer", DEFAULT_OPTIMIZER)
    scheduler = _mapping(params, "learning_rate_scheduler", DEFAULT_SCHEDULER)
    init = _mapping(params, "init_param", DEFAULT_INIT)
    he = _mapping(params, "he_param", DEFAULT_HE)
    method = _choice(optimizer.get("method", "sgd"), OPTIMIZERS, "optimizer.method")
    optimizer_params = optimizer.get("optimizer_params")
    if not isinstance(optimizer_params, Mapping):
        raise ComponentError(
            "optimizer.optimizer_params: required, a mapping of the torch optimizer's arguments"
        )
    for key, value in optimizer_params.items():
        _check_number_tree(value, f"optimizer.optimizer_params.{key}")
    scheduler_params = scheduler.get("scheduler_params") or {}
    if not isinstance(scheduler_params, Mapping):
        raise ComponentError("learning_rate_scheduler.scheduler_params: must be a mapping")
    if "kind" not in he:
        raise ComponentError("he_param.kind: required (paillier)")
    _choice(he["kind"], ("paillier",), "he_param.kind")
    settings = TrainSettings(
        task=task,
        epochs=_integer(params.get("epochs", 20), "epochs", minimum=1),
        batch_size=_batch_size(params.get("batch_size")),
        optimizer_method=method,
        penalty=_choice(optimizer.get("penalty", "l2"), PENALTIES, "optimizer.penalty"),
        alpha=_number(optimizer.get("alpha", 1.0), "optimizer.alpha"),
        optimizer_params=dict(optimizer_params),
        scheduler_method=_choice(
            scheduler.get("method", "constant"), SCHEDULERS, "learning_rate_scheduler.method"
        ),
        scheduler_params=dict(scheduler_params),
        init_param=_init_param(init),
        early_stop=_choice(params.get("early_stop", "diff"), EARLY_STOP, "early_stop"),
        tol=_number(params.get("tol", 1e-4), "tol", minimum=0.0),
        floating_point_precision=_integer(
            params.get("floating_point_precision", 23), "floating_point_precision", minimum=0
        ),
        threshold=_number(params.get("threshold", 0.5), "threshold", minimum=0.0, maximum=1.0),
        key_length=_integer(he.get("key_length", 1024), "he_param.key_length", minimum=1024),
    )
    _check_constructible(settings)
    return settings


def cross_validation(task: Task, params: Mapping[str, Any]) -> CrossValidation:
    cv = _mapping(params, "cv_param", DEFAULT_CV)
    if "n_splits" not in cv:
        raise ComponentError("cv_param.n_splits: required (an integer > 1)")
    metrics = params.get("metrics")
    if metrics is None:
        metrics = ["auc"] if task == "lr" else ["mse"]
    if isinstance(metrics, str):
        metrics = [metrics]
    if not isinstance(metrics, list) or not all(isinstance(m, str) for m in metrics):
        raise ComponentError("metrics: must be a list of metric names")
    seed = cv.get("random_state")
    output = params.get("output_cv_data", True)
    if not isinstance(output, bool):
        raise ComponentError("output_cv_data: must be true or false")
    shuffle = cv.get("shuffle", False)
    if not isinstance(shuffle, bool):
        raise ComponentError("cv_param.shuffle: must be true or false")
    return CrossValidation(
        n_splits=_integer(cv["n_splits"], "cv_param.n_splits", minimum=2),
        shuffle=shuffle,
        random_state=None if seed is None else _integer(seed, "cv_param.random_state", minimum=0),
        metrics=[m.lower() for m in metrics],
        output_cv_data=output,
    )


def _check_constructible(settings: TrainSettings) -> None:
    """Build the optimizer and the scheduler once, so that a bad argument fails before any traffic."""
    from fate_grpc.ml.linear.optimizers import Optimizer
    from fate_grpc.ml.linear.schedulers import LRScheduler

    try:
        optimizer = Optimizer(settings.optimizer_method, settings.optimizer_params)
        LRScheduler(settings.scheduler_method, settings.scheduler_params, optimizer)
    except ValueError as exc:
        raise ComponentError(str(exc)) from None
    if "lr" in settings.optimizer_params and float(settings.optimizer_params["lr"]) < 0:
        raise ComponentError("optimizer.optimizer_params.lr: must be >= 0")


def _mapping(params: Mapping[str, Any], name: str, default: Mapping[str, Any]) -> dict[str, Any]:
    value = params.get(name)
    if value is None:
        return dict(default)
    if not isinstance(value, Mapping):
        raise ComponentError(f"{name}: must be a mapping, got {type(value).__name__}")
    return {**MODEL_DEFAULTS.get(name, {}), **value}


def _init_param(init: Mapping[str, Any]) -> dict[str, Any]:
    fit_intercept = init.get("fit_intercept", True)
    if not isinstance(fit_intercept, bool):
        raise ComponentError("init_param.fit_intercept: must be true or false")
    seed = init.get("random_state")
    return {
        "method": _choice(init.get("method", "zeros"), INIT_METHODS, "init_param.method"),
        "fill_val": _number(init.get("fill_val", 0.0), "init_param.fill_val"),
        "fit_intercept": fit_intercept,
        "random_state": None if seed is None else _integer(seed, "init_param.random_state", minimum=0),
    }


def _batch_size(value: Any) -> int | None:
    if value is None:
        return None
    return _integer(value, "batch_size", minimum=10)


def _choice(value: Any, choices: Any, path: str) -> str:
    if not isinstance(value, str) or value.lower() not in choices:
        raise ComponentError(f"{path}: {value!r} is not one of {', '.join(choices)}")
    return value.lower()


def _integer(value: Any, path: str, *, minimum: int | None = None) -> int:
    whole = isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer()
    if not whole:
        raise ComponentError(f"{path}: must be an integer, got {value!r}")
    if minimum is not None and int(value) < minimum:
        raise ComponentError(f"{path}: must be >= {minimum}, got {value!r}")
    return int(value)


def _number(value: Any, path: str, *, minimum: float | None = None, maximum: float | None = None) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ComponentError(f"{path}: must be a number, got {value!r}")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ComponentError(f"{path}: must lie in [{minimum}, {maximum}], got {value!r}")
    return float(value)


def _check_number_tree(value: Any, path: str) -> None:
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_number_tree(item, f"{path}[{index}]")
    elif not isinstance(value, int | float | bool) and value is not None:
        raise ComponentError(f"{path}: must be a number, a boolean or a list of numbers, got {value!r}")
