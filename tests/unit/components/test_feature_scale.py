"""feature_scale at a guest and a host, checked against plain numpy on the same tables."""

from __future__ import annotations

import numpy as np
import pytest

from fate_grpc.components import feature_scale
from fate_grpc.components.context import ComponentError, Party
from fate_grpc.components.table import Table
from tests.support.local_context import LocalFederation
from tests.unit.components.breast import GUEST, HOST


def train(tables: dict[Party, Table], **params: object) -> LocalFederation:
    federation = LocalFederation(
        [GUEST, HOST],
        inputs={p: {"train_data": t} for p, t in tables.items()},
        common_parameters=params,
        stage="train",
    )
    federation.run(feature_scale.run)
    return federation


def predict(tables: dict[Party, Table], trained: LocalFederation, **params: object) -> dict[Party, Table]:
    federation = LocalFederation(
        [GUEST, HOST],
        inputs={p: {"test_data": t} for p, t in tables.items()},
        models={p: {"input_model": trained.contexts[p].models["output_model"]} for p in tables},
        common_parameters=params,
        stage="predict",
    )
    return {p: out["test_output_data"] for p, out in federation.run(feature_scale.run).items()}


def features(table: Table) -> np.ndarray:
    return table.frame[list(table.schema.feature_names)].to_numpy(dtype=float)


def test_standard_scaling_matches_numpy_at_each_party(tables: dict[Party, Table]) -> None:
    federation = train(tables, method="standard")
    for party, table in tables.items():
        raw = features(table)
        expected = (raw - raw.mean(axis=0)) / raw.std(axis=0, ddof=1)
        out = federation.contexts[party].outputs["train_output_data"]
        np.testing.assert_allclose(features(out), expected, rtol=1e-12, atol=1e-12)
        assert out.frame["id"].tolist() == table.frame["id"].tolist()
        if party == GUEST:
            assert out.frame["y"].tolist() == table.frame["y"].tolist()


def test_min_max_with_range_and_chosen_columns(tables: dict[Party, Table]) -> None:
    federation = train(tables, method="min_max", feature_range=[-1, 1], scale_col=["x0", "x3"])
    out = federation.contexts[GUEST].outputs["train_output_data"]
    raw = tables[GUEST].frame
    for column in ("x0", "x3"):
        values = raw[column].to_numpy()
        expected = (values - values.min()) / (values.max() - values.min()) * 2 - 1
        np.testing.assert_allclose(out.frame[column].to_numpy(), expected, atol=1e-12)
    np.testing.assert_array_equal(out.frame["x1"].to_numpy(), raw["x1"].to_numpy())
    model = federation.contexts[GUEST].models["output_model"]
    assert model.meta["method"] == "min_max" and model.data["select_col"] == ["x0", "x3"]


def test_predict_applies_the_trained_model_and_clips_in_strict_range(tables: dict[Party, Table]) -> None:
    trained = train(tables, method="min_max")
    shifted = {p: t for p, t in tables.items()}
    frame = tables[HOST].frame.copy()
    frame.loc[0, "x0"] = frame["x0"].max() + 100.0
    shifted[HOST] = Table(frame=frame, schema=tables[HOST].schema)
    out = predict(shifted, trained)
    np.testing.assert_allclose(
        features(out[GUEST]), features(trained.contexts[GUEST].outputs["train_output_data"]), atol=1e-12
    )
    assert out[HOST].frame.loc[0, "x0"] == pytest.approx(1.0)
    assert features(out[HOST]).min() >= 0.0 and features(out[HOST]).max() <= 1.0


def test_scale_idx_and_anonymous_names_choose_columns(tables: dict[Party, Table]) -> None:
    by_index = train({HOST: tables[HOST], GUEST: tables[GUEST]}, scale_idx=[1, 2])
    assert by_index.contexts[HOST].models["output_model"].data["select_col"] == ["x1", "x2"]
    anonymous = train(
        {HOST: tables[HOST], GUEST: tables[GUEST]},
        scale_col=["host_10000_2", "guest_9999_0"],
        use_anonymous=True,
    )
    assert anonymous.contexts[HOST].models["output_model"].data["select_col"] == ["x2"]
    assert anonymous.contexts[GUEST].models["output_model"].data["select_col"] == ["x0"]


def test_scale_col_and_scale_idx_together_are_refused_as_in_fate(tables: dict[Party, Table]) -> None:
    with pytest.raises(ComponentError, match="scale_col and scale_idx cannot both be set"):
        train(tables, scale_idx=[1], scale_col=["x0"])


def test_unknown_column_is_a_clear_error(tables: dict[Party, Table]) -> None:
    with pytest.raises(ComponentError, match="scale_col names 'nope'"):
        train(tables, scale_col=["nope"])
