"""The board's pure parts: the DAG's layered layout, charts from FATE's metric and model shapes, JSON
for browsers."""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import roc_curve

from fate_grpc.board.charts import metric_charts, model_charts
from fate_grpc.board.layout import COLUMN_GAP, layered_layout
from fate_grpc.board.views import finite
from fate_grpc.ml.evaluation import evaluate


def test_tasks_sit_one_column_right_of_their_deepest_upstream() -> None:
    places = layered_layout(
        {
            "reader_0": [],
            "reader_1": [],
            "psi_0": ["reader_0"],
            "scale_0": ["psi_0"],
            "lr_0": ["scale_0", "psi_0"],
            "eval_0": ["lr_0", "reader_1"],
        }
    )
    columns = {task: place.column for task, place in places.items()}
    assert columns == {"reader_0": 0, "reader_1": 0, "psi_0": 1, "scale_0": 2, "lr_0": 3, "eval_0": 4}
    assert all(place.x == place.column * COLUMN_GAP for place in places.values())
    # No two tasks share a spot.
    assert len({(p.x, p.y) for p in places.values()}) == len(places)


def test_a_column_is_ordered_by_its_upstreams_positions() -> None:
    # b_child's parent comes after a_child's parent; names alone would put them the other way.
    places = layered_layout({"p1": [], "p2": [], "z_child": ["p1"], "a_child": ["p2"]})
    assert places["p1"].row < places["p2"].row
    assert places["z_child"].row < places["a_child"].row


def test_unknown_upstreams_and_self_references_draw_no_edge() -> None:
    places = layered_layout({"a": ["a", "elsewhere"], "b": ["a"]})
    assert (places["a"].column, places["b"].column) == (0, 1)


def test_a_long_chain_needs_no_recursion() -> None:
    chain = {f"t{i}": [f"t{i - 1}"] if i else [] for i in range(3000)}
    assert layered_layout(chain)["t2999"].column == 2999


def evaluation_record(result: dict) -> dict:  # type: ignore[type-arg]
    return {
        "name": "evaluation",
        "type": "evaluation",
        "groups": [{"name": "default", "index": None}],
        "step_axis": None,
        "data": [{"metric": result, "step": None, "timestamp": 1}],
    }


def test_roc_ks_gain_lift_pr_and_confusion_from_the_evaluation_metric() -> None:
    rng = np.random.default_rng(7)
    labels = rng.integers(0, 2, 400).astype(float)
    scores = np.clip(labels * 0.3 + rng.random(400) * 0.7, 0, 1)
    items = evaluate(
        "binary",
        labels,
        scores,
        [
            "auc",
            "ks",
            "confusion_matrix",
            "gain",
            "lift",
            "biclass_precision_table",
            "biclass_recall_table",
            "biclass_accuracy_table",
            "fscore_table",
        ],
    )
    charts = {c["id"]: c for c in metric_charts([evaluation_record({"lr_0": {"validate_set": items}})])}
    kinds = (
        "scores",
        "roc",
        "ks",
        "gain",
        "lift",
        "pr",
        "confusion",
        "biclass_accuracy_table",
        "fscore_table",
    )
    assert set(charts) == {f"{kind}:lr_0.validate_set" for kind in kinds}
    roc = charts["roc:lr_0.validate_set"]["series"][0]["data"]
    # Each ROC point lies on sklearn's exact curve (100 index cuts are a subset of its thresholds).
    fpr, tpr, _ = roc_curve(labels, scores, drop_intermediate=False)
    exact = {(round(f, 12), round(t, 12)) for f, t in zip(fpr, tpr, strict=True)} | {(1.0, 1.0)}
    for f, t in roc:
        assert any(abs(f - ef) < 1e-9 and abs(t - et) < 1e-9 for ef, et in exact), (f, t)
    assert roc == sorted(roc)
    scores_table = dict(charts["scores:lr_0.validate_set"]["rows"])
    assert scores_table == {"auc": items[0]["val"], "ks": items[1][0]["val"]}
    accuracy = charts["biclass_accuracy_table:lr_0.validate_set"]["series"][0]["data"]
    # At each threshold, the share of rows on the right side of it (score > threshold predicts 1).
    for threshold, value in accuracy[::10]:
        assert math.isclose(value, float(np.mean((scores > threshold) == (labels == 1))))
    confusion = charts["confusion:lr_0.validate_set"]
    (tp, fn), (fp, tn) = (row[1:] for row in confusion["rows"])
    assert tp + fn == int(labels.sum()) and fp + tn == int((1 - labels).sum())


def test_multi_class_scores_are_shown_in_a_table() -> None:
    items = evaluate("multi", [0, 1, 2, 2], [0, 2, 2, 2], ["multi_accuracy", "multi_recall"])
    (chart,) = metric_charts([evaluation_record({"lr_0": {"origin": items}})])
    assert chart["rows"] == [["multi_accuracy", 0.75], ["multi_recall", 0.75]]


def test_a_loss_per_iteration_from_loss_records() -> None:
    records = [
        {
            "name": "lr_loss",
            "type": "loss",
            "groups": [{"name": "default", "index": None}, {"name": "train", "index": None}],
            "step_axis": "iterations",
            "data": [
                {"metric": [0.5], "step": 1, "timestamp": 2},
                {"metric": [0.69], "step": 0, "timestamp": 1},
            ],
        }
    ]
    (chart,) = metric_charts(records)
    assert (chart["id"], chart["x_name"]) == ("loss", "iterations")
    assert chart["series"] == [{"name": "lr_loss / train", "data": [[0, 0.69], [1, 0.5]]}]


def test_iv_per_feature_and_feature_importance_from_model_documents() -> None:
    binning = {"data": {"metrics_iv": {"x0": 0.2, "x1": 1.5}, "host_metrics_iv": {"host_10000_0": 0.7}}}
    (iv,) = model_charts(binning)
    assert iv["series"] == [{"name": "IV", "data": [["x1", 1.5], ["host_10000_0", 0.7], ["x0", 0.2]]}]
    tree = {
        "data": {"feature_importance": {"x3": {"gain": 2.0, "split": 4}, "x1": {"gain": 5.0, "split": 1}}}
    }
    (importance,) = model_charts(tree)
    assert importance["series"] == [
        {"name": "gain", "data": [["x1", 5.0], ["x3", 2.0]]},
        {"name": "split", "data": [["x1", 1.0], ["x3", 4.0]]},
    ]
    assert model_charts({"data": {"estimator": {}}}) == [] and model_charts("nothing") == []


def test_json_for_browsers_has_no_nan_or_infinity() -> None:
    assert finite({"a": [math.nan, math.inf, 1.5], 2: {"b": -math.inf}}) == {
        "a": [None, None, 1.5],
        "2": {"b": None},
    }
