"""statistics at a guest and a host, checked against pandas / numpy / scipy per column."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from fate_grpc.components import statistics
from fate_grpc.components.context import ComponentError, Party
from fate_grpc.components.table import Table
from tests.support.local_context import LocalFederation
from tests.unit.components.breast import GUEST, HOST


def run_statistics(tables: dict[Party, Table], **params: object) -> LocalFederation:
    federation = LocalFederation(
        list(tables), inputs={p: {"input_data": t} for p, t in tables.items()}, common_parameters=params
    )
    federation.run(statistics.run)
    return federation


def model_data(federation: LocalFederation, party: Party) -> dict[str, dict[str, float | int | None]]:
    data = federation.contexts[party].models["output_model"].data
    assert isinstance(data, dict)
    return data


def features(table: Table) -> pd.DataFrame:
    return table.frame[list(table.schema.feature_names)]


def test_default_metrics_match_pandas_on_each_partys_own_features(tables: dict[Party, Table]) -> None:
    federation = run_statistics(tables)
    assert federation.sent == []
    for party, table in tables.items():
        data = model_data(federation, party)
        frame = features(table)
        assert list(data) == ["mean", "std", "min", "max"]
        assert list(data["mean"]) == list(frame.columns)  # no id, no label
        for metric, expected in (("mean", frame.mean()), ("std", frame.std()), ("min", frame.min())):
            np.testing.assert_allclose(
                [data[metric][c] for c in frame.columns], expected.to_numpy(), rtol=1e-12
            )
        np.testing.assert_array_equal([data["max"][c] for c in frame.columns], frame.max().to_numpy())


def test_describe_percentiles_and_moments_match_pandas_and_scipy(tables: dict[Party, Table]) -> None:
    metrics = ["describe", "95%", "median", "var", "sum", "skewness", "kurtosis", "coefficient_of_variation"]
    federation = run_statistics({HOST: tables[HOST]}, metrics=metrics, ddof=0)
    data = model_data(federation, HOST)
    frame = features(tables[HOST])
    described = frame.describe()
    for metric in ("25%", "50%", "75%", "min", "max"):
        np.testing.assert_allclose(
            [data[metric][c] for c in frame.columns], described.loc[metric], rtol=1e-12
        )
    assert all(data["count"][c] == 569 for c in frame.columns)
    checks = {
        "95%": frame.quantile(0.95),
        "median": frame.median(),
        "var": frame.var(ddof=0),
        "std": frame.std(ddof=0),
        "sum": frame.sum(),
        "skewness": pd.Series(scipy_stats.skew(frame.to_numpy(), axis=0), index=frame.columns),
        "kurtosis": pd.Series(scipy_stats.kurtosis(frame.to_numpy(), axis=0), index=frame.columns),
        "coefficient_of_variation": (frame.std(ddof=0) / frame.mean()).abs(),
    }
    for metric, expected in checks.items():
        np.testing.assert_allclose([data[metric][c] for c in frame.columns], expected.to_numpy(), rtol=1e-9)


def test_unbiased_moments_and_missing_values(tables: dict[Party, Table]) -> None:
    frame = tables[GUEST].frame.copy()
    frame.loc[[0, 5, 9], "x2"] = np.nan
    holed = replace(tables[GUEST], frame=frame)
    metrics = ["skewness", "kurtosis", "missing_count", "missing_ratio", "count", "mean"]
    federation = run_statistics({GUEST: holed}, metrics=metrics, bias=False)
    data = model_data(federation, GUEST)
    x2 = frame["x2"]
    assert data["missing_count"]["x2"] == 3 and data["count"]["x2"] == 566
    assert data["missing_ratio"]["x2"] == pytest.approx(3 / 569)
    assert data["mean"]["x2"] == pytest.approx(x2.mean(), rel=1e-12)
    assert data["skewness"]["x2"] == pytest.approx(x2.skew(), rel=1e-9)
    assert data["kurtosis"]["x2"] == pytest.approx(x2.kurt(), rel=1e-9)


def test_model_layout_meta_and_metric(tables: dict[Party, Table]) -> None:
    federation = run_statistics(tables, metrics="mean")
    context = federation.contexts[GUEST]
    model = context.models["output_model"]
    assert model.data["mean"]["x0"] == pytest.approx(tables[GUEST].frame["x0"].mean())
    assert model.meta["model_type"] == "statistics"
    assert model.meta["metrics"] == ["mean"] and model.meta["columns"] == [f"x{i}" for i in range(10)]
    assert model.meta["anonymous_columns"]["x3"] == "guest_9999_3"
    assert (model.meta["ddof"], model.meta["bias"], model.meta["relative_error"]) == (1, True, 1e-3)
    assert context.metrics == []  # FATE's statistics logs no metric


def test_skip_col_by_name_and_by_anonymous_name(tables: dict[Party, Table]) -> None:
    by_name = run_statistics(tables, skip_col=["x0", "x15"])
    assert list(model_data(by_name, GUEST)["mean"]) == [f"x{i}" for i in range(1, 10)]
    assert list(model_data(by_name, HOST)["mean"]) == [f"x{i}" for i in range(1, 20) if i != 15]
    anonymous = run_statistics(tables, skip_col=["guest_9999_1", "host_10000_19"], use_anonymous=True)
    assert list(model_data(anonymous, GUEST)["mean"]) == ["x0", *[f"x{i}" for i in range(2, 10)]]
    assert "x19" not in model_data(anonymous, HOST)["mean"] and "x1" in model_data(anonymous, HOST)["mean"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"metrics": ["mean", "mode"]}, r"metrics\[1\] must be a statistic .* got string 'mode'"),
        ({"metrics": ["150%"]}, r"metrics\[0\] must be a statistic .* got string '150%'"),
        ({"metrics": []}, "metrics must be a non-empty list"),
        ({"ddof": -1}, "ddof must be an integer >= 0"),
        ({"relative_error": 0}, r"relative_error must be a number > 0 and <= 1, got 0"),
        ({"bias": "yes"}, "bias must be true or false"),
        ({"skip_col": "x0"}, "skip_col must be a list of column names"),
        ({"skip_col": ["guest_9999_10"], "use_anonymous": True}, "guest 9999 has only 10 feature columns"),
    ],
)
def test_parameter_errors_are_clear(
    tables: dict[Party, Table], params: dict[str, object], message: str
) -> None:
    with pytest.raises(ComponentError, match=message):
        run_statistics({GUEST: tables[GUEST]}, **params)


def test_spec_declares_fate_keys_and_defaults() -> None:
    spec = statistics.SPEC
    assert spec.name == "statistics" and spec.roles == frozenset({"guest", "host"})
    stage = spec.stages["default"]
    assert [a.key for a in stage.inputs] == ["input_data"]
    assert [(a.key, a.kind) for a in stage.outputs] == [("output_model", "model")]
    defaults = {name: p.default for name, p in spec.parameters.items()}
    assert defaults == {
        "metrics": ["mean", "std", "min", "max"],
        "ddof": 1,
        "bias": True,
        "relative_error": 1e-3,
        "skip_col": None,
        "use_anonymous": False,
    }
