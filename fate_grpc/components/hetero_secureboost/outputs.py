"""FATE's prediction tables: match id, label, predict_score, predict_result, predict_detail, type."""

from __future__ import annotations

import numpy as np

from fate_grpc.components.model_common import prediction_tables
from fate_grpc.components.model_common.prediction_tables import (
    LABEL,
    TEST_SET,
    TRAIN_SET,
    VALIDATE_SET,
    detail_string,
    stacked,
)
from fate_grpc.components.table import Table
from fate_grpc.ml.secureboost.objectives import BINARY_BCE, MULTI_CE, Objective

__all__ = ["LABEL", "TEST_SET", "THRESHOLD", "TRAIN_SET", "VALIDATE_SET", "prediction_table", "stacked"]
THRESHOLD = 0.5  # FATE's compute_predict_details default


def prediction_table(table: Table, objective: Objective, predicted: np.ndarray, kind: str) -> Table:
    """Rows of ``table`` with their predictions (``predicted``: probabilities or regression values).

    Multi-class: predict_result is the most probable class and predict_score its probability; the detail
    holds every class's.
    """
    if objective.name == BINARY_BCE:
        scores = predicted
        result: np.ndarray = (predicted > THRESHOLD).astype(np.int64)
        details = [detail_string({"0": 1.0 - float(p), "1": float(p)}) for p in predicted]
    elif objective.name == MULTI_CE:
        result = np.argmax(predicted, axis=1).astype(np.int64)
        scores = predicted[np.arange(len(predicted)), result]
        details = [detail_string({str(c): float(v) for c, v in enumerate(row)}) for row in predicted]
    else:
        scores = result = predicted
        details = [detail_string({"predict_score": float(v)}) for v in predicted]
    return prediction_tables.prediction_table(table, scores, result, details, kind)
