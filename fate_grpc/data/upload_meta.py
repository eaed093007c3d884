"""FATE's upload `meta` (its MetaParam): checked key by key, turned into our column roles. Pure, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fate_grpc.errors import invalid_argument

# FATE 2.2's MetaParam: key -> default. A key not listed here is refused (FATE fails on it too).
FATE_META_DEFAULTS: dict[str, Any] = {
    "sample_id_name": None,
    "match_id_name": None,
    "match_id_list": None,
    "match_id_range": 0,
    "label_name": None,
    "label_type": "int32",
    "weight_name": None,
    "weight_type": "float32",
    "header": None,
    "delimiter": ",",
    "dtype": "float32",
    "na_values": None,
    "input_format": "dense",
    "tag_with_value": False,
    "tag_value_delimiter": ":",
}
_STRING_KEYS = (
    "sample_id_name",
    "match_id_name",
    "label_name",
    "label_type",
    "weight_name",
    "weight_type",
    "delimiter",
    "input_format",
    "tag_value_delimiter",
)
EXTEND_SID_NAME = "extend_sid"


@dataclass(frozen=True)
class UploadMeta:
    """What an upload conf says about the file's columns."""

    delimiter: str = ","
    column_names: tuple[str, ...] = ()
    """The columns when the file has no header line (meta.header)."""
    sample_id_name: str = ""
    match_id_name: str = ""
    label_name: str = ""
    weight_name: str = ""
    extend_sid: bool = False
    partitions: int = 0
    fate_meta: dict[str, Any] = field(default_factory=dict)
    """FATE's data meta: every MetaParam key with its value or default (None left out)."""


def parse_upload_meta(
    meta: Mapping[str, Any], *, extend_sid: bool = False, partitions: int | None = None
) -> UploadMeta:
    """Check FATE's upload meta; every problem names its field (`meta.<key>`, `partitions`).

    Raises:
        FateGrpcError: INVALID_ARGUMENT with the field path.
    """
    unknown = sorted(set(meta) - set(FATE_META_DEFAULTS))
    if unknown:
        raise invalid_argument(
            f"unknown upload meta key {unknown[0]!r} (FATE's meta keys: {', '.join(FATE_META_DEFAULTS)})",
            field_path=f"meta.{unknown[0]}",
        )
    values = {key: meta.get(key, default) for key, default in FATE_META_DEFAULTS.items()}
    for key in _STRING_KEYS:
        _check_type(values[key], (str,), f"meta.{key}", "a string")
    _check_type(values["match_id_range"], (int,), "meta.match_id_range", "an integer")
    _check_type(values["tag_with_value"], (bool,), "meta.tag_with_value", "true or false")
    _check_type(values["match_id_list"], (list,), "meta.match_id_list", "a list of column names")
    _check_type(values["dtype"], (str, dict), "meta.dtype", "a type name or a mapping column -> type")
    _check_type(values["na_values"], (str, list, dict), "meta.na_values", "a string, list or mapping")
    _check_type(values["header"], (str, list), "meta.header", "a string or a list of column names")
    if values["input_format"] != "dense":
        raise invalid_argument(
            f"meta.input_format {values['input_format']!r} is not supported; only 'dense' is (as in FATE)",
            field_path="meta.input_format",
        )
    delimiter = values["delimiter"] or ","
    if len(delimiter) != 1 or delimiter in '\r\n"':
        raise invalid_argument(
            "meta.delimiter must be one character (not a quote or newline)", field_path="meta.delimiter"
        )
    if partitions is not None and (isinstance(partitions, bool) or partitions < 1):
        raise invalid_argument(
            f"partitions must be an integer >= 1, got {partitions}", field_path="partitions"
        )
    return UploadMeta(
        delimiter=delimiter,
        column_names=_column_names(values["header"], delimiter),
        sample_id_name=EXTEND_SID_NAME if extend_sid else values["sample_id_name"] or "",
        match_id_name=values["match_id_name"] or "",
        label_name=values["label_name"] or "",
        weight_name=values["weight_name"] or "",
        extend_sid=extend_sid,
        partitions=partitions or 0,
        fate_meta={k: v for k, v in values.items() if v is not None and k != "header"}
        | {"delimiter": delimiter},
    )


def data_meta(upload: UploadMeta, header: tuple[str, ...]) -> dict[str, Any]:
    """FATE's data meta of the stored table: the meta keys plus `header` (one string) and `sample_id_name`.

    Without extend_sid the sample id column is the one named, else the first column; with extend_sid
    FATE generates one, named "extend_sid" (here the row number; it is not stored as a column).
    """
    sample_id = upload.sample_id_name or (header[0] if header else "")
    return {**upload.fate_meta, "header": upload.delimiter.join(header), "sample_id_name": sample_id}


def check_columns(upload: UploadMeta, header: tuple[str, ...]) -> None:
    """Every column the meta names must be in the file's header."""
    named = (
        ("meta.sample_id_name", "" if upload.extend_sid else upload.sample_id_name),
        ("meta.match_id_name", upload.match_id_name),
        ("meta.label_name", upload.label_name),
        ("meta.weight_name", upload.weight_name),
    )
    for path, column in named:
        if column and column not in header:
            raise invalid_argument(
                f"column {column!r} ({path}) is not in the file's header {list(header)[:20]}", field_path=path
            )


def match_id_column(upload: UploadMeta, header: tuple[str, ...]) -> str:
    """The id column parties match on: match_id_name, else the sample id column, else the first column."""
    if upload.match_id_name:
        return upload.match_id_name
    if upload.sample_id_name and not upload.extend_sid:
        return upload.sample_id_name
    return header[0] if header else ""


def _column_names(value: str | list[Any] | None, delimiter: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list):
        return tuple(str(column) for column in value)
    return tuple(column.strip() for column in value.split(delimiter) if column.strip())


def _check_type(value: object, types: tuple[type, ...], path: str, what: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) and bool not in types:
        raise invalid_argument(f"{path} must be {what}, got {value!r}", field_path=path)
    if not isinstance(value, types):
        raise invalid_argument(f"{path} must be {what}, got {type(value).__name__}", field_path=path)
