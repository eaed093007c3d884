"""data_split at a guest and a host, checked against a plain split of the joined tables."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fate_grpc.components import data_split
from fate_grpc.components.codec import decode_arrays
from fate_grpc.components.context import ComponentError, Party
from fate_grpc.components.table import Table
from fate_grpc.ml.sampling import split_indices
from tests.support.local_context import LocalFederation, read_csv_table, table_from_frame

DATA = Path(__file__).resolve().parents[3] / "examples" / "data"
GUEST = Party("guest", "9999")
HOST = Party("host", "10000")
KEYS = data_split.OUTPUT_KEYS


@pytest.fixture(scope="module")
def tables() -> dict[Party, Table]:
    host = read_csv_table(DATA / "breast_hetero_host.csv", "id")
    # The host's rows in another order than the guest's: the host must select by id, not by position.
    shuffled = replace(host, frame=host.frame.sample(frac=1.0, random_state=3).reset_index(drop=True))
    return {GUEST: read_csv_table(DATA / "breast_hetero_guest.csv", "id", label_name="y"), HOST: shuffled}


def run_split(
    tables: dict[Party, Table], parameters: dict[Party, dict[str, object]] | None = None, **params: object
) -> tuple[LocalFederation, dict[Party, dict[str, Table]]]:
    federation = LocalFederation(
        [GUEST, HOST],
        inputs={p: {"input_data": t} for p, t in tables.items()},
        common_parameters=params,
        parameters=parameters,
    )
    return federation, federation.run(data_split.run)


def ids(table: Table) -> list[str]:
    return table.frame["id"].tolist()


def test_default_split_is_80_20_and_the_same_ids_at_every_party(tables: dict[Party, Table]) -> None:
    _, out = run_split(tables, random_state=1)
    sizes = [len(out[GUEST][key]) for key in KEYS]
    assert sizes == [455, 114, 0]
    for key in KEYS:
        assert ids(out[HOST][key]) == ids(out[GUEST][key])
    every = [i for key in KEYS for i in ids(out[GUEST][key])]
    assert sorted(every) == sorted(ids(tables[GUEST])) and len(set(every)) == len(every)
    empty = out[HOST]["test_output_data"]
    assert len(empty) == 0 and empty.schema == tables[HOST].schema
    assert list(empty.frame.columns) == list(tables[HOST].schema.header)


def test_splits_match_a_plain_split_of_the_joined_data(tables: dict[Party, Table]) -> None:
    _, out = run_split(tables, train_size=0.6, validate_size=0.3, test_size=0.1, random_state=11)
    joined = tables[GUEST].frame.merge(tables[HOST].frame, on="id", suffixes=("_g", "_h"))
    expected = split_indices(len(joined), 0.6, 0.3, 0.1, random_state=11)
    for key, rows in zip(KEYS, expected, strict=True):
        part = joined.iloc[rows]
        assert ids(out[GUEST][key]) == part["id"].tolist()
        host_out = out[HOST][key].frame
        np.testing.assert_array_equal(host_out["x15"].to_numpy(), part["x15"].to_numpy())
        np.testing.assert_array_equal(host_out["x0"].to_numpy(), part["x0_h"].to_numpy())
        np.testing.assert_array_equal(out[GUEST][key].frame["y"].to_numpy(), part["y"].to_numpy())


def test_host_receives_only_the_ids_of_each_split(tables: dict[Party, Table]) -> None:
    federation, out = run_split(tables, random_state=2, test_size=0.1)
    sent = federation.sent_between(GUEST, HOST)
    assert [item.tag for item in sent] == [data_split.TAG_IDS]
    arrays = decode_arrays(sent[0].payload)
    assert set(arrays) == {"train", "validate", "test"}
    for split, key in zip(("train", "validate", "test"), KEYS, strict=True):
        assert arrays[split].dtype.kind == "U" and arrays[split].ndim == 1
        assert arrays[split].tolist() == ids(out[GUEST][key])
    assert federation.sent_between(HOST, GUEST) == []


def test_counts_fill_the_missing_size_with_the_rest(tables: dict[Party, Table]) -> None:
    _, out = run_split(tables, train_size=100, validate_size=50, random_state=0)
    assert [len(out[HOST][key]) for key in KEYS] == [100, 50, 419]


def test_stratified_split_keeps_label_proportions(tables: dict[Party, Table]) -> None:
    _, out = run_split(
        tables, train_size=0.5, validate_size=0.3, test_size=0.2, stratified=True, random_state=5
    )
    labels = tables[GUEST].frame["y"]
    for key in KEYS:
        part = out[GUEST][key].frame["y"]
        for label, count in labels.value_counts().items():
            assert abs((part == label).sum() - count * len(part) / len(labels)) <= 1
        assert ids(out[HOST][key]) == ids(out[GUEST][key])


def test_random_state_makes_the_split_repeatable(tables: dict[Party, Table]) -> None:
    first = run_split(tables, random_state=42)[1][GUEST]["validate_output_data"]
    again = run_split(tables, random_state=42)[1][GUEST]["validate_output_data"]
    other = run_split(tables, random_state=43)[1][GUEST]["validate_output_data"]
    assert ids(first) == ids(again)
    assert ids(first) != ids(other)


def test_without_hetero_sync_each_party_splits_alone(tables: dict[Party, Table]) -> None:
    federation, out = run_split(
        tables,
        parameters={GUEST: {"train_size": 0.5, "stratified": True}, HOST: {"train_size": 100}},
        hetero_sync=False,
        random_state=7,
    )
    assert federation.sent == []
    # only train given: test takes the rest; 0.5 * 569 = 284.5 rounds to 284 (Python round, as FATE)
    assert [len(out[GUEST][key]) for key in KEYS] == [284, 0, 285]
    assert [len(out[HOST][key]) for key in KEYS] == [100, 0, 469]
    host_rows = split_indices(len(tables[HOST]), 100, random_state=7)
    assert ids(out[HOST]["train_output_data"]) == tables[HOST].frame["id"].iloc[host_rows[0]].tolist()


def test_summary_metric_at_each_party(tables: dict[Party, Table]) -> None:
    federation, _ = run_split(tables, random_state=1, train_size=0.7, validate_size=0.2, test_size=0.1)
    for party in (GUEST, HOST):
        [metric] = federation.contexts[party].metrics
        assert (metric.name, metric.type) == ("summary", "data_split")
        assert metric.value == {
            "original_count": 569,
            "train_count": 398,
            "validate_count": 114,
            "test_count": 57,
        }


def test_an_id_missing_at_the_host_is_an_error(tables: dict[Party, Table]) -> None:
    short = replace(tables[HOST], frame=tables[HOST].frame.iloc[3:].reset_index(drop=True))
    with pytest.raises(
        ComponentError, match="3 of the match ids the guest sent are not in input_data at host"
    ):
        run_split({GUEST: tables[GUEST], HOST: short}, random_state=1)


def test_repeated_ids_use_each_host_copy_once() -> None:
    guest = table_from_frame(
        pd.DataFrame({"id": ["a", "a", "b", "c"], "y": [0, 1, 0, 1]}), "id", label_name="y"
    )
    host = table_from_frame(pd.DataFrame({"id": ["c", "a", "b", "a"], "x": [3.0, 1.0, 2.0, 1.5]}), "id")
    _, out = run_split({GUEST: guest, HOST: host}, train_size=2, validate_size=2, random_state=0)
    host_rows = pd.concat([out[HOST][key].frame for key in KEYS])
    assert sorted(host_rows["x"].tolist()) == [1.0, 1.5, 2.0, 3.0]
    for key in KEYS:
        assert ids(out[HOST][key]) == ids(out[GUEST][key])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"train_size": 0.7, "validate_size": 0.7}, r"split sizes .* exceed the total"),
        ({"train_size": "half"}, r"train_size must be a fraction in \[0, 1\] or a row count"),
        ({"train_size": 0.5, "validate_size": 100}, "mix fractions and counts"),
        ({"random_state": -1}, "random_state must be an integer >= 0"),
        ({"stratified": "yes"}, "stratified must be true or false"),
    ],
)
def test_parameter_errors_are_clear(
    tables: dict[Party, Table], params: dict[str, object], message: str
) -> None:
    with pytest.raises(ComponentError, match=message):
        run_split(tables, **params)


def test_stratified_without_a_label_is_an_error(tables: dict[Party, Table]) -> None:
    with pytest.raises(ComponentError, match=r"stratified=True needs a label column.*host 10000"):
        run_split(tables, hetero_sync=False, stratified=True)


def test_hetero_sync_needs_a_host(tables: dict[Party, Table]) -> None:
    federation = LocalFederation([GUEST], inputs={GUEST: {"input_data": tables[GUEST]}})
    with pytest.raises(ComponentError, match="hetero_sync=True needs at least one host"):
        federation.run(data_split.run)


def test_spec_declares_fate_keys_and_defaults() -> None:
    spec = data_split.SPEC
    assert spec.name == "data_split" and spec.roles == frozenset({"guest", "host"})
    stage = spec.stages["default"]
    assert [a.key for a in stage.inputs] == ["input_data"]
    assert [a.key for a in stage.outputs] == list(KEYS)
    defaults = {name: p.default for name, p in spec.parameters.items()}
    assert defaults == {
        "train_size": None,
        "validate_size": None,
        "test_size": None,
        "stratified": False,
        "random_state": None,
        "hetero_sync": True,
    }
