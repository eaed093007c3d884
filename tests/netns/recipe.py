"""The README's deployment recipe, step by step, as an operator on each party's host would run it:
provision once, copy only the party's folder to its host, start the node from inside that folder, make
the first admin token there, and use flow with the trust bundle and the token."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PARTNER_PORT = 9360
USER_PORT = 9380


def provision(out: Path, addresses: dict[str, str], *, admin: str = "root") -> None:
    """Step 1: `python scripts/provision.py --out OUT --party ID=HOST:9360 ... --user-port 9380`."""
    command = [sys.executable, str(ROOT / "scripts" / "provision.py"), "--out", str(out)]
    for party_id, host in addresses.items():
        command += ["--party", f"{party_id}={host}:{PARTNER_PORT}", "--admin", f"{party_id}:{admin}"]
    command += ["--user-port", str(USER_PORT)]
    subprocess.run(command, check=True, capture_output=True, text=True, timeout=120)


class PartyHost:
    """One party's host: its own folder (copied from the federation) and, maybe, a network namespace."""

    def __init__(self, party_id: str, home: Path, *, prefix: list[str] | None = None, host: str = "") -> None:
        self.party_id = party_id
        self.folder = home / f"party-{party_id}"
        self.prefix = list(prefix or [])
        self.host = host
        self.process: subprocess.Popen[bytes] | None = None
        self.token = ""

    def install(self, federation: Path) -> None:
        """Step 2: the party gets its own folder and nothing else of the federation."""
        shutil.copytree(federation / "parties" / self.party_id, self.folder)

    def start(self, extra_env: dict[str, str] | None = None) -> None:
        """Step 3: `fate-grpc node --conf node.yaml`, run from inside the party's folder."""
        log = (self.folder / "node.stderr").open("ab")
        with log:
            self.process = subprocess.Popen(
                [*self.prefix, sys.executable, "-m", "fate_grpc.cli.node_cli", "node", "--conf", "node.yaml"],
                cwd=self.folder,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **(extra_env or {})},
            )

    def create_admin_token(self) -> str:
        """Step 4: `fate-grpc token create --conf node.yaml -n root --admin` on the node's host."""
        command = [sys.executable, "-m", "fate_grpc.cli.node_cli", "token", "create"]
        command += ["--conf", "node.yaml", "-n", "root", "--admin"]
        done = subprocess.run(
            [*self.prefix, *command], cwd=self.folder, capture_output=True, text=True, timeout=60, check=True
        )
        self.token = json.loads(done.stdout)["data"]["token"]
        return self.token

    def user_options(self) -> list[str]:
        """What a token-only user gives flow: the node's user port, the trust bundle, the token."""
        return [
            "--node",
            f"{self.host}:{USER_PORT}",
            "--ca",
            str(self.folder / "trust.crt"),
            "--token",
            self.token,
        ]

    def flow(self, *args: str, options: list[str] | None = None, timeout_s: float = 120) -> tuple[int, Any]:
        """Run flow on the party's host; returns its exit code and JSON answer."""
        command = [*self.prefix, sys.executable, "-m", "fate_grpc.cli.flow_cli"]
        command += [*(self.user_options() if options is None else options), *args]
        done = subprocess.run(
            command, capture_output=True, text=True, cwd=ROOT, timeout=timeout_s, check=False
        )
        assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
        try:
            return done.returncode, json.loads(done.stdout or done.stderr)
        except json.JSONDecodeError:
            return done.returncode, {"output": done.stdout, "error": done.stderr}

    def wait_serving(self, options: list[str], deadline_s: float = 60) -> None:
        deadline = time.monotonic() + deadline_s
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                log = (self.folder / "node.stderr").read_text(errors="replace")[-2000:]
                raise AssertionError(f"node {self.party_id} exited with {self.process.returncode}: {log}")
            code, answer = self.flow("server", "info", options=options, timeout_s=30)
            if code == 0:
                return
            assert time.monotonic() < deadline, f"node {self.party_id} not serving: {answer}"
            time.sleep(0.5)

    def stop(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
