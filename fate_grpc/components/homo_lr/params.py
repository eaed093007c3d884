"""homo_lr's parameters: FATE 2.2's names, value forms and defaults, checked at submit and at each party.

Where FATE's declaration accepts a value its client then refuses (``batch_size: 0``, ``threshold: 0`` or
``1``, ``init_param.method: random_uniform``, an optimizer argument torch does not take), the value is
refused here at once with the reason, instead of failing later in training.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fate_grpc.components.context import ComponentError
from fate_grpc.domain import param_checks as checks
from fate_grpc.domain.component_spec import ParamSpec
from fate_grpc.domain.param_checks import ParamValueError
from fate_grpc.ml.homo.model import INIT_METHODS
from fate_grpc.ml.homo.training import HomoSettings
from fate_grpc.ml.linear.optimizers import METHODS, Optimizer
from fate_grpc.ml.linear.schedulers import SCHEDULERS, LRScheduler

DEFAULT_OPTIMIZER = {
    "method": "sgd",
    "penalty": "l2",
    "alpha": 1.0,
    "optimizer_params": {"lr": 0.01, "weight_decay": 0},
}
DEFAULT_SCHEDULER = {"method": "constant", "scheduler_params": {"factor": 1.0}}
DEFAULT_INIT = {"method": "random", "fill_val": 0.0, "fit_intercept": True, "random_state": None}


def _optimizer_rule(value: dict[str, Any]) -> None:
    try:
        Optimizer(value["method"], value["optimizer_params"])
    except ValueError as error:
        reason = str(error).removeprefix("optimizer.optimizer_params: ")
        raise ParamValueError(reason, ".optimizer_params") from None
    if value["penalty"] == "l2" and "weight_decay" not in METHODS[value["method"]].defaults:
        raise ParamValueError(
            f"l2 is torch's weight_decay, which {value['method']} does not take; use l1 or none", ".penalty"
        )
    lr = value["optimizer_params"].get("lr")
    if lr is not None and (isinstance(lr, bool) or not isinstance(lr, int | float) or lr < 0):
        raise ParamValueError(f"must be a number >= 0, got {lr!r}", ".optimizer_params.lr")


def _scheduler_rule(value: dict[str, Any]) -> None:
    try:
        LRScheduler(value["method"], value["scheduler_params"], Optimizer("sgd", {"lr": 0.01}))
    except (ValueError, TypeError) as error:
        reason = str(error).removeprefix("learning_rate_scheduler.").removeprefix("scheduler_params")
        raise ParamValueError(reason.lstrip(".: "), ".scheduler_params") from None


def _init_rule(value: dict[str, Any]) -> None:
    if value["method"] not in INIT_METHODS:
        raise ParamValueError(
            f"{value['method']!r} is not available for homo_lr (FATE's client refuses it);"
            f" use one of {', '.join(INIT_METHODS)}",
            ".method",
        )


def _then(base: checks.Check, rule: Callable[[Any], None]) -> checks.Check:
    """``base``, then ``rule`` on its result (it raises ParamValueError with the place inside the value)."""

    def check(value: Any) -> Any:
        checked = base(value)
        rule(checked)
        return checked

    return check


OPTIMIZER = _then(
    checks.record(
        {
            "method": checks.choice(*METHODS),
            "penalty": checks.choice("l1", "l2", "none"),
            "alpha": checks.number(),
            "optimizer_params": checks.mapping(),
        },
        required=("optimizer_params",),
        defaults={"method": "sgd", "penalty": "l2", "alpha": 1.0},
    ),
    _optimizer_rule,
)
SCHEDULER = _then(
    checks.record(
        {"method": checks.choice(*SCHEDULERS), "scheduler_params": checks.mapping()},
        defaults={"method": "constant", "scheduler_params": None},
    ),
    _scheduler_rule,
)
INIT_PARAM = _then(
    checks.record(
        {
            "method": checks.choice(*INIT_METHODS, "random_uniform"),
            "fill_val": checks.number(),
            "fit_intercept": checks.boolean(),
            "random_state": checks.integer(ge=0),
        },
        defaults={"method": "zeros", "fill_val": 0.0, "fit_intercept": True, "random_state": None},
    ),
    _init_rule,
)


def _positive_batch(value: int) -> str | None:
    # FATE declares ge=0 for training and ge=-1 for prediction, but its client asserts > 0 in both stages.
    return None if value > 0 else f"must be an integer > 0 (FATE's client refuses {value}), got {value}"


def _open_threshold(value: float) -> str | None:
    # FATE declares [0, 1]; its client asserts 0 < threshold < 1.
    return (
        None
        if 0 < value < 1
        else f"must lie strictly between 0 and 1 (FATE's client refuses it), got {value}"
    )


def _param(name: str, default: Any, check: checks.Check) -> tuple[str, ParamSpec]:
    return name, ParamSpec(name, default=default, check=check)


PARAMETERS: dict[str, ParamSpec] = dict(
    [
        _param("epochs", 20, checks.integer(gt=0)),
        _param("batch_size", 100, checks.refine(checks.integer(ge=-1), _positive_batch)),
        _param("optimizer", DEFAULT_OPTIMIZER, OPTIMIZER),
        _param("learning_rate_scheduler", DEFAULT_SCHEDULER, SCHEDULER),
        _param("init_param", DEFAULT_INIT, INIT_PARAM),
        _param("threshold", 0.5, checks.refine(checks.number(ge=0, le=1), _open_threshold)),
        _param("ovr", False, checks.boolean()),
        _param("label_num", None, checks.integer(ge=2)),
    ]
)


def train_settings(params: Mapping[str, Any]) -> HomoSettings:
    """The training settings from checked parameters.

    Raises:
        ComponentError: ovr without label_num (FATE refuses it too).
    """
    if params["ovr"] and params["label_num"] is None:
        raise ComponentError("homo_lr: parameter label_num is required (an integer >= 2) when ovr is true")
    optimizer, scheduler, init = params["optimizer"], params["learning_rate_scheduler"], params["init_param"]
    return HomoSettings(
        epochs=params["epochs"],
        batch_size=params["batch_size"],
        optimizer_method=optimizer["method"],
        penalty=optimizer["penalty"],
        alpha=optimizer["alpha"],
        optimizer_params=dict(optimizer["optimizer_params"]),
        scheduler_method=scheduler["method"],
        scheduler_params=scheduler["scheduler_params"],
        init_method=init["method"],
        fill_val=init["fill_val"],
        fit_intercept=init["fit_intercept"],
        random_state=init["random_state"],
        threshold=params["threshold"],
        ovr=params["ovr"],
        label_num=params["label_num"],
    )


def model_meta(settings: HomoSettings) -> dict[str, Any]:
    """FATE's model meta: batch_size, max_iter, threshold, the three parameter mappings as the client
    holds them (penalty l2 shows as ``optimizer_params.weight_decay = alpha``), ovr, label_num."""
    return {
        "batch_size": settings.batch_size,
        "max_iter": settings.epochs,
        "threshold": settings.threshold,
        "optimizer_param": {
            "method": settings.optimizer_method,
            "penalty": settings.penalty,
            "alpha": settings.alpha,
            "optimizer_params": settings.torch_optimizer_params(),
        },
        "learning_rate_param": {
            "method": settings.scheduler_method,
            "scheduler_params": None
            if settings.scheduler_params is None
            else dict(settings.scheduler_params),
        },
        "init_param": {
            "method": settings.init_method,
            "fill_val": settings.fill_val,
            "fit_intercept": settings.fit_intercept,
        },
        "ovr": settings.ovr,
        "label_num": settings.label_num,
    }
