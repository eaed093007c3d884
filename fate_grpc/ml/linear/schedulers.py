"""torch's ConstantLR, LinearLR and StepLR learning-rate schedulers (FATE's "constant", "linear", "step").

Each scheduler owns the optimizer's ``lr``: constructing it applies the step-0 rate (torch's constructor
performs one step), and ``step()`` moves to the next epoch. The rates are computed with torch's recursive
("chainable") formulas, so the floating-point values equal torch's, e.g. LinearLR(start_factor=0.7,
total_iters=100) from lr 0.1 gives 0.07269999999999996 after 9 steps, the figure in FATE's documentation.
``state_dict`` has torch's keys (the scheduler's attributes except the optimizer).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fate_grpc.ml.linear.optimizers import Optimizer

SCHEDULERS = ("constant", "linear", "step")

_DEFAULTS: dict[str, dict[str, Any]] = {
    "constant": {"factor": 1.0 / 3, "total_iters": 5},
    "linear": {"start_factor": 1.0 / 3, "end_factor": 1.0, "total_iters": 5},
    "step": {"gamma": 0.1},
}


class LRScheduler:
    """A learning-rate schedule driving ``optimizer.group["lr"]``."""

    def __init__(self, method: str, params: Mapping[str, Any] | None, optimizer: Optimizer) -> None:
        if method not in SCHEDULERS:
            raise ValueError(
                f"learning_rate_scheduler.method {method!r} is not one of {', '.join(SCHEDULERS)}"
            )
        given = dict(params or {})
        allowed = set(_DEFAULTS[method]) | ({"step_size"} if method == "step" else set())
        unknown = sorted(set(given) - allowed)
        if unknown:
            raise ValueError(
                f"learning_rate_scheduler.scheduler_params: {method} takes no parameter {', '.join(unknown)}"
            )
        if method == "step" and "step_size" not in given:
            raise ValueError("learning_rate_scheduler.scheduler_params.step_size is required for method step")
        self.method = method
        self.lr_params = given
        self.settings: dict[str, Any] = {**_DEFAULTS[method], **given}
        self._check_settings()
        self.optimizer = optimizer
        optimizer.group.setdefault("initial_lr", optimizer.group["lr"])
        self.base_lrs = [float(optimizer.group["initial_lr"])]
        self.last_epoch = -1
        self.step_count = 0
        self.step()

    @property
    def lr(self) -> float:
        return self.last_lr[0]

    def step(self) -> None:
        """Advance one epoch and set the optimizer's lr (torch's chainable form)."""
        self.step_count += 1
        self.last_epoch += 1
        current = float(self.optimizer.group["lr"])
        self.optimizer.group["lr"] = self._next_lr(current, self.last_epoch)
        self.last_lr = [float(self.optimizer.group["lr"])]

    def _next_lr(self, lr: float, epoch: int) -> float:
        s = self.settings
        if self.method == "constant":
            if epoch == 0:
                return lr * s["factor"]
            return lr * (1.0 / s["factor"]) if epoch == s["total_iters"] else lr
        if self.method == "linear":
            start, end, total = s["start_factor"], s["end_factor"], s["total_iters"]
            if epoch == 0:
                return lr * start
            if epoch > total:
                return lr
            return lr * (1.0 + (end - start) / (total * start + (epoch - 1) * (end - start)))
        if epoch == 0 or epoch % s["step_size"] != 0:
            return lr
        return lr * s["gamma"]

    def _check_settings(self) -> None:
        s = self.settings
        where = "learning_rate_scheduler.scheduler_params"
        if self.method == "constant" and not 0 < float(s["factor"]) <= 1:
            raise ValueError(f"{where}.factor must lie in (0, 1]")
        linear = self.method == "linear"
        if linear and (not 0 < float(s["start_factor"]) <= 1 or not 0 <= float(s["end_factor"]) <= 1):
            raise ValueError(f"{where}: start_factor must lie in (0, 1] and end_factor in [0, 1]")
        if self.method == "step" and (not _whole(s["step_size"]) or int(s["step_size"]) < 1):
            raise ValueError(f"{where}.step_size must be a positive integer")
        if "total_iters" in s and (not _whole(s["total_iters"]) or int(s["total_iters"]) < 0):
            raise ValueError(f"{where}.total_iters must be a non-negative integer")
        for key in ("total_iters", "step_size"):
            if key in s:
                s[key] = int(s[key])

    def state_dict(self) -> dict[str, Any]:
        """FATE's scheduler entry: {"lr_scheduler": torch's state_dict, "method", "lr_params"}."""
        torch_state = {
            **self.settings,
            "base_lrs": list(self.base_lrs),
            "last_epoch": self.last_epoch,
            "verbose": False,
            "_step_count": self.step_count,
            "_get_lr_called_within_step": False,
            "_last_lr": list(self.last_lr),
        }
        return {"lr_scheduler": torch_state, "method": self.method, "lr_params": dict(self.lr_params)}

    @classmethod
    def restore(cls, saved: Mapping[str, Any], optimizer: Optimizer) -> LRScheduler:
        """A scheduler continuing from ``state_dict()`` output (the optimizer's lr already restored)."""
        try:
            method, params, state = saved["method"], saved.get("lr_params") or {}, saved["lr_scheduler"]
        except (KeyError, TypeError):
            raise ValueError("lr_scheduler entry lacks method or lr_scheduler") from None
        restored_lr = optimizer.group["lr"]
        scheduler = cls(method, params, optimizer)
        optimizer.group["lr"] = restored_lr
        scheduler.last_epoch = int(state["last_epoch"])
        scheduler.step_count = int(state["_step_count"])
        scheduler.base_lrs = [float(v) for v in state["base_lrs"]]
        scheduler.last_lr = [float(v) for v in state["_last_lr"]]
        return scheduler


def _whole(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and float(value) == int(value)
