"""A client's tables as homo_lr reads them (feature matrix, integer labels, the model's head count) and
FATE's prediction tables it writes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from fate_grpc.components.context import ComponentError
from fate_grpc.components.model_common.prediction_tables import detail_string, prediction_table
from fate_grpc.components.table import Table
from fate_grpc.ml.homo.model import FloatArray, HomoModel, head_count
from fate_grpc.ml.homo.training import HomoSettings

# FATE's HomoLRModel refuses fewer features.
MIN_FEATURES = 2


def features(table: Table, what: str, expected: Sequence[str] | None = None) -> tuple[FloatArray, list[str]]:
    """The float matrix of the feature columns of ``table`` (``what`` names it in errors).

    Raises:
        ComponentError: Fewer than two features, columns other than ``expected``, non-numeric or missing
            values.
    """
    columns = list(table.schema.feature_names)
    if expected is not None and columns != list(expected):
        raise ComponentError(f"homo_lr: {what} has feature columns {columns[:5]}..., not the training data's")
    if len(columns) < MIN_FEATURES:
        raise ComponentError(
            f"homo_lr: {what} needs at least {MIN_FEATURES} feature columns, has {len(columns)}"
        )
    try:
        matrix = table.frame[columns].to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise ComponentError(f"homo_lr: {what} has non-numeric feature columns") from None
    if not bool(np.all(np.isfinite(matrix))):
        raise ComponentError(f"homo_lr: {what} has missing or infinite feature values; fill them first")
    return matrix, columns


def labels(table: Table, what: str) -> FloatArray:
    """The integer class labels of ``table``.

    Raises:
        ComponentError: No label column, or labels that are missing or not whole numbers.
    """
    name = table.schema.label_name
    if not name:
        raise ComponentError(f"homo_lr: {what} has no label column (label_name); every client needs labels")
    try:
        values = table.frame[name].to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise ComponentError(f"homo_lr: {what}'s label column {name!r} must be numeric") from None
    if not bool(np.all(np.isfinite(values))) or not bool(np.all(values == np.round(values))):
        raise ComponentError(f"homo_lr: {what}'s label column {name!r} must hold whole class numbers")
    return values


def heads_for(settings: HomoSettings, label_values: FloatArray) -> int:
    """The model's head count, after FATE's label checks: without ovr the labels must be 0/1; with ovr
    they must lie in [0, label_num). Heads follow label_num (FATE counts the labels each client sees,
    which gives clients missing a class a different model)."""
    found = sorted({int(v) for v in label_values.tolist()})
    if not settings.ovr:
        if len(found) > 2:
            raise ComponentError(
                f"homo_lr: the labels hold {len(found)} classes {found[:10]}; set ovr: true and label_num"
                " for multi-class training"
            )
        if not set(found) <= {0, 1}:
            raise ComponentError(f"homo_lr: binary labels must be 0 and 1, found {found}")
        return 1
    assert settings.label_num is not None, "train_settings requires label_num with ovr"
    outside = [v for v in found if not 0 <= v < settings.label_num]
    if outside:
        raise ComponentError(
            f"homo_lr: with ovr the labels must lie in [0, label_num = {settings.label_num}),"
            f" found {outside[:10]}"
        )
    return head_count(settings.label_num)


def predictions(table: Table, model: HomoModel, matrix: FloatArray, threshold: float, kind: str) -> Table:
    """FATE's prediction table: binary score/result/detail over classes 0 and 1, or for several heads the
    best class index, its softmax score and every class's score."""
    probabilities = model.probabilities(matrix)
    if model.heads == 1:
        scores = probabilities[:, 0]
        details = [detail_string({"0": 1.0 - float(s), "1": float(s)}) for s in scores]
        return prediction_table(table, scores, (scores > threshold).astype(np.int64), details, kind)
    details = [detail_string({str(c): float(v) for c, v in enumerate(row)}) for row in probabilities]
    best = np.argmax(probabilities, axis=1).astype(np.int64)
    return prediction_table(table, probabilities.max(axis=1), best, details, kind)
