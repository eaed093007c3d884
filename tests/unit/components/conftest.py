"""Fixtures shared by the component tests."""

from __future__ import annotations

import pytest

from fate_grpc.components.context import Party
from fate_grpc.components.table import Table
from tests.unit.components.breast import breast_tables


@pytest.fixture(scope="module")
def tables() -> dict[Party, Table]:
    """Fresh per test module: tests may build on the frames but must not change them in place."""
    return breast_tables()
