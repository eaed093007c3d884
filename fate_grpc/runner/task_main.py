"""Entry point of a task process: fetch the spec from the node, run the component, report the result.

Normally a task process is forked by the node's fork server (fate_grpc.runner.zygote), which calls
run_task; without it the node starts `python -m fate_grpc.runner.task_main` with the worker address,
a token and its pid in the environment. Either way the process exits when its parent dies.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import sys
import threading
import time
import traceback

import grpc

from fate_grpc.common.v1 import common_pb2
from fate_grpc.components.context import ComponentError
from fate_grpc.components.providers import runner_of
from fate_grpc.errors import FateGrpcError
from fate_grpc.runner.supervisor import PARENT_PID_ENV, TASK_NICE_ENV, TOKEN_ENV, WORKER_ADDRESS_ENV
from fate_grpc.runner.worker_context import TOKEN_METADATA_KEY, UNARY_TIMEOUT_S, WorkerContext
from fate_grpc.wire.rpc_errors import error_from_rpc
from fate_grpc.worker.v1 import worker_pb2, worker_pb2_grpc

# How long a starting task keeps asking a node that does not answer for its spec (a node stopped for a
# while, e.g. SIGSTOP or swapping, must not fail the task it had just started).
SPEC_PATIENCE_S = 600.0

PR_SET_PDEATHSIG = 1
MAX_MESSAGE_BYTES = 4 * 1024 * 1024


def die_with_parent(parent_pid: int) -> None:
    """Exit when the node process goes away (Linux: kernel signal; elsewhere: a watchdog thread)."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:
        os._exit(70)

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent_pid:
                os._exit(70)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _report(
    stub: worker_pb2_grpc.WorkerServiceStub,
    metadata: tuple,
    status: common_pb2.TaskStatus.ValueType,
    error: str = "",
    trace: str = "",
) -> None:
    request = worker_pb2.ReportStatusRequest(status=status, error=error, traceback=trace)
    stub.ReportStatus(request, metadata=metadata, timeout=UNARY_TIMEOUT_S)


def _prefixed(component: str, message: str) -> str:
    """The error as users see it, naming the component once."""
    return message if message.startswith(f"{component}:") else f"{component}: {message}"


def _task_spec(
    stub: worker_pb2_grpc.WorkerServiceStub, metadata: tuple, log: logging.Logger
) -> worker_pb2.GetTaskSpecResponse | None:
    """The spec from the node; on failure, the task reports why (if the node still listens).

    A node that does not answer (frozen, or too busy) is asked again for up to SPEC_PATIENCE_S: the task
    dies with its node anyway, and the node ends it on its own timeout, so waiting cannot strand it."""
    give_up_at = time.monotonic() + SPEC_PATIENCE_S
    while True:
        try:
            return stub.GetTaskSpec(
                worker_pb2.GetTaskSpecRequest(), metadata=metadata, timeout=UNARY_TIMEOUT_S
            )
        except grpc.RpcError as exc:
            waiting = exc.code() in (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.UNAVAILABLE)
            if waiting and time.monotonic() < give_up_at:
                log.warning("this party's node did not answer the spec request; asking again")
                time.sleep(1.0)
                continue
            detail = error_from_rpc(exc, what="this party's node").message
        log.error("could not get the task's spec: %s", detail)
        with contextlib.suppress(grpc.RpcError):
            _report(stub, metadata, common_pb2.TASK_STATUS_FAILED, f"could not get the task's spec: {detail}")
        return None


def _context(channel: grpc.Channel, token: str, spec: worker_pb2.GetTaskSpecResponse) -> WorkerContext:
    try:
        return WorkerContext(channel, token, spec)
    except FateGrpcError as exc:
        # The node built these values itself, so this is a bug; the message still says where.
        raise ComponentError(f"could not read the task's parameters: {exc.message}") from None


def main() -> int:
    """Cold start: the node started this interpreter for one task."""
    parent = int(os.environ.get(PARENT_PID_ENV, "0") or 0)
    token = os.environ.get(TOKEN_ENV, "")
    address = os.environ.get(WORKER_ADDRESS_ENV, "")
    if not parent or not token or not address:
        print("task_main must be started by a fate-grpc node", file=sys.stderr)
        return 2
    die_with_parent(parent)
    lower_priority()
    return run_task(token, address)


def lower_priority() -> None:
    """Run below the node's own priority (the node's control plane must stay responsive)."""
    with contextlib.suppress(OSError, ValueError):
        os.nice(int(os.environ.get(TASK_NICE_ENV, "0") or 0))


def run_task(token: str, address: str) -> int:
    """Fetch the spec from the node, run the component, report the result; returns the exit code."""
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stdout,
        force=True,
    )
    log = logging.getLogger("fate_grpc.task")
    options = [
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ]
    with grpc.insecure_channel(address, options=options) as channel:
        stub = worker_pb2_grpc.WorkerServiceStub(channel)
        metadata = ((TOKEN_METADATA_KEY, token),)
        spec = _task_spec(stub, metadata, log)
        if spec is None:
            return 1
        log.info(
            "task %s attempt %s of job %s: component %s at %s %s",
            spec.task_name,
            spec.attempt,
            spec.job_id,
            spec.component,
            spec.role,
            spec.party_id,
        )
        started = time.monotonic()
        try:
            context = _context(channel, token, spec)
            runner_of(spec.component, spec.provider_module, spec.provider_path)(context)
        except ComponentError as exc:
            log.error("component failed: %s", exc)
            _report(stub, metadata, common_pb2.TASK_STATUS_FAILED, _prefixed(spec.component, str(exc)))
            return 1
        except Exception as exc:
            # The traceback goes to the task log; users see the exception's own message.
            log.exception("component raised")
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            _report(
                stub,
                metadata,
                common_pb2.TASK_STATUS_FAILED,
                _prefixed(spec.component, message[:1000]),
                traceback.format_exc(),
            )
            return 1
        log.info("component finished in %.3fs", time.monotonic() - started)
        _report(stub, metadata, common_pb2.TASK_STATUS_SUCCESS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
