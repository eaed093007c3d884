"""Helpers of the coordinated_lr / coordinated_linr component tests: parties, tables, settings, the
plaintext oracle on the joined data."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from fate_grpc.components.context import Party
from fate_grpc.components.coordinated_lr.settings import train_settings
from fate_grpc.components.table import Table
from fate_grpc.ml.linear.kernels import Task
from fate_grpc.ml.linear.plaintext import PlaintextRun, train_plaintext
from tests.support.local_context import LocalFederation, table_from_frame
from tests.unit.components.breast import GUEST, HOST

ARBITER = Party("arbiter", "10000")  # the host's party, as in FATE's example DAG
HOST_2 = Party("host", "10001")

FATE_BREAST = {
    "epochs": 10,
    "batch_size": 300,
    "optimizer": {"method": "sgd", "penalty": "l2", "alpha": 0.001, "optimizer_params": {"lr": 0.1}},
    "learning_rate_scheduler": {
        "method": "linear",
        "scheduler_params": {"start_factor": 0.7, "total_iters": 100},
    },
    "init_param": {"method": "zeros", "fit_intercept": True},
}


def small(tables: dict[Party, Table], rows: int) -> dict[Party, Table]:
    return {party: table.take(np.arange(rows)) for party, table in tables.items()}


def split_host(tables: dict[Party, Table], at: int) -> dict[Party, Table]:
    """The host's features split between two hosts (same rows)."""
    frame = tables[HOST].frame
    features = [c for c in frame.columns if c != "id"]
    first = table_from_frame(frame[["id", *features[:at]]], "id")
    second = table_from_frame(frame[["id", *features[at:]]], "id")
    return {GUEST: tables[GUEST], HOST: first, HOST_2: second}


def federation(
    tables: dict[Party, Table],
    params: dict[str, Any],
    *,
    stage: str = "train",
    key: str = "train_data",
    models: dict[Party, Any] | None = None,
    extra: dict[Party, dict[str, Table]] | None = None,
) -> LocalFederation:
    parties = [*tables, ARBITER]
    inputs: dict[Party, dict[str, Table]] = {p: {key: t} for p, t in tables.items()}
    for party, more in (extra or {}).items():
        inputs[party].update(more)
    return LocalFederation(
        parties, inputs=inputs, common_parameters=params, stage=stage, run_timeout_s=600, models=models
    )


def blocks(tables: dict[Party, Table]) -> tuple[list[np.ndarray], np.ndarray]:
    """The features of every party (guest first) and the guest's labels, as the oracle reads them."""
    matrices = []
    for table in tables.values():
        names = list(table.schema.feature_names)
        matrices.append(table.frame[names].to_numpy(dtype=np.float64))
    guest = next(iter(tables.values()))
    return matrices, guest.frame[guest.schema.label_name].to_numpy(dtype=np.float64)


def oracle(task: Task, tables: dict[Party, Table], params: dict[str, Any], **kwargs: Any) -> PlaintextRun:
    matrices, labels = blocks(tables)
    return train_plaintext(train_settings(task, params), matrices, labels, **kwargs)


def weights_of(fed: LocalFederation, party: Party, index: str | None = None) -> np.ndarray:
    estimator = fed.contexts[party].models["output_model"].data["estimator"]
    if index is not None:
        estimator = estimator[index]
    param = estimator["param"]
    rows = [r[0] for r in param["coef_"]]
    if param["intercept_"] is not None:
        rows.append(param["intercept_"])
    return np.asarray(rows)


def regression_tables(rows: int = 80, seed: int = 4) -> dict[Party, Table]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 5))
    y = x @ np.array([1.5, -2.0, 0.7, 0.3, -1.1]) + 0.5 + rng.normal(scale=0.1, size=rows)
    ids = [str(i) for i in range(rows)]
    guest = pd.DataFrame({"id": ids, "y": y, "a0": x[:, 0], "a1": x[:, 1]})
    host = pd.DataFrame({"id": ids, "b0": x[:, 2], "b1": x[:, 3], "b2": x[:, 4]})
    return {GUEST: table_from_frame(guest, "id", label_name="y"), HOST: table_from_frame(host, "id")}
