"""fate_client 2.2 (from PyPI) driving in-process nodes through the FATE-Flow HTTP API on their HTTP port.

fate_client is a test-only dependency installed apart from the project's environment: its console
scripts are named `flow` and `pipeline`, and `flow` would replace this project's own CLI; its
declared dependencies include torch, transformers and accelerate, which neither `flow` nor the
pipeline API imports. So it is installed with `pip install --no-deps --target` into a directory of
the test session, and run as `python -m fate_client...` with that directory on PYTHONPATH. It keeps
its settings (`flow init`, `pipeline init`) in a file inside its package, which that private copy
makes the test session's own.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fate_grpc.node.app import Node

FATE_CLIENT = "fate_client==2.2.0"
# fate_client 2.2 reads its settings with ruamel.yaml's old API, removed in 0.18.
NEEDED = ("requests", "requests_toolbelt", "ruamel.yaml", "networkx", "pydantic", "pandas", "click")


class FateClientMissing(Exception):
    """fate_client cannot be installed although the package index answers: a broken test setup."""


def install_fate_client(target: Path) -> str | None:
    """Install fate_client 2.2 into `target`; None when done, the reason to skip when the package index
    cannot be reached.

    Raises:
        FateClientMissing: its dependencies (the dev extra) are missing, or pip failed while the index
            was reachable.
    """
    missing = [name for name in NEEDED if _missing(name)]
    if missing:
        raise FateClientMissing(
            f"fate_client's dependencies are not installed: {', '.join(missing)}"
            " (scripts/bootstrap.sh dev installs them)"
        )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            FATE_CLIENT,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if done.returncode == 0:
        return None
    host, port = _index_address()
    if not _reachable(host, port):
        return f"the package index {host}:{port} cannot be reached, so {FATE_CLIENT} cannot be installed"
    raise FateClientMissing(f"pip could not install {FATE_CLIENT}: {done.stderr.strip()[-300:]}")


def _index_address() -> tuple[str, int]:
    # pip's own setting (environment or pip.conf) names the index; PyPI otherwise.
    asked = subprocess.run(
        [sys.executable, "-m", "pip", "config", "get", "global.index-url"],
        capture_output=True,
        text=True,
        check=False,
    )
    url = os.environ.get("PIP_INDEX_URL") or (asked.stdout.strip() if asked.returncode == 0 else "")
    parts = urlsplit(url or "https://pypi.org/simple")
    return parts.hostname or "pypi.org", parts.port or (80 if parts.scheme == "http" else 443)


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=10):
            return True
    except OSError:
        return False


def _missing(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is None
    except ModuleNotFoundError:
        return True


def http_address(node: Node) -> str:
    """host:port of `node`'s own HTTP port (conf `http: {listen}`), where it serves the API at /v2."""
    assert node.addresses.http, "the node was started without an HTTP port (conf http.listen)"
    return node.addresses.http


@dataclass
class Ran:
    """What a fate_client command printed, and its exit status."""

    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        """The JSON answer `flow` printed (the whole output)."""
        assert self.returncode == 0, self.stderr
        return json.loads(self.stdout)


class FateClient:
    """fate_client's own `flow` and `pipeline`, run as processes from its private installation."""

    def __init__(self, home: Path, cwd: Path) -> None:
        self._home = home
        self.cwd = cwd

    @property
    def settings(self) -> Path:
        """Where fate_client keeps what `flow init` and `pipeline init` set."""
        return self._home / "fate_client" / "settings.yaml"

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = str(self._home)
        return env

    async def run(self, *argv: str, timeout_s: float = 600) -> Ran:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *argv,
            cwd=self.cwd,
            env=self._env(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(process.communicate(), timeout_s)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise
        return Ran(process.returncode or 0, out.decode(), err.decode())

    async def flow(self, *args: str) -> Any:
        """`flow ARGS...`, its printed JSON answer."""
        return (await self.run("-m", "fate_client.flow_cli.flow", *args)).json()

    async def pipeline_init(self, address: str) -> None:
        ip, _, port = address.rpartition(":")
        # pipeline_cli has no __main__: call its click group as the `pipeline` script does.
        entry = "from fate_client.pipeline.pipeline_cli import pipeline_group; pipeline_group()"
        ran = await self.run("-c", entry, "init", "--ip", ip, "--port", port)
        assert ran.returncode == 0 and "succeeded" in ran.stdout, ran.stdout + ran.stderr

    async def flow_init(self, address: str, *extra: str) -> Any:
        ip, _, port = address.rpartition(":")
        return await self.flow("init", "--ip", ip, "--port", port, *extra)

    async def script(self, path: Path, *args: str, timeout_s: float = 900) -> dict[str, Any]:
        """Run a pipeline script; the summary it printed (its PIPELINE_RESULT line)."""
        ran = await self.run(str(path), *args, timeout_s=timeout_s)
        assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-5000:]
        for line in ran.stdout.splitlines():
            if line.startswith("PIPELINE_RESULT "):
                return dict(json.loads(line.removeprefix("PIPELINE_RESULT ")))
        raise AssertionError(f"no PIPELINE_RESULT line in: {ran.stdout[-3000:]}")
