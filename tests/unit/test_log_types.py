"""FATE's log types as selections of a node's log lines, and line windows as FATE counts them."""

from __future__ import annotations

import pytest

from fate_grpc.domain.log_types import LOG_TYPES, check_log_query, error_line, line_window, select_lines
from fate_grpc.errors import ErrorCode, FateGrpcError

TASK_LOG = [
    "started by the supervisor",
    "2026-01-02 03:04:05,001 DEBUG fate_grpc.task: spec fetched",
    "2026-01-02 03:04:05,002 INFO fate_grpc.task: running psi",
    "2026-01-02 03:04:05,003 WARNING fate_grpc.task: 3 duplicate ids",
    "2026-01-02 03:04:05,004 ERROR fate_grpc.task: component failed",
    "Traceback (most recent call last):",
    '  File "psi.py", line 1, in run',
    "2026-01-02 03:04:05,005 INFO fate_grpc.task: reported",
]


@pytest.mark.parametrize(
    ("log_type", "expected"),
    [
        ("task_debug", list(range(8))),
        ("task_info", [0, 2, 3, 4, 5, 6, 7]),
        ("task_warning", [3, 4, 5, 6]),
        ("task_error", [4, 5, 6]),
    ],
)
def test_each_task_type_keeps_its_level_and_above_with_continuation_lines(
    log_type: str, expected: list[int]
) -> None:
    assert list(select_lines(TASK_LOG, log_type)) == [TASK_LOG[i] for i in expected]


def test_schedule_error_keeps_the_scheduler_lines_written_at_error_level() -> None:
    lines = [
        "2026-01-02 03:04:05.001 INFO task psi_0 attempt 0: starting at parties 9999, 10000",
        "2026-01-02 03:04:05.002 ERROR task psi_0 attempt 0 ended failed: party 10000: boom",
        "2026-01-02 03:04:05.003 INFO job ended success",
    ]
    assert list(select_lines(lines, "schedule_error")) == [lines[1]]
    assert list(select_lines(lines, "schedule_info")) == lines


@pytest.mark.parametrize(
    ("text", "is_error"),
    [
        ("task psi_0 attempt 0 ended failed: boom", True),
        ("job ended timeout", True),
        ("task reader_0 attempt 0: guest 9999 is failed (no table)", True),
        ("job ended success", False),
        ("task error_check attempt 0 ended success", False),
        ("cores held at every party; running", False),
    ],
)
def test_error_lines_of_the_scheduler_log(text: str, is_error: bool) -> None:
    assert error_line(text) is is_error


@pytest.mark.parametrize(
    ("begin", "end", "window"),
    [(0, 0, (0, 10)), (3, 5, (2, 5)), (3, 0, (2, 10)), (0, 4, (0, 4)), (8, 20, (7, 10)), (12, 0, (10, 10))],
)
def test_line_window_counts_from_one_and_includes_both_ends(
    begin: int, end: int, window: tuple[int, int]
) -> None:
    assert line_window(10, begin, end) == window


@pytest.mark.parametrize(("begin", "end", "field"), [(5, 3, "end"), (-1, 0, "begin"), (0, -2, "end")])
def test_a_bad_window_names_the_field(begin: int, end: int, field: str) -> None:
    with pytest.raises(FateGrpcError) as caught:
        line_window(10, begin, end)
    assert caught.value.code is ErrorCode.INVALID_ARGUMENT
    assert caught.value.violations[0].field == field


def test_task_types_need_role_and_party_but_schedule_types_only_the_job() -> None:
    assert check_log_query("schedule_info", "job-1", "", "", "").is_task_log is False
    assert check_log_query("task_info", "job-1", "guest", "9999", "psi_0").is_task_log is True
    for role, party, field in (("", "9999", "role"), ("guest", "", "party_id")):
        with pytest.raises(FateGrpcError) as caught:
            check_log_query("task_error", "job-1", role, party, "")
        assert caught.value.violations[0].field == field


def test_an_unknown_log_type_lists_fates_types() -> None:
    with pytest.raises(FateGrpcError) as caught:
        check_log_query("fate_flow_schedule", "job-1", "", "", "")
    assert all(name in caught.value.message for name in LOG_TYPES)
