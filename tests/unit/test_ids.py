"""Job ids, execution ids and safe names."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest

from fate_grpc.domain.ids import (
    NAME_PATTERN,
    check_name,
    check_party_id,
    execution_id,
    is_valid_job_id,
    is_valid_name,
    is_valid_party_id,
    new_job_id,
)
from fate_grpc.errors import ErrorCode, FateGrpcError


def test_job_id_format_from_given_time() -> None:
    now = datetime(2024, 1, 2, 15, 4, 5, 12345)
    job_id = new_job_id(now)
    assert len(job_id) == 24
    assert job_id.isdigit()
    assert job_id.startswith("20240102150405012345")
    assert is_valid_job_id(job_id)


def test_job_ids_at_the_same_instant_differ() -> None:
    now = datetime(2024, 1, 2, 15, 4, 5)
    assert len({new_job_id(now) for _ in range(100)}) == 100


def test_clock_job_ids_increase_strictly() -> None:
    ids = [new_job_id() for _ in range(2000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 24 and i.isdigit() for i in ids)


def test_counter_wraps_at_ten_thousand() -> None:
    now = datetime(2024, 1, 2, 15, 4, 5)
    counters = {new_job_id(now)[-4:] for _ in range(10_001)}
    assert len(counters) == 10_000


def test_job_ids_are_unique_across_threads() -> None:
    results: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        mine = [new_job_id() for _ in range(300)]
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == len(results) == 2400


@pytest.mark.parametrize("value", ["1", "abc-DEF_123", "x" * 64, "202401021504050123450001"])
def test_valid_job_ids(value: str) -> None:
    assert is_valid_job_id(value)


@pytest.mark.parametrize("value", ["", "x" * 65, "a/b", "a.b", "a b", "../x", 123, None])
def test_invalid_job_ids(value: object) -> None:
    assert not is_valid_job_id(value)


@pytest.mark.parametrize("value", ["a", "A9", "9", "reader_0", "breast.hetero-guest", "a" * 128, "a.b.c"])
def test_valid_names(value: str) -> None:
    assert NAME_PATTERN.fullmatch(value)
    assert is_valid_name(value)
    assert check_name(value, "name") == value


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "must not be empty"),
        ("a" * 129, "longer than 128"),
        (".hidden", "must start with a letter or digit"),
        ("-x", "must start with a letter or digit"),
        ("_x", "must start with a letter or digit"),
        ("a/b", "may only contain"),
        ("a\\b", "may only contain"),
        ("a b", "may only contain"),
        ("a..b", "'..'"),
        ("a\n", "may only contain"),
    ],
)
def test_invalid_names(value: str, reason: str) -> None:
    assert not is_valid_name(value)
    with pytest.raises(FateGrpcError) as info:
        check_name(value, "namespace")
    error = info.value
    assert error.code is ErrorCode.INVALID_ARGUMENT
    assert error.message.startswith(f"namespace {value!r} ")
    assert reason in error.message
    assert [v.field for v in error.violations] == ["namespace"]


def test_non_string_name_is_rejected() -> None:
    assert not is_valid_name(5)
    with pytest.raises(FateGrpcError, match="must be a string"):
        check_name(5, "name")  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["9999", "10000", "guest_a", "a-b", "x" * 64])
def test_valid_party_ids(value: str) -> None:
    assert is_valid_party_id(value)
    assert check_party_id(value) == value


@pytest.mark.parametrize("value", ["", "x" * 65, "a.b", "a/b", "../1", " 1"])
def test_invalid_party_ids(value: str) -> None:
    assert not is_valid_party_id(value)
    with pytest.raises(FateGrpcError) as info:
        check_party_id(value)
    assert info.value.code is ErrorCode.INVALID_ARGUMENT
    assert info.value.violations[0].field == "party_id"


def test_execution_id() -> None:
    assert execution_id("202401", "psi_0", 1, "guest", "9999") == "202401_psi_0_1_guest_9999"
