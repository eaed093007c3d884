"""Helpers of the sshe_lr / sshe_linr component tests: the federation, the plaintext oracle of SSHE's
training (the same Taylor-sigmoid SGD on the joined data, numpy), weights from output models."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from fate_grpc.components.context import Party
from fate_grpc.components.table import Table
from tests.support.local_context import LocalFederation, table_from_frame
from tests.unit.components.breast import GUEST, HOST

FAST = {"epochs": 3, "batch_size": 200, "learning_rate": 0.15, "init_param": {"method": "zeros"}}


def small(tables: dict[Party, Table], rows: int) -> dict[Party, Table]:
    return {party: table.take(np.arange(rows)) for party, table in tables.items()}


def federation(
    tables: dict[Party, Table],
    params: dict[str, Any],
    *,
    stage: str = "train",
    key: str = "train_data",
    models: dict[Party, Any] | None = None,
    extra: dict[Party, dict[str, Table]] | None = None,
) -> LocalFederation:
    inputs: dict[Party, dict[str, Table]] = {p: {key: t} for p, t in tables.items()}
    for party, more in (extra or {}).items():
        inputs[party].update(more)
    return LocalFederation(
        list(tables), inputs=inputs, common_parameters=params, stage=stage, run_timeout_s=900, models=models
    )


def joined(tables: dict[Party, Table]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Guest features, host features and the guest's labels."""
    guest, host = tables[GUEST], tables[HOST]
    x_guest = guest.frame[list(guest.schema.feature_names)].to_numpy(dtype=np.float64)
    x_host = host.frame[list(host.schema.feature_names)].to_numpy(dtype=np.float64)
    return x_guest, x_host, guest.frame[guest.schema.label_name].to_numpy(dtype=np.float64)


def oracle(
    task: str,
    tables: dict[Party, Table],
    *,
    epochs: int,
    learning_rate: float,
    batch_size: int | None = None,
    fit_intercept: bool = True,
) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """Plaintext SSHE training from zero weights: (guest weights, host weights, loss per epoch)."""
    x_guest, x_host, y = joined(tables)
    if fit_intercept:
        x_guest = np.hstack([x_guest, np.ones((len(y), 1))])
    w_guest, w_host = np.zeros(x_guest.shape[1]), np.zeros(x_host.shape[1])
    size = batch_size or len(y)
    losses = []
    for _ in range(epochs):
        total = 0.0
        for start in range(0, len(y), size):
            xg, xh, yb = x_guest[start : start + size], x_host[start : start + size], y[start : start + size]
            s = xg @ w_guest + xh @ w_host
            dz = 0.25 * s + 0.5 - yb if task == "lr" else s - yb
            mean = float(np.mean(dz**2))
            total += (2 * mean - 0.5 + math.log(2) if task == "lr" else mean) * len(yb)
            w_guest = w_guest - learning_rate * xg.T @ dz / len(yb)
            w_host = w_host - learning_rate * xh.T @ dz / len(yb)
        losses.append(total / len(y))
    return w_guest, w_host, losses


def weights_of(fed: LocalFederation, party: Party, index: str | None = None) -> np.ndarray:
    estimator = fed.contexts[party].models["output_model"].data["estimator"]
    if index is not None:
        estimator = estimator[index]
    param = estimator["param"]
    rows = [r[0] for r in param["coef_"]]
    if param["intercept_"] is not None:
        rows.append(param["intercept_"][0])
    return np.asarray(rows)


def regression_tables(rows: int = 120, seed: int = 4) -> dict[Party, Table]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 5))
    y = x @ np.array([1.5, -2.0, 0.7, 0.3, -1.1]) + 0.5 + rng.normal(scale=0.1, size=rows)
    ids = [str(i) for i in range(rows)]
    guest = pd.DataFrame({"id": ids, "y": y, "a0": x[:, 0], "a1": x[:, 1]})
    host = pd.DataFrame({"id": ids, "b0": x[:, 2], "b1": x[:, 3], "b2": x[:, 4]})
    return {GUEST: table_from_frame(guest, "id", label_name="y"), HOST: table_from_frame(host, "id")}
