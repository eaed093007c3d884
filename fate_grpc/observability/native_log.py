"""gRPC core's own log lines (absl, written straight to file descriptor 2) into the Python log.

The C core never goes through Python's logging. In a node process, descriptor 2 becomes a pipe that
a thread reads line by line into the "grpc.core" logger (at the level of the line's absl prefix), so
those lines reach node.log in the node's format. Python's own stderr keeps the original descriptor.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading

# absl's prefix: severity letter, MMDD, time, thread id, file:line]
ABSL_LINE = re.compile(r"^([IWEF])\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+ ([^\]]+)\] ?(.*)$")
LEVELS = {"I": logging.INFO, "W": logging.WARNING, "E": logging.ERROR, "F": logging.CRITICAL}


def parse_native_line(line: str) -> tuple[str, int, str]:
    """(logger name, level, message) of one line written to descriptor 2."""
    match = ABSL_LINE.match(line)
    if match is None:
        return "stderr", logging.WARNING, line
    severity, where, message = match.groups()
    return "grpc.core", LEVELS[severity], f"{message} ({where.strip()})"


def route_native_stderr() -> None:
    """Send what native code writes to descriptor 2 into logging. Call once, after logging is set up
    with handlers that write to `sys.stderr` or files (they keep the original descriptor)."""
    original = os.dup(2)
    sys.stderr = os.fdopen(original, "w", buffering=1, encoding="utf-8", errors="replace")
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and _is_descriptor_2(handler.stream):
            handler.setStream(sys.stderr)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)
    threading.Thread(target=_pump, args=(read_end,), name="native-stderr", daemon=True).start()


def _is_descriptor_2(stream: object) -> bool:
    try:
        return stream.fileno() == 2  # type: ignore[attr-defined]
    except (OSError, ValueError, AttributeError):
        return False


def _pump(read_end: int) -> None:
    with os.fdopen(read_end, "r", encoding="utf-8", errors="replace") as lines:
        for line in lines:
            text = line.rstrip("\n")
            if text:
                name, level, message = parse_native_line(text)
                logging.getLogger(name).log(level, "%s", message)
