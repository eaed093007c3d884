"""Reading feature matrices from tables and writing FATE's prediction tables."""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pandas as pd

from fate_grpc.components.context import ComponentError
from fate_grpc.components.table import Table, TableSchema

TRAIN_SET, VALIDATE_SET, TEST_SET = "train_set", "validate_set", "test_set"
LABEL = "label"
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


def detail_string(details: dict[str, float]) -> str:
    """FATE's predict_detail: the JSON of the dict with single quotes, wrapped in double quotes."""
    return '"' + json.dumps(details).replace('"', "'") + '"'


def binary_predictions(
    table: Table, scores: np.ndarray, labels: list[int], threshold: float, kind: str
) -> Table:
    negative, positive = str(labels[0]), str(labels[1])
    details = [detail_string({negative: 1.0 - float(s), positive: float(s)}) for s in scores]
    result = (scores > threshold).astype(np.int64)
    return _prediction_table(table, scores, result, details, kind)


def multi_predictions(table: Table, scores: np.ndarray, labels: list[int], kind: str) -> Table:
    """One-vs-rest: the best class, its score, and every class's score in the detail."""
    best = np.argmax(scores, axis=1)
    details = [detail_string({str(c): float(v) for c, v in zip(labels, row, strict=True)}) for row in scores]
    result = np.asarray(labels, dtype=np.int64)[best]
    return _prediction_table(table, scores.max(axis=1), result, details, kind)


def regression_predictions(table: Table, scores: np.ndarray, kind: str) -> Table:
    details = [detail_string({"predict_score": float(s)}) for s in scores]
    return _prediction_table(table, scores, scores, details, kind)


def _prediction_table(
    table: Table, scores: np.ndarray, result: np.ndarray, details: list[str], kind: str
) -> Table:
    id_name = table.schema.match_id_name
    frame = pd.DataFrame({id_name: table.ids.to_numpy()})
    if table.schema.label_name:
        frame[LABEL] = table.frame[table.schema.label_name].to_numpy()
    frame["predict_score"] = np.asarray(scores, dtype=np.float64)
    frame["predict_result"] = result
    frame["predict_detail"] = details
    frame["type"] = kind
    schema = TableSchema(
        header=tuple(frame.columns),
        match_id_name=id_name,
        label_name=LABEL if table.schema.label_name else "",
        delimiter=table.schema.delimiter,
    )
    return Table(frame=frame, schema=schema)


def host_rows(table: Table, kind: str) -> Table:
    """What a host writes as its output data: its row ids and the set they belong to (no predictions:
    scores exist at the guest only)."""
    id_name = table.schema.match_id_name
    frame = pd.DataFrame({id_name: table.ids.to_numpy(), "type": kind})
    schema = TableSchema(header=(id_name, "type"), match_id_name=id_name, delimiter=table.schema.delimiter)
    return Table(frame=frame, schema=schema)


def stacked(tables: Sequence[Table]) -> Table:
    frame = pd.concat([t.frame for t in tables], ignore_index=True)
    return Table(frame=frame, schema=tables[0].schema)
