"""FATE 2.x ``evaluation`` metrics, returned in the list shape FATE logs as the ``evaluation`` metric.

``evaluate(kind, y_true, y_pred, metrics)`` returns one item per metric, in request order:
``{"metric": "auc", "val": 0.99}`` for a single value, a table as ``{"metric": name, "val": {column: [...]}}``
(FATE's ``DataFrame.to_dict(orient="list")``), and for ``ks`` the pair
``[{"metric": "ks", "val": ..}, {"metric": "ks_table", "val": {"tpr", "fpr", "threshold", "cuts"}}]``.
Every value is a plain Python ``float``/``int``/``list``, so the result can be JSON-encoded as is.

Threshold conventions follow FATE: a sample is predicted positive when ``score > threshold`` (strictly).
``ks`` and ``confusion_matrix`` use 100 *index cuts*: the scores sorted in descending order are cut at
positions ``int(n * c / 100)``, c = 0..99, and the score at each position is a threshold; KS is the largest
``tpr - fpr`` over those 100 thresholds. The precision/recall/accuracy tables, gain and lift use 100
*step cuts* over the distinct scores; the f-score table uses the fixed thresholds 0.00, 0.01, ..., 0.99.

KS accuracy: the exact KS (max of ``tpr - fpr`` over every distinct score) exceeds the 100-cut value by at
most ``p / P``, ``p`` being the most positives inside one cut (about ``n / 100`` samples plus ties) and ``P``
the number of positives; roughly ``1 / (100 * positive_rate)`` for well-mixed data.

Multi-class precision, recall and F1 use micro averaging by default, as FATE does (``average="micro"``
in ``fate.ml.evaluation.classification``); for single-label data they then all equal the accuracy.
``multi_average="macro"`` or ``"weighted"`` gives the other sklearn averages.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
MetricItem = dict[str, Any]
MetricOutput = MetricItem | list[MetricItem]
Average = Literal["micro", "macro", "weighted"]

DEFAULT_METRICS: dict[str, tuple[str, ...]] = {
    "binary": (
        "auc",
        "ks",
        "confusion_matrix",
        "gain",
        "lift",
        "biclass_precision_table",
        "biclass_recall_table",
        "biclass_accuracy_table",
        "fscore_table",
    ),
    "multi": ("multi_accuracy", "multi_precision", "multi_recall"),
    "regression": ("rmse", "mae", "mse", "r2_score"),
}
_N_CUTS = 100


def supported_metrics() -> list[str]:
    """Every metric name ``evaluate`` accepts, sorted."""
    return sorted(_METRICS)


def default_metrics(kind: str) -> list[str]:
    """FATE's default metric set for ``default_eval_setting`` = ``kind`` (binary, multi, regression)."""
    try:
        return list(DEFAULT_METRICS[kind])
    except KeyError:
        raise ValueError(
            f"unknown evaluation kind {kind!r}; expected one of {sorted(DEFAULT_METRICS)}"
        ) from None


def evaluate(
    kind: str,
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    metrics: Sequence[str] | None = None,
    *,
    threshold: float = 0.5,
    multi_average: Average = "micro",
) -> list[MetricOutput]:
    """Compute ``metrics`` (or FATE's defaults for ``kind``) and return FATE's list of results.

    ``y_pred`` is the positive-class score for binary metrics, the predicted label (or an ``(n, k)`` matrix of
    class scores, reduced by argmax like FATE) for multi metrics, and the prediction for regression metrics.
    As in FATE, an explicit ``metrics`` list may mix kinds; it replaces the defaults of ``kind``.
    ``threshold`` is the cut (``score > threshold``) of the binary_accuracy/precision/recall/f1_score metrics.
    """
    defaults = default_metrics(kind)
    names = defaults if metrics is None else list(metrics)
    unknown = [m for m in names if m not in _METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; valid metrics are {supported_metrics()}")
    if multi_average not in ("micro", "macro", "weighted"):
        raise ValueError(f"multi_average must be micro, macro or weighted, got {multi_average!r}")
    data = _Inputs(_as_array(y_true, "y_true"), _as_array(y_pred, "y_pred"), threshold, multi_average)
    return [_METRICS[name](data) for name in names]


# --------------------------------------------------------------------------------------------------
# input handling


def _as_array(values: npt.ArrayLike, name: str) -> FloatArray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {exc}") from None
    if arr.size == 0:
        raise ValueError(f"{name} is empty; evaluation needs at least one sample")
    if np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN; drop or impute missing predictions/labels before evaluating")
    return arr


@dataclass
class _Inputs:
    """The raw arrays plus per-family views (the validated binary view is built once and cached)."""

    y_true: FloatArray
    y_pred: FloatArray
    threshold: float
    multi_average: Average
    _binary: tuple[FloatArray, FloatArray] | None = None

    def binary(self) -> tuple[FloatArray, FloatArray]:
        """(labels in {0, 1}, 1-D scores) of equal length."""
        if self._binary is None:
            labels = self.y_true.ravel()
            scores = self.y_pred.ravel()
            _check_same_length(labels, scores)
            if not np.isin(labels, (0.0, 1.0)).all():
                raise ValueError(
                    f"binary metrics need labels in {{0, 1}}, got {np.unique(labels)[:10].tolist()}"
                )
            if not np.isfinite(scores).all():
                raise ValueError("binary metrics need finite scores")
            self._binary = (labels, scores)
        return self._binary

    def multi(self) -> tuple[FloatArray, FloatArray]:
        """(true labels, predicted labels); a 2-D prediction is reduced by argmax over the last axis."""
        labels = self.y_true.ravel()
        pred = self.y_pred
        if pred.ndim > 1 and pred.shape != self.y_true.shape:
            pred = pred.argmax(axis=-1).astype(np.float64)
        pred = pred.ravel()
        _check_same_length(labels, pred)
        return labels, pred

    def regression(self) -> tuple[FloatArray, FloatArray]:
        y, p = self.y_true.ravel(), self.y_pred.ravel()
        _check_same_length(y, p)
        if not (np.isfinite(y).all() and np.isfinite(p).all()):
            raise ValueError("regression metrics need finite labels and predictions")
        return y, p


def _check_same_length(a: FloatArray, b: FloatArray) -> None:
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"y_true has {a.shape[0]} samples but y_pred has {b.shape[0]}")


def _require_both_classes(labels: FloatArray, metric: str) -> tuple[int, int]:
    pos = int(labels.sum())
    neg = labels.shape[0] - pos
    if pos == 0 or neg == 0:
        raise ValueError(
            f"{metric} is undefined when y_true holds only one class ({pos} positive, {neg} negative)"
        )
    return pos, neg


def _item(name: str, value: Any) -> MetricItem:
    return {"metric": name, "val": value}


def _floats(values: npt.ArrayLike) -> list[float]:
    return [float(v) for v in np.asarray(values, dtype=np.float64).tolist()]


# --------------------------------------------------------------------------------------------------
# binary: single values


def auc_score(y_true: npt.ArrayLike, y_score: npt.ArrayLike) -> float:
    """Area under the ROC curve (= sklearn ``roc_auc_score``) via the Mann-Whitney rank sum, ties averaged."""
    data = _Inputs(_as_array(y_true, "y_true"), _as_array(y_score, "y_score"), 0.5, "micro")
    return _auc(data)["val"]


def _auc(data: _Inputs) -> MetricItem:
    labels, scores = data.binary()
    pos, neg = _require_both_classes(labels, "auc")
    # Average ranks make tied scores count one half, exactly as the trapezoidal ROC area does.
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    upper = np.cumsum(counts)
    avg_rank = upper - (counts - 1) / 2.0
    rank_sum = float(avg_rank[inverse][labels == 1.0].sum())
    return _item("auc", (rank_sum - pos * (pos + 1) / 2.0) / (pos * neg))


def _threshold_counts(data: _Inputs) -> tuple[int, int, int, int]:
    labels, scores = data.binary()
    pred = scores > data.threshold
    truth = labels == 1.0
    tp = int(np.count_nonzero(pred & truth))
    fp = int(np.count_nonzero(pred & ~truth))
    fn = int(np.count_nonzero(~pred & truth))
    return tp, fp, fn, labels.shape[0] - tp - fp - fn


def _safe_ratio(num: float, den: float) -> float:
    # sklearn's zero_division default: an undefined precision/recall/F1 is reported as 0.0.
    return float(num / den) if den else 0.0


def _binary_accuracy(data: _Inputs) -> MetricItem:
    tp, fp, fn, tn = _threshold_counts(data)
    return _item("binary_accuracy", (tp + tn) / (tp + fp + fn + tn))


def _binary_precision(data: _Inputs) -> MetricItem:
    tp, fp, _, _ = _threshold_counts(data)
    return _item("binary_precision", _safe_ratio(tp, tp + fp))


def _binary_recall(data: _Inputs) -> MetricItem:
    tp, _, fn, _ = _threshold_counts(data)
    return _item("binary_recall", _safe_ratio(tp, tp + fn))


def _binary_f1(data: _Inputs) -> MetricItem:
    tp, fp, fn, _ = _threshold_counts(data)
    return _item("binary_f1_score", _safe_ratio(2 * tp, 2 * tp + fp + fn))


# --------------------------------------------------------------------------------------------------
# binary: tables over thresholds


@dataclass(frozen=True)
class _Confusion:
    tp: IntArray
    fp: IntArray
    fn: IntArray
    tn: IntArray


def _confusion_at(labels: FloatArray, scores: FloatArray, thresholds: FloatArray) -> _Confusion:
    """Counts with prediction ``score > t`` for every t, by binary search instead of an n x t matrix."""
    pos_scores = np.sort(scores[labels == 1.0])
    neg_scores = np.sort(scores[labels != 1.0])
    tp = pos_scores.shape[0] - np.searchsorted(pos_scores, thresholds, side="right")
    fp = neg_scores.shape[0] - np.searchsorted(neg_scores, thresholds, side="right")
    fn = pos_scores.shape[0] - tp
    tn = neg_scores.shape[0] - fp
    return _Confusion(tp.astype(np.int64), fp.astype(np.int64), fn.astype(np.int64), tn.astype(np.int64))


def _index_cuts(scores: FloatArray) -> tuple[FloatArray, FloatArray]:
    """FATE's ``cut_by_index``: 100 thresholds read off the descending scores at positions int(n * c)."""
    cuts = np.arange(_N_CUTS) / _N_CUTS
    desc = np.sort(scores)[::-1]
    positions = (desc.shape[0] * cuts).astype(np.int64)
    return desc[positions], cuts


def _step_cuts(scores: FloatArray) -> tuple[FloatArray, FloatArray]:
    """FATE's ``cut_by_step``: 100 thresholds over the distinct scores in descending order."""
    # np.arange(0, 1, 0.01) (not i / 100) reproduces FATE's cut values and positions bit for bit.
    cuts = np.arange(0.0, 1.0, 1.0 / _N_CUTS)
    distinct_desc = np.unique(scores)[::-1]
    positions = (distinct_desc.shape[0] * cuts).astype(np.int64)
    return distinct_desc[positions], cuts


def _ks(data: _Inputs) -> list[MetricItem]:
    labels, scores = data.binary()
    pos, neg = _require_both_classes(labels, "ks")
    thresholds, cuts = _index_cuts(scores)
    conf = _confusion_at(labels, scores, thresholds)
    tpr = conf.tp / pos
    fpr = conf.fp / neg
    ks_value = float(np.max(tpr - fpr))
    # FATE closes the table with the (1, 1) corner at threshold 0 and cut 1; it is not a KS candidate.
    table = {
        "tpr": _floats(np.append(tpr, 1.0)),
        "fpr": _floats(np.append(fpr, 1.0)),
        "threshold": _floats(np.append(thresholds, 0.0)),
        "cuts": _floats(np.append(cuts, 1.0)),
    }
    return [_item("ks", ks_value), _item("ks_table", table)]


def _confusion_matrix(data: _Inputs) -> MetricItem:
    labels, scores = data.binary()
    thresholds, cuts = _index_cuts(scores)
    conf = _confusion_at(labels, scores, thresholds)
    table = {
        "tp": conf.tp.tolist(),
        "tn": conf.tn.tolist(),
        "fp": conf.fp.tolist(),
        "fn": conf.fn.tolist(),
        "cuts": _floats(cuts),
        "threshold": _floats(thresholds),
    }
    return _item("confusion_matrix", table)


def _step_confusion(data: _Inputs, add_to_end: bool) -> tuple[_Confusion, FloatArray, FloatArray]:
    labels, scores = data.binary()
    thresholds, cuts = _step_cuts(scores)
    if add_to_end:
        # A threshold below every score (all predicted positive), as FATE appends for the curve tables.
        thresholds = np.append(thresholds, thresholds.min() - 0.001)
        cuts = np.append(cuts, 1.0)
    return _confusion_at(labels, scores, thresholds), thresholds, cuts


def _precision_values(conf: _Confusion) -> FloatArray:
    predicted = conf.tp + conf.fp
    # No predicted positives: FATE imputes precision 1.0 so the PR curve starts at the top.
    return np.where(predicted == 0, 1.0, conf.tp / np.maximum(predicted, 1))


def _recall_values(conf: _Confusion, metric: str) -> FloatArray:
    positives = conf.tp + conf.fn
    if positives[0] == 0:
        raise ValueError(f"{metric} is undefined when y_true has no positive samples")
    return conf.tp / positives


def _precision_table(data: _Inputs) -> MetricItem:
    conf, thresholds, cuts = _step_confusion(data, add_to_end=True)
    table = {"p": _floats(_precision_values(conf)), "threshold": _floats(thresholds), "cuts": _floats(cuts)}
    return _item("biclass_precision_table", table)


def _recall_table(data: _Inputs) -> MetricItem:
    conf, thresholds, cuts = _step_confusion(data, add_to_end=True)
    recall = _recall_values(conf, "biclass_recall_table")
    return _item(
        "biclass_recall_table",
        {"r": _floats(recall), "threshold": _floats(thresholds), "cuts": _floats(cuts)},
    )


def _accuracy_table(data: _Inputs) -> MetricItem:
    conf, thresholds, cuts = _step_confusion(data, add_to_end=True)
    accuracy = (conf.tp + conf.tn) / (conf.tp + conf.tn + conf.fp + conf.fn)
    # FATE drops the appended all-positive row from this table only.
    table = {
        "accuracy": _floats(accuracy[:-1]),
        "threshold": _floats(thresholds[:-1]),
        "cuts": _floats(cuts[:-1]),
    }
    return _item("biclass_accuracy_table", table)


def _gain_lift_curves(data: _Inputs) -> tuple[list[list[float]], ...]:
    """(x, gain y, lift y) in FATE's layout: one ``[class 0, class 1]`` pair per step threshold.

    The class-0 value is the same formula with the roles of positives and negatives swapped.
    """
    conf, _, _ = _step_confusion(data, add_to_end=False)
    n = data.binary()[0].shape[0]

    def curves(tp: IntArray, fp: IntArray, fn: IntArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        predicted, actual = tp + fp, tp + fn
        recall = np.where(actual == 0, 1.0, tp / np.maximum(actual, 1))
        precision = np.where(predicted == 0, 1.0, tp / np.maximum(predicted, 1))
        base_rate = actual / n
        # FATE reports the largest float when the class is absent (lift is unbounded).
        lift = np.where(actual == 0, sys.float_info.max, precision / np.where(actual == 0, 1.0, base_rate))
        return predicted / n, recall, lift

    as_pos = curves(conf.tp, conf.fp, conf.fn)
    as_neg = curves(conf.tn, conf.fn, conf.fp)
    return tuple(
        [[float(a), float(b)] for a, b in zip(neg.tolist(), pos.tolist(), strict=True)]
        for neg, pos in zip(as_neg, as_pos, strict=True)
    )


def _gain(data: _Inputs) -> MetricItem:
    x, gain_y, _ = _gain_lift_curves(data)
    thresholds = _step_cuts(data.binary()[1])[0]
    return _item("gain", {"gainx": x, "gainy": gain_y, "threshold": _floats(thresholds)})


def _lift(data: _Inputs) -> MetricItem:
    x, _, lift_y = _gain_lift_curves(data)
    thresholds = _step_cuts(data.binary()[1])[0]
    return _item("lift", {"liftx": x, "lifty": lift_y, "threshold": _floats(thresholds)})


def _fscore_table(data: _Inputs) -> MetricItem:
    labels, scores = data.binary()
    _, cuts = _step_cuts(scores)
    thresholds: FloatArray = np.arange(_N_CUTS, dtype=np.float64) * (1.0 / _N_CUTS)
    conf = _confusion_at(labels, scores, thresholds)
    precision = _precision_values(conf)
    recall = _recall_values(conf, "fscore_table")
    denominator = precision + recall
    f_score = 2.0 * precision * recall / np.where(denominator == 0, 1e-6, denominator)
    return _item(
        "fscore_table", {"f_score": _floats(f_score), "threshold": _floats(thresholds), "cuts": _floats(cuts)}
    )


# --------------------------------------------------------------------------------------------------
# multi-class


def _class_counts(labels: FloatArray, pred: FloatArray) -> tuple[IntArray, IntArray, IntArray]:
    """Per class (over the union of true and predicted labels): true positives, predicted, actual."""
    classes, codes = np.unique(np.concatenate([labels, pred]), return_inverse=True)
    true_codes, pred_codes = codes[: labels.shape[0]], codes[labels.shape[0] :]
    k = classes.shape[0]
    hits = np.bincount(true_codes[true_codes == pred_codes], minlength=k)
    return hits, np.bincount(pred_codes, minlength=k), np.bincount(true_codes, minlength=k)


def _averaged(hits: IntArray, denominators: IntArray, support: IntArray, average: Average) -> float:
    if average == "micro":
        return _safe_ratio(float(hits.sum()), float(denominators.sum()))
    per_class = np.where(denominators == 0, 0.0, hits / np.maximum(denominators, 1))
    if average == "macro":
        return float(per_class.mean())
    return float(np.average(per_class, weights=support)) if support.sum() else 0.0


def _multi_accuracy(data: _Inputs) -> MetricItem:
    labels, pred = data.multi()
    return _item("multi_accuracy", float(np.mean(labels == pred)))


def _multi_precision(data: _Inputs) -> MetricItem:
    hits, predicted, actual = _class_counts(*data.multi())
    return _item("multi_precision", _averaged(hits, predicted, actual, data.multi_average))


def _multi_recall(data: _Inputs) -> MetricItem:
    hits, _, actual = _class_counts(*data.multi())
    return _item("multi_recall", _averaged(hits, actual, actual, data.multi_average))


def _multi_f1(data: _Inputs) -> MetricItem:
    hits, predicted, actual = _class_counts(*data.multi())
    if data.multi_average == "micro":
        return _item("multi_f1_score", _safe_ratio(2.0 * hits.sum(), float(predicted.sum() + actual.sum())))
    # Per-class F1 = 2 tp / (predicted + actual), the harmonic mean of precision and recall.
    return _item("multi_f1_score", _averaged(2 * hits, predicted + actual, actual, data.multi_average))


# --------------------------------------------------------------------------------------------------
# regression


def _mse_value(data: _Inputs) -> float:
    y, p = data.regression()
    return float(np.mean((y - p) ** 2))


def _rmse(data: _Inputs) -> MetricItem:
    return _item("rmse", float(np.sqrt(_mse_value(data))))


def _mse(data: _Inputs) -> MetricItem:
    return _item("mse", _mse_value(data))


def _mae(data: _Inputs) -> MetricItem:
    y, p = data.regression()
    return _item("mae", float(np.mean(np.abs(y - p))))


def _r2(data: _Inputs) -> MetricItem:
    y, p = data.regression()
    if y.shape[0] < 2:
        raise ValueError("r2_score is undefined for fewer than two samples")
    ss_res = float(np.sum((y - p) ** 2))
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    if ss_tot == 0.0:
        # Constant target: sklearn's force_finite convention (1 for a perfect fit, else 0).
        return _item("r2_score", 1.0 if ss_res == 0.0 else 0.0)
    return _item("r2_score", 1.0 - ss_res / ss_tot)


_METRICS: dict[str, Callable[[_Inputs], MetricOutput]] = {
    "auc": _auc,
    "ks": _ks,
    "confusion_matrix": _confusion_matrix,
    "gain": _gain,
    "lift": _lift,
    "biclass_precision_table": _precision_table,
    "biclass_recall_table": _recall_table,
    "biclass_accuracy_table": _accuracy_table,
    "fscore_table": _fscore_table,
    "binary_accuracy": _binary_accuracy,
    "binary_precision": _binary_precision,
    "binary_recall": _binary_recall,
    "binary_f1_score": _binary_f1,
    "multi_accuracy": _multi_accuracy,
    "multi_precision": _multi_precision,
    "multi_recall": _multi_recall,
    "multi_f1_score": _multi_f1,
    "rmse": _rmse,
    "mse": _mse,
    "mae": _mae,
    "r2_score": _r2,
}
