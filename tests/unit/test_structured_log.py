"""The node's log formats, and gRPC core's own lines routed into the Python log."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from fate_grpc.observability.log_context import log_fields
from fate_grpc.observability.log_setup import configure_logging
from fate_grpc.observability.native_log import parse_native_line

ROOT = Path(__file__).resolve().parents[2]


def _logged(fmt: str) -> str:
    stream = io.StringIO()
    configure_logging("info", fmt=fmt, stream=stream)
    try:
        with log_fields(job_id="202611301200000000000001", task="psi_0", attempt=0, party="9999"):
            logging.getLogger("fate_grpc.test").info("task %s ended", "psi_0", extra={"status": "success"})
        logging.getLogger("fate_grpc.test").warning("outside any job")
    finally:
        logging.basicConfig(force=True)
    return stream.getvalue()


def test_json_lines_carry_the_context_fields_and_extras() -> None:
    first, second = (json.loads(line) for line in _logged("json").splitlines())

    assert first["message"] == "task psi_0 ended" and first["level"] == "info"
    assert (first["job_id"], first["task"], first["attempt"], first["party"], first["status"]) == (
        "202611301200000000000001",
        "psi_0",
        "0",
        "9999",
        "success",
    )
    assert first["logger"] == "fate_grpc.test" and first["time"].endswith("+00:00")
    assert "job_id" not in second and second["level"] == "warning"


def test_text_lines_append_the_fields() -> None:
    first, second = _logged("text").splitlines()

    assert first.endswith(
        "task psi_0 ended [job_id=202611301200000000000001 task=psi_0 attempt=0 party=9999 status=success]"
    )
    assert second.endswith("WARNING fate_grpc.test: outside any job")


def test_absl_lines_are_parsed_by_severity() -> None:
    line = "E1130 14:24:46.856799    4319 ssl_transport_security.cc:1884] Handshake failed with error"

    assert parse_native_line(line) == (
        "grpc.core",
        logging.ERROR,
        "Handshake failed with error (ssl_transport_security.cc:1884)",
    )
    assert parse_native_line("something else") == ("stderr", logging.WARNING, "something else")


def test_grpc_core_lines_reach_the_json_log(tmp_path: Path) -> None:
    log_file = tmp_path / "node.log"
    script = textwrap.dedent(
        f"""
        import logging, time
        from pathlib import Path
        from fate_grpc.observability.log_setup import configure_logging
        from fate_grpc.observability.native_log import route_native_stderr
        configure_logging("info", Path({str(log_file)!r}), fmt="json")
        route_native_stderr()
        import grpc  # gRPC core starts here and warns about the debug verbosity on descriptor 2
        grpc.insecure_channel("127.0.0.1:1").close()
        deadline = time.monotonic() + 20
        while "grpc.core" not in Path({str(log_file)!r}).read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        """
    )
    env = {**os.environ, "GRPC_VERBOSITY": "debug", "PYTHONPATH": str(ROOT)}

    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, timeout=60, check=False
    )

    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in log_file.read_text().splitlines()]
    core = [line for line in lines if line["logger"] == "grpc.core"]
    assert core and core[0]["level"] == "warning" and "Log level DEBUG" in core[0]["message"]
