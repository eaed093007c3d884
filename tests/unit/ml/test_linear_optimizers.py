"""The numpy optimizers against the algorithms in torch's documentation, written out per element here, and
their state_dict in torch's layout (so a saved model reads like FATE's and a warm start continues)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from fate_grpc.ml.linear.optimizers import METHODS, Optimizer

STEPS = 7
Reference = Callable[[list[float], list[list[float]], dict[str, Any]], list[float]]


def gradients(size: int = 3, steps: int = STEPS, seed: int = 1) -> list[list[float]]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(steps, size)).tolist()


def run(method: str, params: dict[str, Any], grads: list[list[float]]) -> list[float]:
    optimizer = Optimizer(method, params)
    optimizer.attach(len(grads[0]))
    theta = np.zeros((len(grads[0]), 1))
    for g in grads:
        optimizer.step(theta, np.asarray(g).reshape(-1, 1))
    return theta.reshape(-1).tolist()


# -- the algorithms as torch documents them, one element at a time ---------------------------------------


def sgd_doc(theta: list[float], grads: list[list[float]], h: dict[str, Any]) -> list[float]:
    lr, mu, tau, wd, nesterov = (
        h["lr"],
        h.get("momentum", 0),
        h.get("dampening", 0),
        h.get("weight_decay", 0),
        h.get("nesterov", False),
    )
    out = []
    for i, start in enumerate(theta):
        p, b = start, None
        for t, row in enumerate(grads, 1):
            g = row[i] + wd * p
            if mu:
                b = g if t == 1 else mu * b + (1 - tau) * g
                g = g + mu * b if nesterov else b
            p -= lr * g
        out.append(p)
    return out


def adam_doc(theta: list[float], grads: list[list[float]], h: dict[str, Any]) -> list[float]:
    lr, (b1, b2), eps, wd = (
        h["lr"],
        h.get("betas", (0.9, 0.999)),
        h.get("eps", 1e-8),
        h.get("weight_decay", 0),
    )
    amsgrad = h.get("amsgrad", False)
    out = []
    for i, start in enumerate(theta):
        p, m, v, vmax = start, 0.0, 0.0, 0.0
        for t, row in enumerate(grads, 1):
            g = row[i] + wd * p
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            mhat = m / (1 - b1**t)
            if amsgrad:
                vmax = max(vmax, v)
                vhat = vmax / (1 - b2**t)
            else:
                vhat = v / (1 - b2**t)
            p -= lr * mhat / (math.sqrt(vhat) + eps)
        out.append(p)
    return out


def adamw_doc(theta: list[float], grads: list[list[float]], h: dict[str, Any]) -> list[float]:
    lr, (b1, b2), eps, wd = (
        h["lr"],
        h.get("betas", (0.9, 0.999)),
        h.get("eps", 1e-8),
        h.get("weight_decay", 1e-2),
    )
    out = []
    for i, start in enumerate(theta):
        p, m, v = start, 0.0, 0.0
        for t, row in enumerate(grads, 1):
            g = row[i]
            p -= lr * wd * p
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            p -= lr * (m / (1 - b1**t)) / (math.sqrt(v / (1 - b2**t)) + eps)
        out.append(p)
    return out


def rmsprop_doc(theta: list[float], grads: list[list[float]], h: dict[str, Any]) -> list[float]:
    lr, alpha, eps, mu, centered = (
        h["lr"],
        h.get("alpha", 0.99),
        h.get("eps", 1e-8),
        h.get("momentum", 0),
        h.get("centered", False),
    )
    out = []
    for i, start in enumerate(theta):
        p, v, b, ga = start, 0.0, 0.0, 0.0
        for row in grads:
            g = row[i]
            v = alpha * v + (1 - alpha) * g * g
            vt = v
            if centered:
                ga = alpha * ga + (1 - alpha) * g
                vt = v - ga * ga
            if mu > 0:
                b = mu * b + g / (math.sqrt(vt) + eps)
                p -= lr * b
            else:
                p -= lr * g / (math.sqrt(vt) + eps)
        out.append(p)
    return out


def adagrad_doc(theta: list[float], grads: list[list[float]], h: dict[str, Any]) -> list[float]:
    lr, decay, eps, init = (
        h["lr"],
        h.get("lr_decay", 0),
        h.get("eps", 1e-10),
        h.get("initial_accumulator_value", 0),
    )
    out = []
    for i, start in enumerate(theta):
        p, s = start, init
        for t, row in enumerate(grads, 1):
            g = row[i]
            lr_t = lr / (1 + (t - 1) * decay)
            s += g * g
            p -= lr_t * g / (math.sqrt(s) + eps)
        out.append(p)
    return out


def adadelta_doc(theta: list[float], grads: list[list[float]], h: dict[str, Any]) -> list[float]:
    lr, rho, eps = h.get("lr", 1.0), h.get("rho", 0.9), h.get("eps", 1e-6)
    out = []
    for i, start in enumerate(theta):
        p, v, u = start, 0.0, 0.0
        for row in grads:
            g = row[i]
            v = v * rho + g * g * (1 - rho)
            dx = math.sqrt(u + eps) / math.sqrt(v + eps) * g
            u = u * rho + dx * dx * (1 - rho)
            p -= lr * dx
        out.append(p)
    return out


def adamax_doc(theta: list[float], grads: list[list[float]], h: dict[str, Any]) -> list[float]:
    lr, (b1, b2), eps = h["lr"], h.get("betas", (0.9, 0.999)), h.get("eps", 1e-8)
    out = []
    for i, start in enumerate(theta):
        p, m, u = start, 0.0, 0.0
        for t, row in enumerate(grads, 1):
            g = row[i]
            m = b1 * m + (1 - b1) * g
            u = max(b2 * u, abs(g) + eps)
            p -= lr * m / ((1 - b1**t) * u)
        out.append(p)
    return out


def nadam_doc(theta: list[float], grads: list[list[float]], h: dict[str, Any]) -> list[float]:
    lr, (b1, b2), eps, psi = (
        h["lr"],
        h.get("betas", (0.9, 0.999)),
        h.get("eps", 1e-8),
        h.get("momentum_decay", 4e-3),
    )
    out = []
    for i, start in enumerate(theta):
        p, m, v, product = start, 0.0, 0.0, 1.0
        for t, row in enumerate(grads, 1):
            g = row[i]
            mu_t = b1 * (1 - 0.5 * 0.96 ** (t * psi))
            mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
            product *= mu_t
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            mhat = mu_next * m / (1 - product * mu_next) + (1 - mu_t) * g / (1 - product)
            vhat = v / (1 - b2**t)
            p -= lr * mhat / (math.sqrt(vhat) + eps)
        out.append(p)
    return out


def radam_doc(theta: list[float], grads: list[list[float]], h: dict[str, Any]) -> list[float]:
    lr, (b1, b2), eps = h["lr"], h.get("betas", (0.9, 0.999)), h.get("eps", 1e-8)
    rho_inf = 2 / (1 - b2) - 1
    out = []
    for i, start in enumerate(theta):
        p, m, v = start, 0.0, 0.0
        for t, row in enumerate(grads, 1):
            g = row[i]
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            mhat = m / (1 - b1**t)
            rho_t = rho_inf - 2 * t * b2**t / (1 - b2**t)
            if rho_t > 5:
                adaptive = math.sqrt(1 - b2**t) / (math.sqrt(v) + eps)
                r = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                p -= lr * mhat * adaptive * r
            else:
                p -= lr * mhat
        out.append(p)
    return out


def asgd_doc(theta: list[float], grads: list[list[float]], h: dict[str, Any]) -> list[float]:
    lr, lambd, alpha = h["lr"], h.get("lambd", 1e-4), h.get("alpha", 0.75)  # t0 only affects the average
    out = []
    for i, start in enumerate(theta):
        p, eta = start, lr
        for t, row in enumerate(grads, 1):
            g = row[i]
            p = p * (1 - lambd * eta) - eta * g
            eta = lr / (1 + lambd * lr * t) ** alpha
        out.append(p)
    return out


def rprop_doc(theta: list[float], grads: list[list[float]], h: dict[str, Any]) -> list[float]:
    lr, (eminus, eplus), (smin, smax) = h["lr"], h.get("etas", (0.5, 1.2)), h.get("step_sizes", (1e-6, 50))
    out = []
    for i, start in enumerate(theta):
        p, prev, size = start, 0.0, lr
        for row in grads:
            g = row[i]
            if g * prev > 0:
                size = min(size * eplus, smax)
            elif g * prev < 0:
                size = max(size * eminus, smin)
                g = 0.0
            p -= math.copysign(size, g) if g != 0 else 0.0
            prev = g
        out.append(p)
    return out


CASES: list[tuple[str, dict[str, Any], Reference]] = [
    ("sgd", {"lr": 0.1}, sgd_doc),
    ("sgd", {"lr": 0.05, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01}, sgd_doc),
    ("sgd", {"lr": 0.05, "momentum": 0.9, "nesterov": True}, sgd_doc),
    ("adam", {"lr": 0.01}, adam_doc),
    ("adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1, "betas": [0.8, 0.9]}, adam_doc),
    ("adamw", {"lr": 0.01}, adamw_doc),
    ("rmsprop", {"lr": 0.01}, rmsprop_doc),
    ("rmsprop", {"lr": 0.01, "momentum": 0.5, "centered": True}, rmsprop_doc),
    ("adagrad", {"lr": 0.1}, adagrad_doc),
    ("adagrad", {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.5}, adagrad_doc),
    ("adadelta", {"lr": 1.0}, adadelta_doc),
    ("adamax", {"lr": 0.02}, adamax_doc),
    ("nadam", {"lr": 0.02}, nadam_doc),
    ("radam", {"lr": 0.01}, radam_doc),
    ("asgd", {"lr": 0.01, "t0": 1e6}, asgd_doc),
    ("rprop", {"lr": 0.01}, rprop_doc),
]


@pytest.mark.parametrize(
    ("method", "params", "reference"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_update_equals_the_documented_algorithm(
    method: str, params: dict[str, Any], reference: Reference
) -> None:
    grads = gradients(steps=12 if method == "radam" else STEPS)
    expected = reference([0.0, 0.0, 0.0], grads, params)
    assert np.allclose(run(method, params, grads), expected, rtol=1e-12, atol=1e-14)


def test_every_fate_optimizer_is_available() -> None:
    fate = {
        "sgd",
        "adadelta",
        "adagrad",
        "adam",
        "adamax",
        "adamw",
        "asgd",
        "nadam",
        "radam",
        "rmsprop",
        "rprop",
    }
    assert set(METHODS) == fate


def test_sgd_state_dict_has_torchs_keys_and_no_state() -> None:
    optimizer = Optimizer("sgd", {"lr": 0.1})
    optimizer.attach(2)
    optimizer.step(np.zeros((2, 1)), np.ones((2, 1)))
    saved = optimizer.state_dict()
    assert saved["state"] == {}
    group = saved["param_groups"][0]
    assert group == {
        "lr": 0.1,
        "momentum": 0,
        "dampening": 0,
        "weight_decay": 0,
        "nesterov": False,
        "foreach": None,
        "maximize": False,
        "differentiable": False,
        "params": [0],
    }


def test_adagrad_has_state_before_any_step_as_torch() -> None:
    optimizer = Optimizer("adagrad", {"lr": 0.1, "initial_accumulator_value": 0.25})
    optimizer.attach(2)
    assert optimizer.state_dict()["state"][0] == {"step": 0.0, "sum": [[0.25], [0.25]]}


def test_state_round_trip_through_json_continues_identically() -> None:
    grads = gradients(steps=10)
    whole = run("adam", {"lr": 0.01}, grads)
    first = Optimizer("adam", {"lr": 0.01})
    theta = np.zeros((3, 1))
    for g in grads[:4]:
        first.step(theta, np.asarray(g).reshape(-1, 1))
    saved = json.loads(json.dumps(first.state_dict()))
    assert set(saved["state"]["0"]) == {"step", "exp_avg", "exp_avg_sq"}
    second = Optimizer("adam", {"lr": 0.01})
    second.load_state_dict(saved)
    for g in grads[4:]:
        second.step(theta, np.asarray(g).reshape(-1, 1))
    assert np.allclose(theta.reshape(-1), whole, rtol=1e-12)


def test_unknown_optimizer_argument_is_named() -> None:
    with pytest.raises(ValueError, match=r"optimizer\.optimizer_params: sgd takes no parameter betas"):
        Optimizer("sgd", {"lr": 0.1, "betas": [0.9, 0.99]})
