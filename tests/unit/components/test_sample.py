"""sample at a guest and a host, checked against plain sampling of the joined tables."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from fate_grpc.components import sample
from fate_grpc.components.codec import decode_arrays
from fate_grpc.components.context import ComponentError, Party
from fate_grpc.components.table import Table
from fate_grpc.ml.sampling import sample_indices
from tests.support.local_context import LocalFederation, read_csv_table

DATA = Path(__file__).resolve().parents[3] / "examples" / "data"
GUEST = Party("guest", "9999")
HOST = Party("host", "10000")


@pytest.fixture(scope="module")
def tables() -> dict[Party, Table]:
    host = read_csv_table(DATA / "breast_hetero_host.csv", "id")
    # The host's rows in another order than the guest's: the host must select by id, not by position.
    shuffled = replace(host, frame=host.frame.sample(frac=1.0, random_state=4).reset_index(drop=True))
    return {GUEST: read_csv_table(DATA / "breast_hetero_guest.csv", "id", label_name="y"), HOST: shuffled}


def run_sample(
    tables: dict[Party, Table], parameters: dict[Party, dict[str, object]] | None = None, **params: object
) -> tuple[LocalFederation, dict[Party, Table]]:
    federation = LocalFederation(
        [GUEST, HOST],
        inputs={p: {"input_data": t} for p, t in tables.items()},
        common_parameters=params,
        parameters=parameters,
    )
    out = federation.run(sample.run)
    return federation, {party: outputs["output_data"] for party, outputs in out.items()}


def ids(table: Table) -> list[str]:
    return table.frame["id"].tolist()


def test_down_sampling_matches_plain_sampling_of_the_joined_data(tables: dict[Party, Table]) -> None:
    _, out = run_sample(tables, frac=0.3, random_state=9)
    joined = tables[GUEST].frame.merge(tables[HOST].frame, on="id", suffixes=("_g", "_h"))
    expected = joined.iloc[sample_indices(len(joined), frac=0.3, random_state=9)]
    assert len(out[GUEST]) == len(out[HOST]) == int(0.3 * 569)
    assert ids(out[GUEST]) == ids(out[HOST]) == expected["id"].tolist()
    assert len(set(ids(out[GUEST]))) == len(out[GUEST])  # no repeats without replacement
    np.testing.assert_array_equal(out[HOST].frame["x19"].to_numpy(), expected["x19"].to_numpy())
    np.testing.assert_array_equal(out[HOST].frame["x0"].to_numpy(), expected["x0_h"].to_numpy())
    assert out[HOST].schema == tables[HOST].schema and out[GUEST].schema == tables[GUEST].schema


def test_up_sampling_repeats_rows_the_same_way_and_sends_only_ids(tables: dict[Party, Table]) -> None:
    federation, out = run_sample(tables, frac=1.5, replace=True, random_state=3)
    assert len(out[GUEST]) == len(out[HOST]) == int(1.5 * 569)
    assert ids(out[HOST]) == ids(out[GUEST])
    assert len(set(ids(out[GUEST]))) < len(out[GUEST])
    [sent] = federation.sent_between(GUEST, HOST)
    assert sent.tag == sample.TAG_IDS
    arrays = decode_arrays(sent.payload)
    assert list(arrays) == ["ids"]
    assert arrays["ids"].dtype.kind == "U" and arrays["ids"].tolist() == ids(out[GUEST])
    assert federation.sent_between(HOST, GUEST) == []


def test_exact_n(tables: dict[Party, Table]) -> None:
    _, out = run_sample(tables, n=50, random_state=1)
    assert len(out[GUEST]) == 50 and ids(out[HOST]) == ids(out[GUEST])


def test_per_label_rates_and_summary(tables: dict[Party, Table]) -> None:
    # JSON object keys are strings: "0" matches the integer label 0.
    federation, out = run_sample(tables, frac={"0": 0.5, "1": 0.2}, random_state=2)
    labels = out[GUEST].frame["y"]
    assert (labels == 0).sum() == int(0.5 * 212) and (labels == 1).sum() == int(0.2 * 357)
    assert ids(out[HOST]) == ids(out[GUEST])
    [guest_metric] = federation.contexts[GUEST].metrics
    assert (guest_metric.name, guest_metric.type) == ("summary", "")  # FATE logs it untyped (null)
    assert guest_metric.value == {
        "total": {"original_count": 569, "sampled_count": 106 + 71},
        "0": {"original_count": 212, "sampled_count": 106},
        "1": {"original_count": 357, "sampled_count": 71},
    }
    [host_metric] = federation.contexts[HOST].metrics
    assert host_metric.value == {"total": {"original_count": 569, "sampled_count": 177}}


def test_labels_a_mapping_omits_are_kept_whole(tables: dict[Party, Table]) -> None:
    _, out = run_sample(tables, frac={0: 0.1}, random_state=2)
    labels = out[GUEST].frame["y"]
    assert (labels == 0).sum() == 21 and (labels == 1).sum() == 357


def test_random_state_makes_the_sample_repeatable(tables: dict[Party, Table]) -> None:
    first = run_sample(tables, frac=0.2, random_state=42)[1][GUEST]
    again = run_sample(tables, frac=0.2, random_state=42)[1][GUEST]
    other = run_sample(tables, frac=0.2, random_state=43)[1][GUEST]
    assert ids(first) == ids(again) and ids(first) != ids(other)


def test_without_hetero_sync_each_party_samples_alone(tables: dict[Party, Table]) -> None:
    federation, out = run_sample(
        tables, parameters={GUEST: {"frac": 0.5}, HOST: {"n": 10}}, hetero_sync=False, random_state=5
    )
    assert federation.sent == []
    assert len(out[GUEST]) == 284 and len(out[HOST]) == 10
    expected = tables[HOST].frame["id"].iloc[sample_indices(569, n=10, random_state=5)]
    assert ids(out[HOST]) == expected.tolist()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"frac": 0.5, "n": 10}, "n and frac cannot be used at the same time"),
        ({"frac": 1.5}, r"frac=1.5 > 1 means up-sampling, which needs replace=True"),
        ({"frac": {"1": 2.0}}, r"frac\['1'\]=2.0 > 1 means up-sampling"),
        ({"frac": -0.1}, r"frac must be a rate > 0 or a mapping \{label: rate > 0\}"),
        ({"n": 0}, "n must be an integer > 0"),
        ({"n": 600}, "n=600 exceeds the 569 rows; set replace=True"),
        ({"frac": {"7": 0.5}}, "frac names label '7', which is not in the data"),
        ({"random_state": "x"}, "random_state must be an integer >= 0"),
        ({"replace": "no"}, "replace must be true or false"),
    ],
)
def test_parameter_errors_are_clear(
    tables: dict[Party, Table], params: dict[str, object], message: str
) -> None:
    with pytest.raises(ComponentError, match=message):
        run_sample(tables, **params)


def test_per_label_rates_need_a_label(tables: dict[Party, Table]) -> None:
    with pytest.raises(ComponentError, match=r"frac as a \{label: rate\} mapping needs a label column"):
        run_sample(tables, frac={"0": 0.5}, hetero_sync=False)


def test_spec_declares_fate_keys_and_defaults() -> None:
    spec = sample.SPEC
    assert spec.name == "sample" and spec.roles == frozenset({"guest", "host"})
    stage = spec.stages["default"]
    assert [a.key for a in stage.inputs] == ["input_data"] and [a.key for a in stage.outputs] == [
        "output_data"
    ]
    defaults = {name: p.default for name, p in spec.parameters.items()}
    assert defaults == {"replace": False, "frac": None, "n": None, "random_state": None, "hetero_sync": True}
