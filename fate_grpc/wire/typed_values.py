"""Conversions between plain Python data and `TypedValue`, which keeps every value's type exactly.

A DAG's parameters travel from the node to its task process in these messages: ints stay ints
(beyond 64 bits too), floats stay floats (inf, nan, -0.0), bools stay bools, and mapping keys
may be any scalar.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from google.protobuf import struct_pb2

from fate_grpc.common.v1 import common_pb2
from fate_grpc.errors import invalid_argument

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_KEY_KINDS = frozenset(
    {"null_value", "bool_value", "int_value", "big_int_value", "float_value", "string_value"}
)


def typed_value(value: Any, field_path: str = "") -> common_pb2.TypedValue:
    """The value as a TypedValue.

    Args:
        value: None, bool, int, float, str, a list/tuple of values or a mapping with scalar keys.
        field_path: Where the value is, for the error.

    Raises:
        FateGrpcError: INVALID_ARGUMENT naming the field path for any other type.
    """
    message = common_pb2.TypedValue()
    if value is None:
        message.null_value = struct_pb2.NULL_VALUE
    elif isinstance(value, bool):
        message.bool_value = value
    elif isinstance(value, int):
        _set_int(message, value, field_path)
    elif isinstance(value, float):
        message.float_value = value
    elif isinstance(value, str):
        message.string_value = value
    elif isinstance(value, list | tuple):
        message.list_value.CopyFrom(_typed_list(value, field_path))
    elif isinstance(value, Mapping):
        message.map_value.CopyFrom(typed_map(value, field_path))
    else:
        raise invalid_argument(
            f"{field_path or 'value'}: a {type(value).__name__} cannot be passed to a task "
            "(only null, booleans, numbers, strings, lists and mappings)",
            field_path=field_path,
        )
    return message


def typed_map(mapping: Mapping[Any, Any], field_path: str = "") -> common_pb2.TypedMap:
    """A mapping as a TypedMap, in its order; keys must be scalars."""
    message = common_pb2.TypedMap()
    for key, item in mapping.items():
        path = f"{field_path}.{key}" if field_path else str(key)
        if isinstance(key, list | tuple | Mapping):
            raise invalid_argument(f"{path}: a mapping key must be a scalar", field_path=field_path)
        message.entries.add(key=typed_value(key, path), value=typed_value(item, path))
    return message


def _typed_list(items: list[Any] | tuple[Any, ...], field_path: str) -> common_pb2.TypedList:
    message = common_pb2.TypedList()
    for i, item in enumerate(items):
        message.values.append(typed_value(item, f"{field_path}[{i}]"))
    return message


def _set_int(message: common_pb2.TypedValue, value: int, field_path: str) -> None:
    if _INT64_MIN <= value <= _INT64_MAX:
        message.int_value = value
        return
    try:
        message.big_int_value = str(value)
    except ValueError:  # more digits than Python converts (4300 by default)
        raise invalid_argument(
            f"{field_path or 'value'}: the integer is too long", field_path=field_path
        ) from None


def python_value(message: common_pb2.TypedValue) -> Any:
    """The plain Python value of a TypedValue (lists for lists, dicts for maps).

    Raises:
        FateGrpcError: INVALID_ARGUMENT for a value without a kind, a bad big int, or a map
            whose key is not a scalar or repeats.
    """
    kind = message.WhichOneof("kind")
    if kind == "null_value":
        return None
    if kind == "big_int_value":
        return _big_int(message.big_int_value)
    if kind == "list_value":
        return [python_value(item) for item in message.list_value.values]
    if kind == "map_value":
        return python_dict(message.map_value)
    if kind is None:
        raise invalid_argument("a typed value has no kind set")
    return getattr(message, kind)


def python_dict(message: common_pb2.TypedMap) -> dict[Any, Any]:
    """The plain dict of a TypedMap."""
    out: dict[Any, Any] = {}
    for entry in message.entries:
        if entry.key.WhichOneof("kind") not in _KEY_KINDS:
            raise invalid_argument("a typed map key must be a scalar")
        key = python_value(entry.key)
        if key in out:
            raise invalid_argument(f"a typed map repeats the key {str(key)[:80]}")
        out[key] = python_value(entry.value)
    return out


def _big_int(text: str) -> int:
    try:
        return int(text, 10)
    except ValueError:
        raise invalid_argument(f"big_int_value {text[:80]!r} is not a decimal integer") from None
