"""Feature selection filters against a plaintext reference written here."""

from __future__ import annotations

import json
import random

import pytest

from fate_grpc.ml.selection import (
    IVStep,
    ManualStep,
    MetricFilter,
    StatisticsStep,
    Step,
    filter_by_metric,
    select_features,
)


def _linear_quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (pos - low) * (ordered[high] - ordered[low])


def _reference(
    values: dict[str, float | None], filter_type: str, threshold: float, take_high: bool
) -> list[str]:
    """Plain-Python statement of the three filter rules."""
    known = {k: v for k, v in values.items() if v is not None}
    if filter_type == "threshold":
        return [k for k, v in known.items() if (v >= threshold if take_high else v <= threshold)]
    if filter_type == "top_k":
        if threshold == 0:
            return list(values)
        order = list(values)
        ranked = sorted(known, key=lambda k: (-known[k] if take_high else known[k], order.index(k)))
        chosen = set(ranked[: int(threshold)])
        return [k for k in values if k in chosen]
    cut = _linear_quantile(list(known.values()), 1 - threshold if take_high else threshold)
    return [k for k, v in known.items() if (v >= cut if take_high else v <= cut)]


IV = {"x0": 0.8, "x1": 0.02, "host_9999_0": 0.35, "x2": 0.35, "host_9999_1": 1.4, "host_10000_0": 0.0}


@pytest.mark.parametrize(
    ("filter_type", "threshold", "take_high"),
    [
        ("threshold", 0.35, True),
        ("threshold", 0.35, False),
        ("top_k", 3, True),
        ("top_k", 2, False),
        ("top_k", 0, True),
        ("top_k", 10, True),
        ("top_percentile", 0.5, True),
        ("top_percentile", 0.2, False),
        ("top_percentile", 1.0, True),
    ],
)
def test_single_filters_match_reference_on_mixed_guest_and_host_ids(
    filter_type: str, threshold: float, take_high: bool
) -> None:
    expected = _reference(dict(IV), filter_type, threshold, take_high)
    assert filter_by_metric(IV, filter_type, threshold, take_high) == expected


def test_top_k_ties_go_to_the_earlier_feature() -> None:
    assert filter_by_metric(IV, "top_k", 3) == ["x0", "host_9999_0", "host_9999_1"]


def test_random_dicts_match_reference() -> None:
    rng = random.Random(5)
    for _ in range(200):
        values: dict[str, float | None] = {
            f"f{i}": (None if rng.random() < 0.1 else round(rng.uniform(-1, 1), 1))
            for i in range(rng.randint(1, 12))
        }
        filter_type = rng.choice(["threshold", "top_k", "top_percentile"])
        threshold = {
            "threshold": rng.uniform(-1, 1),
            "top_k": rng.randint(0, 6),
            "top_percentile": rng.choice([0.1, 0.25, 0.5, 0.9, 1.0]),
        }[filter_type]
        take_high = rng.random() < 0.5
        if filter_type == "top_percentile" and all(v is None for v in values.values()):
            continue
        assert filter_by_metric(values, filter_type, threshold, take_high) == _reference(
            values, filter_type, threshold, take_high
        )


def test_cascade_applies_each_step_to_the_survivors_and_keeps_original_order() -> None:
    features = ["x0", "x1", "x2", "host_9999_0", "host_9999_1", "host_10000_0"]
    stats = {
        "mean": {
            "x0": 1.0,
            "x1": 5.0,
            "x2": 0.2,
            "host_9999_0": 3.0,
            "host_9999_1": 4.0,
            "host_10000_0": 9.0,
        },
        "missing_ratio": {
            "x0": 0.0,
            "x1": 0.5,
            "x2": 0.0,
            "host_9999_0": 0.9,
            "host_9999_1": 0.1,
            "host_10000_0": 0.0,
        },
    }
    steps: list[Step] = [
        ManualStep(filter_out_col=["x1"]),
        StatisticsStep(
            stats,
            [
                MetricFilter("mean", "threshold", 0.5),
                MetricFilter("missing_ratio", "threshold", 0.5, take_high=False),
            ],
        ),
        IVStep(IV, [MetricFilter("iv", "top_k", 2)]),
    ]
    result = select_features(features, steps)
    # Reference: manual -> {x0,x2,h0,h1,h10}; mean>=0.5 & missing<=0.5 -> {x0,h1,h10}; top-2 iv -> {x0,h1}.
    assert result.selected == ["x0", "host_9999_1"]
    assert [step["kept"] for step in result.steps] == [
        ["x0", "x2", "host_9999_0", "host_9999_1", "host_10000_0"],
        ["x0", "host_9999_1", "host_10000_0"],
        ["x0", "host_9999_1"],
    ]
    assert result.steps[1]["filters"][1]["passed"] == ["x0", "x2", "host_9999_1", "host_10000_0"]
    assert result.steps[2]["metrics"]["iv"] == {"x0": 0.8, "host_9999_1": 1.4, "host_10000_0": 0.0}
    json.dumps(result.to_dict(), allow_nan=False)


def test_manual_keep_col_overrides_earlier_steps() -> None:
    steps: list[Step] = [IVStep(IV, [MetricFilter("iv", "threshold", 0.5)]), ManualStep(keep_col=["x1"])]
    result = select_features(list(IV), steps)
    assert result.selected == ["x0", "x1", "host_9999_1"]


def test_keep_one_keeps_the_best_feature_and_can_be_disabled() -> None:
    steps = [IVStep(IV, [MetricFilter("iv", "threshold", 5.0)])]
    rescued = select_features(list(IV), steps)
    assert rescued.selected == ["host_9999_1"]
    assert rescued.steps[0]["kept_by_keep_one"] == "host_9999_1"
    low = select_features(list(IV), [IVStep(IV, [MetricFilter("iv", "threshold", -1.0, take_high=False)])])
    assert low.selected == ["host_10000_0"]  # take_high=False: the lowest value is the best
    assert select_features(list(IV), steps, keep_one=False).selected == []


def test_missing_metric_values_fail_every_filter() -> None:
    stats = {"skewness": {"a": None, "b": 0.5, "c": float("nan")}}
    result = select_features(
        ["a", "b", "c"], [StatisticsStep(stats, [MetricFilter("skewness", "threshold", -9)])]
    )
    assert result.selected == ["b"]


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([IVStep({"x0": 1.0})], "no 'iv' value"),
        ([ManualStep(filter_out_col=["nope"])], "unknown features"),
        ([ManualStep(filter_out_col=["x0"], keep_col=["x0"])], "both"),
        ([StatisticsStep({"mean": {}}, [MetricFilter("max")])], "not in the statistics"),
        ([IVStep(IV, [])], "at least one filter"),
    ],
)
def test_invalid_steps_raise(steps: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        select_features(list(IV), steps)


@pytest.mark.parametrize(
    ("filter_type", "threshold", "message"),
    [
        ("best", 1.0, "unknown filter_type"),
        ("top_k", 1.5, "whole number"),
        ("top_percentile", 0.0, r"\(0, 1\]"),
    ],
)
def test_invalid_filters_raise(filter_type: str, threshold: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MetricFilter("iv", filter_type, threshold)


def test_features_must_be_unique() -> None:
    with pytest.raises(ValueError, match="unique"):
        select_features(["a", "a"], [])
