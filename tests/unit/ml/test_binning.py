"""Binning edges, indices, WOE/IV and WOE transform against numpy and plain-Python oracles."""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

import numpy as np
import pytest

from fate_grpc.ml.binning import (
    bin_indices,
    bucket_split_points,
    label_counts_by_bin,
    quantile_split_points,
    transform_woe,
    woe_iv,
)
from tests.unit.ml.helpers import assert_plain_json


@pytest.fixture(scope="module")
def x() -> np.ndarray:
    rng = np.random.default_rng(8)
    cols = np.column_stack(
        [
            rng.normal(size=3000),
            rng.integers(0, 4, size=3000).astype(float),  # heavy ties -> fewer bins
            rng.exponential(size=3000),
            np.full(3000, 7.0),  # constant -> one bin
        ]
    )
    cols[rng.random(cols.shape) < 0.07] = np.nan
    return cols


def _present(col: np.ndarray) -> np.ndarray:
    return col[~np.isnan(col)]


# --------------------------------------------------------------------------------------------------
# split points


@pytest.mark.parametrize("n_bins", [2, 5, 10, 32])
def test_quantile_edges_match_numpy_inverted_cdf(x: np.ndarray, n_bins: int) -> None:
    edges = quantile_split_points(x, n_bins)
    for j, got in enumerate(edges):
        col = _present(x[:, j])
        expected = np.unique(np.quantile(col, np.arange(1, n_bins + 1) / n_bins, method="inverted_cdf"))
        np.testing.assert_array_equal(got, expected)
        assert got[-1] == col.max()
    assert len(edges[1]) <= 4 and len(edges[3]) == 1  # ties merge edges: at most one per distinct value


def test_quantile_edges_use_exact_integer_ranks() -> None:
    # numpy computes 0.55 * 100 = 55.000000000000007 and reads rank 56; the exact rank is ceil(11*100/20)=55.
    values = np.arange(100, dtype=float)[:, None]
    assert quantile_split_points(values, 20)[0][10] == 54.0
    rng = np.random.default_rng(0)
    for m, n_bins in [(1, 10), (7, 3), (100, 20), (180, 20), (299, 32)]:
        col = rng.permutation(m).astype(float)
        ordered = sorted(col.tolist())
        ranks = [math.ceil(Fraction(i * m, n_bins)) for i in range(1, n_bins + 1)]
        expected = sorted({ordered[r - 1] for r in ranks})
        assert quantile_split_points(col[:, None], n_bins)[0].tolist() == expected


def test_bucket_edges_are_equal_width_ending_at_max(x: np.ndarray) -> None:
    edges = bucket_split_points(x, 8)
    for j in range(3):
        col = _present(x[:, j])
        expected = np.linspace(col.min(), col.max(), 9)[1:]
        np.testing.assert_allclose(edges[j], expected, rtol=1e-12, atol=1e-12)
        assert edges[j][-1] == col.max()
    np.testing.assert_array_equal(edges[3], [7.0])


def test_all_missing_column_has_no_edges_and_only_the_missing_bin() -> None:
    x = np.array([[np.nan, 1.0], [np.nan, 2.0]])
    edges = quantile_split_points(x, 4)
    assert edges[0].size == 0 and bucket_split_points(x, 4)[0].size == 0
    np.testing.assert_array_equal(bin_indices(x, edges)[:, 0], [0, 0])


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_bad_n_bins_raises(bad: object) -> None:
    with pytest.raises(ValueError, match="n_bins"):
        quantile_split_points(np.ones((3, 1)), bad)  # type: ignore[arg-type]


def test_inf_and_bad_shapes_raise() -> None:
    with pytest.raises(ValueError, match="inf"):
        bucket_split_points(np.array([[1.0], [np.inf]]), 2)
    with pytest.raises(ValueError, match="2-D"):
        quantile_split_points(np.ones(3), 2)
    with pytest.raises(ValueError, match="relative_error"):
        quantile_split_points(np.ones((3, 1)), 2, relative_error=0.0)


# --------------------------------------------------------------------------------------------------
# bin indices


def test_bin_indices_match_digitize_oracle(x: np.ndarray) -> None:
    edges = quantile_split_points(x, 10)
    idx = bin_indices(x, edges)
    for j, e in enumerate(edges):
        col = x[:, j]
        missing = np.isnan(col)
        # digitize(right=True) gives the first edge >= v, i.e. "v <= upper edge".
        expected = np.minimum(np.digitize(col[~missing], e, right=True), len(e) - 1)
        np.testing.assert_array_equal(idx[~missing, j], expected)
        assert (idx[missing, j] == len(e)).all()


def test_unseen_values_go_to_the_edge_bins() -> None:
    edges = [np.array([1.0, 2.0, 3.0])]
    new = np.array([[-5.0], [1.0], [1.5], [3.0], [99.0], [np.nan]])
    np.testing.assert_array_equal(bin_indices(new, edges)[:, 0], [0, 0, 1, 2, 2, 3])


def test_bin_indices_validates_split_points() -> None:
    with pytest.raises(ValueError, match="columns"):
        bin_indices(np.ones((2, 2)), [np.array([1.0])])
    with pytest.raises(ValueError, match="strictly increasing"):
        bin_indices(np.ones((2, 1)), [np.array([2.0, 1.0])])


# --------------------------------------------------------------------------------------------------
# counts and WOE/IV


def test_label_counts_match_a_loop(x: np.ndarray) -> None:
    rng = np.random.default_rng(1)
    y = np.asarray(rng.random(size=x.shape[0]) < 0.25, dtype=int)
    edges = quantile_split_points(x, 6)
    idx = bin_indices(x, edges)
    sizes = [len(e) + 1 for e in edges]  # with the missing bin
    events, non_events = label_counts_by_bin(idx, y, sizes)
    for j, size in enumerate(sizes):
        ev = [0] * size
        ne = [0] * size
        for b, label in zip(idx[:, j].tolist(), y.tolist(), strict=True):
            if label == 1:
                ev[b] += 1
            else:
                ne[b] += 1
        assert events[j].tolist() == ev and non_events[j].tolist() == ne


def test_label_counts_reject_uncounted_missing_bin_and_bad_labels() -> None:
    idx = np.array([[0], [1]])
    with pytest.raises(ValueError, match="n_bins \\+ 1"):
        label_counts_by_bin(idx, [0, 1], [1])
    with pytest.raises(ValueError, match="binary"):
        label_counts_by_bin(idx, [0, 2], [2])


def _woe_iv_reference(events: Sequence[float], non_events: Sequence[float], adjustment: float) -> dict:
    """Straightforward per-bin loop of FATE 2.2's rule: a zero count's rate is the adjustment factor."""
    total_e = sum(events) or 1
    total_n = sum(non_events) or 1
    out: dict = {"woe": [], "iv_array": [], "event_rate": [], "non_event_rate": []}
    for e, n in zip(events, non_events, strict=True):
        er = adjustment if e == 0 else e / total_e
        nr = adjustment if n == 0 else n / total_n
        woe = math.log(er / nr)
        out["woe"].append(woe)
        out["iv_array"].append((er - nr) * woe)
        out["event_rate"].append(er)
        out["non_event_rate"].append(nr)
    out["iv"] = sum(out["iv_array"])
    return out


@pytest.mark.parametrize("adjustment", [0.5, 0.1])
def test_woe_iv_match_plain_loop_including_empty_bins(adjustment: float) -> None:
    events = {
        "g_x0": [10, 0, 25, 3, 0],  # a bin without events, and an empty bin (0, 0)
        "host_9999_x1": [40, 20, 15, 8, 5],
        "h2": [30, 28, 0, 1, 0],
    }
    non_events = {"g_x0": [90, 40, 0, 60, 0], "host_9999_x1": [30, 90, 70, 20, 10], "h2": [100, 50, 0, 0, 70]}
    result = woe_iv(events, non_events, adjustment_factor=adjustment)
    assert_plain_json(result)
    for col in events:
        expected = _woe_iv_reference(events[col], non_events[col], adjustment)
        for key in ("woe", "iv_array", "event_rate", "non_event_rate"):
            np.testing.assert_allclose(result[key][col], expected[key], rtol=0, atol=1e-9)
        assert result["iv"][col] == pytest.approx(expected["iv"], abs=1e-9)
        assert result["event_count"][col] == events[col]
        assert all(type(v) is int for v in result["non_event_count"][col])


def test_woe_iv_end_to_end_on_counts_from_labels(x: np.ndarray) -> None:
    rng = np.random.default_rng(4)
    y = (rng.random(x.shape[0]) < 1 / (1 + np.exp(-np.nan_to_num(x[:, 0])))).astype(int)
    edges = quantile_split_points(x, 10)
    idx = bin_indices(x, edges)
    events, non_events = label_counts_by_bin(idx, y, [len(e) + 1 for e in edges])
    names = ["a", "b", "c", "d"]
    result = woe_iv(dict(zip(names, events, strict=True)), dict(zip(names, non_events, strict=True)))
    for name, ev, ne in zip(names, events, non_events, strict=True):
        expected = _woe_iv_reference(ev.tolist(), ne.tolist(), 0.5)
        assert result["iv"][name] == pytest.approx(expected["iv"], abs=1e-9)
    assert result["iv"]["a"] > result["iv"]["c"]  # the label depends on column a only
    assert all(isinstance(flag, bool) for flag in result["is_monotonic"].values())


def test_woe_iv_accepts_float_counts_and_validates() -> None:
    result = woe_iv({"h": np.array([2.0, 3.0])}, {"h": np.array([5.0, 1.0])})
    assert result["event_count"]["h"] == [2.0, 3.0]
    with pytest.raises(ValueError, match="same columns"):
        woe_iv({"a": [1]}, {"b": [1]})
    with pytest.raises(ValueError, match=">= 0"):
        woe_iv({"a": [-1, 2]}, {"a": [1, 2]})
    with pytest.raises(ValueError, match="different bin counts"):
        woe_iv({"a": [1, 2]}, {"a": [1, 2, 3]})
    with pytest.raises(ValueError, match="adjustment_factor"):
        woe_iv({"a": [1]}, {"a": [1]}, adjustment_factor=0)


def test_monotonic_flag() -> None:
    result = woe_iv({"up": [1, 2, 4], "bumpy": [1, 4, 2]}, {"up": [4, 2, 1], "bumpy": [4, 1, 2]})
    assert result["is_monotonic"] == {"up": True, "bumpy": False}


# --------------------------------------------------------------------------------------------------
# transform


def test_transform_woe_maps_bins_and_leaves_uncounted_missing_as_nan() -> None:
    idx = np.array([[0, 2], [1, 0], [2, 1]])
    woe = [[-0.5, 0.25], [1.0, 2.0, 3.0]]  # column 0 has 2 bins, so index 2 is its missing bin
    out = transform_woe(idx, woe)
    np.testing.assert_array_equal(out[:, 1], [3.0, 1.0, 2.0])
    np.testing.assert_array_equal(out[:2, 0], [-0.5, 0.25])
    assert np.isnan(out[2, 0])
    with pytest.raises(ValueError, match="outside"):
        transform_woe(np.array([[5]]), [[0.1]])


def test_woe_iv_follow_fate_2_2_on_a_hand_computed_column_with_an_empty_bin() -> None:
    # 8 events and 14 non-events in 4 bins; bin 1 has no events, bin 3 no rows at all.
    events, non_events = [2, 0, 6, 0], [8, 4, 2, 0]
    # FATE 2.2: a zero count's rate is adjustment_factor (0.5) itself, other rates are count / total.
    event_rate = [2 / 8, 0.5, 6 / 8, 0.5]
    non_event_rate = [8 / 14, 4 / 14, 2 / 14, 0.5]
    woe = [math.log(2 / 8 / (8 / 14)), math.log(0.5 / (4 / 14)), math.log(6 / 8 / (2 / 14)), 0.0]
    iv_array = [(e - n) * w for e, n, w in zip(event_rate, non_event_rate, woe, strict=True)]

    result = woe_iv({"x": events}, {"x": non_events}, adjustment_factor=0.5)

    np.testing.assert_allclose(result["event_rate"]["x"], event_rate, rtol=0, atol=1e-12)
    np.testing.assert_allclose(result["non_event_rate"]["x"], non_event_rate, rtol=0, atol=1e-12)
    np.testing.assert_allclose(result["woe"]["x"], woe, rtol=0, atol=1e-12)
    np.testing.assert_allclose(result["iv_array"]["x"], iv_array, rtol=0, atol=1e-12)
    assert iv_array[3] == 0.0  # the empty bin: both rates 0.5
    # The IV sums every bin; FATE 2.2's sum leaves out bin 0 (a defect), i.e. it reports 1.1267.
    assert result["iv"]["x"] == pytest.approx(sum(iv_array), abs=1e-12)
    assert result["iv"]["x"] == pytest.approx(1.392417, abs=1e-6)
    assert result["iv"]["x"] - result["iv_array"]["x"][0] == pytest.approx(1.126699, abs=1e-6)


def test_woe_iv_adjustment_factor_is_the_rate_of_a_zero_count() -> None:
    result = woe_iv({"x": [0, 5]}, {"x": [5, 5]}, adjustment_factor=0.1)
    assert result["event_rate"]["x"] == [0.1, 1.0]
    assert result["non_event_rate"]["x"] == [0.5, 0.5]
    assert result["woe"]["x"][0] == pytest.approx(math.log(0.1 / 0.5))


def test_relative_error_of_one_is_fates_upper_bound() -> None:
    x = np.arange(10, dtype=float).reshape(-1, 1)
    assert quantile_split_points(x, 2, relative_error=1.0)[0].tolist() == [4.0, 9.0]
