"""Fields every log line carries (job, task, attempt, party, request), set at RPC and task boundaries.

They live in context variables: a value set while handling a call is seen by everything that call
awaits or starts (asyncio copies the context into new tasks), and by nothing else.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

FIELDS = ("job_id", "task", "attempt", "role", "party", "peer", "rpc", "request_id")
_VARS: dict[str, ContextVar[str]] = {name: ContextVar(f"fate_grpc_log_{name}", default="") for name in FIELDS}


def bind(**fields: object) -> list[Token[str]]:
    """Set fields for the rest of the current context; returns tokens for `unbind`."""
    tokens = []
    for name, value in fields.items():
        if value is None or value == "":
            continue
        tokens.append(_VARS[name].set(str(value)))
    return tokens


def unbind(tokens: list[Token[str]]) -> None:
    for token in reversed(tokens):
        try:
            token.var.reset(token)
        except ValueError:
            # A stream closed from another task: its context ends with it, nothing to restore.
            return


@contextmanager
def log_fields(**fields: object) -> Iterator[None]:
    """Set fields within a block."""
    tokens = bind(**fields)
    try:
        yield
    finally:
        unbind(tokens)


def current() -> dict[str, str]:
    """The fields set here, without the empty ones."""
    return {name: value for name, var in _VARS.items() if (value := var.get())}


class ContextFilter(logging.Filter):
    """Copies the context's fields onto each record (fields given in `extra=` win)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in current().items():
            if not getattr(record, name, ""):
                setattr(record, name, value)
        return True
