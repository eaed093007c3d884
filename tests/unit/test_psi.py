"""The psi component run at a guest and one or two hosts in one process."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fate_grpc.components import psi
from fate_grpc.components.codec import decode_arrays, encode_arrays
from fate_grpc.components.context import ComponentContext, ComponentError, Party
from fate_grpc.components.table import Table
from tests.support.local_context import LocalFederation, read_csv_table, table_from_frame

DATA = Path(__file__).resolve().parents[2] / "examples" / "data"
GUEST = Party("guest", "9999")
HOST = Party("host", "10000")
HOST_2 = Party("host", "10001")


@pytest.fixture(scope="module")
def guest_table() -> Table:
    return read_csv_table(DATA / "breast_hetero_guest.csv", "id", label_name="y")


@pytest.fixture(scope="module")
def host_table() -> Table:
    return read_csv_table(DATA / "breast_hetero_host.csv", "id")


def run_psi(inputs: dict[Party, Table]) -> tuple[dict[Party, Table], LocalFederation]:
    federation = LocalFederation(
        list(inputs),
        inputs={party: {"input_data": [table]} for party, table in inputs.items()},
        common_parameters={"protocol": "ecdh_psi", "curve_type": "curve25519"},
        receive_timeout_s=10.0,
    )
    outputs = federation.run(psi.run)
    return {party: output["output_data"] for party, output in outputs.items()}, federation


def ids_of(table: Table) -> list[str]:
    return table.ids.tolist()


def test_full_overlap_keeps_every_row_aligned(guest_table: Table, host_table: Table) -> None:
    outputs, _ = run_psi({GUEST: guest_table, HOST: host_table})

    assert len(outputs[GUEST]) == len(outputs[HOST]) == 569
    assert ids_of(outputs[GUEST]) == ids_of(guest_table)  # guest keeps its own order
    assert ids_of(outputs[HOST]) == ids_of(outputs[GUEST])
    assert outputs[GUEST].schema == guest_table.schema
    assert outputs[HOST].schema == host_table.schema
    pd.testing.assert_frame_equal(outputs[GUEST].frame, guest_table.frame)
    host_by_id = host_table.frame.set_index("id")
    pd.testing.assert_frame_equal(outputs[HOST].frame.set_index("id"), host_by_id.loc[ids_of(outputs[GUEST])])


def test_partial_overlap_in_shuffled_order(guest_table: Table, host_table: Table) -> None:
    rng = np.random.default_rng(7)
    guest_rows = rng.choice(569, size=400, replace=False)
    host_rows = rng.permutation(
        np.concatenate(
            [rng.choice(guest_rows, 200, replace=False), np.setdiff1d(np.arange(569), guest_rows)[:100]]
        )
    )
    guest_in, host_in = guest_table.take(guest_rows), host_table.take(host_rows)

    outputs, _ = run_psi({GUEST: guest_in, HOST: host_in})

    expected = set(ids_of(guest_in)) & set(ids_of(host_in))
    assert len(expected) == 200
    assert set(ids_of(outputs[GUEST])) == expected
    assert ids_of(outputs[GUEST]) == [i for i in ids_of(guest_in) if i in expected]
    assert ids_of(outputs[HOST]) == ids_of(outputs[GUEST])
    host_by_id = host_in.frame.set_index("id")
    pd.testing.assert_frame_equal(outputs[HOST].frame.set_index("id"), host_by_id.loc[ids_of(outputs[GUEST])])


def test_two_hosts_intersect_across_hosts(guest_table: Table, host_table: Table) -> None:
    host_1_in = host_table.take(np.arange(0, 400))
    host_2_in = host_table.take(np.arange(568, 199, -1))  # rows 200..568, reversed

    outputs, _ = run_psi({GUEST: guest_table, HOST: host_1_in, HOST_2: host_2_in})

    expected = set(ids_of(guest_table)) & set(ids_of(host_1_in)) & set(ids_of(host_2_in))
    assert len(expected) == 200
    assert set(ids_of(outputs[GUEST])) == expected
    assert ids_of(outputs[HOST]) == ids_of(outputs[GUEST]) == ids_of(outputs[HOST_2])


def test_guest_duplicates_repeat_the_host_row(guest_table: Table, host_table: Table) -> None:
    guest_in = guest_table.take([0, 1, 0, 2])

    outputs, _ = run_psi({GUEST: guest_in, HOST: host_table.take([2, 0, 3])})

    assert ids_of(outputs[GUEST]) == ids_of(outputs[HOST]) == ids_of(guest_table.take([0, 0, 2]))


def test_empty_intersection_keeps_header_and_warns(
    guest_table: Table, host_table: Table, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        outputs, _ = run_psi(
            {GUEST: guest_table.take(np.arange(100)), HOST: host_table.take(np.arange(100, 150))}
        )

    assert len(outputs[GUEST]) == len(outputs[HOST]) == 0
    assert list(outputs[HOST].frame.columns) == list(host_table.schema.header)
    assert any(r.levelno == logging.WARNING and "empty" in r.getMessage() for r in caplog.records)
    assert "intersect_count=0" in caplog.text


def test_duplicate_host_id_is_an_error(guest_table: Table, host_table: Table) -> None:
    with pytest.raises(ComponentError, match="2 duplicate match id"):
        run_psi({GUEST: guest_table, HOST: host_table.take([0, 1, 0, 2, 1])})


def test_unsupported_protocol_is_an_error(guest_table: Table, host_table: Table) -> None:
    federation = LocalFederation(
        [GUEST, HOST],
        inputs={GUEST: {"input_data": guest_table}, HOST: {"input_data": host_table}},
        common_parameters={"protocol": "rsa_psi"},
    )

    with pytest.raises(ComponentError, match="rsa_psi"):
        federation.run(psi.run)


@pytest.mark.parametrize(
    "host_points",
    [
        np.full((3, 32), 0xFF, dtype=np.uint8),
        np.zeros((3, 32), dtype=np.uint8),
        np.zeros((3, 31), dtype=np.uint8),
        np.zeros((3, 32), dtype=np.int32),
    ],
    ids=["non-canonical", "small-order", "short-rows", "wrong-dtype"],
)
def test_malformed_points_from_host_are_a_component_error(
    guest_table: Table, host_points: np.ndarray
) -> None:
    def component(ctx: ComponentContext) -> None:
        if ctx.role == "guest":
            psi.run(ctx)
            return
        # A misbehaving host: invalid first-sign points, then echoes the guest's points as second sign.
        ctx.send(psi.TAG_HOST_FIRST_SIGN, GUEST, encode_arrays({psi.POINTS: host_points}))
        guest_points = decode_arrays(ctx.receive(psi.TAG_GUEST_FIRST_SIGN, GUEST))[psi.POINTS]
        ctx.send(psi.TAG_GUEST_SECOND_SIGN, GUEST, encode_arrays({psi.POINTS: guest_points}))

    federation = LocalFederation(
        [GUEST, HOST], inputs={GUEST: {"input_data": guest_table.take(np.arange(10))}}
    )

    with pytest.raises(ComponentError, match="invalid points from host 10000"):
        federation.run(component)


def test_traffic_carries_only_points_and_positions(guest_table: Table, host_table: Table) -> None:
    # Long random ids so a coincidental byte match with random points or archive headers is impossible.
    guest_frame = guest_table.frame.copy()
    host_frame = host_table.frame.copy()
    new_ids = {old: f"patient-{uuid.uuid4().hex}" for old in guest_frame["id"]}
    guest_frame["id"] = guest_frame["id"].map(new_ids)
    host_frame["id"] = host_frame["id"].map(new_ids)
    guest_in = table_from_frame(guest_frame.iloc[:450], "id", label_name="y")
    host_in = table_from_frame(host_frame.iloc[100:], "id")

    outputs, federation = run_psi({GUEST: guest_in, HOST: host_in})

    assert len(outputs[GUEST]) == 350
    assert {item.tag for item in federation.sent} == {
        psi.TAG_GUEST_FIRST_SIGN,
        psi.TAG_HOST_FIRST_SIGN,
        psi.TAG_GUEST_SECOND_SIGN,
        psi.TAG_HOST_INDEXER,
    }
    all_ids = [i.encode() for i in new_ids.values()]
    for item in federation.sent:
        assert not any(raw in item.payload for raw in all_ids), item.tag
        assert b"patient-" not in item.payload
        for array in decode_arrays(item.payload).values():
            is_points = array.dtype == np.uint8 and array.ndim == 2 and array.shape[1] == 32
            is_positions = array.dtype == np.int64 and array.ndim == 1
            assert is_points or is_positions, (item.tag, array.dtype, array.shape)
    indexer = next(item for item in federation.sent if item.tag == psi.TAG_HOST_INDEXER)
    assert (indexer.source, indexer.destination) == (GUEST, HOST)
    assert decode_arrays(indexer.payload)["positions"].tolist() == list(range(350))
