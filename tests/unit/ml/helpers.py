"""Shared helpers for the numerical-core tests."""

from __future__ import annotations

import json
from typing import Any


def assert_plain_json(value: Any) -> None:
    """Fail unless ``value`` is built only from JSON-native Python types (no numpy scalars/arrays)."""
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str), f"non-string key {key!r}"
            assert_plain_json(item)
    elif isinstance(value, list):
        for item in value:
            assert_plain_json(item)
    else:
        assert value is None or type(value) in (bool, int, float, str), f"{value!r} is {type(value)}"
    json.dumps(value, allow_nan=False)
