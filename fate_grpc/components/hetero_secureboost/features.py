"""Reading a party's features (and the guest's labels) and binning them as SecureBoost does."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from fate_grpc.components.context import ComponentError
from fate_grpc.components.table import Table
from fate_grpc.ml.secureboost import binning

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
SPLIT_TOLERANCE = 1e-8  # FATE's decision rule: left iff x <= split value + 1e-8


@dataclass(frozen=True)
class Binned:
    """A party's features, their split points, bin indices and the common bin count."""

    features: FloatArray
    names: list[str]
    points: list[FloatArray]
    bins: IntArray
    n_bins: int

    def split_value(self, fid: int, bid: int) -> float:
        return float(self.points[fid][bid])


def feature_matrix(table: Table, names: Sequence[str] | None = None) -> tuple[FloatArray, list[str]]:
    """The float matrix of the feature columns (or of ``names``, a saved model's columns)."""
    columns = list(table.schema.feature_names) if names is None else list(names)
    missing = [c for c in columns if c not in table.frame.columns]
    if missing:
        raise ComponentError(
            f"hetero_secureboost: the data lacks the model's feature column(s) {missing[:5]}"
        )
    try:
        matrix = table.frame[columns].to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise ComponentError("hetero_secureboost needs numeric feature columns") from None
    if not bool(np.all(np.isfinite(matrix))):
        raise ComponentError("hetero_secureboost: the feature columns hold missing or infinite values")
    return matrix, columns


def binned(table: Table, max_bin: int) -> Binned:
    features, names = feature_matrix(table)
    points = binning.split_points(features, max_bin)
    bins = binning.bin_indices(features, points)
    return Binned(features, names, points, bins, int(binning.bin_counts(points).max(initial=1)))


def label_values(table: Table) -> FloatArray:
    label = table.schema.label_name
    if not label:
        raise ComponentError("hetero_secureboost: the guest's data has no label column (label_name)")
    try:
        values = table.frame[label].to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise ComponentError(f"hetero_secureboost: label column {label!r} must be numeric") from None
    if not bool(np.all(np.isfinite(values))):
        raise ComponentError(f"hetero_secureboost: label column {label!r} has missing values")
    return values


def goes_left(features: FloatArray, rows: IntArray, fid: int, value: float) -> npt.NDArray[np.bool_]:
    out: npt.NDArray[np.bool_] = features[rows, fid] <= value + SPLIT_TOLERANCE
    return out
