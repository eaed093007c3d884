"""Starts task processes, remembers their tokens, kills them, and notices when they exit."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from fate_grpc.store.records import TaskKey

log = logging.getLogger("fate_grpc.supervisor")

TOKEN_ENV = "FATE_GRPC_TASK_TOKEN"
WORKER_ADDRESS_ENV = "FATE_GRPC_WORKER_ADDRESS"
PARENT_PID_ENV = "FATE_GRPC_PARENT_PID"

# (task key, exit code, whether the node asked it to stop)
ExitCallback = Callable[[TaskKey, int, bool], Awaitable[None]]


@dataclass
class RunningTask:
    key: TaskKey
    token: str
    work_dir: Path
    process: asyncio.subprocess.Process | None = None
    stop_requested: bool = False


class TaskSupervisor:
    """Owns every task process of the node. `on_exit` is awaited when a process ends."""

    def __init__(self, *, python: str | None, on_exit: ExitCallback, kill_grace_s: float = 3.0) -> None:
        self._python = python or sys.executable
        self._on_exit = on_exit
        self._grace = kill_grace_s
        self._by_token: dict[str, RunningTask] = {}
        self._by_key: dict[TaskKey, RunningTask] = {}
        self._waiters: set[asyncio.Task[None]] = set()
        self._worker_address = ""

    def set_worker_address(self, address: str) -> None:
        self._worker_address = address

    def task_for_token(self, token: str) -> RunningTask | None:
        return self._by_token.get(token)

    def is_running(self, key: TaskKey) -> bool:
        return key in self._by_key

    def running_keys(self) -> list[TaskKey]:
        return list(self._by_key)

    async def start(self, key: TaskKey, work_dir: Path) -> int:
        """Spawn the task process for `key`; returns its pid. Output goes to work_dir/task.log."""
        if key in self._by_key:
            raise RuntimeError(f"task {key} is already running")
        token = secrets.token_urlsafe(32)
        work_dir.mkdir(parents=True, exist_ok=True)
        running = RunningTask(key=key, token=token, work_dir=work_dir)
        self._by_token[token] = running
        self._by_key[key] = running
        env = dict(os.environ)
        env.update(
            {
                TOKEN_ENV: token,
                WORKER_ADDRESS_ENV: self._worker_address,
                PARENT_PID_ENV: str(os.getpid()),
                "PYTHONUNBUFFERED": "1",
            }
        )
        try:
            with open(work_dir / "task.log", "ab") as log_file:
                process = await asyncio.create_subprocess_exec(
                    self._python,
                    "-m",
                    "fate_grpc.runner.task_main",
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=asyncio.subprocess.STDOUT,
                    cwd=str(work_dir),
                    env=env,
                    start_new_session=True,
                )
        except OSError:
            self._forget(running)
            raise
        running.process = process
        waiter = asyncio.create_task(self._wait(running), name=f"wait-{key.task_name}")
        self._waiters.add(waiter)
        waiter.add_done_callback(self._waiters.discard)
        return process.pid

    async def _wait(self, running: RunningTask) -> None:
        assert running.process is not None
        code = await running.process.wait()
        self._forget(running)
        try:
            await self._on_exit(running.key, code, running.stop_requested)
        except Exception:
            log.exception("exit handling of task %s failed", running.key)

    def _forget(self, running: RunningTask) -> None:
        self._by_token.pop(running.token, None)
        if self._by_key.get(running.key) is running:
            self._by_key.pop(running.key, None)

    async def stop(self, key: TaskKey) -> bool:
        """SIGTERM the task's process group, SIGKILL after the grace period. True if one was running."""
        running = self._by_key.get(key)
        if running is None or running.process is None:
            return False
        running.stop_requested = True
        process = running.process
        if process.returncode is None:
            _signal_group(process.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), timeout=self._grace)
            except TimeoutError:
                _signal_group(process.pid, signal.SIGKILL)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(process.wait(), timeout=self._grace)
        return True

    async def stop_job(self, job_id: str) -> int:
        keys = [k for k in self._by_key if k.job_id == job_id]
        await asyncio.gather(*(self.stop(k) for k in keys))
        return len(keys)

    async def stop_all(self) -> None:
        await asyncio.gather(*(self.stop(k) for k in list(self._by_key)))
        waiters = list(self._waiters)
        if waiters:
            await asyncio.wait(waiters, timeout=self._grace)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    # The child leads its own session (start_new_session), so its group id is its pid: this only
    # reaches our own task process and whatever it started.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
