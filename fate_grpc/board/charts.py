"""Charts from what components write: FATE's metric records and model documents, to plot specs (pure).

A chart is a plain mapping the page hands to ECharts with no knowledge of metric shapes:
`{"id", "title", "kind": "line" | "bar" | "table", "x_name", "y_name", "series": [{"name", "data"}]}`
(line data as [x, y] pairs, bar data as [label, value] pairs), or for tables `{"columns", "rows"}`.

Shapes read (those our components write, which are FATE 2.2's):
- a loss per iteration: records of type "loss" with a step, each value a number or a one-number list;
- `evaluation` (type evaluation): {input task: {split: [{"metric", "val"} | [ks, ks_table], ...]}}
  (binary curves and tables as `fate_grpc.ml.evaluation` documents them; single numbers in a table);
- `feature_importance`: {feature: {"gain", "split"}} (also in SecureBoost's model document);
- a binning model's `metrics_iv` / `host_metrics_iv`: {feature: IV}.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Chart = dict[str, Any]
# Tables of one value per threshold, drawn against the threshold: metric -> (column, title).
THRESHOLD_TABLES = {
    "biclass_accuracy_table": ("accuracy", "Accuracy by threshold"),
    "fscore_table": ("f_score", "F1 score by threshold"),
}
CONFUSION_THRESHOLD = 0.5


def metric_charts(metrics: Sequence[Mapping[str, Any]]) -> list[Chart]:
    """Every chart the task's metric records give, losses first."""
    charts = _loss_charts(metrics)
    for record in metrics:
        values = [point.get("metric") for point in record.get("data", ())]
        if record.get("type") == "evaluation" or record.get("name") == "evaluation":
            for value in values:
                if isinstance(value, Mapping):
                    charts.extend(evaluation_charts(value))
        elif record.get("name") == "feature_importance" and values and isinstance(values[-1], Mapping):
            charts.append(importance_chart(values[-1], "feature_importance"))
    return charts


def model_charts(document: Any) -> list[Chart]:
    """Charts of a model document {"data", "meta"}: IV per feature, feature importance."""
    data = document.get("data") if isinstance(document, Mapping) else None
    if not isinstance(data, Mapping):
        return []
    charts = []
    iv: dict[str, Any] = {}
    for key in ("metrics_iv", "host_metrics_iv"):
        if isinstance(data.get(key), Mapping):
            iv.update(data[key])
    if iv:
        bars = sorted(((str(k), _number(v)) for k, v in iv.items()), key=lambda kv: -kv[1])
        charts.append(_bar("iv", "IV per feature", "feature", "IV", [("IV", bars)]))
    if isinstance(data.get("feature_importance"), Mapping) and data["feature_importance"]:
        charts.append(importance_chart(data["feature_importance"], "model_feature_importance"))
    return charts


def importance_chart(importance: Mapping[str, Any], chart_id: str) -> Chart:
    """Bars of gain (and split count) per feature, largest gain first."""
    rows = []
    for feature, entry in importance.items():
        if isinstance(entry, Mapping):
            rows.append((str(feature), _number(entry.get("gain")), _number(entry.get("split"))))
        else:
            rows.append((str(feature), _number(entry), math.nan))
    rows.sort(key=lambda r: -r[1])
    series = [("gain", [(f, g) for f, g, _ in rows])]
    if any(not math.isnan(s) for _, _, s in rows):
        series.append(("split", [(f, s) for f, _, s in rows]))
    return _bar(chart_id, "Feature importance", "feature", "importance", series)


def _loss_charts(metrics: Sequence[Mapping[str, Any]]) -> list[Chart]:
    series = []
    for record in metrics:
        if record.get("type") != "loss":
            continue
        points = []
        for index, point in enumerate(record.get("data", ())):
            step = point.get("step")
            points.append([step if step is not None else index, _first_number(point.get("metric"))])
        points.sort(key=lambda p: p[0])
        series.append({"name": _series_name(record), "data": points})
    if not series:
        return []
    axis = next((r.get("step_axis") for r in metrics if r.get("type") == "loss" and r.get("step_axis")), None)
    return [_line("loss", "Loss", axis or "iteration", "loss", series)]


def _series_name(record: Mapping[str, Any]) -> str:
    groups = [g.get("name", "") for g in record.get("groups", ()) if g.get("name") not in ("default", None)]
    return " / ".join([str(record.get("name", "")), *groups]) if groups else str(record.get("name", ""))


def evaluation_charts(result: Mapping[str, Any]) -> list[Chart]:
    """Charts of one `evaluation` value: per input task and split, scalars, curves and the matrix."""
    charts: list[Chart] = []
    for source, splits in result.items():
        if not isinstance(splits, Mapping):
            continue
        for split, items in splits.items():
            named = _items_by_name(items if isinstance(items, list) else [])
            charts.extend(_split_charts(named, f"{source} {split}", f"{source}.{split}"))
    return charts


def _items_by_name(items: Iterable[Any]) -> dict[str, Any]:
    named: dict[str, Any] = {}
    for item in items:
        for entry in item if isinstance(item, list) else [item]:
            if isinstance(entry, Mapping) and "metric" in entry:
                named[str(entry["metric"])] = entry.get("val")
    return named


def _split_charts(named: Mapping[str, Any], label: str, key: str) -> list[Chart]:
    charts: list[Chart] = []
    # Every single-number metric (auc, ks, multi_accuracy, rmse, ...), in the order reported.
    scalars = [(name, value) for name, value in named.items() if _is_number(value)]
    if scalars:
        charts.append(_table(f"scores:{key}", f"Scores, {label}", ["metric", "value"], scalars))
    ks_table = named.get("ks_table")
    if isinstance(ks_table, Mapping):
        charts.append(_roc(ks_table, label, key))
        charts.append(_ks(ks_table, label, key, named.get("ks")))
    for builder in (_gain_or_lift("gain"), _gain_or_lift("lift"), _precision_recall, _confusion):
        chart = builder(named, label, key)
        if chart is not None:
            charts.append(chart)
    for metric, (column, title) in THRESHOLD_TABLES.items():
        table = named.get(metric)
        if isinstance(table, Mapping):
            points = sorted(zip(_numbers(table.get("threshold")), _numbers(table.get(column)), strict=False))
            series = [{"name": column, "data": [list(p) for p in points]}]
            charts.append(_line(f"{metric}:{key}", f"{title}, {label}", "threshold", column, series))
    return charts


def _roc(table: Mapping[str, Any], label: str, key: str) -> Chart:
    points = sorted(zip(_numbers(table.get("fpr")), _numbers(table.get("tpr")), strict=False))
    curve = {"name": "ROC", "data": [[0.0, 0.0], *[list(p) for p in points]]}
    chance = {"name": "chance", "data": [[0.0, 0.0], [1.0, 1.0]]}
    return _line(f"roc:{key}", f"ROC, {label}", "false positive rate", "true positive rate", [curve, chance])


def _ks(table: Mapping[str, Any], label: str, key: str, ks: Any) -> Chart:
    cuts = _numbers(table.get("cuts"))
    series = [
        {"name": name, "data": [list(p) for p in zip(cuts, _numbers(table.get(name)), strict=False)]}
        for name in ("tpr", "fpr")
    ]
    title = f"KS, {label}" + (f" (KS = {ks:.4f})" if _is_number(ks) else "")
    return _line(f"ks:{key}", title, "cut", "rate", series)


def _gain_or_lift(kind: str) -> Any:
    def build(named: Mapping[str, Any], label: str, key: str) -> Chart | None:
        table = named.get(kind)
        if not isinstance(table, Mapping):
            return None
        # FATE keeps a [class 0, class 1] pair per threshold; the curve of the positive class is drawn.
        xs = [_pair_last(v) for v in table.get(f"{kind}x") or ()]
        ys = [_pair_last(v) for v in table.get(f"{kind}y") or ()]
        points = sorted((x, y) for x, y in zip(xs, ys, strict=False) if math.isfinite(y) and y < 1e300)
        title = "Gain" if kind == "gain" else "Lift"
        series = [{"name": title.lower(), "data": [list(p) for p in points]}]
        return _line(f"{kind}:{key}", f"{title}, {label}", "share predicted positive", kind, series)

    return build


def _precision_recall(named: Mapping[str, Any], label: str, key: str) -> Chart | None:
    precision, recall = named.get("biclass_precision_table"), named.get("biclass_recall_table")
    if not isinstance(precision, Mapping) or not isinstance(recall, Mapping):
        return None
    # Both tables are computed at the same thresholds, row for row.
    points = sorted(zip(_numbers(recall.get("r")), _numbers(precision.get("p")), strict=False))
    series = [{"name": "precision-recall", "data": [list(p) for p in points]}]
    return _line(f"pr:{key}", f"Precision-recall, {label}", "recall", "precision", series)


def _confusion(named: Mapping[str, Any], label: str, key: str) -> Chart | None:
    table = named.get("confusion_matrix")
    if not isinstance(table, Mapping) or not table.get("threshold"):
        return None
    thresholds = _numbers(table.get("threshold"))
    # The row whose threshold is nearest 0.5, the usual decision threshold.
    index = min(range(len(thresholds)), key=lambda i: abs(thresholds[i] - CONFUSION_THRESHOLD))
    count = {name: int(_numbers(table.get(name))[index]) for name in ("tp", "fp", "fn", "tn")}
    rows = [["actual 1", count["tp"], count["fn"]], ["actual 0", count["fp"], count["tn"]]]
    title = f"Confusion matrix at threshold {thresholds[index]:.4f}, {label}"
    return _table(f"confusion:{key}", title, ["", "predicted 1", "predicted 0"], rows)


def _line(chart_id: str, title: str, x_name: str, y_name: str, series: list[dict[str, Any]]) -> Chart:
    return {
        "id": chart_id,
        "title": title,
        "kind": "line",
        "x_name": x_name,
        "y_name": y_name,
        "series": series,
    }


def _bar(
    chart_id: str, title: str, x_name: str, y_name: str, series: list[tuple[str, list[tuple[str, float]]]]
) -> Chart:
    return {
        "id": chart_id,
        "title": title,
        "kind": "bar",
        "x_name": x_name,
        "y_name": y_name,
        "series": [
            {"name": name, "data": [[label, None if math.isnan(v) else v] for label, v in data]}
            for name, data in series
        ],
    }


def _table(chart_id: str, title: str, columns: list[str], rows: Sequence[Sequence[Any]]) -> Chart:
    return {
        "id": chart_id,
        "title": title,
        "kind": "table",
        "columns": columns,
        "rows": [list(r) for r in rows],
    }


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(value: Any) -> float:
    return float(value) if _is_number(value) else math.nan


def _numbers(values: Any) -> list[float]:
    return [_number(v) for v in values] if isinstance(values, list) else []


def _first_number(value: Any) -> float:
    if isinstance(value, list) and value:
        return _first_number(value[0])
    return _number(value)


def _pair_last(value: Any) -> float:
    return _number(value[-1]) if isinstance(value, list) and value else _number(value)
