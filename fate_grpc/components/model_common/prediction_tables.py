"""FATE's prediction tables (match id, label, predict_score, predict_result, predict_detail, type) and a
host's rows (match id, type)."""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pandas as pd

from fate_grpc.components.table import Table, TableSchema

TRAIN_SET, VALIDATE_SET, TEST_SET = "train_set", "validate_set", "test_set"
LABEL = "label"


def detail_string(details: dict[str, float]) -> str:
    """FATE's predict_detail: the JSON of the dict with single quotes, wrapped in double quotes."""
    return '"' + json.dumps(details).replace('"', "'") + '"'


def prediction_table(
    table: Table, scores: np.ndarray, result: np.ndarray, details: list[str], kind: str
) -> Table:
    """The rows of ``table`` (match id, and label if it has one) with their predictions and set ``kind``."""
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
