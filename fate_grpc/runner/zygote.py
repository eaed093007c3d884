"""Fork server of a node: imports the task runtime once, then forks one process per task.

Each task still runs in its own OS process (its own session, log file and worker token), but it starts
in milliseconds and without paying for interpreter start-up and imports (about 0.7 s of CPU each).

Protocol with the node (JSON lines): the node writes {"id", "token", "worker_address", "work_dir",
"log_path"} on stdin; the server answers {"op": "ready"} once, {"op": "spawned", "id", "pid"} per task
and {"op": "exit", "pid", "code"} when a task process ends. It exits when its node dies.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from typing import Any, TextIO

# Numerical libraries must not start thread pools here: a forked child would inherit them broken.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

from fate_grpc.runner import task_main  # noqa: E402 - preloads everything a task needs
from fate_grpc.runner.supervisor import PARENT_PID_ENV  # noqa: E402


class Children:
    """Forked task processes not yet reaped; the reaper reports each exit."""

    def __init__(self, emit: Any) -> None:
        self._pids: set[int] = set()
        self._condition = threading.Condition()
        self._emit = emit

    def add(self, pid: int) -> None:
        with self._condition:
            self._pids.add(pid)
            self._condition.notify()

    def reap_forever(self) -> None:
        while True:
            with self._condition:
                while not self._pids:
                    self._condition.wait()
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:
                continue
            with self._condition:
                self._pids.discard(pid)
            self._emit({"op": "exit", "pid": pid, "code": os.waitstatus_to_exitcode(status)})


def _child(request: dict[str, Any]) -> None:
    """In the forked process: become the task. Never returns."""
    code = 70
    try:
        os.setsid()
        task_main.die_with_parent(os.getppid())
        os.chdir(request["work_dir"])
        log_fd = os.open(request["log_path"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        null_fd = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null_fd, 0)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        os.close(log_fd)
        os.close(null_fd)
        # Fresh stream objects: the parent's may hold locks taken by its other thread at fork time.
        sys.stdin = open(0, closefd=False)  # noqa: SIM115
        sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
        code = task_main.run_task(request["token"], request["worker_address"])
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def serve(requests: TextIO, replies: TextIO) -> None:
    lock = threading.Lock()

    def emit(message: dict[str, Any]) -> None:
        with lock:
            replies.write(json.dumps(message) + "\n")
            replies.flush()

    children = Children(emit)
    threading.Thread(target=children.reap_forever, name="reaper", daemon=True).start()
    emit({"op": "ready"})
    for line in requests:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(request)
        children.add(pid)
        emit({"op": "spawned", "id": request["id"], "pid": pid})


def main() -> int:
    parent = int(os.environ.get(PARENT_PID_ENV, "0") or 0)
    if not parent:
        print("the fork server must be started by a fate-grpc node", file=sys.stderr)
        return 2
    task_main.die_with_parent(parent)
    task_main.lower_priority()  # inherited by every task forked from here
    serve(sys.stdin, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
