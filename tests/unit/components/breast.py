"""The breast example tables at a guest (9999, labels) and a host (10000), as component tests use them."""

from __future__ import annotations

from pathlib import Path

from fate_grpc.components.context import Party
from fate_grpc.components.table import Table
from tests.support.local_context import read_csv_table

DATA = Path(__file__).resolve().parents[3] / "examples" / "data"
GUEST = Party("guest", "9999")
HOST = Party("host", "10000")


def breast_tables() -> dict[Party, Table]:
    return {
        GUEST: read_csv_table(DATA / "breast_hetero_guest.csv", "id", label_name="y"),
        HOST: read_csv_table(DATA / "breast_hetero_host.csv", "id"),
    }
