"""FATE evaluation metrics against sklearn and against plain re-statements of FATE's table rules."""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np
import pytest
from sklearn import metrics as skm

from fate_grpc.ml.evaluation import DEFAULT_METRICS, auc_score, default_metrics, evaluate, supported_metrics
from tests.unit.ml.helpers import assert_plain_json


def _binary_data(n: int = 3000, seed: int = 0, pos_rate: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < pos_rate).astype(int)
    score = 1.0 / (1.0 + np.exp(-(rng.normal(size=n) + 1.2 * y)))
    return y, score


def _by_name(results: list) -> dict:
    out = {}
    for item in results:
        for entry in item if isinstance(item, list) else [item]:
            out[entry["metric"]] = entry["val"]
    return out


# --------------------------------------------------------------------------------------------------
# shape and defaults


def test_default_binary_set_order_and_shape() -> None:
    y, s = _binary_data()
    result = evaluate("binary", y, s)
    assert_plain_json(result)
    names = [(item[0] if isinstance(item, list) else item)["metric"] for item in result]
    assert names == list(DEFAULT_METRICS["binary"])
    ks_item: Any = result[1]
    assert [e["metric"] for e in ks_item] == ["ks", "ks_table"]
    assert set(ks_item[1]["val"]) == {"tpr", "fpr", "threshold", "cuts"}


def test_default_sets_for_multi_and_regression() -> None:
    assert default_metrics("multi") == ["multi_accuracy", "multi_precision", "multi_recall"]
    assert default_metrics("regression") == ["rmse", "mae", "mse", "r2_score"]
    assert "binary_f1_score" in supported_metrics()
    with pytest.raises(ValueError, match="unknown evaluation kind"):
        default_metrics("ranking")


def test_table_lengths_follow_fate() -> None:
    y, s = _binary_data(500)
    tables = _by_name(evaluate("binary", y, s))
    assert len(tables["ks_table"]["tpr"]) == 101
    assert len(tables["confusion_matrix"]["tp"]) == 100
    assert list(tables["confusion_matrix"]) == ["tp", "tn", "fp", "fn", "cuts", "threshold"]
    for name, column in [("biclass_precision_table", "p"), ("biclass_recall_table", "r")]:
        assert len(tables[name][column]) == len(tables[name]["threshold"]) == 101
        assert tables[name]["cuts"][-1] == 1.0
    assert len(tables["biclass_accuracy_table"]["accuracy"]) == 100
    assert len(tables["fscore_table"]["f_score"]) == 100
    assert len(tables["gain"]["gainx"]) == len(tables["lift"]["lifty"]) == 100
    assert all(len(pair) == 2 for pair in tables["gain"]["gainx"])


# --------------------------------------------------------------------------------------------------
# binary single values


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auc_matches_sklearn_with_and_without_ties(seed: int) -> None:
    y, s = _binary_data(seed=seed)
    assert auc_score(y, s) == pytest.approx(skm.roc_auc_score(y, s), abs=1e-12)
    tied = np.round(s, 1)  # heavy ties: the rank-average must match the trapezoid area
    assert _by_name(evaluate("binary", y, tied, ["auc"]))["auc"] == pytest.approx(
        skm.roc_auc_score(y, tied), abs=1e-12
    )


def test_ks_is_within_the_documented_100_cut_bound_of_the_exact_ks() -> None:
    for seed in range(5):
        y, s = _binary_data(n=2000 + 37 * seed, seed=seed)
        ks = _by_name(evaluate("binary", y, s, ["ks"]))["ks"]
        fpr, tpr, _ = skm.roc_curve(y, s)
        exact = float(np.max(tpr - fpr))
        # Bound from the module docstring: the most positives inside one cut over the number of positives.
        desc_order = np.argsort(-s, kind="stable")
        cut_pos = (len(s) * np.arange(100) / 100).astype(int)
        chunks = np.split(y[desc_order], cut_pos[1:])
        bound = max(int(c.sum()) for c in chunks) / y.sum()
        assert ks <= exact + 1e-12
        assert exact - ks <= bound + 1e-12


def test_ks_table_matches_a_plain_loop_over_index_cuts() -> None:
    y, s = _binary_data(n=437, seed=7)
    items: Any = evaluate("binary", y, s, ["ks"])[0]
    table = items[1]["val"]
    desc = sorted(s.tolist(), reverse=True)
    pos, neg = int(y.sum()), int(len(y) - y.sum())
    for c in range(100):
        t = desc[int(len(s) * (c / 100))]
        tp = sum(1 for yi, si in zip(y, s, strict=True) if si > t and yi == 1)
        fp = sum(1 for yi, si in zip(y, s, strict=True) if si > t and yi == 0)
        assert table["threshold"][c] == t
        assert table["tpr"][c] == pytest.approx(tp / pos)
        assert table["fpr"][c] == pytest.approx(fp / neg)
    assert (table["tpr"][-1], table["fpr"][-1], table["threshold"][-1], table["cuts"][-1]) == (
        1.0,
        1.0,
        0.0,
        1.0,
    )
    best = max(a - b for a, b in zip(table["tpr"][:-1], table["fpr"][:-1], strict=True))
    assert items[0]["val"] == pytest.approx(best)


def test_thresholded_binary_metrics_match_sklearn_at_half() -> None:
    y, s = _binary_data()
    pred = (s > 0.5).astype(int)
    got = _by_name(
        evaluate("binary", y, s, ["binary_accuracy", "binary_precision", "binary_recall", "binary_f1_score"])
    )
    assert got["binary_accuracy"] == pytest.approx(skm.accuracy_score(y, pred), abs=1e-12)
    assert got["binary_precision"] == pytest.approx(skm.precision_score(y, pred), abs=1e-12)
    assert got["binary_recall"] == pytest.approx(skm.recall_score(y, pred), abs=1e-12)
    assert got["binary_f1_score"] == pytest.approx(skm.f1_score(y, pred), abs=1e-12)


def test_thresholded_metrics_use_zero_when_undefined() -> None:
    y = np.array([0, 1, 0, 1])
    s = np.array([0.1, 0.2, 0.3, 0.4])  # nothing predicted positive
    got = _by_name(evaluate("binary", y, s, ["binary_precision", "binary_f1_score", "binary_accuracy"]))
    assert got == {"binary_precision": 0.0, "binary_f1_score": 0.0, "binary_accuracy": 0.5}


# --------------------------------------------------------------------------------------------------
# binary tables


def test_confusion_matrix_rows_match_sklearn_at_each_threshold() -> None:
    y, s = _binary_data(n=800, seed=3)
    table = _by_name(evaluate("binary", y, s, ["confusion_matrix"]))["confusion_matrix"]
    for i, t in enumerate(table["threshold"]):
        tn, fp, fn, tp = skm.confusion_matrix(y, (s > t).astype(int), labels=[0, 1]).ravel()
        assert (table["tp"][i], table["fp"][i], table["fn"][i], table["tn"][i]) == (tp, fp, fn, tn)
    tn, fp, fn, tp = skm.confusion_matrix(y, (s > 0.5).astype(int)).ravel()
    counts = _by_name(evaluate("binary", y, s, ["binary_accuracy"]))["binary_accuracy"]
    assert counts == pytest.approx((tp + tn) / len(y))


def test_step_tables_match_sklearn_per_threshold() -> None:
    y, s = _binary_data(n=900, seed=4)
    s = np.round(s, 3)  # ties between scores exercise the distinct-score cuts
    got = _by_name(evaluate("binary", y, s))
    distinct_desc = sorted(set(s.tolist()), reverse=True)
    step_cuts = np.arange(0, 1, 0.01)
    expected_thresholds = [distinct_desc[int(len(distinct_desc) * c)] for c in step_cuts]
    precision = got["biclass_precision_table"]
    assert precision["threshold"][:100] == expected_thresholds
    assert precision["threshold"][100] == pytest.approx(min(expected_thresholds) - 0.001)
    for i, t in enumerate(precision["threshold"]):
        pred = (s > t).astype(int)
        # Per class [0, 1]; zero_division=1 is FATE's precision imputation when nothing is predicted.
        prec, rec, _, _ = skm.precision_recall_fscore_support(y, pred, labels=[0, 1], zero_division=1.0)
        assert precision["p"][i] == pytest.approx(prec[1])
        assert got["biclass_recall_table"]["r"][i] == pytest.approx(rec[1])
        if i < 100:
            assert got["biclass_accuracy_table"]["accuracy"][i] == pytest.approx(np.mean(pred == y))
            share = pred.mean()
            assert got["gain"]["gainx"][i] == pytest.approx([1 - share, share])
            assert got["gain"]["gainy"][i] == pytest.approx([rec[0], rec[1]])
            assert got["lift"]["lifty"][i][1] == pytest.approx(prec[1] / y.mean())


def test_fscore_table_uses_fixed_thresholds_and_matches_sklearn_f1() -> None:
    y, s = _binary_data(n=700, seed=5)
    table = _by_name(evaluate("binary", y, s, ["fscore_table"]))["fscore_table"]
    assert table["threshold"] == pytest.approx([i / 100 for i in range(100)])
    for t, f in zip(table["threshold"], table["f_score"], strict=True):
        assert f == pytest.approx(skm.f1_score(y, (s > t).astype(int), zero_division=0.0), abs=1e-9)


def test_lift_reports_max_float_for_an_absent_class_prediction_block() -> None:
    y = np.array([1, 1, 1, 0])
    s = np.array([0.9, 0.8, 0.7, 0.1])
    lift = _by_name(evaluate("binary", y, s, ["lift"]))["lift"]
    assert all(math.isfinite(v) for pair in lift["lifty"] for v in pair)
    y_all_pos = np.array([1, 1, 1])
    lift = _by_name(evaluate("binary", y_all_pos, np.array([0.3, 0.2, 0.1]), ["lift"]))["lift"]
    assert lift["lifty"][0][0] == sys.float_info.max  # class 0 never occurs


# --------------------------------------------------------------------------------------------------
# multi-class and regression


@pytest.mark.parametrize("average", ["micro", "macro", "weighted"])
def test_multi_metrics_match_sklearn(average: str) -> None:
    rng = np.random.default_rng(11)
    y = rng.integers(0, 4, size=1500)
    pred = np.where(rng.random(1500) < 0.6, y, rng.integers(0, 5, size=1500))  # class 4 only predicted
    got = _by_name(
        evaluate("multi", y, pred, [*default_metrics("multi"), "multi_f1_score"], multi_average=average)  # type: ignore[arg-type]
    )
    assert got["multi_accuracy"] == pytest.approx(skm.accuracy_score(y, pred), abs=1e-12)
    kw = {"average": average, "zero_division": 0.0}
    assert got["multi_precision"] == pytest.approx(skm.precision_score(y, pred, **kw), abs=1e-12)
    assert got["multi_recall"] == pytest.approx(skm.recall_score(y, pred, **kw), abs=1e-12)
    assert got["multi_f1_score"] == pytest.approx(skm.f1_score(y, pred, **kw), abs=1e-12)


def test_multi_accepts_class_score_matrix_like_fate() -> None:
    rng = np.random.default_rng(2)
    proba = rng.random((300, 3))
    y = rng.integers(0, 3, size=300)
    got = _by_name(evaluate("multi", y, proba))
    assert got["multi_accuracy"] == pytest.approx(skm.accuracy_score(y, proba.argmax(axis=1)))
    # FATE's default micro average equals accuracy for single-label data.
    assert got["multi_precision"] == pytest.approx(got["multi_accuracy"])


def test_regression_metrics_match_sklearn() -> None:
    rng = np.random.default_rng(5)
    y = rng.normal(size=2000) * 3 + 10
    p = y + rng.normal(size=2000)
    got = _by_name(evaluate("regression", y, p))
    assert got["mse"] == pytest.approx(skm.mean_squared_error(y, p), abs=1e-9)
    assert got["rmse"] == pytest.approx(math.sqrt(skm.mean_squared_error(y, p)), abs=1e-9)
    assert got["mae"] == pytest.approx(skm.mean_absolute_error(y, p), abs=1e-9)
    assert got["r2_score"] == pytest.approx(skm.r2_score(y, p), abs=1e-9)
    assert_plain_json(evaluate("regression", y, p))


def test_r2_constant_target_follows_sklearn() -> None:
    y = np.full(5, 2.0)
    assert _by_name(evaluate("regression", y, y, ["r2_score"]))["r2_score"] == skm.r2_score(y, y)
    assert _by_name(evaluate("regression", y, y + 1, ["r2_score"]))["r2_score"] == skm.r2_score(y, y + 1)


# --------------------------------------------------------------------------------------------------
# errors


def test_unknown_metric_names_it_and_lists_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown metric\(s\) \['acc'\].*auc"):
        evaluate("binary", [0, 1], [0.1, 0.9], ["auc", "acc"])


@pytest.mark.parametrize(
    ("y", "s", "metrics", "message"),
    [
        ([1, 1, 1], [0.1, 0.5, 0.9], ["auc"], "only one class"),
        ([0, 0], [0.1, 0.2], ["ks"], "only one class"),
        ([], [], ["auc"], "empty"),
        ([0, 1], [0.1, float("nan")], ["auc"], "NaN"),
        ([0, 2], [0.1, 0.3], ["auc"], "labels in"),
        ([0, 1, 1], [0.1, 0.3], ["auc"], "3 samples"),
        ([0, 0], [0.1, 0.3], ["biclass_recall_table"], "no positive"),
        ([1.0], [1.0], ["r2_score"], "two samples"),
    ],
)
def test_degenerate_inputs_raise(y: list, s: list, metrics: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        evaluate("binary", y, s, metrics)
