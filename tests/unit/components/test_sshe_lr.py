"""sshe_lr / sshe_linr at a guest and a host in one process: equal to the same training in plaintext on the
joined data (numpy oracle), within 1% AUC of scikit-learn on breast, FATE's outputs, model and metrics,
predict, warm start, one-vs-rest, early stopping, cross validation and clear errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from fate_grpc.components import sshe_lr
from fate_grpc.components.context import ComponentError, InputModel, Party
from fate_grpc.components.table import Table
from tests.support.local_context import read_csv_table, table_from_frame
from tests.unit.components.breast import DATA, GUEST, HOST
from tests.unit.components.sshe import FAST, federation, joined, oracle, small, weights_of

BREAST = {"epochs": 3, "batch_size": 100, "learning_rate": 0.3, "init_param": {"method": "zeros"}}
TOLERANCE = 1e-6


def _model(fed: Any, party: Party) -> InputModel:
    saved = fed.contexts[party].models["output_model"]
    return InputModel(saved.data, saved.meta)


@pytest.fixture(scope="module")
def breast_run(tables: dict[Party, Table]) -> Any:
    fed = federation(tables, BREAST)
    fed.run(sshe_lr.run_lr)
    return fed


def test_breast_equals_plaintext_training_and_is_within_1_percent_auc_of_sklearn(
    tables: dict[Party, Table], breast_run: Any
) -> None:
    w_guest, w_host, _ = oracle("lr", tables, epochs=3, learning_rate=0.3, batch_size=100)
    assert np.allclose(weights_of(breast_run, GUEST), w_guest, atol=TOLERANCE)
    assert np.allclose(weights_of(breast_run, HOST), w_host, atol=TOLERANCE)
    output = breast_run.contexts[GUEST].outputs["train_output_data"].frame
    auc = roc_auc_score(output["label"], output["predict_score"])
    x_guest, x_host, y = joined(tables)
    matrix = np.hstack([x_guest, x_host])
    sklearn_auc = roc_auc_score(y, LogisticRegression(max_iter=1000).fit(matrix, y).decision_function(matrix))
    assert auc >= sklearn_auc - 0.01


def test_guest_logs_fates_loss_per_epoch(tables: dict[Party, Table], breast_run: Any) -> None:
    _, _, losses = oracle("lr", tables, epochs=3, learning_rate=0.3, batch_size=100)
    metrics = [m for m in breast_run.contexts[GUEST].metrics if m.name == "lr_loss"]
    assert [m.step for m in metrics] == [0, 1, 2]
    assert {(m.type, m.step_axis, m.groups) for m in metrics} == {
        ("loss", "iterations", (("default", None), ("train", None)))
    }
    assert np.allclose([m.value[0] for m in metrics], losses, atol=TOLERANCE)
    assert not breast_run.contexts[HOST].metrics


def test_models_have_fates_shape(breast_run: Any) -> None:
    guest, host = _model(breast_run, GUEST), _model(breast_run, HOST)
    estimator = guest.data["estimator"]
    assert set(estimator) == {"param", "end_epoch", "is_converged", "fit_intercept", "header", "lr"}
    assert len(estimator["param"]["coef_"]) == 10 and len(estimator["param"]["intercept_"]) == 1
    assert estimator["param"]["dtype"] == "float32" and estimator["fit_intercept"] is True
    assert estimator["end_epoch"] == 3 and estimator["is_converged"] is False and estimator["lr"] == 0.3
    assert (
        host.data["estimator"]["param"]["intercept_"] is None
        and host.data["estimator"]["fit_intercept"] is False
    )
    assert len(host.data["estimator"]["header"]) == 20
    expected_meta = {
        "epochs", "batch_size", "learning_rate", "init_param", "early_stop", "tol", "reveal_every_epoch",
        "reveal_loss_freq", "labels", "label_count", "ovr", "threshold",
    }  # fmt: skip
    assert set(guest.meta) == expected_meta == set(host.meta)
    assert guest.meta["labels"] == [0, 1] and host.meta["labels"] is None and host.meta["label_count"] == 2
    assert guest.meta["init_param"] == {
        "method": "zeros",
        "fill_val": 0.0,
        "fit_intercept": True,
        "random_state": None,
    }


def test_train_output_at_the_guest_only_with_fates_columns(breast_run: Any) -> None:
    output = breast_run.contexts[GUEST].outputs["train_output_data"].frame
    assert list(output.columns) == [
        "id",
        "label",
        "predict_score",
        "predict_result",
        "predict_detail",
        "type",
    ]
    assert set(output["type"]) == {"train_set"} and len(output) == 569
    assert output["predict_detail"].iloc[0].startswith("\"{'0': ")
    assert "train_output_data" not in breast_run.contexts[HOST].outputs


def test_predict_from_the_models_gives_the_training_scores(
    tables: dict[Party, Table], breast_run: Any
) -> None:
    models = {party: {"input_model": _model(breast_run, party)} for party in tables}
    fed = federation(tables, {}, stage="predict", key="test_data", models=models)
    outputs = fed.run(sshe_lr.run_lr)
    predicted = outputs[GUEST]["test_output_data"].frame
    trained = breast_run.contexts[GUEST].outputs["train_output_data"].frame
    assert set(predicted["type"]) == {"test_set"}
    assert np.allclose(predicted["predict_score"], trained["predict_score"])
    assert "test_output_data" not in outputs[HOST]


def test_warm_start_continues_where_the_model_stopped(tables: dict[Party, Table]) -> None:
    rows = small(tables, 200)
    first = federation(rows, {**FAST, "epochs": 2})
    first.run(sshe_lr.run_lr)
    models = {party: {"warm_start_model": _model(first, party)} for party in rows}
    second = federation(rows, {**FAST, "epochs": 1, "learning_rate": 9.0}, models=models)
    second.run(sshe_lr.run_lr)
    w_guest, w_host, _ = oracle("lr", rows, epochs=3, learning_rate=0.15, batch_size=200)  # model's lr kept
    assert np.allclose(weights_of(second, GUEST), w_guest, atol=TOLERANCE)
    assert np.allclose(weights_of(second, HOST), w_host, atol=TOLERANCE)


def test_validate_data_is_scored_after_training(tables: dict[Party, Table]) -> None:
    rows, extra = (
        small(tables, 150),
        {p: {"validate_data": t.take(np.arange(150, 200))} for p, t in tables.items()},
    )
    fed = federation(rows, {**FAST, "epochs": 1}, extra=extra)
    output = fed.run(sshe_lr.run_lr)[GUEST]["train_output_data"].frame
    assert output["type"].value_counts().to_dict() == {"train_set": 150, "validate_set": 50}


def test_linr_equals_plaintext_and_is_within_1_percent_rmse_of_least_squares() -> None:
    from tests.unit.components.sshe import regression_tables

    rows = regression_tables()
    fed = federation(rows, {"epochs": 12, "learning_rate": 1.0, "tol": 0, "init_param": {"method": "zeros"}})
    fed.run(sshe_lr.run_linr)
    w_guest, w_host, losses = oracle("linr", rows, epochs=12, learning_rate=1.0)
    assert np.allclose(weights_of(fed, GUEST), w_guest, atol=TOLERANCE)
    assert np.allclose(weights_of(fed, HOST), w_host, atol=TOLERANCE)
    metrics = [m.value[0] for m in fed.contexts[GUEST].metrics if m.name == "linr_loss"]
    assert np.allclose(metrics, losses, atol=TOLERANCE)
    output = fed.contexts[GUEST].outputs["train_output_data"].frame
    rmse = float(np.sqrt(np.mean((output["predict_score"] - output["label"]) ** 2)))
    x_guest, x_host, y = joined(rows)
    design = np.hstack([x_guest, x_host, np.ones((len(y), 1))])
    best = float(np.sqrt(np.mean((design @ np.linalg.lstsq(design, y, rcond=None)[0] - y) ** 2)))
    assert rmse <= best * 1.01
    assert output["predict_detail"].iloc[0].startswith("\"{'predict_score': ")


def test_default_credit_subset_equals_plaintext_auc() -> None:
    full = {
        GUEST: read_csv_table(DATA / "default_credit_hetero_guest.csv", "id", label_name="y"),
        HOST: read_csv_table(DATA / "default_credit_hetero_host.csv", "id"),
    }
    rows = small(full, 600)
    fed = federation(
        rows, {"epochs": 2, "batch_size": 200, "learning_rate": 0.3, "init_param": {"method": "zeros"}}
    )
    output = fed.run(sshe_lr.run_lr)[GUEST]["train_output_data"].frame
    w_guest, w_host, _ = oracle("lr", rows, epochs=2, learning_rate=0.3, batch_size=200)
    x_guest, x_host, y = joined(rows)
    plain = roc_auc_score(y, np.hstack([x_guest, np.ones((len(y), 1))]) @ w_guest + x_host @ w_host)
    assert roc_auc_score(output["label"], output["predict_score"]) == pytest.approx(plain, abs=0.01 * plain)


def _three_classes(rows: int = 90) -> dict[Party, Table]:
    rng = np.random.default_rng(5)
    labels = np.arange(rows) % 3
    centres = np.array([[2.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 2.0]])
    x = centres[labels] + rng.normal(scale=0.5, size=(rows, 3))
    ids = [str(i) for i in range(rows)]
    guest = pd.DataFrame({"id": ids, "y": labels, "a0": x[:, 0]})
    host = pd.DataFrame({"id": ids, "b0": x[:, 1], "b1": x[:, 2]})
    return {GUEST: table_from_frame(guest, "id", label_name="y"), HOST: table_from_frame(host, "id")}


def test_more_than_two_labels_train_one_vs_rest() -> None:
    rows = _three_classes()
    fed = federation(rows, {"epochs": 2, "learning_rate": 0.5, "init_param": {"method": "zeros"}})
    output = fed.run(sshe_lr.run_lr)[GUEST]["train_output_data"].frame
    guest = _model(fed, GUEST)
    assert set(guest.data["estimator"]) == {"0", "1", "2"} and guest.meta["ovr"] is True
    assert _model(fed, HOST).meta["label_count"] == 3
    assert (output["predict_result"] == output["label"]).mean() > 0.8
    groups = {m.groups for m in fed.contexts[GUEST].metrics if m.name == "lr_loss"}
    assert groups == {(("default", None), ("train", None), ("class", k)) for k in range(3)}


def test_early_stop_abs_and_weight_diff_end_training(tables: dict[Party, Table]) -> None:
    rows = small(tables, 100)
    for early_stop in ("abs", "weight_diff"):
        fed = federation(rows, {**FAST, "epochs": 5, "early_stop": early_stop, "tol": 100.0})
        fed.run(sshe_lr.run_lr)
        for party in rows:
            estimator = _model(fed, party).data["estimator"]
            assert (estimator["end_epoch"], estimator["is_converged"]) == (0, True)
        assert [m.step for m in fed.contexts[GUEST].metrics if m.name == "lr_loss"] == [0]


def test_loss_is_revealed_every_reveal_loss_freq_epochs(tables: dict[Party, Table]) -> None:
    fed = federation(small(tables, 100), {**FAST, "epochs": 5, "reveal_loss_freq": 2})
    fed.run(sshe_lr.run_lr)
    assert [m.step for m in fed.contexts[GUEST].metrics if m.name == "lr_loss"] == [0, 2, 4]


def test_cross_validation_writes_each_folds_scores_at_the_guest(tables: dict[Party, Table]) -> None:
    rows = small(tables, 90)
    params = {**FAST, "epochs": 1, "cv_param": {"n_splits": 3}}
    outputs = federation(rows, params, stage="cross_validation", key="cv_data").run(sshe_lr.run_lr)
    frame = outputs[GUEST]["cv_output_datas"].frame
    assert frame.groupby("cv_fold")["type"].value_counts().to_dict()[(0, "validate_set")] == 30
    assert len(frame) == 3 * 90 and "cv_output_datas" not in outputs[HOST]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"reveal_every_epoch": True}, "reveal_every_epoch true is currently not supported"),
        ({"init_param": {"method": "gaussian"}}, "init_param.method must be one of"),
        ({"batch_size": 5}, "batch_size must be an integer >= 10"),
        ({"early_stop": "loss"}, "early_stop must be one of"),
    ],
)
def test_bad_parameters_fail_with_the_parameter_named(
    tables: dict[Party, Table], params: dict[str, Any], message: str
) -> None:
    with pytest.raises(ComponentError, match=message):
        federation(small(tables, 30), params).run(sshe_lr.run_lr)


def test_a_second_host_is_refused(tables: dict[Party, Table]) -> None:
    rows = small(tables, 30)
    rows[Party("host", "10001")] = rows[HOST]
    with pytest.raises(ComponentError, match="exactly one host"):
        federation(rows, FAST).run(sshe_lr.run_lr)


def test_rows_not_aligned_by_psi_are_refused(tables: dict[Party, Table]) -> None:
    rows = small(tables, 30)
    rows[HOST] = tables[HOST].take(np.arange(1, 31))
    with pytest.raises(ComponentError, match="run psi on both first"):
        federation(rows, FAST).run(sshe_lr.run_lr)


def test_a_model_of_another_component_is_refused_as_warm_start(tables: dict[Party, Table]) -> None:
    rows = small(tables, 30)
    models = {party: {"warm_start_model": InputModel({"trees": []}, {})} for party in rows}
    with pytest.raises(ComponentError, match="warm_start_model is not an sshe model"):
        federation(rows, FAST, models=models).run(sshe_lr.run_lr)
