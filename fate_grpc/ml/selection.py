"""Core of FATE's ``hetero_feature_selection``: IV, statistics and manual filters applied in cascade.

Features are plain ids, so one call can mix the guest's own columns with the anonymous ids of host columns
(FATE runs the IV filter once over the guest's columns and once per host; call once per party to get exactly
that, e.g. so that ``top_k`` keeps k features of every party).

Cascade: steps run in the given order, each on the survivors of the previous one. Within a step, every
filter is evaluated on the step's input and a feature must pass all of them. Filter types:

* ``threshold``: keep ``value >= threshold`` (``take_high``) or ``value <= threshold``.
* ``top_k``: keep the ``int(threshold)`` best values (stable: ties keep the earlier feature); 0 keeps all,
  as in FATE.
* ``top_percentile``: keep the best fraction ``threshold`` in (0, 1] of the features, as FATE documents
  ("sort features from larger to smaller and take top percentile"): ``value >= q(1 - threshold)`` when
  ``take_high``, else ``value <= q(threshold)``, with ``q`` the linear-interpolation quantile of the step's
  values, so ties at the cut are all kept. (FATE 2.2's code compares against ``q(threshold)`` instead; the
  two agree at 0.5.)

A feature whose metric value is missing (``None`` or NaN, e.g. the skewness of an all-missing column) fails
every filter. ``keep_one``: when a step would drop every one of its input features, the best one on the
step's first filter is kept instead (highest value when ``take_high``, ties to the earlier feature; for the
manual step, the first input feature). FATE picks a random one; picking the best is deterministic.

Manual step: ``filter_out_col`` is dropped, and ``keep_col`` is kept even when an earlier step dropped it
(as in FATE, a manual keep overrides the cascade).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

FILTER_TYPES = ("threshold", "top_k", "top_percentile")


@dataclass(frozen=True)
class MetricFilter:
    """One filter on one metric (FATE's zipped ``metrics``/``filter_type``/``threshold``/``take_high``)."""

    metric: str = "iv"
    filter_type: str = "threshold"
    threshold: float = 1.0
    take_high: bool = True

    def __post_init__(self) -> None:
        if self.filter_type not in FILTER_TYPES:
            raise ValueError(
                f"unknown filter_type {self.filter_type!r}; valid types are {list(FILTER_TYPES)}"
            )
        if self.filter_type == "top_k" and (self.threshold < 0 or self.threshold != int(self.threshold)):
            raise ValueError(f"top_k needs a whole number >= 0 as threshold, got {self.threshold}")
        if self.filter_type == "top_percentile" and not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"top_percentile needs a threshold in (0, 1], got {self.threshold}")

    def describe(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "filter_type": self.filter_type,
            "threshold": self.threshold,
            "take_high": self.take_high,
        }


@dataclass(frozen=True)
class IVStep:
    """IV filter; ``iv`` maps feature id -> column IV (from ``binning.woe_iv(...)["iv"]``)."""

    iv: Mapping[str, float | None]
    filters: Sequence[MetricFilter] = (MetricFilter(),)
    method: str = field(default="iv", init=False)

    def values(self, metric: str) -> Mapping[str, float | None]:
        if metric != "iv":
            raise ValueError(f"the iv filter only knows metric 'iv', got {metric!r}")
        return self.iv


@dataclass(frozen=True)
class StatisticsStep:
    """Statistics filter; ``statistics`` is ``{metric: {feature: value}}`` (``compute_statistics`` output)."""

    statistics: Mapping[str, Mapping[str, float | int | None]]
    filters: Sequence[MetricFilter] = (MetricFilter(metric="mean"),)
    method: str = field(default="statistics", init=False)

    def values(self, metric: str) -> Mapping[str, float | int | None]:
        if metric not in self.statistics:
            raise ValueError(f"metric {metric!r} not in the statistics given: {sorted(self.statistics)}")
        return self.statistics[metric]


@dataclass(frozen=True)
class ManualStep:
    """Manual filter: FATE's ``manual_param`` {filter_out_col, keep_col}."""

    filter_out_col: Sequence[str] = ()
    keep_col: Sequence[str] = ()
    method: str = field(default="manual", init=False)


Step = IVStep | StatisticsStep | ManualStep


@dataclass
class SelectionResult:
    """Kept feature ids (in the original order) and one JSON-able record per step, for the model."""

    selected: list[str]
    steps: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"selected": list(self.selected), "steps": list(self.steps)}


def select_features(features: Sequence[str], steps: Sequence[Step], keep_one: bool = True) -> SelectionResult:
    """Run ``steps`` in cascade over ``features``; see the module docstring for the rules."""
    order = list(features)
    if not order or len(set(order)) != len(order):
        raise ValueError("features must be a non-empty list of unique ids")
    survivors = list(order)
    records: list[dict[str, Any]] = []
    for step in steps:
        if isinstance(step, ManualStep):
            kept, record = _manual(order, survivors, step)
        else:
            kept, record = _metric_step(survivors, step)
        rescued = None
        if keep_one and not kept and survivors:
            rescued = _best_of(survivors, step)
            kept = [rescued]
        kept_set = set(kept)
        record.update(
            input=list(survivors),
            kept=list(kept),
            dropped=[f for f in survivors if f not in kept_set],
            kept_by_keep_one=rescued,
        )
        records.append(record)
        survivors = kept
    return SelectionResult(survivors, records)


def filter_by_metric(
    values: Mapping[str, float | int | None],
    filter_type: str = "threshold",
    threshold: float = 1.0,
    take_high: bool = True,
) -> list[str]:
    """Ids of ``values`` that pass one filter, in the mapping's order (no ``keep_one``)."""
    rule = MetricFilter("value", filter_type, threshold, take_high)
    ids = list(values)
    return [f for f, ok in zip(ids, _passes(ids, values, rule), strict=True) if ok]


# --------------------------------------------------------------------------------------------------
# steps


def _metric_step(survivors: list[str], step: IVStep | StatisticsStep) -> tuple[list[str], dict[str, Any]]:
    if not step.filters:
        raise ValueError(f"the {step.method} step needs at least one filter")
    passed = np.ones(len(survivors), dtype=bool)
    filter_records = []
    metrics: dict[str, dict[str, float | None]] = {}
    for rule in step.filters:
        values = step.values(rule.metric)
        missing = [f for f in survivors if f not in values]
        if missing:
            raise ValueError(f"{step.method} filter: no {rule.metric!r} value for features {missing}")
        ok = _passes(survivors, values, rule)
        passed &= ok
        metrics[rule.metric] = {f: _number(values[f]) for f in survivors}
        filter_records.append(
            {**rule.describe(), "passed": [f for f, k in zip(survivors, ok, strict=True) if k]}
        )
    kept = [f for f, k in zip(survivors, passed, strict=True) if k]
    return kept, {"method": step.method, "filters": filter_records, "metrics": metrics}


def _manual(order: list[str], survivors: list[str], step: ManualStep) -> tuple[list[str], dict[str, Any]]:
    out_col, keep_col = set(step.filter_out_col), set(step.keep_col)
    unknown = sorted((out_col | keep_col) - set(order))
    if unknown:
        raise ValueError(f"manual filter names unknown features {unknown}")
    both = sorted(out_col & keep_col)
    if both:
        raise ValueError(f"features {both} are in both filter_out_col and keep_col")
    alive = set(survivors)
    kept = [f for f in order if (f in alive and f not in out_col) or f in keep_col]
    record = {
        "method": "manual",
        "filter_out_col": list(step.filter_out_col),
        "keep_col": list(step.keep_col),
    }
    return kept, record


def _best_of(survivors: list[str], step: Step) -> str:
    if isinstance(step, ManualStep):
        return survivors[0]
    rule = step.filters[0]
    values = step.values(rule.metric)
    scored = [(v, i) for i, f in enumerate(survivors) if (v := _number(values[f])) is not None]
    if not scored:
        return survivors[0]
    sign = -1.0 if rule.take_high else 1.0
    # Best value first; among equal values the earlier feature (smaller index) wins.
    return survivors[min(scored, key=lambda pair: (sign * pair[0], pair[1]))[1]]


# --------------------------------------------------------------------------------------------------
# one filter


def _number(value: float | int | None) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _passes(ids: list[str], values: Mapping[str, float | int | None], rule: MetricFilter) -> np.ndarray:
    raw = [_number(values[f]) for f in ids]
    known = np.array([v is not None for v in raw], dtype=bool)
    arr = np.array([v if v is not None else np.nan for v in raw], dtype=np.float64)
    if rule.filter_type == "top_k":
        return _top_k(arr, known, int(rule.threshold), rule.take_high)
    if rule.filter_type == "top_percentile":
        if not known.any():
            return known
        q = 1.0 - rule.threshold if rule.take_high else rule.threshold
        cut = float(np.quantile(arr[known], q))
        return known & _compare(arr, cut, rule.take_high)
    return known & _compare(arr, rule.threshold, rule.take_high)


def _compare(arr: np.ndarray, cut: float, take_high: bool) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.asarray(arr >= cut if take_high else arr <= cut)


def _top_k(arr: np.ndarray, known: np.ndarray, k: int, take_high: bool) -> np.ndarray:
    if k == 0:
        return np.ones(arr.shape[0], dtype=bool)
    candidates = np.flatnonzero(known)
    key = -arr[candidates] if take_high else arr[candidates]
    # A stable sort keeps the original order among equal values, so ties go to the earlier feature.
    best = candidates[np.argsort(key, kind="stable")[:k]]
    mask = np.zeros(arr.shape[0], dtype=bool)
    mask[best] = True
    return mask
