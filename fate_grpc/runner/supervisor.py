"""Starts task processes, remembers their tokens, kills them, and notices when they exit."""

from __future__ import annotations

import asyncio
import contextlib
import json
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
WARM_START_TIMEOUT_S = 60.0

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

    def __init__(
        self,
        *,
        python: str | None,
        on_exit: ExitCallback,
        kill_grace_s: float = 3.0,
        warm_pool_size: int = 0,
        pool_log: Path | None = None,
    ) -> None:
        self._python = python or sys.executable
        self._on_exit = on_exit
        self._grace = kill_grace_s
        self._pool_size = warm_pool_size
        self._pool_log = pool_log
        self._warm: list[asyncio.subprocess.Process] = []
        self._refilling = False
        self._closed = False
        self._by_token: dict[str, RunningTask] = {}
        self._by_key: dict[TaskKey, RunningTask] = {}
        self._waiters: set[asyncio.Task[None]] = set()
        self._worker_address = ""

    def set_worker_address(self, address: str) -> None:
        self._worker_address = address

    def _base_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({PARENT_PID_ENV: str(os.getpid()), "PYTHONUNBUFFERED": "1"})
        return env

    async def fill_pool(self) -> None:
        """Keep `warm_pool_size` task processes started and imported, waiting for work."""
        if self._refilling or self._closed:
            return
        self._refilling = True
        try:
            while not self._closed and len(self._warm) < self._pool_size:
                process = await self._spawn_warm()
                if process is None:
                    return
                self._warm.append(process)
        finally:
            self._refilling = False

    @property
    def ready_warm_processes(self) -> int:
        return sum(1 for p in self._warm if p.returncode is None)

    async def _spawn_warm(self) -> asyncio.subprocess.Process | None:
        log_target = self._pool_log
        try:
            if log_target is not None:
                log_target.parent.mkdir(parents=True, exist_ok=True)
            with open(log_target or os.devnull, "ab") as log_file:  # noqa: ASYNC230 - a cheap local open
                process = await asyncio.create_subprocess_exec(
                    self._python,
                    "-m",
                    "fate_grpc.runner.task_main",
                    "--warm",
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=log_file,
                    env=self._base_env(),
                    start_new_session=True,
                )
        except OSError as exc:
            log.warning("cannot start a warm task process: %s", exc)
            return None
        assert process.stdout is not None
        try:
            line = await asyncio.wait_for(process.stdout.readline(), timeout=WARM_START_TIMEOUT_S)
        except TimeoutError:
            line = b""
        if line.strip() != b"ready":
            _signal_group(process.pid, signal.SIGKILL)
            log.warning("a warm task process did not become ready; tasks start cold")
            return None
        return process

    def _take_warm(self) -> asyncio.subprocess.Process | None:
        while self._warm:
            process = self._warm.pop(0)
            if process.returncode is None and process.stdin is not None:
                return process
        return None

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
        await asyncio.to_thread(work_dir.mkdir, parents=True, exist_ok=True)
        running = RunningTask(key=key, token=token, work_dir=work_dir)
        self._by_token[token] = running
        self._by_key[key] = running
        try:
            process = await self._assign_warm(token, work_dir) or await self._spawn_cold(token, work_dir)
        except OSError:
            self._forget(running)
            raise
        running.process = process
        if self._pool_size and not self._warm:
            # Refill at once only when nothing is left; otherwise wait until the node is idle, so that
            # importing spare processes does not compete with running tasks for the CPU.
            self._refill_soon()
        self._track(asyncio.create_task(self._wait(running), name=f"wait-{key.task_name}"))
        return process.pid

    def _refill_soon(self) -> None:
        if self._pool_size and not self._closed and len(self._warm) < self._pool_size:
            self._track(asyncio.create_task(self.fill_pool(), name="fill-task-pool"))

    def _track(self, task: asyncio.Task[None]) -> None:
        self._waiters.add(task)
        task.add_done_callback(self._waiters.discard)

    async def _assign_warm(self, token: str, work_dir: Path) -> asyncio.subprocess.Process | None:
        process = self._take_warm()
        if process is None:
            return None
        assert process.stdin is not None
        assignment = {
            "token": token,
            "worker_address": self._worker_address,
            "work_dir": str(work_dir),
            "log_path": str(work_dir / "task.log"),
        }
        try:
            process.stdin.write((json.dumps(assignment) + "\n").encode())
            await process.stdin.drain()
            process.stdin.close()
        except (BrokenPipeError, ConnectionResetError):
            return None
        return process

    async def _spawn_cold(self, token: str, work_dir: Path) -> asyncio.subprocess.Process:
        env = self._base_env()
        env.update({TOKEN_ENV: token, WORKER_ADDRESS_ENV: self._worker_address})
        with open(work_dir / "task.log", "ab") as log_file:  # noqa: ASYNC230 - a cheap local open
            return await asyncio.create_subprocess_exec(
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

    async def _wait(self, running: RunningTask) -> None:
        assert running.process is not None
        code = await running.process.wait()
        self._forget(running)
        if not self._by_key:
            self._refill_soon()
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
        self._closed = True
        for process in self._warm:
            _signal_group(process.pid, signal.SIGKILL)
        self._warm.clear()
        await asyncio.gather(*(self.stop(k) for k in list(self._by_key)))
        waiters = list(self._waiters)
        if waiters:
            await asyncio.wait(waiters, timeout=self._grace)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    # The child leads its own session (start_new_session), so its group id is its pid: this only
    # reaches our own task process and whatever it started.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
