"""The node's log handlers: readable text or JSON lines, both carrying the context's fields."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from fate_grpc.observability.log_context import FIELDS, ContextFilter

# Fields some log calls pass with `extra=` (beyond the context's).
EXTRA_FIELDS = ("status", "component", "code")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _fields(record: logging.LogRecord) -> dict[str, object]:
    values: dict[str, object] = {}
    for name in (*FIELDS, *EXTRA_FIELDS):
        value = getattr(record, name, None)
        if value is not None and value != "":
            values[name] = value
    return values


class JsonLineFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message, the fields, traceback."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info:
            document["traceback"] = self.formatException(record.exc_info)
        return json.dumps(document, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The classic line, with the fields appended as key=value."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = _fields(record)
        if not fields:
            return line
        head, newline, rest = line.partition("\n")
        suffix = " ".join(f"{k}={v}" for k, v in fields.items())
        return f"{head} [{suffix}]{newline}{rest}"


def configure_logging(
    level: str = "info", log_file: Path | None = None, *, fmt: str = "text", stream: IO[str] | None = None
) -> None:
    """Replace the root logger's handlers: `stream` (default stderr) and `log_file`, in `fmt`."""
    formatter: logging.Formatter = JsonLineFormatter() if fmt == "json" else TextFormatter()
    handlers: list[logging.Handler] = [logging.StreamHandler(stream or sys.stderr)]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file))
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(ContextFilter())
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO), handlers=handlers, force=True)
