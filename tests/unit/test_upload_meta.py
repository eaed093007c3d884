"""FATE's upload meta: every key FATE 2.2 accepts, its defaults, and errors that name the field."""

from __future__ import annotations

from typing import Any

import pytest

from fate_grpc.data.upload_meta import (
    FATE_META_DEFAULTS,
    check_columns,
    data_meta,
    match_id_column,
    parse_upload_meta,
)
from fate_grpc.errors import ErrorCode, FateGrpcError

HEADER = ("id", "y", "x0", "x1")


def test_an_empty_meta_takes_fates_defaults() -> None:
    meta = parse_upload_meta({})
    assert meta.delimiter == "," and meta.sample_id_name == "" and meta.match_id_name == ""
    assert meta.fate_meta == {
        "match_id_range": 0,
        "label_type": "int32",
        "weight_type": "float32",
        "delimiter": ",",
        "dtype": "float32",
        "input_format": "dense",
        "tag_with_value": False,
        "tag_value_delimiter": ":",
    }
    assert data_meta(meta, HEADER) == {**meta.fate_meta, "header": "id,y,x0,x1", "sample_id_name": "id"}
    assert match_id_column(meta, HEADER) == "id"


def test_fates_example_conf_keeps_every_key_it_gives() -> None:
    given = {"delimiter": ",", "label_name": "y", "match_id_name": "id", "dtype": {"x0": "float64"}}
    meta = parse_upload_meta(given, partitions=16)
    assert meta.label_name == "y" and meta.partitions == 16
    assert {k: meta.fate_meta[k] for k in given} == given
    check_columns(meta, HEADER)


def test_extend_sid_generates_the_sample_id_and_matches_on_the_id_column() -> None:
    meta = parse_upload_meta({"match_id_name": "id"}, extend_sid=True)
    assert meta.sample_id_name == "extend_sid" and meta.extend_sid
    assert data_meta(meta, HEADER)["sample_id_name"] == "extend_sid"
    assert match_id_column(meta, HEADER) == "id"
    check_columns(meta, HEADER)  # "extend_sid" is generated, never looked for in the header


def test_a_named_sample_id_is_the_match_id_unless_one_is_given() -> None:
    assert match_id_column(parse_upload_meta({"sample_id_name": "x0"}), HEADER) == "x0"
    both = parse_upload_meta({"sample_id_name": "x0", "match_id_name": "id"})
    assert match_id_column(both, HEADER) == "id"
    assert data_meta(both, HEADER)["sample_id_name"] == "x0"


def test_header_names_the_columns_of_a_file_without_a_header_line() -> None:
    assert parse_upload_meta({"header": "id;y;x0", "delimiter": ";"}).column_names == ("id", "y", "x0")
    assert parse_upload_meta({"header": ["id", "y"]}).column_names == ("id", "y")


@pytest.mark.parametrize(
    ("meta", "extra", "field"),
    [
        ({"label_nmae": "y"}, {}, "meta.label_nmae"),
        ({"label_name": 3}, {}, "meta.label_name"),
        ({"delimiter": "ab"}, {}, "meta.delimiter"),
        ({"input_format": "sparse"}, {}, "meta.input_format"),
        ({"tag_with_value": "yes"}, {}, "meta.tag_with_value"),
        ({"match_id_range": True}, {}, "meta.match_id_range"),
        ({"match_id_list": "id"}, {}, "meta.match_id_list"),
        ({"dtype": 5}, {}, "meta.dtype"),
        ({}, {"partitions": 0}, "partitions"),
    ],
)
def test_bad_meta_names_the_field(meta: dict[str, Any], extra: dict[str, Any], field: str) -> None:
    with pytest.raises(FateGrpcError) as caught:
        parse_upload_meta(meta, **extra)
    assert caught.value.code is ErrorCode.INVALID_ARGUMENT
    assert [v.field for v in caught.value.violations] == [field]


@pytest.mark.parametrize("key", ["sample_id_name", "match_id_name", "label_name", "weight_name"])
def test_a_named_column_missing_from_the_header_names_its_key(key: str) -> None:
    with pytest.raises(FateGrpcError) as caught:
        check_columns(parse_upload_meta({key: "nope"}), HEADER)
    assert [v.field for v in caught.value.violations] == [f"meta.{key}"]
    assert "'nope'" in caught.value.message


def test_the_known_keys_are_fates_metaparam() -> None:
    assert set(FATE_META_DEFAULTS) == {
        "sample_id_name",
        "match_id_name",
        "match_id_list",
        "match_id_range",
        "label_name",
        "label_type",
        "weight_name",
        "weight_type",
        "header",
        "delimiter",
        "dtype",
        "na_values",
        "input_format",
        "tag_with_value",
        "tag_value_delimiter",
    }
