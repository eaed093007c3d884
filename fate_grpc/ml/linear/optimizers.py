"""The update rules of torch's optimizers for one column-vector parameter, in numpy.

FATE's coordinated linear models run a torch optimizer at the arbiter on a dummy parameter that starts at
zero; each step's change of that parameter is what every party subtracts from its weights. This module
reproduces the algorithms as torch documents them (``torch.optim.<Name>``, "Algorithm" sections) together
with torch's ``state_dict`` layout (``{"state": {0: {...}}, "param_groups": [{..., "params": [0]}]}``), so a
model saved here reads like FATE's and warm starts continue exactly.

A parameter is a float64 array of shape ``(k, 1)``; ``step`` updates it in place. Hyper-parameters are the
torch constructor's keyword arguments (``optimizer_params`` in FATE's ``OptimizerParam``); an unknown one is
refused with its name, as torch's constructor would.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
State = dict[str, Any]
Group = dict[str, Any]

_COMMON = {"foreach": None, "maximize": False, "differentiable": False}


@dataclass(frozen=True)
class Method:
    """One optimizer: its param_group defaults in torch's key order, state init and update."""

    defaults: Mapping[str, Any]
    init_state: Callable[[FloatArray, Group], State]
    update: Callable[[FloatArray, FloatArray, State, Group], None]
    # Optimizers whose torch constructor fills the state before any step (Adagrad).
    eager_state: bool = False


def _grad(param: FloatArray, grad: FloatArray, group: Group) -> FloatArray:
    g = -grad if group.get("maximize") else grad.copy()
    if group.get("weight_decay"):
        g = g + group["weight_decay"] * param
    return g


def _sgd_state(param: FloatArray, group: Group) -> State:
    return {}


def _sgd(param: FloatArray, grad: FloatArray, state: State, group: Group) -> None:
    g = _grad(param, grad, group)
    momentum = group["momentum"]
    if momentum:
        buffer = state.get("momentum_buffer")
        if buffer is None:
            buffer = g.copy()
        else:
            buffer = momentum * buffer + (1 - group["dampening"]) * g
        state["momentum_buffer"] = buffer
        g = g + momentum * buffer if group["nesterov"] else buffer
    param -= group["lr"] * g


def _adam_state(param: FloatArray, group: Group) -> State:
    state: State = {"step": 0.0, "exp_avg": np.zeros_like(param), "exp_avg_sq": np.zeros_like(param)}
    if group.get("amsgrad"):
        state["max_exp_avg_sq"] = np.zeros_like(param)
    return state


def _adam_core(param: FloatArray, g: FloatArray, state: State, group: Group) -> None:
    beta1, beta2 = group["betas"]
    state["step"] += 1
    t = state["step"]
    state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * g
    state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * g * g
    second = state["exp_avg_sq"]
    if group.get("amsgrad"):
        state["max_exp_avg_sq"] = np.maximum(state["max_exp_avg_sq"], second)
        second = state["max_exp_avg_sq"]
    corrected_first = state["exp_avg"] / (1 - beta1**t)
    corrected_second = second / (1 - beta2**t)
    param -= group["lr"] * corrected_first / (np.sqrt(corrected_second) + group["eps"])


def _adam(param: FloatArray, grad: FloatArray, state: State, group: Group) -> None:
    _adam_core(param, _grad(param, grad, group), state, group)


def _adamw(param: FloatArray, grad: FloatArray, state: State, group: Group) -> None:
    g = -grad if group.get("maximize") else grad.copy()
    param *= 1 - group["lr"] * group["weight_decay"]  # decoupled decay, before the Adam step
    _adam_core(param, g, state, group)


def _rmsprop_state(param: FloatArray, group: Group) -> State:
    state: State = {"step": 0.0, "square_avg": np.zeros_like(param)}
    if group["momentum"] > 0:
        state["momentum_buffer"] = np.zeros_like(param)
    if group["centered"]:
        state["grad_avg"] = np.zeros_like(param)
    return state


def _rmsprop(param: FloatArray, grad: FloatArray, state: State, group: Group) -> None:
    g = _grad(param, grad, group)
    alpha = group["alpha"]
    state["step"] += 1
    state["square_avg"] = alpha * state["square_avg"] + (1 - alpha) * g * g
    if group["centered"]:
        state["grad_avg"] = alpha * state["grad_avg"] + (1 - alpha) * g
        average = np.sqrt(state["square_avg"] - state["grad_avg"] ** 2) + group["eps"]
    else:
        average = np.sqrt(state["square_avg"]) + group["eps"]
    if group["momentum"] > 0:
        state["momentum_buffer"] = group["momentum"] * state["momentum_buffer"] + g / average
        param -= group["lr"] * state["momentum_buffer"]
    else:
        param -= group["lr"] * g / average


def _adagrad_state(param: FloatArray, group: Group) -> State:
    return {"step": 0.0, "sum": np.full_like(param, float(group["initial_accumulator_value"]))}


def _adagrad(param: FloatArray, grad: FloatArray, state: State, group: Group) -> None:
    g = _grad(param, grad, group)
    state["step"] += 1
    decayed_lr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
    state["sum"] = state["sum"] + g * g
    param -= decayed_lr * g / (np.sqrt(state["sum"]) + group["eps"])


def _adadelta_state(param: FloatArray, group: Group) -> State:
    return {"step": 0.0, "square_avg": np.zeros_like(param), "acc_delta": np.zeros_like(param)}


def _adadelta(param: FloatArray, grad: FloatArray, state: State, group: Group) -> None:
    g = _grad(param, grad, group)
    rho, eps = group["rho"], group["eps"]
    state["step"] += 1
    state["square_avg"] = rho * state["square_avg"] + (1 - rho) * g * g
    delta = np.sqrt(state["acc_delta"] + eps) / np.sqrt(state["square_avg"] + eps) * g
    state["acc_delta"] = rho * state["acc_delta"] + (1 - rho) * delta * delta
    param -= group["lr"] * delta


def _adamax_state(param: FloatArray, group: Group) -> State:
    return {"step": 0.0, "exp_avg": np.zeros_like(param), "exp_inf": np.zeros_like(param)}


def _adamax(param: FloatArray, grad: FloatArray, state: State, group: Group) -> None:
    g = _grad(param, grad, group)
    beta1, beta2 = group["betas"]
    state["step"] += 1
    state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * g
    state["exp_inf"] = np.maximum(beta2 * state["exp_inf"], np.abs(g) + group["eps"])
    param -= group["lr"] / (1 - beta1 ** state["step"]) * state["exp_avg"] / state["exp_inf"]


def _nadam_state(param: FloatArray, group: Group) -> State:
    return {
        "step": 0.0,
        "mu_product": 1.0,
        "exp_avg": np.zeros_like(param),
        "exp_avg_sq": np.zeros_like(param),
    }


def _nadam(param: FloatArray, grad: FloatArray, state: State, group: Group) -> None:
    g = _grad(param, grad, group)
    beta1, beta2 = group["betas"]
    decay = group["momentum_decay"]
    state["step"] += 1
    t = state["step"]
    mu = beta1 * (1 - 0.5 * 0.96 ** (t * decay))
    mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * decay))
    state["mu_product"] *= mu
    product = state["mu_product"]
    state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * g
    state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * g * g
    denominator = np.sqrt(state["exp_avg_sq"] / (1 - beta2**t)) + group["eps"]
    lr = group["lr"]
    param -= lr * (1 - mu) / (1 - product) * g / denominator
    param -= lr * mu_next / (1 - product * mu_next) * state["exp_avg"] / denominator


def _radam_state(param: FloatArray, group: Group) -> State:
    return {"step": 0.0, "exp_avg": np.zeros_like(param), "exp_avg_sq": np.zeros_like(param)}


def _radam(param: FloatArray, grad: FloatArray, state: State, group: Group) -> None:
    g = _grad(param, grad, group)
    beta1, beta2 = group["betas"]
    state["step"] += 1
    t = state["step"]
    state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * g
    state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * g * g
    corrected_first = state["exp_avg"] / (1 - beta1**t)
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * t * beta2**t / (1 - beta2**t)
    if rho_t > 5:
        adaptive = math.sqrt(1 - beta2**t) / (np.sqrt(state["exp_avg_sq"]) + group["eps"])
        rectification = math.sqrt(
            (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
        )
        param -= group["lr"] * corrected_first * adaptive * rectification
    else:
        param -= group["lr"] * corrected_first


def _asgd_state(param: FloatArray, group: Group) -> State:
    return {"step": 0.0, "eta": float(group["lr"]), "mu": 1.0, "ax": np.zeros_like(param)}


def _asgd(param: FloatArray, grad: FloatArray, state: State, group: Group) -> None:
    g = _grad(param, grad, group)
    state["step"] += 1
    t = state["step"]
    param *= 1 - group["lambd"] * state["eta"]
    param -= state["eta"] * g
    if state["mu"] != 1:
        state["ax"] = state["ax"] + (param - state["ax"]) * state["mu"]
    else:
        state["ax"] = param.copy()
    state["eta"] = group["lr"] / (1 + group["lambd"] * group["lr"] * t) ** group["alpha"]
    state["mu"] = 1 / max(1.0, t - group["t0"])


def _rprop_state(param: FloatArray, group: Group) -> State:
    return {"step": 0.0, "prev": np.zeros_like(param), "step_size": np.full_like(param, float(group["lr"]))}


def _rprop(param: FloatArray, grad: FloatArray, state: State, group: Group) -> None:
    g = -grad if group.get("maximize") else grad.copy()
    eta_minus, eta_plus = group["etas"]
    smallest, largest = group["step_sizes"]
    state["step"] += 1
    agreement = np.sign(g * state["prev"])
    factor = np.where(agreement > 0, eta_plus, np.where(agreement < 0, eta_minus, 1.0))
    state["step_size"] = np.clip(state["step_size"] * factor, smallest, largest)
    g = np.where(agreement < 0, 0.0, g)  # after a sign change the step is skipped
    param -= np.sign(g) * state["step_size"]
    state["prev"] = g


METHODS: dict[str, Method] = {
    "sgd": Method(
        {"lr": 1e-3, "momentum": 0, "dampening": 0, "weight_decay": 0, "nesterov": False, **_COMMON},
        _sgd_state,
        _sgd,
    ),
    "adam": Method(
        {
            "lr": 1e-3,
            "betas": (0.9, 0.999),
            "eps": 1e-8,
            "weight_decay": 0,
            "amsgrad": False,
            **_COMMON,
            "capturable": False,
            "fused": None,
        },
        _adam_state,
        _adam,
    ),
    "adamw": Method(
        {
            "lr": 1e-3,
            "betas": (0.9, 0.999),
            "eps": 1e-8,
            "weight_decay": 1e-2,
            "amsgrad": False,
            **_COMMON,
            "capturable": False,
            "fused": None,
        },
        _adam_state,
        _adamw,
    ),
    "rmsprop": Method(
        {
            "lr": 1e-2,
            "momentum": 0,
            "alpha": 0.99,
            "eps": 1e-8,
            "centered": False,
            "weight_decay": 0,
            **_COMMON,
        },
        _rmsprop_state,
        _rmsprop,
    ),
    "adagrad": Method(
        {
            "lr": 1e-2,
            "lr_decay": 0,
            "eps": 1e-10,
            "weight_decay": 0,
            "initial_accumulator_value": 0,
            **_COMMON,
        },
        _adagrad_state,
        _adagrad,
        eager_state=True,
    ),
    "adadelta": Method(
        {"lr": 1.0, "rho": 0.9, "eps": 1e-6, "weight_decay": 0, **_COMMON}, _adadelta_state, _adadelta
    ),
    "adamax": Method(
        {"lr": 2e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0, **_COMMON},
        _adamax_state,
        _adamax,
    ),
    "nadam": Method(
        {
            "lr": 2e-3,
            "betas": (0.9, 0.999),
            "eps": 1e-8,
            "weight_decay": 0,
            "momentum_decay": 4e-3,
            **_COMMON,
        },
        _nadam_state,
        _nadam,
    ),
    "radam": Method(
        {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0, **_COMMON},
        _radam_state,
        _radam,
    ),
    "asgd": Method(
        {"lr": 1e-2, "lambd": 1e-4, "alpha": 0.75, "t0": 1e6, "weight_decay": 0, **_COMMON},
        _asgd_state,
        _asgd,
    ),
    "rprop": Method(
        {"lr": 1e-2, "etas": (0.5, 1.2), "step_sizes": (1e-6, 50), **_COMMON}, _rprop_state, _rprop
    ),
}


class Optimizer:
    """One torch optimizer over one ``(k, 1)`` parameter: ``step(param, grad)`` and torch's state_dict."""

    def __init__(self, method: str, params: Mapping[str, Any] | None = None) -> None:
        if method not in METHODS:
            raise ValueError(f"optimizer.method {method!r} is not one of {', '.join(METHODS)}")
        self.method = method
        # The parameters as given (FATE saves them as "optim_param").
        self.given_params = dict(params or {})
        self._spec = METHODS[method]
        unknown = sorted(set(params or {}) - set(self._spec.defaults))
        if unknown:
            raise ValueError(f"optimizer.optimizer_params: {method} takes no parameter {', '.join(unknown)}")
        group: Group = dict(self._spec.defaults)
        for key, value in (params or {}).items():
            group[key] = tuple(value) if isinstance(value, list) else value
        self.group = group
        self.state: State = {}
        self._size: int | None = None

    @property
    def lr(self) -> float:
        return float(self.group["lr"])

    def attach(self, size: int) -> None:
        """Bind to a parameter of ``size`` entries (torch builds state eagerly for some optimizers)."""
        self._size = size
        if self._spec.eager_state and not self.state:
            self.state = self._spec.init_state(np.zeros((size, 1)), self.group)

    def step(self, param: FloatArray, grad: FloatArray) -> None:
        """One update of ``param`` (in place) from ``grad``, both ``(k, 1)`` float64."""
        if param.shape != grad.shape:
            raise ValueError(f"gradient of shape {grad.shape} for a parameter of shape {param.shape}")
        if not self.state:
            self.state = self._spec.init_state(param, self.group)
        self._spec.update(param, grad, self.state, self.group)

    def state_dict(self) -> dict[str, Any]:
        """torch's layout: tensors as nested lists, tuples as lists, the one parameter as id 0."""
        state = {key: _plain(value) for key, value in self.state.items()}
        group = {key: _plain(value) for key, value in self.group.items()}
        group["params"] = [0]
        return {"state": {0: state} if state else {}, "param_groups": [group]}

    def load_state_dict(self, saved: Mapping[str, Any]) -> None:
        """Restore from ``state_dict()`` output (after a JSON round trip: the state key may be "0")."""
        try:
            group = dict(saved["param_groups"][0])
            raw_state = saved.get("state") or {}
        except (KeyError, IndexError, TypeError):
            raise ValueError("optimizer state has no param_groups") from None
        group.pop("params", None)
        self.group = {**self.group, **{k: tuple(v) if isinstance(v, list) else v for k, v in group.items()}}
        entry = raw_state.get(0, raw_state.get("0", {})) if isinstance(raw_state, Mapping) else {}
        self.state = {
            key: np.asarray(value, dtype=np.float64) if isinstance(value, list) else value
            for key, value in dict(entry).items()
        }


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, np.floating):
        return float(value)
    return value
