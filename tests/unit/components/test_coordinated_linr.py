"""coordinated_linr against plaintext least squares on the joined data, and cross validation of both
components (folds in sync at every party, one training per fold)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.model_selection import KFold

from fate_grpc.components import coordinated_lr
from fate_grpc.components.context import Party
from fate_grpc.components.table import Table
from fate_grpc.ml.linear.plaintext import predict_plaintext
from tests.support.local_context import table_from_frame
from tests.unit.components.breast import GUEST, HOST
from tests.unit.components.coordinated import (
    ARBITER,
    FATE_BREAST,
    HOST_2,
    blocks,
    federation,
    oracle,
    regression_tables,
    small,
    weights_of,
)

LINR = {
    "epochs": 5,
    "batch_size": 30,
    "optimizer": {"method": "adam", "penalty": "l2", "alpha": 0.01, "optimizer_params": {"lr": 0.1}},
    "learning_rate_scheduler": {"method": "constant", "scheduler_params": {"factor": 1.0}},
    "init_param": {"method": "zeros", "fit_intercept": True},
}


def test_linr_equals_plaintext_and_reports_linr_loss() -> None:
    parties = regression_tables()
    fed = federation(parties, LINR)
    outputs = fed.run(coordinated_lr.run_linr)
    reference = oracle("linr", parties, LINR)
    assert np.allclose(weights_of(fed, GUEST), reference.parties[0].weights.reshape(-1), atol=1e-6)
    assert np.allclose(weights_of(fed, HOST), reference.parties[1].weights.reshape(-1), atol=1e-6)
    losses = [m for m in fed.contexts[ARBITER].metrics if m.name == "linr_loss"]
    assert np.allclose([m.value[0] for m in losses], reference.losses, atol=1e-6)
    assert reference.losses[-1] < reference.losses[0]
    frame = outputs[GUEST]["train_output_data"].frame
    matrices, _ = blocks(parties)
    assert np.allclose(frame["predict_score"], predict_plaintext(reference, matrices, "linr"))
    assert (frame["predict_result"] == frame["predict_score"]).all()
    assert frame["predict_detail"].iloc[0].startswith("\"{'predict_score': ")
    assert "labels" not in fed.contexts[GUEST].models["output_model"].meta


def test_linr_loss_equals_half_the_mean_squared_error_with_the_cross_term() -> None:
    params = {**LINR, "epochs": 1, "batch_size": None, "optimizer": {**LINR["optimizer"], "penalty": "none"}}
    parties = regression_tables(rows=40)
    fed = federation(parties, {**params, "init_param": {"method": "ones", "fit_intercept": True}})
    fed.run(coordinated_lr.run_linr)
    matrices, y = blocks(parties)
    z = matrices[0].sum(axis=1) + 1.0 + matrices[1].sum(axis=1)
    loss = next(m for m in fed.contexts[ARBITER].metrics if m.name == "linr_loss").value[0]
    assert loss == pytest.approx(0.5 * np.mean((z - y) ** 2), abs=1e-6)


def cv_params(**more: Any) -> dict[str, Any]:
    return {**FATE_BREAST, "epochs": 2, "batch_size": None, "cv_param": {"n_splits": 3}, **more}


def test_cross_validation_trains_one_model_per_fold_in_sync(tables: dict[Party, Table]) -> None:
    parties = small(tables, 45)
    fed = federation(parties, cv_params(), stage="cross_validation", key="cv_data")
    outputs = fed.run(coordinated_lr.run_lr)
    frame = outputs[GUEST]["cv_output_datas"].frame
    ids = parties[GUEST].frame["id"].to_numpy()
    for fold, (train, test) in enumerate(KFold(3).split(ids)):
        part = frame[frame["cv_fold"] == fold]
        assert part[part["type"] == "validate_set"]["id"].tolist() == ids[test].tolist()
        assert part[part["type"] == "train_set"]["id"].tolist() == ids[train].tolist()
        fold_tables = {p: t.take(train) for p, t in parties.items()}
        reference = oracle("lr", fold_tables, cv_params())
        matrices, _ = blocks({p: t.take(test) for p, t in parties.items()})
        expected = predict_plaintext(reference, matrices, "lr")
        assert np.allclose(part[part["type"] == "validate_set"]["predict_score"], expected, atol=1e-6)
    host_frame = outputs[HOST]["cv_output_datas"].frame
    assert (
        host_frame[["id", "type", "cv_fold"]].values.tolist()
        == frame[["id", "type", "cv_fold"]].values.tolist()
    )
    loss_groups = {m.groups for m in fed.contexts[ARBITER].metrics if m.name == "lr_loss"}
    assert loss_groups == {(("default", None), ("cross_validations", k)) for k in range(3)}
    fold_metrics = [m for m in fed.contexts[GUEST].metrics if m.name == "cv_metrics"]
    assert [m.groups[1] for m in fold_metrics] == [("cross_validations", k) for k in range(3)]
    assert fold_metrics[0].value[0]["metric"] == "auc"


def test_cross_validation_without_output_data(tables: dict[Party, Table]) -> None:
    fed = federation(
        small(tables, 30), cv_params(output_cv_data=False), stage="cross_validation", key="cv_data"
    )
    outputs = fed.run(coordinated_lr.run_lr)
    assert outputs[GUEST] == {} and outputs[HOST] == {}


def test_linr_with_two_hosts_equals_plaintext() -> None:
    parties = regression_tables()
    frame = parties[HOST].frame
    three = {
        GUEST: parties[GUEST],
        HOST: table_from_frame(frame[["id", "b0"]], "id"),
        HOST_2: table_from_frame(frame[["id", "b1", "b2"]], "id"),
    }
    params = {**LINR, "early_stop": "weight_diff"}
    fed = federation(three, params)
    fed.run(coordinated_lr.run_linr)
    reference = oracle("linr", three, params, compute_loss=False)
    for index, party in enumerate((GUEST, HOST, HOST_2)):
        assert np.allclose(weights_of(fed, party), reference.parties[index].weights.reshape(-1), atol=1e-6)


def test_linr_cross_validation_reports_mse_per_fold() -> None:
    fed = federation(
        regression_tables(60), {**LINR, "cv_param": {"n_splits": 2}}, stage="cross_validation", key="cv_data"
    )
    fed.run(coordinated_lr.run_linr)
    fold_metrics = [m for m in fed.contexts[GUEST].metrics if m.name == "cv_metrics"]
    assert [m.value[0]["metric"] for m in fold_metrics] == ["mse", "mse"]
