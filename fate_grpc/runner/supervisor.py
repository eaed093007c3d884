"""Starts task processes, remembers their tokens, kills them, and notices when they exit.

Task processes are forked by the node's fork server when it runs (fast: no interpreter start-up or
imports per task), else started as fresh interpreters.
"""

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
from dataclasses import dataclass, field
from pathlib import Path

import anyio

from fate_grpc.common.background import Background, Work
from fate_grpc.store.records import TaskKey

log = logging.getLogger("fate_grpc.supervisor")

TOKEN_ENV = "FATE_GRPC_TASK_TOKEN"
WORKER_ADDRESS_ENV = "FATE_GRPC_WORKER_ADDRESS"
PARENT_PID_ENV = "FATE_GRPC_PARENT_PID"
TASK_NICE_ENV = "FATE_GRPC_TASK_NICE"
# Task processes yield the CPU to the node itself, so scheduling stays quick on a loaded machine.
DEFAULT_TASK_NICE = 10
FORK_SERVER_START_TIMEOUT_S = 60.0
# How long a task start waits for a fork server that is still starting before starting cold instead.
FORK_SERVER_WAIT_S = 2.0
LOST_CODE = -int(signal.SIGKILL)

# (task key, exit code, whether the node asked it to stop)
ExitCallback = Callable[[TaskKey, int, bool], Awaitable[None]]


@dataclass
class RunningTask:
    key: TaskKey
    token: str
    work_dir: Path
    pid: int = 0
    exited: asyncio.Future[int] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    stop_requested: bool = False


class ForkServer:
    """The node's fork server process and its line protocol (see fate_grpc.runner.zygote)."""

    def __init__(
        self,
        python: str,
        log_path: Path | None,
        on_exit: Callable[[int, int], None],
        background: Background,
    ) -> None:
        self._python = python
        self._log_path = log_path
        self._on_exit = on_exit
        self._background = background
        self._process: asyncio.subprocess.Process | None = None
        self._reader: Work | None = None
        self._spawned: dict[int, asyncio.Future[int]] = {}
        self._next_id = 0
        self.pids: set[int] = set()

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.returncode is None and self._reader is not None

    async def start(self, env: dict[str, str]) -> bool:
        """Start the server and wait until it has imported everything; False if it could not."""
        try:
            if self._log_path is not None:
                self._log_path.parent.mkdir(parents=True, exist_ok=True)
            with open(self._log_path or os.devnull, "ab") as log_file:  # noqa: ASYNC230 - a cheap local open
                self._process = await asyncio.create_subprocess_exec(
                    self._python,
                    "-m",
                    "fate_grpc.runner.zygote",
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=log_file,
                    env=env,
                    start_new_session=True,
                )
            assert self._process.stdout is not None
            line = await asyncio.wait_for(
                self._process.stdout.readline(), timeout=FORK_SERVER_START_TIMEOUT_S
            )
        except (OSError, TimeoutError) as exc:
            log.warning("the task fork server did not start (%s); tasks start as fresh interpreters", exc)
            await self.close()
            return False
        if b'"ready"' not in line:
            log.warning("the task fork server did not become ready; tasks start as fresh interpreters")
            await self.close()
            return False
        self._reader = self._background.run_loop("fork server reader", self._read)
        return True

    async def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        while line := await self._process.stdout.readline():
            message = json.loads(line)
            if message["op"] == "spawned":
                self.pids.add(message["pid"])
                future = self._spawned.pop(message["id"], None)
                if future is not None and not future.done():
                    future.set_result(message["pid"])
            elif message["op"] == "exit":
                self.pids.discard(message["pid"])
                self._on_exit(message["pid"], message["code"])
        # The server is gone, and its children with it (they die with their parent).
        self._reader = None
        for pid in list(self.pids):
            self._on_exit(pid, LOST_CODE)
        self.pids.clear()
        for future in self._spawned.values():
            if not future.done():
                future.set_exception(OSError("the task fork server exited"))
        self._spawned.clear()

    async def spawn(self, token: str, worker_address: str, work_dir: Path) -> int:
        assert self._process is not None and self._process.stdin is not None
        self._next_id += 1
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._spawned[self._next_id] = future
        request = {
            "id": self._next_id,
            "token": token,
            "worker_address": worker_address,
            "work_dir": str(work_dir),
            "log_path": str(work_dir / "task.log"),
        }
        self._process.stdin.write((json.dumps(request) + "\n").encode())
        await self._process.stdin.drain()
        return await asyncio.wait_for(future, timeout=30)

    async def close(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            _signal_group(process.pid, signal.SIGKILL)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), timeout=5)
        if self._reader is not None:
            self._reader.cancel()
            self._reader = None


@dataclass
class ForkServerStart:
    """A start of the fork server under way in the background, and what a task start may wait on."""

    outcome: asyncio.Future[None]
    work: Work | None = None


class TaskSupervisor:
    """Owns every task process of the node. `on_exit` is awaited when a process ends."""

    def __init__(
        self,
        *,
        python: str | None,
        on_exit: ExitCallback,
        kill_grace_s: float = 3.0,
        fork_server: bool = True,
        fork_server_log: Path | None = None,
        background: Background,
    ) -> None:
        self._python = python or sys.executable
        self._on_exit = on_exit
        self._grace = kill_grace_s
        self._use_fork_server = fork_server
        self._background = background
        self._fork_server = ForkServer(self._python, fork_server_log, self._child_exited, background)
        self._by_token: dict[str, RunningTask] = {}
        self._by_key: dict[TaskKey, RunningTask] = {}
        self._by_pid: dict[int, RunningTask] = {}
        self._exit_watches: set[Work] = set()
        self._worker_address = ""
        self._starting = asyncio.Lock()
        self._fork_server_start: ForkServerStart | None = None

    def set_worker_address(self, address: str) -> None:
        self._worker_address = address

    @property
    def fork_server_ready(self) -> bool:
        return self._fork_server.alive

    async def start_fork_server(self) -> None:
        if self._use_fork_server and not self._fork_server.alive:
            async with self._starting:
                if not self._fork_server.alive:
                    await self._fork_server.start(self._base_env())

    def _fork_server_starting(self) -> asyncio.Future[None]:
        """The start of the fork server, begun now unless it is under way or the server runs."""
        start = self._fork_server_start
        if start is None or (start.outcome.done() and not self._fork_server.alive):
            start = self._fork_server_start = ForkServerStart(asyncio.get_running_loop().create_future())
            start.work = self._background.spawn(self._start_into(start.outcome), name="fork server start")
        return start.outcome

    async def _start_into(self, outcome: asyncio.Future[None]) -> None:
        try:
            await self.start_fork_server()
        except asyncio.CancelledError:
            outcome.cancel()
            raise
        except Exception as exc:
            # whoever waits for the start learns of the failure; the log gets it too
            outcome.set_exception(exc)
            raise
        if not outcome.done():
            outcome.set_result(None)

    def _base_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {PARENT_PID_ENV: str(os.getpid()), "PYTHONUNBUFFERED": "1", TASK_NICE_ENV: str(DEFAULT_TASK_NICE)}
        )
        return env

    def task_for_token(self, token: str) -> RunningTask | None:
        return self._by_token.get(token)

    def is_running(self, key: TaskKey) -> bool:
        return key in self._by_key

    def running_keys(self) -> list[TaskKey]:
        return list(self._by_key)

    async def start(self, key: TaskKey, work_dir: Path) -> int:
        """Start the task process for `key`; returns its pid. Output goes to work_dir/task.log."""
        if key in self._by_key:
            raise RuntimeError(f"task {key} is already running")
        await asyncio.to_thread(work_dir.mkdir, parents=True, exist_ok=True)
        running = RunningTask(key=key, token=secrets.token_urlsafe(32), work_dir=work_dir)
        self._by_token[running.token] = running
        self._by_key[key] = running
        try:
            running.pid = await self._spawn(running)
        except OSError:
            self._forget(running)
            raise
        self._by_pid[running.pid] = running
        self._track(self._background.spawn(self._wait(running), name=f"exit watch of task {key}"))
        return running.pid

    async def _spawn(self, running: RunningTask) -> int:
        if self._use_fork_server:
            # A fork server still importing (seconds on a loaded machine) is waited for only briefly: a
            # start call must answer within its deadline, so meanwhile tasks start as fresh interpreters.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._fork_server_starting()), FORK_SERVER_WAIT_S)
            if self._fork_server.alive:
                with contextlib.suppress(OSError, TimeoutError):
                    return await self._fork_server.spawn(
                        running.token, self._worker_address, running.work_dir
                    )
        return await self._spawn_interpreter(running)

    async def _spawn_interpreter(self, running: RunningTask) -> int:
        env = self._base_env()
        env.update({TOKEN_ENV: running.token, WORKER_ADDRESS_ENV: self._worker_address})
        with open(running.work_dir / "task.log", "ab") as log_file:  # noqa: ASYNC230 - a cheap local open
            process = await asyncio.create_subprocess_exec(
                self._python,
                "-m",
                "fate_grpc.runner.task_main",
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log_file,
                stderr=asyncio.subprocess.STDOUT,
                cwd=str(running.work_dir),
                env=env,
                start_new_session=True,
            )

        async def reap() -> None:
            code = await process.wait()
            if not running.exited.done():
                running.exited.set_result(code)

        self._track(self._background.spawn(reap(), name=f"reaper of task {running.key}"))
        return process.pid

    def _child_exited(self, pid: int, code: int) -> None:
        running = self._by_pid.get(pid)
        if running is not None and not running.exited.done():
            running.exited.set_result(code)

    async def _wait(self, running: RunningTask) -> None:
        code = await running.exited
        # Whatever the task started in its process group (a crypto pool, say) ends with it, even when
        # the task was killed before it could shut its helpers down.
        _signal_group(running.pid, signal.SIGKILL)
        self._forget(running)
        try:
            await self._on_exit(running.key, code, running.stop_requested)
        except Exception:
            log.exception("exit handling of task %s failed", running.key)

    def _track(self, work: Work) -> None:
        self._exit_watches = {w for w in self._exit_watches if not w.done}
        self._exit_watches.add(work)

    def _forget(self, running: RunningTask) -> None:
        self._by_token.pop(running.token, None)
        self._by_pid.pop(running.pid, None)
        if self._by_key.get(running.key) is running:
            self._by_key.pop(running.key, None)

    async def stop(self, key: TaskKey) -> bool:
        """SIGTERM the task's process group, SIGKILL after the grace period. True if one was running."""
        running = self._by_key.get(key)
        if running is None or not running.pid:
            return False
        running.stop_requested = True
        if not running.exited.done():
            _signal_group(running.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(asyncio.shield(running.exited), timeout=self._grace)
            except TimeoutError:
                _signal_group(running.pid, signal.SIGKILL)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(running.exited), timeout=self._grace)
        return True

    async def stop_job(self, job_id: str) -> int:
        keys = [k for k in self._by_key if k.job_id == job_id]
        await asyncio.gather(*(self.stop(k) for k in keys))
        return len(keys)

    async def stop_all(self) -> None:
        await asyncio.gather(*(self.stop(k) for k in list(self._by_key)))
        starting, self._fork_server_start = self._fork_server_start, None
        if starting is not None and starting.work is not None and not starting.work.done:
            starting.work.cancel()
            await starting.work.wait()
        await self._fork_server.close()
        with anyio.move_on_after(self._grace):
            for watch in list(self._exit_watches):
                await watch.wait()


def _signal_group(pid: int, sig: signal.Signals) -> None:
    # Every task process leads its own session (setsid), so its group id is its pid: this reaches only
    # our own task process and whatever it started.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
