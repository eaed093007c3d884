"""Reading feature matrices from tables and writing FATE's prediction tables."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from fate_grpc.components.context import ComponentError
from fate_grpc.components.model_common.prediction_tables import (
    LABEL,
    TEST_SET,
    TRAIN_SET,
    VALIDATE_SET,
    detail_string,
    host_rows,
    prediction_table,
    stacked,
)
from fate_grpc.components.table import Table

__all__ = [
    "LABEL",
    "PREDICT_COLUMNS",
    "TEST_SET",
    "TRAIN_SET",
    "VALIDATE_SET",
    "binary_predictions",
    "feature_matrix",
    "host_rows",
    "label_values",
    "multi_predictions",
    "regression_predictions",
    "stacked",
]
PREDICT_COLUMNS = ("predict_score", "predict_result", "predict_detail")


def feature_matrix(table: Table, header: Sequence[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """The float matrix of the table's feature columns (or of ``header``, a saved model's columns)."""
    columns = list(header) if header is not None else list(table.schema.feature_names)
    missing = [c for c in columns if c not in table.frame.columns]
    if missing:
        raise ComponentError(f"the data lacks the model's feature column(s) {missing[:5]}")
    try:
        matrix = table.frame[columns].to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise ComponentError("coordinated linear models need numeric feature columns") from None
    if not bool(np.all(np.isfinite(matrix))):
        raise ComponentError("the feature columns hold missing or infinite values; fill them first")
    return matrix, columns


def label_values(table: Table) -> np.ndarray:
    label = table.schema.label_name
    if not label:
        raise ComponentError("the guest's data has no label column (label_name)")
    try:
        values = table.frame[label].to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise ComponentError(f"label column {label!r} must be numeric") from None
    if not bool(np.all(np.isfinite(values))):
        raise ComponentError(f"label column {label!r} has missing values")
    return values


def binary_predictions(
    table: Table, scores: np.ndarray, labels: list[int], threshold: float, kind: str
) -> Table:
    negative, positive = str(labels[0]), str(labels[1])
    details = [detail_string({negative: 1.0 - float(s), positive: float(s)}) for s in scores]
    result = (scores > threshold).astype(np.int64)
    return prediction_table(table, scores, result, details, kind)


def multi_predictions(table: Table, scores: np.ndarray, labels: list[int], kind: str) -> Table:
    """One-vs-rest: the best class, its score, and every class's score in the detail."""
    best = np.argmax(scores, axis=1)
    details = [detail_string({str(c): float(v) for c, v in zip(labels, row, strict=True)}) for row in scores]
    result = np.asarray(labels, dtype=np.int64)[best]
    return prediction_table(table, scores.max(axis=1), result, details, kind)


def regression_predictions(table: Table, scores: np.ndarray, kind: str) -> Table:
    details = [detail_string({"predict_score": float(s)}) for s in scores]
    return prediction_table(table, scores, scores, details, kind)
