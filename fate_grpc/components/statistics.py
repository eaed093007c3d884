"""The statistics component: FATE's per-column summary statistics of each party's own features.

Every party computes on its own feature columns only (never the match id, label or weight column), minus
``skip_col``; nothing is exchanged and no party learns anything about another. The numbers come from
``fate_grpc.ml.statistics.compute_statistics`` (see there for each metric's definition; missing values are
excluded except by ``missing_count``/``missing_ratio``; percentiles ``"NN%"`` are exact, so they meet any
``relative_error``; ``describe`` expands to count, mean, std, min, 25%, 50%, 75%, max).

Parameters as in FATE: ``metrics`` (a list, or one name), ``ddof`` (for var, std and the coefficient of
variation), ``bias`` (for skewness and kurtosis), ``relative_error``, ``skip_col`` (column names; with
``use_anonymous``, FATE's anonymous names ``<role>_<party_id>_<i>``, i the position among this party's
features, and names of other parties are ignored, so one list can serve every party; plain names that are
not a feature here are ignored too, with a warning).

Output model ``output_model`` -- the layout a feature-selection component reads:

* ``data``: ``{metric: {column: value}}``, e.g. ``data["mean"]["x0"]``. Metrics in the order asked for
  (``describe`` expanded in place, repeats dropped); columns are this party's real feature names in table
  order; ``count``/``missing_count`` are ints, the rest floats, ``None`` where a metric is undefined for a
  column (e.g. no values).
* ``meta``: ``{"model_type": "statistics", "metrics": [metric names as in data], "columns": [...],
  "anonymous_columns": {column: anonymous name}, "ddof", "bias", "relative_error", "skip_col",
  "use_anonymous"}``.

No metric is logged (FATE logs none; the statistics are the model).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from fate_grpc.components.context import ComponentContext, ComponentError
from fate_grpc.components.parameters import with_checked_parameters
from fate_grpc.components.table import Table
from fate_grpc.domain import param_checks as checks
from fate_grpc.domain.component_spec import ArtifactSpec, ComponentSpec, ParamSpec, StageSpec
from fate_grpc.ml.statistics import DEFAULT_METRICS, compute_statistics, expand_metrics

INPUT_KEY = "input_data"
OUTPUT_MODEL = "output_model"
_GUEST_HOST = frozenset({"guest", "host"})

# FATE's statistic metric names (lower-cased) or "NN%" percentiles, one or a list; "describe" as well
# (FATE's component handles it though its declaration lists only the names).
STATISTIC_NAMES = (
    "count",
    "sum",
    "max",
    "min",
    "mean",
    "median",
    "std",
    "var",
    "coefficient_of_variation",
    "missing_count",
    "missing_ratio",
    "skewness",
    "kurtosis",
)
_ONE_METRIC = checks.any_of(
    checks.choice(*STATISTIC_NAMES, "describe"),
    checks.percentile(),
    wanted=f"a statistic ({', '.join(STATISTIC_NAMES)}, describe) or a percentile like '25%'",
)
METRICS_CHECK = checks.list_of(_ONE_METRIC, single=True)

SPEC = ComponentSpec(
    name="statistics",
    roles=_GUEST_HOST,
    stages={
        "default": StageSpec(
            inputs=(ArtifactSpec(INPUT_KEY, "data", _GUEST_HOST),),
            outputs=(ArtifactSpec(OUTPUT_MODEL, "model", _GUEST_HOST),),
        ),
    },
    parameters={
        "metrics": ParamSpec("metrics", default=list(DEFAULT_METRICS), check=METRICS_CHECK),
        "ddof": ParamSpec("ddof", default=1, check=checks.integer(ge=0)),
        "bias": ParamSpec("bias", default=True, check=checks.boolean()),
        "relative_error": ParamSpec("relative_error", default=1e-3, check=checks.number(gt=0, le=1)),
        "skip_col": ParamSpec(
            "skip_col", check=checks.list_of(checks.string(), wanted="a list of column names")
        ),
        "use_anonymous": ParamSpec("use_anonymous", default=False, check=checks.boolean()),
    },
    description="Per-column statistics (mean, std, percentiles, ...) of each party's own features.",
)


def run(ctx: ComponentContext) -> None:
    """Compute the statistics of this party's `input_data` and write them as `output_model`."""
    ctx = with_checked_parameters(ctx, SPEC)
    table = ctx.read_input_table(INPUT_KEY)
    options = _options(ctx.parameters)
    if len(table) == 0:
        raise ComponentError(f"statistics: input_data at {ctx.role} {ctx.party_id} has no rows")
    columns = select_columns(ctx, table, options["skip_col"], options["use_anonymous"])
    if not columns:
        ctx.log.warning("statistics: no feature column left to compute at %s %s", ctx.role, ctx.party_id)
    try:
        values = table.frame[columns].to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise ComponentError("statistics: the feature columns must be numeric") from None
    try:
        result = compute_statistics(
            values, columns, options["metrics"], ddof=options["ddof"], bias=options["bias"]
        )
    except ValueError as error:
        raise ComponentError(f"statistics: {error}") from None
    ctx.report_progress(80)
    anonymous = anonymous_names(table, ctx.role, ctx.party_id)
    meta = {
        "model_type": "statistics",
        **options,
        "metrics": list(result),
        "columns": columns,
        "anonymous_columns": {column: anonymous[column] for column in columns},
    }
    # FATE's statistics logs no metric: the statistics are the model.
    ctx.write_output_model(OUTPUT_MODEL, result, meta)


def _options(params: dict[str, Any]) -> dict[str, Any]:
    """The parameters, checked, with FATE's defaults."""
    metrics = params.get("metrics")
    metrics = list(DEFAULT_METRICS) if metrics is None else [metrics] if isinstance(metrics, str) else metrics
    if not isinstance(metrics, list) or not metrics or not all(isinstance(m, str) for m in metrics):
        raise ComponentError(f"statistics: metrics must be a non-empty list of metric names, got {metrics!r}")
    try:
        expand_metrics(metrics)
    except ValueError as error:
        raise ComponentError(f"statistics: {error}") from None
    ddof = _default(params.get("ddof"), 1)
    if isinstance(ddof, bool) or not isinstance(ddof, int) or ddof < 0:
        raise ComponentError(f"statistics: ddof must be an integer >= 0, got {ddof!r}")
    relative_error = _default(params.get("relative_error"), 1e-3)
    if isinstance(relative_error, bool) or not isinstance(relative_error, int | float):
        raise ComponentError(f"statistics: relative_error must be a number in (0, 1], got {relative_error!r}")
    if not (0 < relative_error <= 1) or math.isnan(relative_error):
        raise ComponentError(f"statistics: relative_error must be in (0, 1], got {relative_error!r}")
    options: dict[str, Any] = {
        "metrics": list(metrics),
        "ddof": ddof,
        "relative_error": float(relative_error),
        "skip_col": params.get("skip_col"),
    }
    for name, default in (("bias", True), ("use_anonymous", False)):
        value = _default(params.get(name), default)
        if not isinstance(value, bool):
            raise ComponentError(f"statistics: {name} must be true or false, got {value!r}")
        options[name] = value
    skip = options["skip_col"]
    if skip is not None and (not isinstance(skip, list) or not all(isinstance(c, str) for c in skip)):
        raise ComponentError(f"statistics: skip_col must be a list of column names, got {skip!r}")
    return options


def _default(value: Any, default: Any) -> Any:
    return default if value is None else value


def anonymous_names(table: Table, role: str, party_id: str) -> dict[str, str]:
    """FATE's anonymous name of each feature column: ``<role>_<party_id>_<position among features>``."""
    return {column: f"{role}_{party_id}_{i}" for i, column in enumerate(table.schema.feature_names)}


def select_columns(
    ctx: ComponentContext, table: Table, skip_col: list[str] | None, use_anonymous: bool
) -> list[str]:
    """This party's feature columns minus those skip_col names, in table order."""
    features = list(table.schema.feature_names)
    if not skip_col:
        return features
    skipped: set[str] = set()
    if use_anonymous:
        prefix = f"{ctx.role}_{ctx.party_id}_"
        by_anonymous = {
            anonymous: column for column, anonymous in anonymous_names(table, ctx.role, ctx.party_id).items()
        }
        for name in skip_col:
            if not name.startswith(prefix):
                continue  # another party's column: the list is shared by every party
            if name not in by_anonymous:
                raise ComponentError(
                    f"statistics: skip_col names {name!r}, but {ctx.role} {ctx.party_id} has only "
                    f"{len(features)} feature columns"
                )
            skipped.add(by_anonymous[name])
    else:
        unknown = [name for name in skip_col if name not in features]
        if unknown:
            ctx.log.warning("statistics: skip_col names %s, which are not feature columns here", unknown)
        skipped.update(skip_col)
    return [column for column in features if column not in skipped]
