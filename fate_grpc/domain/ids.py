"""Identifiers: job ids, execution ids, and the safe-name rules for anything used as a path part."""

from __future__ import annotations

import re
import threading
from datetime import datetime

from fate_grpc.errors import invalid_argument

# Names end up as parts of file paths and storage keys, so they may not start with a dot or a dash
# and may not contain a separator or "..".
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
PARTY_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
JOB_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

_COUNTER_MODULO = 10_000
_TIME_FORMAT = "%Y%m%d%H%M%S%f"


class _JobIdSequence:
    """A per-process counter, plus the last clock-based id so ids never go backwards."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counter = 0
        self._last = 0

    def next(self, now: datetime | None) -> str:
        with self._lock:
            self._counter = (self._counter + 1) % _COUNTER_MODULO
            stamp = (now or datetime.now()).strftime(_TIME_FORMAT)
            value = int(f"{stamp}{self._counter:04d}")
            if now is None:
                # The wall clock can step back (NTP); keep clock-based ids strictly increasing.
                value = max(value, self._last + 1)
                self._last = value
            return f"{value:024d}"


_SEQUENCE = _JobIdSequence()


def new_job_id(now: datetime | None = None) -> str:
    """A new FATE-style job id: the local time to the microsecond, then a 4-digit counter.

    Args:
        now: The time to use; the current local time when None. Ids made from the clock are
            strictly increasing within a process.

    Returns:
        A 24-digit string such as "202401021504050123450001".
    """
    return _SEQUENCE.next(now)


def is_valid_job_id(value: object) -> bool:
    """Whether `value` is an acceptable job id (1 to 64 letters, digits, `_` or `-`)."""
    return isinstance(value, str) and JOB_ID_PATTERN.fullmatch(value) is not None


def is_valid_name(value: object) -> bool:
    """Whether `value` is a safe name (see `NAME_PATTERN`; `..` is not allowed either)."""
    return name_problem(value) is None


def check_name(value: str, what: str) -> str:
    """Return `value` if it is a safe name, else raise.

    Args:
        value: A name, namespace, task name, output key or similar.
        what: What the value is, used as the field path and in the message (e.g. "namespace").

    Returns:
        The value, unchanged.

    Raises:
        FateGrpcError: INVALID_ARGUMENT naming the field and the rule broken.
    """
    problem = name_problem(value)
    if problem is not None:
        raise invalid_argument(f"{what} {value!r} {problem}", field_path=what)
    return value


def name_problem(value: object) -> str | None:
    """Why `value` is not a safe name, in words that complete "<what> <value> ...", or None."""
    if not isinstance(value, str):
        return f"must be a string, not {type(value).__name__}"
    if not value:
        return "must not be empty"
    if len(value) > 128:
        return "is longer than 128 characters"
    if not NAME_PATTERN.fullmatch(value):
        return "may only contain letters, digits, '_', '.' and '-', and must start with a letter or digit"
    if ".." in value:
        return "must not contain '..'"
    return None


def is_valid_party_id(value: object) -> bool:
    """Whether `value` is an acceptable party id (1 to 64 letters, digits, `_` or `-`)."""
    return isinstance(value, str) and PARTY_ID_PATTERN.fullmatch(value) is not None


def check_party_id(value: str) -> str:
    """Return `value` if it is an acceptable party id, else raise.

    Args:
        value: A party id such as "9999".

    Returns:
        The value, unchanged.

    Raises:
        FateGrpcError: INVALID_ARGUMENT when it is not 1 to 64 letters, digits, `_` or `-`.
    """
    if not is_valid_party_id(value):
        raise invalid_argument(
            f"party id {value!r} must be 1 to 64 letters, digits, '_' or '-'", field_path="party_id"
        )
    return value


def execution_id(job_id: str, task_name: str, attempt: int, role: str, party_id: str) -> str:
    """The id of one attempt of a task at one party (FATE's party task id).

    Args:
        job_id: The job id.
        task_name: The task name in the DAG.
        attempt: The attempt number (FATE's task version).
        role: The party's role.
        party_id: The party id.

    Returns:
        "{job_id}_{task_name}_{attempt}_{role}_{party_id}".
    """
    return f"{job_id}_{task_name}_{attempt}_{role}_{party_id}"
