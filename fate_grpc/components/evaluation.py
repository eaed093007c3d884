"""The evaluation component: FATE's binary, multi-class and regression metrics on predicted tables.

Runs where the labels are. Each table of `input_datas` holds a label column and a prediction column
(`predict_score` for binary and regression, `predict_result` for multi, or as the parameters name
them); rows are evaluated per `type` (train_set / validate_set / test_set) when the table has that
column, else all together under "origin". The result is one metric, `evaluation` (type evaluation),
shaped as FATE's: {<input task>: {<type>: [{"metric": "auc", "val": ...}, [ks, ks_table], ...]}}.
A party without a label column (a host) has nothing to evaluate and says so in its log.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fate_grpc.components.context import ComponentContext, ComponentError
from fate_grpc.components.parameters import with_checked_parameters
from fate_grpc.components.table import Table
from fate_grpc.domain import param_checks as checks
from fate_grpc.domain.component_spec import ArtifactSpec, ComponentSpec, ParamSpec, StageSpec
from fate_grpc.ml.evaluation import default_metrics, evaluate, supported_metrics

INPUT_DATAS = "input_datas"
KINDS = ("binary", "multi", "regression")
SPLIT_COLUMN = "type"
ROLES = frozenset({"guest", "host"})

SPEC = ComponentSpec(
    name="evaluation",
    roles=ROLES,
    stages={
        "default": StageSpec(
            inputs=(ArtifactSpec(INPUT_DATAS, "data", ROLES, multi=True, former_keys=("input_data",)),)
        )
    },
    parameters={
        "default_eval_setting": ParamSpec(
            "default_eval_setting", default="binary", check=checks.choice(*KINDS)
        ),
        "metrics": ParamSpec(
            "metrics",
            check=checks.list_of(checks.choice(*supported_metrics()), wanted="a list of metric names"),
        ),
        "predict_column_name": ParamSpec("predict_column_name", check=checks.string()),
        "label_column_name": ParamSpec("label_column_name", check=checks.string()),
    },
    description="Binary, multi-class and regression metrics of predicted tables, as FATE reports them.",
)


def run(ctx: ComponentContext) -> None:
    ctx = with_checked_parameters(ctx, SPEC)
    kind = str(ctx.parameters.get("default_eval_setting") or "binary").lower()
    if kind not in KINDS:
        raise ComponentError(f"default_eval_setting must be one of {', '.join(KINDS)}, not {kind!r}")
    metrics = _metrics(ctx.parameters.get("metrics"), kind)
    results: dict[str, Any] = {}
    for index in range(ctx.input_count(INPUT_DATAS)):
        table = ctx.read_input_table(INPUT_DATAS, index)
        label = _label_column(table, ctx.parameters.get("label_column_name"))
        if label is None:
            ctx.log.info(
                "evaluation: input %d has no label column at %s; nothing to evaluate", index, ctx.role
            )
            continue
        # FATE: with metrics named, the default prediction column is predict_score whatever the setting.
        default_kind = "binary" if ctx.parameters.get("metrics") is not None else kind
        predicted = _predict_column(table, ctx.parameters.get("predict_column_name"), default_kind)
        name = ctx.input_producer(INPUT_DATAS, index) or f"input_{index}"
        results[name] = evaluate_table(table, label, predicted, kind, metrics)
    if results:
        ctx.log_metric("evaluation", results, type="evaluation")


def evaluate_table(table: Table, label: str, predicted: str, kind: str, metrics: list[str]) -> dict[str, Any]:
    """The metrics of one table, per `type` split when it has that column."""
    frame = table.frame
    groups = (
        {str(split): part for split, part in frame.groupby(SPLIT_COLUMN, sort=False)}
        if SPLIT_COLUMN in frame.columns
        else {"origin": frame}
    )
    evaluated = {}
    for split, part in groups.items():
        y_true = _numbers(part[label], label)
        y_pred = _numbers(part[predicted], predicted)
        try:
            evaluated[split] = evaluate(kind, y_true, y_pred, metrics)
        except ValueError as exc:
            raise ComponentError(f"evaluation of {split}: {exc}") from None
    return evaluated


def _metrics(value: Any, kind: str) -> list[str]:
    if value is None:
        return default_metrics(kind)
    names = [str(v).lower() for v in value]
    unknown = [n for n in names if n not in supported_metrics()]
    if unknown:
        raise ComponentError(f"unknown metrics {unknown}; supported: {', '.join(supported_metrics())}")
    return names


def _label_column(table: Table, named: Any) -> str | None:
    columns = set(table.frame.columns)
    if named:
        if named not in columns:
            raise ComponentError(f"label_column_name {named!r} is not a column of the input")
        return str(named)
    for candidate in ("label", table.schema.label_name):
        if candidate and candidate in columns:
            return candidate
    return None


def _predict_column(table: Table, named: Any, kind: str) -> str:
    column = str(named) if named else ("predict_result" if kind == "multi" else "predict_score")
    if column not in table.frame.columns:
        raise ComponentError(
            f"the input has no prediction column {column!r} (set predict_column_name to the column"
            " holding the model's predictions)"
        )
    return column


def _numbers(series: Any, name: str) -> np.ndarray:
    try:
        return np.asarray(series, dtype=np.float64)
    except (TypeError, ValueError):
        raise ComponentError(f"column {name!r} must be numeric") from None
