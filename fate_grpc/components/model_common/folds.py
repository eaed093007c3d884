"""Cross-validation folds as the guest announces them, and FATE's fold column in ``cv_output_datas``."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from fate_grpc.components.context import ComponentError
from fate_grpc.components.table import Table, TableSchema

FOLD_COLUMN = "cv_fold"


def fold_positions(value: np.ndarray | None, rows: int, key: str, component: str) -> np.ndarray:
    """The guest's ``key`` (train or test) row positions of a fold, checked against this party's rows.

    Raises:
        ComponentError: Missing or non-integer positions, or positions beyond ``rows``.
    """
    if value is None or value.dtype.kind not in "iu" or value.ndim != 1:
        raise ComponentError(f"{component}: the guest's fold lacks integer {key} positions")
    if value.size and (int(value.min()) < 0 or int(value.max()) >= rows):
        raise ComponentError(f"{component}: the guest's fold names rows beyond this party's {rows}")
    return value.astype(np.int64)


def with_fold(table: Table, fold: int) -> Table:
    """``table`` with a last column giving the fold number of every row."""
    frame = table.frame.copy()
    frame[FOLD_COLUMN] = fold
    schema: TableSchema = replace(table.schema, header=(*table.schema.header, FOLD_COLUMN))
    return Table(frame=frame, schema=schema)
