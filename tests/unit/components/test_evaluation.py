"""evaluation at the guest: AUC, KS and the rest against sklearn, per train/validate split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import mean_squared_error, r2_score, roc_auc_score, roc_curve

from fate_grpc.components import evaluation
from fate_grpc.components.context import ComponentError, Party
from tests.support.local_context import LocalFederation, table_from_frame

GUEST = Party("guest", "9999")
HOST = Party("host", "10000")


def scored(n: int = 2000, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, n)
    score = np.clip(0.35 * label + rng.normal(0.4, 0.2, n), 0, 1)
    kind = np.where(np.arange(n) % 4 == 0, "validate_set", "train_set")
    return pd.DataFrame(
        {"id": np.arange(n).astype(str), "label": label, "predict_score": score, "type": kind}
    )


def run(frame: pd.DataFrame, **params: object) -> LocalFederation:
    federation = LocalFederation(
        [GUEST, HOST],
        inputs={
            GUEST: {"input_datas": [table_from_frame(frame, "id", label_name="label")]},
            HOST: {"input_datas": [table_from_frame(frame[["id"]], "id")]},
        },
        common_parameters=params,
    )
    federation.run(evaluation.run)
    return federation


def test_binary_metrics_equal_sklearn_per_split() -> None:
    frame = scored()
    federation = run(frame)
    (metric,) = federation.contexts[GUEST].metrics
    assert metric.name == "evaluation" and metric.type == "evaluation"
    result = metric.value["input_datas_0"]
    assert set(result) == {"train_set", "validate_set"}
    for split, part in frame.groupby("type"):
        items = {i["metric"]: i["val"] for i in result[split] if isinstance(i, dict)}
        assert items["auc"] == pytest.approx(roc_auc_score(part["label"], part["predict_score"]), abs=1e-12)
        ks_pair = next(i for i in result[split] if isinstance(i, list))
        fpr, tpr, _ = roc_curve(part["label"], part["predict_score"])
        exact = float(np.max(tpr - fpr))
        assert ks_pair[0]["metric"] == "ks" and exact - 0.03 <= ks_pair[0]["val"] <= exact + 1e-12
        assert {"confusion_matrix", "gain", "lift", "fscore_table"} <= set(items)
    assert federation.contexts[HOST].metrics == []  # no labels at the host: nothing to evaluate


def test_regression_metrics_equal_sklearn() -> None:
    rng = np.random.default_rng(3)
    y = rng.normal(size=500)
    frame = pd.DataFrame(
        {"id": np.arange(500).astype(str), "label": y, "predict_score": y + rng.normal(0, 0.3, 500)}
    )
    federation = run(frame, default_eval_setting="regression")
    items = {
        i["metric"]: i["val"] for i in federation.contexts[GUEST].metrics[0].value["input_datas_0"]["origin"]
    }
    assert items["mse"] == pytest.approx(mean_squared_error(frame["label"], frame["predict_score"]))
    assert items["r2_score"] == pytest.approx(r2_score(frame["label"], frame["predict_score"]))
    assert items["rmse"] == pytest.approx(np.sqrt(items["mse"]))


def test_unknown_metric_and_missing_column_are_clear_errors() -> None:
    with pytest.raises(ComponentError, match=r"metrics\[1\] must be one of .*auc.*; got 'nope'"):
        run(scored(), metrics=["auc", "nope"])
    with pytest.raises(ComponentError, match="predict_column_name"):
        run(scored().drop(columns=["predict_score"]))


def test_named_metrics_read_predict_score_whatever_the_setting() -> None:
    # FATE: with `metrics` given, the default prediction column is predict_score, even for "multi".
    federation = run(scored(), default_eval_setting="MULTI", metrics=["auc"])
    [metric] = federation.contexts[GUEST].metrics
    frame = scored()
    train = frame[frame["type"] == "train_set"]
    (auc,) = metric.value["input_datas_0"]["train_set"]
    assert auc == {
        "metric": "auc",
        "val": pytest.approx(roc_auc_score(train["label"], train["predict_score"])),
    }
