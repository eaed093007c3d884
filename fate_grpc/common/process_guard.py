"""Helper processes that die with the process that started them: pool workers and their fork server.

A task process that starts a ``ProcessPoolExecutor`` gets, with the "forkserver" start method, a fork
server, a resource tracker and the workers. Left alone they outlive a task killed with SIGKILL: each worker
blocks for ever reading its call queue (it holds both ends of that pipe itself), each worker holds the fork
server's "alive" pipe open, and the resource tracker waits until every holder of its pipe is gone.

So every worker and the fork server watch their owner (the task process): when it goes, they go.
- Linux: a worker forked by the fork server also gets the parent-death signal (``PR_SET_PDEATHSIG``,
  SIGKILL), which the kernel delivers even while the worker is busy in C code. It is only set when the
  parent is the fork server: the signal follows the parent *thread*, and a pool's workers may be started by
  a short-lived thread of the owner.
- Everywhere: a watcher thread waits on the owner (a pidfd where the system has one, else a 1 s check) and
  ends the process when the owner is gone.
- The resource tracker then reads end-of-file on its pipe and exits by itself.
All of them stay in the owner's process group, so stopping a task's group stops them too.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import select
import signal
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.context import BaseContext

PR_SET_PDEATHSIG = 1
# Imported by the fork server itself (as a preload module): guards the fork server against its owner's death.
FORKSERVER_GUARD_MODULE = "fate_grpc.common.forkserver_guard"
_ORPHAN_EXIT_CODE = 70
_POLL_INTERVAL_S = 1.0

# multiprocessing's own default ("__main__") plus the guard.
_preload: list[str] = ["__main__", FORKSERVER_GUARD_MODULE]
_preload_lock = threading.Lock()


def set_parent_death_signal(sig: signal.Signals = signal.SIGKILL) -> bool:
    """Ask the kernel to send ``sig`` to this process when the thread that made it exits (Linux only)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def exit_when_gone(owner_pid: int) -> None:
    """End this process (exit code 70) as soon as ``owner_pid`` has ended; returns at once."""
    if not _alive(owner_pid):
        os._exit(_ORPHAN_EXIT_CODE)
    threading.Thread(target=_watch, args=(owner_pid,), name="owner-watch", daemon=True).start()


def _watch(owner_pid: int) -> None:
    try:
        pidfd = os.pidfd_open(owner_pid)
    except (AttributeError, OSError):
        pidfd = -1
    if pidfd >= 0:
        # A pidfd becomes readable when the process ends: no polling, no pid-reuse race.
        select.select([pidfd], [], [])
    else:
        while _alive(owner_pid):
            threading.Event().wait(_POLL_INTERVAL_S)
    os._exit(_ORPHAN_EXIT_CODE)


def _alive(pid: int) -> bool:
    if pid <= 1:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def guard_pool_worker(owner_pid: int) -> None:
    """Pool worker initializer: die with ``owner_pid`` (and with the fork server when that is the parent)."""
    parent = os.getppid()
    if parent != owner_pid:
        set_parent_death_signal()
        if os.getppid() != parent:  # the fork server died before the signal was armed
            os._exit(_ORPHAN_EXIT_CODE)
    exit_when_gone(owner_pid)


def guard_forkserver() -> None:
    """Called in the fork server when it imports its preload modules: die with the process that started it."""
    exit_when_gone(os.getppid())


def pool_context(start_method: str | None = None, *, preload: tuple[str, ...] = ()) -> BaseContext:
    """The multiprocessing context for pools: "forkserver" where available (its server guarded), else "spawn".

    Args:
        start_method: Another start method, if the caller needs one.
        preload: Modules the fork server imports once, so that workers fork with them loaded. Takes
            effect only if this process's fork server has not started yet.
    """
    if start_method is None:
        start_method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(start_method)
    if start_method == "forkserver":
        with _preload_lock:
            for module in preload:
                if module not in _preload:
                    _preload.append(module)
            # One preload list per process: every caller's modules are kept, the guard always among them.
            context.set_forkserver_preload(list(_preload))  # type: ignore[attr-defined]
    return context


def guarded_process_pool(
    workers: int, *, start_method: str | None = None, preload: tuple[str, ...] = ()
) -> ProcessPoolExecutor:
    """A process pool whose workers (and fork server) end when this process ends, even by SIGKILL."""
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=pool_context(start_method, preload=preload),
        initializer=guard_pool_worker,
        initargs=(os.getpid(),),
    )
