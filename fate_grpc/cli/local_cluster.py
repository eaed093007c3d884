"""Several parties' nodes as separate OS processes on loopback: the local multi-process simulation."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from fate_grpc.cli.client import ClientTls, FlowClient
from fate_grpc.errors import ErrorCode, FateGrpcError
from fate_grpc.security.pki import party_dns_name
from fate_grpc.security.provision import Federation, PartySpec, provision


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LocalParty:
    party_id: str
    port: int
    root: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def conf_path(self) -> Path:
        return self.root / "node.yaml"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def stderr_path(self) -> Path:
        return self.root / "node.stderr"


class LocalCluster:
    """Start with `with LocalCluster(workdir, ["9999", "10000"]) as cluster: ...`."""

    def __init__(
        self, workdir: Path, party_ids: list[str], *, extra_conf: dict | None = None, tls: bool = False
    ) -> None:
        self.workdir = workdir.resolve()
        self.parties = {pid: LocalParty(pid, free_port(), self.workdir / f"party_{pid}") for pid in party_ids}
        self.pki: Federation | None = None
        if tls:
            # Each party gets a node certificate and an admin user ("root") from one federation CA.
            specs = [PartySpec(pid, p.address, admins=("root",)) for pid, p in self.parties.items()]
            self.pki = provision(self.workdir / "federation", specs)
        self._extra = extra_conf or {}
        # Readiness includes the task fork server, unless the conf turns it off.
        self.warm_processes = 1 if self._extra.get("fork_server", True) else 0

    def __enter__(self) -> LocalCluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def write_confs(self) -> None:
        routes = {pid: p.address for pid, p in self.parties.items()}
        for party in self.parties.values():
            party.root.mkdir(parents=True, exist_ok=True)
            conf = {
                "party_id": party.party_id,
                "listen": party.address,
                "data_dir": str(party.data_dir),
                "routes": routes,
                **self._extra,
            }
            if self.pki is not None:
                conf["tls"] = {
                    "cert": str(self.pki.node_cert(party.party_id)),
                    "key": str(self.pki.node_key(party.party_id)),
                    "trust": str(self.pki.bundle),
                    "client_ca": str(self.pki.ca_cert(party.party_id)),
                }
            party.conf_path.write_text(yaml.safe_dump(conf, sort_keys=False), encoding="utf-8")

    def start(self, timeout_s: float = 30.0) -> None:
        self.write_confs()
        for party in self.parties.values():
            self.start_party(party.party_id)
        for party in self.parties.values():
            self.wait_ready(party.party_id, timeout_s)

    def start_party(self, party_id: str) -> None:
        party = self.parties[party_id]
        with open(party.stderr_path, "ab") as stderr:
            party.process = subprocess.Popen(
                [sys.executable, "-m", "fate_grpc.cli.node_cli", "node", "--conf", str(party.conf_path)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )

    def wait_ready(self, party_id: str, timeout_s: float = 30.0) -> None:
        party = self.parties[party_id]
        deadline = time.monotonic() + timeout_s
        while True:
            if party.process is not None and party.process.poll() is not None:
                raise FateGrpcError(
                    ErrorCode.NODE_UNREACHABLE,
                    f"node of party {party_id} exited with code {party.process.returncode};"
                    f" see {party.stderr_path}",
                )
            try:
                with self.client(party_id, timeout_s=2) as client:
                    info = client.node_info()
                if info.ready_task_processes >= self.warm_processes:
                    return
                if time.monotonic() > deadline:
                    return  # usable anyway: tasks start cold until the pool is warm
            except FateGrpcError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.1)

    def client(self, party_id: str, *, timeout_s: float = 60.0) -> FlowClient:
        """A client of the party's node, as its admin user when the federation uses TLS."""
        party = self.parties[party_id]
        if self.pki is None:
            return FlowClient(party.address, timeout_s=timeout_s)
        tls = ClientTls(
            ca=self.pki.bundle.read_bytes(),
            cert=self.pki.user_cert(party_id, "root").read_bytes(),
            key=self.pki.user_key(party_id, "root").read_bytes(),
            server_name=party_dns_name(party_id),
        )
        return FlowClient(party.address, timeout_s=timeout_s, tls=tls)

    def flow_options(self, party_id: str) -> list[str]:
        """Global `flow` options that reach this party's node as its admin user."""
        options = ["--node", self.parties[party_id].address]
        if self.pki is not None:
            options += [
                "--ca",
                str(self.pki.bundle),
                "--cert",
                str(self.pki.user_cert(party_id, "root")),
                "--key",
                str(self.pki.user_key(party_id, "root")),
            ]
        return options

    def stop_party(self, party_id: str, timeout_s: float = 15.0) -> int | None:
        party = self.parties[party_id]
        process = party.process
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=5)
        party.process = None
        return process.returncode

    def stop(self) -> None:
        for party_id in list(self.parties):
            self.stop_party(party_id)
