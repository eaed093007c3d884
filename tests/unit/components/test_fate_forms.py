"""FATE 2.2's parameter value forms and metric shapes at the component level (in-process parties)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from fate_grpc.components import data_split, feature_binning, psi, sample
from fate_grpc.components.context import ComponentError, Party
from fate_grpc.components.table import Table
from tests.support.local_context import LocalFederation
from tests.unit.components.breast import GUEST, HOST


def run(component: object, tables: dict[Party, Table], key: str, **params: object) -> LocalFederation:
    federation = LocalFederation(
        [GUEST, HOST], inputs={p: {key: t} for p, t in tables.items()}, common_parameters=params
    )
    federation.run(component.run)  # type: ignore[attr-defined]
    return federation


def metrics(federation: LocalFederation, party: Party) -> dict[str, tuple[str, object, tuple]]:
    return {m.name: (m.type, m.value, m.groups) for m in federation.contexts[party].metrics}


def test_psi_logs_fates_two_metrics(tables: dict[Party, Table]) -> None:
    host = replace(tables[HOST], frame=tables[HOST].frame.iloc[:500].reset_index(drop=True))
    federation = run(psi, {GUEST: tables[GUEST], HOST: host}, "input_data")
    for party, input_count in ((GUEST, 569), (HOST, 500)):
        logged = metrics(federation, party)
        assert list(logged) == ["intersect_id_count", "summary"]
        assert logged["intersect_id_count"][:2] == ("custom", {"intersect_count": 500})
        assert logged["summary"][:2] == (
            "",  # FATE logs it without a type: shown as null
            {
                "input_count": input_count,
                "intersect_count": 500,
                "intersect_rate": 500 / input_count,
                "method": "curve25519",
            },
        )


def test_data_split_counts_and_fractions_as_fate_reads_them(tables: dict[Party, Table]) -> None:
    # train_size 200 is a count; 1 means the whole table (FATE reads any number in [0, 1] as a fraction).
    counted = run(data_split, tables, "input_data", train_size=200, validate_size=369, random_state=1)
    assert metrics(counted, GUEST)["summary"][:2] == (
        "data_split",
        {"original_count": 569, "train_count": 200, "validate_count": 369, "test_count": 0},
    )
    whole = run(data_split, tables, "input_data", train_size=1, random_state=1)
    assert metrics(whole, HOST)["summary"][1] == {
        "original_count": 569,
        "train_count": 569,
        "validate_count": 0,
        "test_count": 0,
    }
    fractions = run(data_split, tables, "input_data", train_size=0.8, test_size=0.2, random_state=1)
    assert metrics(fractions, GUEST)["summary"][1]["train_count"] == round(0.8 * 569)


def test_data_split_stratified_logs_fates_per_label_summaries(tables: dict[Party, Table]) -> None:
    federation = run(data_split, tables, "input_data", train_size=0.5, stratified=True, random_state=3)
    logged = metrics(federation, GUEST)
    assert list(logged) == ["summary", "0_summary", "1_summary"]
    kind, value, groups = logged["0_summary"]
    assert kind == "data_split" and groups == (("default", None), ("train", None))
    assert value["original_count"] == 212 and value["train_count"] == 106 and value["test_count"] == 106
    assert list(metrics(federation, HOST)) == ["summary"]  # the host has no labels


@pytest.mark.parametrize("frac", [{0: 0.5, 1: 0.8}, {"0": 0.5, "1": 0.8}, {0.0: 0.5, 1.0: 0.8}])
def test_sample_per_label_rates_with_int_string_or_float_keys(
    tables: dict[Party, Table], frac: dict[object, float]
) -> None:
    federation = run(sample, tables, "input_data", frac=frac, random_state=5)
    out = federation.contexts[GUEST].outputs["output_data"]
    labels = out.frame["y"]
    # FATE's per-label size: max(1, int(rows_of_label * rate)).
    assert (labels == 0).sum() == int(212 * 0.5) and (labels == 1).sum() == int(357 * 0.8)
    assert metrics(federation, GUEST)["summary"][:2] == (
        "",
        {
            "total": {"original_count": 569, "sampled_count": 106 + 285},
            "0": {"original_count": 212, "sampled_count": 106},
            "1": {"original_count": 357, "sampled_count": 285},
        },
    )
    host_ids = federation.contexts[HOST].outputs["output_data"].ids.tolist()
    assert host_ids == out.ids.tolist()


def test_sample_per_label_rates_with_string_labels(tables: dict[Party, Table]) -> None:
    frame = tables[GUEST].frame.assign(y=np.where(tables[GUEST].frame["y"] == 1, "yes", "no"))
    guest = replace(tables[GUEST], frame=frame)
    federation = run(
        sample, {GUEST: guest, HOST: tables[HOST]}, "input_data", frac={"yes": 0.1}, random_state=0
    )
    labels = federation.contexts[GUEST].outputs["output_data"].frame["y"]
    assert (labels == "yes").sum() == int(357 * 0.1) and (labels == "no").sum() == 212
    summary = metrics(federation, GUEST)["summary"][1]
    assert summary["yes"] == {"original_count": 357, "sampled_count": 35}  # type: ignore[index]


def test_sample_refuses_a_label_the_data_lacks(tables: dict[Party, Table]) -> None:
    with pytest.raises(ComponentError, match="frac names label 7"):
        run(sample, tables, "input_data", frac={7: 0.5})


def binned(tables: dict[Party, Table], **params: object) -> LocalFederation:
    federation = LocalFederation(
        [GUEST, HOST],
        inputs={p: {"train_data": t} for p, t in tables.items()},
        common_parameters={"transform_method": "bin_idx", **params},
        stage="train",
        run_timeout_s=300,
    )
    federation.run(feature_binning.run)
    return federation


def test_manual_binning_bins_only_the_columns_with_split_points(tables: dict[Party, Table]) -> None:
    federation = binned(
        tables,
        method="MANUAL",  # FATE lower-cases choices
        split_pt_dict={"x0": [-1.0, 0.0, 1.0, 99.0], "x12": [0.0, 99.0]},
        skip_metrics=True,
    )
    for party in (GUEST, HOST):
        model = federation.contexts[party].models["output_model"].data
        expected = ["x0"] if party == GUEST else ["x0", "x12"]
        assert model["bin_col"] == expected
        out = federation.contexts[party].outputs["train_output_data"].frame
        original = tables[party].frame
        assert out["x0"].tolist() == np.searchsorted([-1.0, 0.0, 1.0, 99.0], original["x0"], "left").tolist()
        # Columns without split points pass through unbinned.
        pd.testing.assert_series_equal(out["x1"], original["x1"])


def test_manual_binning_with_bin_idx_keeps_only_listed_columns_that_have_points(
    tables: dict[Party, Table],
) -> None:
    federation = binned(
        tables, method="manual", bin_idx=[1, 2], split_pt_dict={"x0": [0.0, 99.0], "x1": [0.0, 99.0]}
    )
    assert federation.contexts[GUEST].models["output_model"].data["bin_col"] == ["x1"]
    guest_iv = federation.contexts[GUEST].models["output_model"].data["metrics_iv"]
    assert list(guest_iv) == ["x1"]


def test_bin_col_and_bin_idx_together_are_refused(tables: dict[Party, Table]) -> None:
    with pytest.raises(ComponentError, match="bin_col and bin_idx cannot both be set"):
        binned(tables, bin_col=["x1"], bin_idx=[1], skip_metrics=True)


def test_binning_logs_no_metric_as_fate(tables: dict[Party, Table]) -> None:
    federation = binned(tables, n_bins=5)
    assert federation.contexts[GUEST].metrics == [] and federation.contexts[HOST].metrics == []
