"""The feature_scale component: min-max or standard scaling of each party's own features.

Every party fits on its own columns only; nothing is exchanged. Train fits on `train_data` and writes
`train_output_data` and `output_model`; predict applies `input_model` to `test_data`.

- standard: (x - mean) / std, std with ddof=1 as FATE's DataFrame computes it; a column whose std is 0
  is only centred.
- min_max: (x - min) / (max - min) mapped onto feature_range (default [0, 1], or a {column: [lo, hi]}
  mapping); a constant column maps to the range's low end. With strict_range, predict clips values
  outside the fitted range into feature_range.
Missing values stay missing. Columns are chosen by name (scale_col), by position among the features
(scale_idx), or all features when neither is set; with use_anonymous, names are FATE's anonymous
names `<role>_<party_id>_<position>`.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Any

import numpy as np

from fate_grpc.components.context import ComponentContext, ComponentError
from fate_grpc.components.parameters import with_checked_parameters
from fate_grpc.components.table import Table

TRAIN_DATA = "train_data"
TEST_DATA = "test_data"
TRAIN_OUTPUT_DATA = "train_output_data"
TEST_OUTPUT_DATA = "test_output_data"
OUTPUT_MODEL = "output_model"
INPUT_MODEL = "input_model"
METHODS = ("standard", "min_max")


def run(ctx: ComponentContext) -> None:
    from fate_grpc.components.catalog import FEATURE_SCALE  # the catalog imports this module

    ctx = with_checked_parameters(ctx, FEATURE_SCALE)
    if ctx.stage == "predict":
        _predict(ctx)
    else:
        _train(ctx)


def _train(ctx: ComponentContext) -> None:
    table = ctx.read_input_table(TRAIN_DATA)
    params = ctx.parameters
    method = str(params.get("method") or "standard").lower()
    if method not in METHODS:
        raise ComponentError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    columns = select_columns(table, params, ctx.role, ctx.party_id)
    values = _feature_matrix(table, columns)
    if method == "standard":
        fitted = fit_standard(values, columns)
    else:
        fitted = fit_min_max(values, columns, params.get("feature_range"))
    fitted["strict_range"] = bool(params.get("strict_range", True))
    ctx.report_progress(50)
    ctx.write_output_table(TRAIN_OUTPUT_DATA, apply_scaling(table, fitted, clip=False))
    meta = {
        "model_type": "feature_scale",
        "method": method,
        "select_col": columns,
        "strict_range": fitted["strict_range"],
    }
    ctx.write_output_model(OUTPUT_MODEL, fitted, meta)


def _predict(ctx: ComponentContext) -> None:
    table = ctx.read_input_table(TEST_DATA)
    model = ctx.read_input_model(INPUT_MODEL)
    fitted = model.data
    if not isinstance(fitted, dict) or fitted.get("method") not in METHODS:
        raise ComponentError("input_model is not a feature_scale model")
    missing = [c for c in fitted["select_col"] if c not in table.schema.feature_names]
    if missing:
        raise ComponentError(f"test_data lacks the scaled column(s) {missing} the model was fitted on")
    clip = fitted["method"] == "min_max" and bool(fitted.get("strict_range", True))
    ctx.write_output_table(TEST_OUTPUT_DATA, apply_scaling(table, fitted, clip=clip))


def select_columns(table: Table, params: dict[str, Any], role: str, party_id: str) -> list[str]:
    """The feature columns to scale, in table order."""
    features = list(table.schema.feature_names)
    names = params.get("scale_col")
    positions = params.get("scale_idx")
    if names is None and positions is None:
        return features
    if names is not None and positions is not None:
        raise ComponentError("scale_col and scale_idx cannot both be set (as in FATE); set one of them")
    chosen: set[str] = set()
    if names is not None:
        prefix = f"{role}_{party_id}_"
        anonymous = {f"{prefix}{i}": f for i, f in enumerate(features)}
        for name in _as_list(names, "scale_col"):
            if params.get("use_anonymous") and not str(name).startswith(prefix):
                continue  # another party's column: the list is shared by every party
            column = anonymous.get(str(name)) if params.get("use_anonymous") else str(name)
            if column not in features:
                raise ComponentError(f"scale_col names {name!r}, which is not a feature column here")
            chosen.add(column)
    if positions is not None:
        for position in _as_list(positions, "scale_idx"):
            if not isinstance(position, int) or not 0 <= position < len(features):
                raise ComponentError(f"scale_idx {position!r} is outside the {len(features)} feature columns")
            chosen.add(features[position])
    return [f for f in features if f in chosen]


def _as_list(value: Any, name: str) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, (str, int)):
        return [value]
    raise ComponentError(f"{name} must be a list")


def _feature_matrix(table: Table, columns: list[str]) -> np.ndarray:
    try:
        return table.frame[columns].to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise ComponentError("feature_scale needs numeric feature columns") from None


def fit_standard(values: np.ndarray, columns: list[str]) -> dict[str, Any]:
    with warnings.catch_warnings():
        # All-missing or single-row columns give NaN here, mapped to 0 below.
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(values, axis=0)
        std = np.nanstd(values, axis=0, ddof=1)
    return {
        "method": "standard",
        "select_col": columns,
        "mean": dict(zip(columns, np.nan_to_num(mean).tolist(), strict=True)),
        "std": dict(zip(columns, np.nan_to_num(std).tolist(), strict=True)),
    }


def fit_min_max(values: np.ndarray, columns: list[str], feature_range: Any) -> dict[str, Any]:
    ranges = _feature_ranges(columns, feature_range)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        lows = np.nanmin(values, axis=0) if len(values) else np.zeros(len(columns))
        highs = np.nanmax(values, axis=0) if len(values) else np.zeros(len(columns))
    return {
        "method": "min_max",
        "select_col": columns,
        "fit_min": dict(zip(columns, np.nan_to_num(lows).tolist(), strict=True)),
        "fit_max": dict(zip(columns, np.nan_to_num(highs).tolist(), strict=True)),
        "feature_range": ranges,
    }


def _feature_ranges(columns: list[str], feature_range: Any) -> dict[str, list[float]]:
    if feature_range is None:
        feature_range = [0.0, 1.0]
    if isinstance(feature_range, dict):
        unknown = set(feature_range) - set(columns)
        if unknown:
            raise ComponentError(f"feature_range names column(s) not scaled here: {sorted(unknown)}")
        return {c: _one_range(feature_range.get(c, [0.0, 1.0])) for c in columns}
    return {c: _one_range(feature_range) for c in columns}


def _one_range(value: Any) -> list[float]:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ComponentError("feature_range must be [low, high]")
    low, high = float(value[0]), float(value[1])
    if not low < high:
        raise ComponentError(f"feature_range [{low}, {high}] must have low < high")
    return [low, high]


def apply_scaling(table: Table, fitted: dict[str, Any], *, clip: bool) -> Table:
    columns = list(fitted["select_col"])
    if not columns:
        return table
    values = _feature_matrix(table, columns)
    if fitted["method"] == "standard":
        mean = np.array([fitted["mean"][c] for c in columns])
        std = np.array([fitted["std"][c] for c in columns])
        scaled = (values - mean) / np.where(std > 0, std, 1.0)
    else:
        low = np.array([fitted["fit_min"][c] for c in columns])
        high = np.array([fitted["fit_max"][c] for c in columns])
        target = np.array([fitted["feature_range"][c] for c in columns])
        if clip:
            values = np.clip(values, low, high)
        span = np.where(high > low, high - low, 1.0)
        scaled = (values - low) / span * (target[:, 1] - target[:, 0]) + target[:, 0]
    frame = table.frame.copy()
    frame[columns] = scaled
    return replace(table, frame=frame)
