"""Column statistics against pandas, numpy and scipy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fate_grpc.ml.statistics import compute_statistics, expand_metrics, parse_percentile
from tests.unit.ml.helpers import assert_plain_json

COLUMNS = ["a", "b", "c", "d", "e"]


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    rng = np.random.default_rng(3)
    x = np.column_stack(
        [
            rng.lognormal(size=5000),
            rng.normal(loc=1e6, scale=3.0, size=5000),  # large mean: needs two-pass moments
            rng.integers(0, 5, size=5000).astype(float),
            rng.exponential(size=5000),
            rng.normal(size=5000),
        ]
    )
    x[rng.random(x.shape) < 0.1] = np.nan
    return x


def _values(result: dict, metric: str) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in result[metric].values()], dtype=float)


def test_describe_matches_pandas(data: np.ndarray) -> None:
    result = compute_statistics(data, COLUMNS, ["describe"])
    assert list(result) == ["count", "mean", "std", "min", "25%", "50%", "75%", "max"]
    expected = pd.DataFrame(data, columns=COLUMNS).describe()
    for metric in result:
        np.testing.assert_allclose(_values(result, metric), expected.loc[metric].to_numpy(), rtol=1e-12)
    assert all(type(v) is int for v in result["count"].values())


@pytest.mark.parametrize("ddof", [0, 1, 2])
def test_moments_and_counts_match_pandas(data: np.ndarray, ddof: int) -> None:
    names = ["sum", "median", "var", "std", "min", "max", "missing_count", "missing_ratio"]
    result = compute_statistics(data, COLUMNS, [*names, "coefficient_of_variation"], ddof=ddof)
    frame = pd.DataFrame(data, columns=COLUMNS)
    expected = {
        "sum": frame.sum(),
        "median": frame.median(),
        "var": frame.var(ddof=ddof),
        "std": frame.std(ddof=ddof),
        "min": frame.min(),
        "max": frame.max(),
        "missing_count": frame.isna().sum(),
        "missing_ratio": frame.isna().mean(),
    }
    for metric, series in expected.items():
        np.testing.assert_allclose(_values(result, metric), series.to_numpy(dtype=float), rtol=1e-9)
    cv = (frame.std(ddof=ddof) / frame.mean()).abs()
    np.testing.assert_allclose(_values(result, "coefficient_of_variation"), cv.to_numpy(), rtol=1e-9)
    assert_plain_json(result)


def test_percentiles_match_numpy(data: np.ndarray) -> None:
    result = compute_statistics(data, COLUMNS, ["0%", "1%", "33%", "90%", "100%"])
    for name in result:
        q = int(name[:-1])
        np.testing.assert_allclose(_values(result, name), np.nanpercentile(data, q, axis=0), rtol=1e-12)


@pytest.mark.parametrize("bias", [True, False])
def test_skewness_and_kurtosis_match_scipy(data: np.ndarray, bias: bool) -> None:
    stats = pytest.importorskip("scipy.stats")
    result = compute_statistics(data, COLUMNS, ["skewness", "kurtosis"], bias=bias)
    for j, col in enumerate(COLUMNS):
        present = data[~np.isnan(data[:, j]), j]
        assert result["skewness"][col] == pytest.approx(stats.skew(present, bias=bias), rel=1e-9)
        expected_kurt = stats.kurtosis(present, fisher=True, bias=bias)
        assert result["kurtosis"][col] == pytest.approx(expected_kurt, rel=1e-9)


def test_unbiased_skewness_and_kurtosis_match_pandas(data: np.ndarray) -> None:
    result = compute_statistics(data, COLUMNS, ["skewness", "kurtosis"], bias=False)
    frame = pd.DataFrame(data, columns=COLUMNS)
    # pandas accumulates moments in one pass, so near-zero skewness (column b) agrees only absolutely.
    np.testing.assert_allclose(_values(result, "skewness"), frame.skew().to_numpy(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(_values(result, "kurtosis"), frame.kurt().to_numpy(), rtol=1e-9, atol=1e-9)


def test_degenerate_columns_give_none_or_fate_zero() -> None:
    x = np.array([[np.nan, 0.1, 1.0], [np.nan, 0.1, np.nan], [np.nan, 0.1, np.nan]])
    metrics = ["count", "sum", "mean", "std", "min", "50%", "skewness", "kurtosis", "missing_ratio"]
    result = compute_statistics(x, ["empty", "flat", "single"], metrics)
    assert result["count"] == {"empty": 0, "flat": 3, "single": 1}
    assert result["sum"]["empty"] == 0.0
    assert (
        result["mean"]["empty"] is None and result["min"]["empty"] is None and result["50%"]["empty"] is None
    )
    assert result["std"]["single"] is None  # one value, ddof=1
    assert result["skewness"]["flat"] == 0.0 and result["kurtosis"]["flat"] == 0.0  # FATE: constant -> 0
    assert result["missing_ratio"] == {"empty": 1.0, "flat": 0.0, "single": pytest.approx(2 / 3)}
    unbiased = compute_statistics(x, ["empty", "flat", "single"], ["skewness", "kurtosis"], bias=False)
    assert unbiased["skewness"]["single"] is None and unbiased["kurtosis"]["single"] is None
    assert_plain_json(result)


def test_coefficient_of_variation_is_none_for_zero_mean() -> None:
    x = np.array([[-1.0], [1.0]])
    assert compute_statistics(x, ["z"], ["coefficient_of_variation"]) == {
        "coefficient_of_variation": {"z": None}
    }


def test_metric_names_expand_and_deduplicate() -> None:
    assert compute_statistics(np.ones((2, 1)), ["a"], None).keys() == {"mean", "std", "min", "max"}
    assert expand_metrics(["max", "describe", "count"]) == [
        "max",
        "count",
        "mean",
        "std",
        "min",
        "25%",
        "50%",
        "75%",
    ]
    assert parse_percentile("95%") == 0.95
    assert parse_percentile("100%") == 1.0


@pytest.mark.parametrize("bad", ["avg", "25.5%", "101%", "%", "-5%"])
def test_unknown_metric_raises_with_name(bad: str) -> None:
    with pytest.raises(ValueError, match="unknown statistics metric"):
        compute_statistics(np.ones((2, 1)), ["a"], [bad])


@pytest.mark.parametrize(
    ("x", "columns", "message"),
    [
        (np.ones(3), ["a"], "2-D"),
        (np.ones((0, 1)), ["a"], "no rows"),
        (np.ones((2, 2)), ["a"], "name each"),
        (np.ones((2, 2)), ["a", "a"], "unique"),
        (np.array([[1.0], [np.inf]]), ["a"], "inf"),
    ],
)
def test_bad_input_raises(x: np.ndarray, columns: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        compute_statistics(x, columns)
