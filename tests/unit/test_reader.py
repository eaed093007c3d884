"""The reader component passes the resolved table through."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest

from fate_grpc.components import reader
from fate_grpc.components.base import RUNNERS, get_component
from fate_grpc.components.context import Party
from tests.support.local_context import LocalFederation, read_csv_table

DATA = Path(__file__).resolve().parents[2] / "examples" / "data"
GUEST = Party("guest", "9999")
HOST = Party("host", "10000")


def test_reader_outputs_the_table_unchanged(caplog: pytest.LogCaptureFixture) -> None:
    guest_table = read_csv_table(DATA / "breast_hetero_guest.csv", "id", label_name="y")
    host_table = read_csv_table(DATA / "breast_hetero_host.csv", "id")
    federation = LocalFederation(
        [GUEST, HOST],
        inputs={GUEST: {"table": [guest_table]}, HOST: {"table": host_table}},
        parameters={
            GUEST: {"name": "breast_hetero_guest", "namespace": "experiment"},
            HOST: {"name": "breast_hetero_host", "namespace": "experiment"},
        },
    )

    with caplog.at_level(logging.INFO):
        outputs = federation.run(reader.run)

    assert outputs[GUEST]["output_data"].schema == guest_table.schema
    pd.testing.assert_frame_equal(outputs[GUEST]["output_data"].frame, guest_table.frame)
    pd.testing.assert_frame_equal(outputs[HOST]["output_data"].frame, host_table.frame)
    assert set(outputs[HOST]) == {"output_data"}
    assert "569 rows" in caplog.text
    assert federation.sent == []


def test_reader_without_table_fails() -> None:
    federation = LocalFederation([GUEST], parameters={GUEST: {"name": "t", "namespace": "n"}})

    with pytest.raises(Exception, match="table"):
        federation.run(reader.run)


def test_registry_knows_reader_and_psi() -> None:
    assert get_component("reader") is reader.run
    assert set(RUNNERS) >= {"reader", "psi"}
    with pytest.raises(KeyError, match="no_such"):
        get_component("no_such")
