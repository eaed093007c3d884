"""FATE's log types (`flow log query|count --log-type`) and which lines of our logs each one shows.

FATE keeps one file per type: the scheduler's log of a job and its error part, and per task one file
per level where each file holds its level and the levels above (INFO holds warnings and errors too).
A node here keeps one scheduler log per job and one log per task attempt; the types are selections
of their lines. A record's continuation lines (e.g. a traceback) belong to the record's level.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from fate_grpc.errors import invalid_argument

SCHEDULE_TYPES = ("schedule_info", "schedule_error")
TASK_TYPES = ("task_info", "task_warning", "task_error", "task_debug")
LOG_TYPES = SCHEDULE_TYPES + TASK_TYPES

LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
# The lowest level each type shows.
MIN_LEVEL = {
    "schedule_info": LEVELS["INFO"],
    "schedule_error": LEVELS["ERROR"],
    "task_debug": LEVELS["DEBUG"],
    "task_info": LEVELS["INFO"],
    "task_warning": LEVELS["WARNING"],
    "task_error": LEVELS["ERROR"],
}
# "2026-01-02 03:04:05,678 WARNING name: ..." (task logs) or "2026-01-02 03:04:05.678 ERROR ..." (scheduler).
RECORD_START = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[.,]\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL)\b")


@dataclass(frozen=True)
class LogQuery:
    """Which log is wanted (validated)."""

    log_type: str
    job_id: str
    role: str
    party_id: str
    task_name: str

    @property
    def is_task_log(self) -> bool:
        return self.log_type in TASK_TYPES


def check_log_query(log_type: str, job_id: str, role: str, party_id: str, task_name: str) -> LogQuery:
    """The query, or INVALID_ARGUMENT naming the field that is wrong or missing.

    Task logs need the role and party id (as FATE's server does); the scheduler's log needs only the job.
    """
    if log_type not in LOG_TYPES:
        raise invalid_argument(
            f"unknown log type {log_type!r}: one of {', '.join(LOG_TYPES)}", field_path="log_type"
        )
    if not job_id:
        raise invalid_argument("a log query needs the job id", field_path="job_id")
    if log_type in TASK_TYPES:
        for field, value in (("role", role), ("party_id", party_id)):
            if not value:
                raise invalid_argument(f"log type {log_type} needs the {field}", field_path=field)
    return LogQuery(log_type, job_id, role, party_id, task_name)


def select_lines(lines: Iterable[str], log_type: str) -> Iterator[str]:
    """The lines a log type shows: records at or above its level, with their continuation lines.

    Lines before the first record (e.g. a process's own output) count as INFO.
    """
    minimum = MIN_LEVEL[log_type]
    level = LEVELS["INFO"]
    for line in lines:
        match = RECORD_START.match(line)
        if match:
            level = LEVELS[match.group(1)]
        if level >= minimum:
            yield line


def line_window(count: int, begin: int, end: int) -> tuple[int, int]:
    """0-based [start, stop) of lines begin..end (1-based, both included; 0 = open), as FATE counts."""
    if begin < 0 or end < 0:
        raise invalid_argument(
            "begin and end are line numbers from 1", field_path="begin" if begin < 0 else "end"
        )
    if begin and end and end < begin:
        raise invalid_argument(f"end {end} is before begin {begin}", field_path="end")
    start = begin - 1 if begin else 0
    stop = min(end, count) if end else count
    return min(start, count), max(min(start, count), stop)


def error_line(text: str) -> bool:
    """Whether a scheduler log line records a failure (written at ERROR level)."""
    return bool(re.search(r"\b(failed|timeout|rejected|unreachable|error)\b", text, re.IGNORECASE))
