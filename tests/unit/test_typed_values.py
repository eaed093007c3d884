"""TypedValue conversions: every value comes back with its type (1 is not 1.0 is not True)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fate_grpc.common.v1 import common_pb2
from fate_grpc.errors import ErrorCode, FateGrpcError
from fate_grpc.wire.typed_values import python_dict, python_value, typed_map, typed_value
from tests.unit.test_dag_loading import typed

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63 - 2, max_value=2**63 + 2)
    | st.integers(min_value=-(2**63) - 2, max_value=-(2**63) + 2)
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
)
# bool keys are left out: Python's dict cannot hold True and 1 as two keys.
keys = st.none() | st.integers() | st.floats(allow_nan=False) | st.text()
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(keys, children, max_size=5),
    max_leaves=30,
)


def through_the_wire(value: Any) -> Any:
    """Encode, serialise, parse and decode, as between a node and its task process."""
    data = typed_value(value).SerializeToString()
    return python_value(common_pb2.TypedValue.FromString(data))


@settings(max_examples=300, deadline=None)
@given(value=values)
def test_values_survive_the_round_trip_with_their_types(value: Any) -> None:
    assert typed(through_the_wire(value)) == typed(value)


@settings(max_examples=100, deadline=None)
@given(mapping=st.dictionaries(keys, values, max_size=6))
def test_maps_keep_their_keys_and_order(mapping: dict[Any, Any]) -> None:
    data = typed_map(mapping).SerializeToString()

    decoded = python_dict(common_pb2.TypedMap.FromString(data))

    assert typed(decoded) == typed(mapping)
    assert [typed(k) for k in decoded] == [typed(k) for k in mapping]


@pytest.mark.parametrize(
    "value",
    [True, 1, 1.0, 0, 0.0, -0.0, False, None, "1", "", 2**64, -(2**70), 2**63 - 1, -(2**63)],
)
def test_neighbouring_values_stay_distinct(value: Any) -> None:
    back = through_the_wire(value)

    assert type(back) is type(value)
    assert back == value
    if isinstance(value, float):
        assert math.copysign(1.0, back) == math.copysign(1.0, value)


def test_nan_and_infinities_survive() -> None:
    back = through_the_wire([math.nan, math.inf, -math.inf, 1e-06])

    assert math.isnan(back[0]) and back[1:] == [math.inf, -math.inf, 1e-06]


def test_sample_frac_with_integer_keys_arrives_as_written() -> None:
    assert through_the_wire({"frac": {0: 0.5, 1: 0.8}}) == {"frac": {0: 0.5, 1: 0.8}}


def test_a_tuple_arrives_as_a_list() -> None:
    assert through_the_wire((1, "a")) == [1, "a"]


@pytest.mark.parametrize(("value", "where"), [({"a": {"b": {1, 2}}}, "a.b"), ({"a": [b"x"]}, "a[0]")])
def test_other_types_are_refused_naming_the_field(value: Any, where: str) -> None:
    with pytest.raises(FateGrpcError) as info:
        typed_map(value)

    assert info.value.code is ErrorCode.INVALID_ARGUMENT
    assert info.value.message.startswith(f"{where}: ")


def test_a_value_without_a_kind_is_refused() -> None:
    with pytest.raises(FateGrpcError):
        python_value(common_pb2.TypedValue())


def test_a_map_key_that_is_a_list_is_refused() -> None:
    message = common_pb2.TypedMap()
    message.entries.add(key=typed_value([1]), value=typed_value(1))

    with pytest.raises(FateGrpcError):
        python_dict(message)


def test_a_repeated_map_key_is_refused() -> None:
    message = common_pb2.TypedMap()
    message.entries.add(key=typed_value("a"), value=typed_value(1))
    message.entries.add(key=typed_value("a"), value=typed_value(2))

    with pytest.raises(FateGrpcError):
        python_dict(message)
