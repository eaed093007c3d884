"""FATE's prediction tables: match id, label, predict_score, predict_result, predict_detail, type."""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pandas as pd

from fate_grpc.components.table import Table, TableSchema
from fate_grpc.ml.secureboost.objectives import BINARY_BCE, MULTI_CE, Objective

TRAIN_SET, VALIDATE_SET, TEST_SET = "train_set", "validate_set", "test_set"
LABEL = "label"
THRESHOLD = 0.5  # FATE's compute_predict_details default


def detail_string(details: dict[str, float]) -> str:
    """FATE's predict_detail: the dict's JSON with single quotes, wrapped in double quotes."""
    return '"' + json.dumps(details).replace('"', "'") + '"'


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


def stacked(tables: Sequence[Table]) -> Table:
    frame = pd.concat([t.frame for t in tables], ignore_index=True)
    return Table(frame=frame, schema=tables[0].schema)
